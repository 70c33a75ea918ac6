"""Transcripts of replays: made by a task once a replay is ready, on this machine's CPU (the
`speech` extra); without it there are none, and the pages say so. A failure fails the
transcript only, never the replay."""

import logging
import time
from uuid import UUID

from celery import current_app  # type: ignore[import-untyped]
from django.db import transaction

from replays import speech
from replays.models import Replay, Transcript, TranscriptSegment

logger = logging.getLogger(__name__)
TRANSCRIBE_TASK = "replays.tasks.transcribe_replay"


def transcript_request(*, replay: Replay) -> None:
    """A replay became ready: its transcript is made after the commit, where speech works."""
    if not speech.speech_available():
        return
    Transcript.objects.update_or_create(
        replay=replay, defaults={"status": Transcript.Status.PROCESSING, "failure": ""}
    )
    room_id = str(replay.room_id)
    transaction.on_commit(lambda: current_app.tasks[TRANSCRIBE_TASK].delay(room_id))


def _speaker_at(chapters: list[dict], start: float, end: float) -> int | None:
    """Who the stage's history says spoke most of [start, end]."""
    overlaps: dict[int, float] = {}
    for chapter in chapters:
        overlap = min(end, chapter["end"]) - max(start, chapter["start"])
        if overlap > 0:
            overlaps[chapter["user_id"]] = overlaps.get(chapter["user_id"], 0) + overlap
    return max(overlaps, key=overlaps.__getitem__) if overlaps else None


def transcript_make(*, room_id: UUID | str) -> Transcript | None:
    """Transcribes a ready replay; a repeat does nothing."""
    transcript = (
        Transcript.objects.select_related("replay", "replay__room")
        .filter(replay__room_id=room_id)
        .first()
    )
    if transcript is None or transcript.status != Transcript.Status.PROCESSING:
        return transcript
    replay = transcript.replay
    began = time.process_time()
    try:
        said = speech.transcribe(replay.audio_ogg.path, language=replay.room.language)
    except Exception as error:  # the model, the decoder or the file: never the replay
        logger.exception("The transcript of room %s failed.", room_id)
        transcript.status = Transcript.Status.FAILED
        transcript.failure = f"The words could not be recognised: {error}"[:300]
        transcript.save(update_fields=["status", "failure"])
        return transcript
    with transaction.atomic():
        TranscriptSegment.objects.filter(transcript=transcript).delete()
        TranscriptSegment.objects.bulk_create(
            TranscriptSegment(
                transcript=transcript,
                start=round(part.start, 2),
                end=round(part.end, 2),
                text=part.text,
                user_id=_speaker_at(replay.chapters, part.start, part.end),
            )
            for part in said
        )
        transcript.status = Transcript.Status.READY
        transcript.model = speech.model_location()[:200]
        transcript.seconds_taken = round(time.process_time() - began, 2)
        transcript.save()
    return transcript


def transcript_cut(*, replay: Replay, cut: float) -> None:
    """The replay's start was cut: the transcript's times follow, and what was cut goes."""
    segments = TranscriptSegment.objects.filter(transcript__replay=replay)
    segments.filter(end__lte=cut).delete()
    for segment in segments:
        segment.start = round(max(0.0, segment.start - cut), 2)
        segment.end = round(segment.end - cut, 2)
    TranscriptSegment.objects.bulk_update(segments, ["start", "end"])
