"""API views: the inbox, marking read, preferences and the calendar feed's secret."""

import re

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get
from accounts.serializers import UserSummarySerializer
from core.api import DATABASE_ID_MAX, Pagination, query_input, valid_body
from core.schema import errors
from follows.selectors import club_get
from notifications import push, selectors, services
from notifications.models import Notification
from notifications.serializers import NotificationSerializer


class NotificationListApi(APIView):
    pagination_class = Pagination

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Only unread ones (`count` is then the unread count).",
        )

    @extend_schema(
        parameters=[FilterSerializer], responses={200: NotificationSerializer(many=True)}
    )
    def get(self, request):
        filters = self.FilterSerializer(data=query_input(request))
        filters.is_valid(raise_exception=True)
        unread_only = filters.validated_data["unread"]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.notification_list(user=request.user, unread_only=unread_only),
            request,
            view=self,
        )
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=DATABASE_ID_MAX),
            required=False,
            max_length=500,
            help_text="The notifications to mark read.",
        )
        all = serializers.BooleanField(
            required=False, default=False, help_text="Every one of yours, `ids` or not."
        )

    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField(help_text="How many were unread and are read now.")
        unread_count = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **errors(404)})
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        marked = services.notifications_mark_read(
            user=request.user,
            ids=data.validated_data.get("ids"),
            everything=data.validated_data["all"],
        )
        return Response(
            {"marked": marked, "unread_count": selectors.unread_count(user=request.user)}
        )


class MutedClubSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


def _kinds_field(**kwargs):
    return serializers.DictField(child=serializers.BooleanField(), **kwargs)


WALL_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field({"type": "string", "pattern": WALL_CLOCK, "example": "22:30"})
class WallClockField(serializers.TimeField):
    """A time of day on the person's clock, `HH:MM` or `HH:MM:SS`, written back as
    `HH:MM:SS`. Not OpenAPI's `time` format: that is RFC 3339's, with a UTC offset, which a
    wall-clock time in the person's own time zone has none of; a fraction of a second or an
    offset is refused rather than dropped."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M:%S", input_formats=["%H:%M:%S", "%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(WALL_CLOCK, value):
            self.fail("invalid", format="HH:MM or HH:MM:SS")
        return super().to_internal_value(value)


class QuietHoursSerializer(serializers.Serializer):
    start = WallClockField()
    end = WallClockField()


class PreferencesApi(APIView):
    class InputSerializer(serializers.Serializer):
        kinds = _kinds_field(
            required=False, help_text='Kind → on or off, e.g. `{"room_scheduled": false}`.'
        )
        email_reminders = serializers.BooleanField(required=False)
        muted_people = serializers.ListField(
            child=serializers.CharField(max_length=30),
            required=False,
            max_length=1000,
            help_text="Usernames whose rooms stay quiet (replaces the list).",
        )
        muted_clubs = serializers.ListField(
            child=serializers.SlugField(),
            required=False,
            max_length=1000,
            help_text="Club slugs whose rooms stay quiet (replaces the list).",
        )
        quiet_hours = QuietHoursSerializer(
            required=False,
            allow_null=True,
            help_text="No Web Push between `start` and `end`; null for none.",
        )
        time_zone = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            help_text="The clock of the quiet hours, an IANA name; empty means UTC.",
        )

    class OutputSerializer(serializers.Serializer):
        kinds = _kinds_field()
        email_reminders = serializers.BooleanField()
        muted_people = UserSummarySerializer(many=True)
        muted_clubs = MutedClubSerializer(many=True)
        calendar_url = serializers.CharField(
            allow_null=True, help_text="The private calendar feed; null while it is off."
        )
        quiet_hours = QuietHoursSerializer(allow_null=True)
        time_zone = serializers.CharField()

    @staticmethod
    def _body(request) -> dict:
        preferences = selectors.preferences_of(user=request.user)
        token = preferences.calendar_token
        return {
            "kinds": {kind: preferences.wants(kind) for kind in Notification.Kind.values},
            "email_reminders": preferences.email_reminders,
            "muted_people": [m.muted for m in selectors.muted_people(user=request.user)],
            "muted_clubs": [m.club for m in selectors.muted_clubs(user=request.user)],
            "quiet_hours": (
                {"start": preferences.quiet_start, "end": preferences.quiet_end}
                if preferences.quiet_start is not None
                else None
            ),
            "time_zone": preferences.time_zone,
            "calendar_url": (
                request.build_absolute_uri(reverse("calendar_feed", args=[token]))
                if token
                else None
            ),
        }

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(self._body(request)).data)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **errors(404)})
    def patch(self, request):
        data = valid_body(self.InputSerializer, request)
        values = data.validated_data
        people = values.get("muted_people")
        clubs = values.get("muted_clubs")
        quiet_hours = None  # left as they are
        if "quiet_hours" in values:
            quiet = values["quiet_hours"]
            quiet_hours = (None, None) if quiet is None else (quiet["start"], quiet["end"])
        services.preferences_and_mutes_update(
            user=request.user,
            kinds=values.get("kinds"),
            email_reminders=values.get("email_reminders"),
            muted_people=(
                None if people is None else [user_get(username=n) for n in dict.fromkeys(people)]
            ),
            muted_clubs=(
                None if clubs is None else [club_get(slug=s) for s in dict.fromkeys(clubs)]
            ),
            quiet_hours=quiet_hours,
            time_zone=values.get("time_zone"),
        )
        return Response(self.OutputSerializer(self._body(request)).data)


class CalendarTokenApi(APIView):
    class OutputSerializer(serializers.Serializer):
        calendar_url = serializers.CharField(allow_null=True)

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request):
        """A new secret address for the private calendar feed; the old one stops working."""
        token = services.calendar_token_rotate(user=request.user)
        url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
        return Response({"calendar_url": url}, status=201)

    @extend_schema(responses={200: OutputSerializer})
    def delete(self, request):
        """Turns the private calendar feed off."""
        services.calendar_token_revoke(user=request.user)
        return Response({"calendar_url": None})


class PushKeyApi(APIView):
    class OutputSerializer(serializers.Serializer):
        public_key = serializers.CharField(
            help_text="The VAPID public key, base64url: `applicationServerKey` of "
            "`PushManager.subscribe()`."
        )

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        """The key a browser subscribes to Web Push with."""
        return Response({"public_key": push.vapid_public_key()})


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=100, help_text="The browser's P-256 key, base64url.")
    auth = serializers.CharField(max_length=30, help_text="The browser's auth secret, base64url.")


class PushSubscriptionApi(APIView):
    class InputSerializer(serializers.Serializer):
        """`PushSubscription.toJSON()` as the browser gives it."""

        # An https:// address of a push service: the rule is push_subscription_save's (422).
        endpoint = serializers.CharField(max_length=1000)
        keys = PushKeysSerializer()
        expirationTime = serializers.FloatField(  # noqa: N815 (the browser's spelling)
            required=False, allow_null=True, help_text="Ignored."
        )

    class DeleteSerializer(serializers.Serializer):
        # Any text: one that is no endpoint of yours is simply not found.
        endpoint = serializers.CharField(
            max_length=1000, help_text="The subscription's endpoint (an https:// address)."
        )

    class OutputSerializer(serializers.Serializer):
        endpoint = serializers.URLField()
        created = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **errors(409)},
        description="Keeps this browser's push subscription (201 when new, 200 when renewed).",
    )
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        keys = data.validated_data["keys"]
        subscription, created = push.push_subscription_save(
            user=request.user,
            endpoint=data.validated_data["endpoint"],
            p256dh=keys["p256dh"],
            auth=keys["auth"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(self.OutputSerializer(subscription).data, status=201 if created else 200)

    @extend_schema(parameters=[DeleteSerializer], responses={204: None, **errors(404)})
    def delete(self, request):
        """Forgets this browser's push subscription (after `unsubscribe()` in the browser)."""
        data = self.DeleteSerializer(data=query_input(request))
        data.is_valid(raise_exception=True)
        push.push_subscription_delete(user=request.user, endpoint=data.validated_data["endpoint"])
        return Response(status=204)
