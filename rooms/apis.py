"""API views for rooms, the hallway and ICE servers."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import USERNAME_MAX_LENGTH, USERNAME_PATTERN, User
from accounts.selectors import user_get
from accounts.serializers import UserSummarySerializer
from core.api import Pagination, SearchRateThrottle, query_input, valid_body
from core.errors import ApplicationError
from core.schema import errors
from follows.apis import ClubOutputSerializer, PersonSerializer
from follows.selectors import club_get
from rooms.languages import LANGUAGES, language_from_accept
from rooms.media.ice import ice_configuration
from rooms.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, TOPICS_MAX, Room, RoomMember
from rooms.search import KINDS, QUERY_MAX_LENGTH, search
from rooms.selectors import (
    followed_by_stage,
    hallway,
    room_get,
    room_list,
    topic_list,
    topics_get,
)
from rooms.services import lifecycle, stage


class ClubRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class TopicSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class StageMemberSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=RoomMember.Role.choices)
    muted = serializers.BooleanField()


class RoomOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField(source="get_absolute_url")
    title = serializers.CharField()
    description = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Room.Visibility.choices)
    status = serializers.ChoiceField(choices=Room.Status.choices)
    topics = TopicSerializer(many=True, source="topics.all")
    language = serializers.ChoiceField(choices=LANGUAGES, help_text="An ISO 639-1 code.")
    host = UserSummarySerializer()
    club = ClubRefSerializer(allow_null=True)
    scheduled_for = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    cancelled = serializers.BooleanField(
        source="is_cancelled", help_text="Ended before it started: called off."
    )
    speaker_cap = serializers.IntegerField()
    record = serializers.BooleanField(
        source="recording", help_text="The room is recorded for a replay (on the media server)."
    )
    speakers = StageMemberSerializer(many=True, source="stage_members")
    listener_count = serializers.IntegerField()
    followed_inside = serializers.SerializerMethodField()
    rsvp_count = serializers.IntegerField()
    you_rsvp = serializers.BooleanField()

    def get_followed_inside(self, room) -> list[dict]:
        return UserSummarySerializer([m.user for m in room.followed_members], many=True).data


def _users(usernames: list[str]) -> list[User]:
    return [user_get(username=name) for name in dict.fromkeys(usernames)]


def _topic_slugs(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.SlugField(max_length=40),
        required=False,
        max_length=TOPICS_MAX,
        help_text="Slugs of topics (GET /api/topics/).",
        **kwargs,
    )


def _usernames(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(USERNAME_PATTERN, max_length=USERNAME_MAX_LENGTH),
        required=False,
        **kwargs,
    )


class RoomListApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
        description = serializers.CharField(
            max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
        )
        club = serializers.SlugField(required=False, allow_null=True, default=None)
        visibility = serializers.ChoiceField(
            choices=Room.Visibility.choices, default=Room.Visibility.OPEN
        )
        scheduled_for = serializers.DateTimeField(required=False, allow_null=True, default=None)
        co_hosts = _usernames(max_length=20, default=list)
        invitees = _usernames(max_length=500, default=list)
        speaker_cap = serializers.IntegerField(required=False, allow_null=True, default=None)
        topics = _topic_slugs(default=list)
        language = serializers.ChoiceField(
            choices=LANGUAGES,
            required=False,
            help_text="An ISO 639-1 code; by default the first of Accept-Language we know, "
            "or `en`.",
        )
        record = serializers.BooleanField(
            default=False,
            help_text="Record the room for a replay. Needs the media server (422 "
            "`recording_unavailable` without one); the host agrees to be recorded.",
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=Room.Status.values),
            OpenApiParameter("club", description="A club's slug."),
            OpenApiParameter("host", description="A host's username."),
        ],
        responses={200: RoomOutputSerializer(many=True), **errors(404)},
    )
    def get(self, request):
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in Room.Status.values:
            raise ApplicationError("The status filter is scheduled, live or ended.")
        club = request.query_params.get("club")
        host = request.query_params.get("host")
        rooms = room_list(
            viewer=request.user,
            status=wanted,
            club=club_get(slug=club) if club else None,
            host=user_get(username=host) if host else None,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rooms, request, view=self)
        return paginator.get_paginated_response(RoomOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: RoomOutputSerializer, **errors(404, 409, 429, 503)},
    )
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        values = data.validated_data
        room = lifecycle.room_create(
            host=request.user,
            title=values["title"],
            description=values["description"],
            club=club_get(slug=values["club"]) if values["club"] else None,
            visibility=values["visibility"],
            scheduled_for=values["scheduled_for"],
            co_hosts=_users(values["co_hosts"]),
            invitees=_users(values["invitees"]),
            speaker_cap=values["speaker_cap"],
            topics=topics_get(slugs=values["topics"]),
            language=values.get("language")
            or language_from_accept(request.headers.get("Accept-Language", "")),
            recording=values["record"],
        )
        body = RoomOutputSerializer(room_get(room_id=room.pk, viewer=request.user)).data
        return Response(body, status=status.HTTP_201_CREATED)


class RoomDetailApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        """Only the fields sent change; lists replace the room's whole list."""

        title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
        description = serializers.CharField(
            max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
        )
        scheduled_for = serializers.DateTimeField(required=False)
        topics = _topic_slugs()
        language = serializers.ChoiceField(choices=LANGUAGES, required=False)
        co_hosts = _usernames(max_length=20)
        invitees = _usernames(max_length=500)
        record = serializers.BooleanField(
            required=False, help_text="Record the room once it starts (see `POST`)."
        )

    @extend_schema(responses={200: RoomOutputSerializer})
    def get(self, request, room_id):
        return Response(RoomOutputSerializer(room_get(room_id=room_id, viewer=request.user)).data)

    @extend_schema(
        request=UpdateSerializer,
        responses={200: RoomOutputSerializer, **errors(404, 409, 429)},
        description="The host or a co-host changes a scheduled room. A new time is told to "
        "the people who asked to be reminded and to the invitees, and moves the reminder.",
    )
    def patch(self, request, room_id):
        data = valid_body(self.UpdateSerializer, request)
        values = data.validated_data
        room_get(room_id=room_id, viewer=request.user)
        lifecycle.room_update(
            actor=request.user,
            room_id=room_id,
            title=values.get("title"),
            description=values.get("description"),
            scheduled_for=values.get("scheduled_for"),
            topics=topics_get(slugs=values["topics"]) if "topics" in values else None,
            language=values.get("language"),
            co_hosts=_users(values["co_hosts"]) if "co_hosts" in values else None,
            invitees=_users(values["invitees"]) if "invitees" in values else None,
            recording=values.get("record"),
        )
        return Response(RoomOutputSerializer(room_get(room_id=room_id, viewer=request.user)).data)


class FollowedBySpeakersApi(APIView):
    """Listeners whom someone on stage follows, for the room page's "followed by the
    speakers" row."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "FollowedBySpeakers",
                {"user_ids": serializers.ListField(child=serializers.IntegerField())},
            )
        }
    )
    def get(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        return Response({"user_ids": followed_by_stage(room_id=room_id)})


class RoomStartApi(APIView):
    @extend_schema(request=None, responses={200: RoomOutputSerializer, **errors(409, 503)})
    def post(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        lifecycle.room_start(actor=request.user, room_id=room_id)
        return Response(RoomOutputSerializer(room_get(room_id=room_id, viewer=request.user)).data)


class RoomEndApi(APIView):
    @extend_schema(request=None, responses={200: RoomOutputSerializer, **errors(409)})
    def post(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        lifecycle.room_end(actor=request.user, room_id=room_id)
        return Response(RoomOutputSerializer(room_get(room_id=room_id, viewer=request.user)).data)


class RoomCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: RoomOutputSerializer, **errors(409)},
        description="The host or a co-host calls off a scheduled room; the people who asked "
        "to be reminded and the invitees are told.",
    )
    def post(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        lifecycle.room_cancel(actor=request.user, room_id=room_id)
        return Response(RoomOutputSerializer(room_get(room_id=room_id, viewer=request.user)).data)


RsvpState = inline_serializer("RsvpState", {"rsvp": serializers.BooleanField()})


class RoomRsvpApi(APIView):
    @extend_schema(request=None, responses={200: RsvpState, 201: RsvpState, **errors(409)})
    def post(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        _, created = lifecycle.rsvp_create(user=request.user, room_id=room_id)
        return Response({"rsvp": True}, status=201 if created else 200)

    @extend_schema(responses={200: RsvpState})
    def delete(self, request, room_id):
        room_get(room_id=room_id, viewer=request.user)
        lifecycle.rsvp_delete(user=request.user, room_id=room_id)
        return Response({"rsvp": False})


class RoomInviteApi(APIView):
    """A moderator invites someone to speak, whether or not they are in the room yet."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=30)

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=["invited", "notified"],
            help_text="`invited`: they are in the room and see the invitation now; "
            "`notified`: they got a notification that leads them to the room.",
        )

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **errors(429)})
    def post(self, request, room_id):
        data = valid_body(self.InputSerializer, request)
        room_get(room_id=room_id, viewer=request.user)
        outcome = stage.room_invite(
            actor=request.user,
            room_id=room_id,
            user=user_get(username=data.validated_data["username"]),
        )
        return Response({"status": outcome})


class HallwayApi(APIView):
    class FilterSerializer(serializers.Serializer):
        topic = serializers.SlugField(
            max_length=40, required=False, help_text="A topic's slug (GET /api/topics/)."
        )
        language = serializers.ChoiceField(
            choices=LANGUAGES, required=False, help_text="An ISO 639-1 code."
        )

    class OutputSerializer(serializers.Serializer):
        live = RoomOutputSerializer(many=True)
        upcoming = RoomOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer, **errors(404)})
    def get(self, request):
        filters = self.FilterSerializer(data=query_input(request))
        filters.is_valid(raise_exception=True)
        slug = filters.validated_data.get("topic")
        rooms = hallway(
            viewer=request.user,
            topic=topics_get(slugs=[slug])[0] if slug else None,
            language=filters.validated_data.get("language"),
        )
        return Response(self.OutputSerializer(rooms).data)


class TopicListApi(APIView):
    """The curated topics a room may carry (up to three) and the hallway filters by."""

    pagination_class = Pagination

    @extend_schema(responses={200: TopicSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(topic_list(), request, view=self)
        return paginator.get_paginated_response(TopicSerializer(page, many=True).data)


class SearchApi(APIView):
    """People, clubs and live or upcoming rooms matching a query, best first: five of each,
    or twenty of one kind with `type`. People blocked either way and rooms the access rule
    keeps from you are left out."""

    throttle_classes = [SearchRateThrottle]

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=QUERY_MAX_LENGTH, help_text="What to look for; words match as prefixes."
        )
        type = serializers.ChoiceField(choices=KINDS, required=False)

    class OutputSerializer(serializers.Serializer):
        people = PersonSerializer(many=True)
        clubs = ClubOutputSerializer(many=True)
        rooms = RoomOutputSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses={200: OutputSerializer})
    def get(self, request):
        data = self.InputSerializer(data=query_input(request))
        data.is_valid(raise_exception=True)
        results = search(
            viewer=request.user,
            text=data.validated_data["q"],
            kind=data.validated_data.get("type"),
        )
        return Response(self.OutputSerializer(results).data)


class IceServersApi(APIView):
    class OutputSerializer(serializers.Serializer):
        ice_servers = serializers.ListField(child=serializers.DictField())
        ice_transport_policy = serializers.ChoiceField(choices=["all", "relay"])
        expires_at = serializers.IntegerField(allow_null=True)
        renew_in = serializers.IntegerField(
            allow_null=True,
            help_text="Seconds until the page should fetch this again (by the server's clock, "
            "not the browser's); null when nothing in it expires.",
        )

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(ice_configuration(user=request.user))
