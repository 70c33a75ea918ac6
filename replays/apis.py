"""The replay of a room: its state, its audio's addresses, waveform and chapters."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSummarySerializer
from core.api import valid_body
from core.schema import errors
from replays.models import Replay
from replays.selectors import replay_chapter_people, replay_visible, transcript_segments
from replays.services.replays import replay_delete, replay_trim


class ChapterSerializer(serializers.Serializer):
    start = serializers.FloatField(help_text="Seconds from the start of the replay.")
    end = serializers.FloatField()
    user = UserSummarySerializer(allow_null=True, help_text="Who was speaking.")


class AudioSerializer(serializers.Serializer):
    ogg = serializers.CharField(help_text="Opus in Ogg.")
    m4a = serializers.CharField(help_text="AAC in MP4 (Safari).")


class ReplayOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Replay.Status.choices)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds, once ready.")
    audio = AudioSerializer(allow_null=True, help_text="Once ready; Range requests work.")
    peaks = serializers.ListField(
        child=serializers.FloatField(), help_text="The waveform: 0..1 per stretch of time."
    )
    chapters = ChapterSerializer(many=True)
    failure = serializers.CharField(help_text="Why it failed (the host only); empty otherwise.")
    expires_at = serializers.DateTimeField(allow_null=True)


def replay_output(replay: Replay, *, viewer) -> dict:
    people = replay_chapter_people(replay)
    ready = replay.status == Replay.Status.READY
    room_id = replay.room_id
    return ReplayOutputSerializer(
        {
            "status": replay.status,
            "duration": replay.duration,
            "audio": {
                "ogg": reverse("replay-audio", args=[room_id, "ogg"]),
                "m4a": reverse("replay-audio", args=[room_id, "m4a"]),
            }
            if ready
            else None,
            "peaks": replay.peaks if ready else [],
            "chapters": [
                {**chapter, "user": people.get(chapter["user_id"])}
                for chapter in (replay.chapters if ready else [])
            ],
            "failure": replay.failure if viewer.pk == replay.room.host_id else "",
            "expires_at": replay.expires_at,
        }
    ).data


class ReplayApi(APIView):
    # A public room's replay plays for people who are signed out.
    permission_classes = [AllowAny]

    class TrimSerializer(serializers.Serializer):
        cut = serializers.FloatField(
            min_value=0, help_text="Seconds to cut from the start of the replay as it is now."
        )

    # Open to everyone; a token that is sent must still be valid (401 otherwise).
    @extend_schema(responses={200: ReplayOutputSerializer, **errors(401)})
    def get(self, request, room_id):
        replay = replay_visible(user=request.user, room_id=room_id)
        return Response(replay_output(replay, viewer=request.user))

    @extend_schema(
        responses={204: None, **errors(401, 403, 404, 409)},
        description="The host deletes the replay and its files.",
    )
    def delete(self, request, room_id):
        self._signed_in(request, room_id)
        replay_delete(actor=request.user, room_id=room_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=TrimSerializer,
        responses={202: ReplayOutputSerializer, **errors(401, 403, 404, 409)},
        description="The host cuts the start of a ready replay; it is `processing` until the "
        "files are cut, then `ready` again (a failure leaves it as it was, with `failure`).",
    )
    def patch(self, request, room_id):
        self._signed_in(request, room_id)
        cut = valid_body(self.TrimSerializer, request).validated_data["cut"]
        replay = replay_trim(actor=request.user, room_id=room_id, cut=cut)
        return Response(replay_output(replay, viewer=request.user), status=202)

    def _signed_in(self, request, room_id) -> None:
        """Changes need a sign-in, and a room the person may see (404 otherwise)."""
        if not request.user.is_authenticated:
            self.permission_denied(request)
        replay_visible(user=request.user, room_id=room_id)


class TranscriptApi(APIView):
    permission_classes = [AllowAny]

    class SegmentSerializer(serializers.Serializer):
        start = serializers.FloatField(help_text="Seconds from the start of the replay.")
        end = serializers.FloatField()
        text = serializers.CharField()
        user = UserSummarySerializer(allow_null=True, help_text="Who was speaking, when known.")

    @extend_schema(
        responses={
            200: inline_serializer("TranscriptOutput", {"segments": SegmentSerializer(many=True)}),
            **errors(401),
        },
        description="What was said in the replay, with the replay's access rule; 404 while "
        "there is no transcript (not made yet, or the site has no speech recognition).",
    )
    def get(self, request, room_id):
        segments = transcript_segments(user=request.user, room_id=room_id)
        return Response({"segments": self.SegmentSerializer(segments, many=True).data})
