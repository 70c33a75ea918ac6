"""API views for reporting. Thin: validate, call a service, shape output."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import USERNAME_MAX_LENGTH
from accounts.selectors import user_get
from accounts.serializers import UserSummarySerializer
from core.api import DATABASE_ID_MAX, ReportRateThrottle, valid_body
from core.schema import errors
from moderation.models import REPORT_TEXT_MAX_LENGTH, Report
from moderation.services.reports import report_create


class ReportApi(APIView):
    """Asks staff to look at a person, a room, a person in a room, or a chat message."""

    throttle_classes = [ReportRateThrottle]

    class InputSerializer(serializers.Serializer):
        user = serializers.CharField(
            max_length=USERNAME_MAX_LENGTH, required=False, help_text="A username."
        )
        room = serializers.UUIDField(required=False, help_text="A room id.")
        message = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=DATABASE_ID_MAX,
            help_text="A chat message's id; reported alone, it names its author and room.",
        )
        replay_at = serializers.FloatField(
            required=False,
            min_value=0,
            max_value=86400 * 7,
            help_text="With `room`: a moment of the room's replay (seconds from its start).",
        )
        reason = serializers.ChoiceField(choices=Report.Reason.choices)
        text = serializers.CharField(
            max_length=REPORT_TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.ChoiceField(choices=Report.Status.choices)
        reason = serializers.ChoiceField(choices=Report.Reason.choices)
        text = serializers.CharField()
        user = UserSummarySerializer(source="reported_user", allow_null=True)
        room = serializers.UUIDField(source="reported_room_id", allow_null=True)
        message = serializers.IntegerField(source="message_id", allow_null=True)
        replay_at = serializers.FloatField(allow_null=True)
        times = serializers.IntegerField(help_text="Reports of this target merged into this one.")
        created = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 201: OutputSerializer, **errors(404)},
    )
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        values = data.validated_data
        report, created = report_create(
            reporter=request.user,
            user=user_get(username=values["user"]) if "user" in values else None,
            room_id=values.get("room"),
            message_id=values.get("message"),
            replay_at=values.get("replay_at"),
            reason=values["reason"],
            text=values["text"],
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.OutputSerializer(report).data, status=code)
