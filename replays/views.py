"""The replay's page, and its audio, sent after the access check (replays.files)."""

import json
from pathlib import Path

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.templatetags.sharing import DEFAULT_IMAGE, absolute
from core.errors import ApplicationError
from replays.files import replay_file_response
from replays.formats import clock
from replays.models import Replay, Transcript
from replays.selectors import replay_chapter_people, replay_visible, transcript_segments
from replays.speech import speech_available
from replays.vtt import transcript_vtt
from rooms.models import Room


@require_safe
def replay_audio(request, room_id, extension):
    try:
        replay = replay_visible(user=request.user, room_id=room_id)
    except ApplicationError as error:
        raise Http404(error.message) from error
    field = replay.audio_ogg if extension == "ogg" else replay.audio_m4a
    if replay.status != Replay.Status.READY or not field:
        raise Http404("The replay is not ready.")
    return replay_file_response(request, Path(field.path), f"replay.{extension}")


def _moment(value: str | None) -> int | None:
    """The whole second `?t=` asks the player to start at, if it is one."""
    try:
        seconds = int(float(value or ""))
    except (ValueError, OverflowError):
        return None
    return seconds if seconds > 0 else None


def _replay_context(request, replay: Replay) -> dict:
    room = replay.room
    host = room.host
    ready = replay.status == Replay.Status.READY
    people = replay_chapter_people(replay) if ready else {}
    chapters = [
        {
            "start": chapter["start"],
            "end": chapter["end"],
            "user": people.get(chapter["user_id"]),
            "at": clock(chapter["start"]),
            "seconds": int(chapter["start"]),
        }
        for chapter in (replay.chapters if ready else [])
    ]
    audio = {
        extension: reverse("replay-audio", args=[room.pk, extension])
        for extension in ("ogg", "m4a")
    }
    transcript = Transcript.objects.filter(replay=replay).first() if ready else None
    lines = [
        {
            "start": segment.start,
            "end": segment.end,
            "text": segment.text,
            "user": segment.user,
            "at": clock(segment.start),
            "seconds": int(segment.start),
        }
        for segment in (
            transcript.segments.select_related("user")
            if transcript is not None and transcript.status == Transcript.Status.READY
            else []
        )
    ]
    duration = clock(replay.duration) if replay.duration is not None else ""
    summary = " · ".join(filter(None, ["Replay", duration, f"hosted by {host.name}"])) + "."
    # A link preview for the replays anyone may hear: previews are fetched signed out.
    public = ready and room.visibility == Room.Visibility.OPEN
    return {
        "replay": replay,
        "room": room,
        "host": host,
        "ready": ready,
        "waiting": replay.status in (Replay.Status.RECORDING, Replay.Status.PROCESSING),
        "is_host": request.user.pk == room.host_id,
        # Someone signed in may point the staff at a moment (not the host, at their own room).
        "may_report": ready and request.user.is_authenticated and request.user.pk != room.host_id,
        "chapters": chapters,
        "transcript": transcript,
        "lines": lines,
        "speech_on": speech_available(),
        "audio": audio if ready else None,
        # Without script, a media fragment starts the browser's own player at `?t=`.
        "fragment": f"#t={moment}" if (moment := _moment(request.GET.get("t"))) else "",
        "duration": duration,
        "peaks": json.dumps(replay.peaks if ready else []),
        "public": public,
        "og_audio": absolute(audio["ogg"]) if public else "",
        "artwork": host.avatar.url if host.avatar else static(DEFAULT_IMAGE),
        "share_description": f"{summary} {room.description}".strip(),
    }


@require_safe
def replay_page(request, room_id):
    """The replay's page: its player once ready; while it is made, a note that the page
    replaces with the player (static/js/replay.js polls the API); a failure's reason for
    the host. Someone who may not see the room gets the page of a replay that is not."""
    try:
        replay = replay_visible(user=request.user, room_id=room_id)
    except ApplicationError as error:
        raise Http404(error.message) from error
    return render(request, "replays/replay.html", _replay_context(request, replay))


@require_safe
def replay_transcript_vtt(request, room_id):
    """The transcript as WebVTT, with the replay's access rule."""
    try:
        segments = transcript_segments(user=request.user, room_id=room_id)
    except ApplicationError as error:
        raise Http404(error.message) from error
    response = HttpResponse(transcript_vtt(segments), content_type="text/vtt; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
