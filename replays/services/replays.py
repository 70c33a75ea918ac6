"""Replays: opened when a room starts recording, made when it ends, deleted by the host or
when they expire. Processing never touches the room: whatever fails, fails the replay."""

import logging
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from celery import current_app  # type: ignore[import-untyped]
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from replays.chapters import chapters_from_spans
from replays.models import Replay
from replays.processing import (
    ProcessingError,
    recording_parts,
    replay_cut,
    replay_encode,
    timeline_offset,
)
from replays.services.transcripts import transcript_cut, transcript_request
from rooms.media.control import recording_folder
from rooms.models import Room, SpeakingSpan

logger = logging.getLogger(__name__)
# The tasks that call `replay_process` and `replay_cut_apply` (replays.tasks imports this
# module, not the reverse).
PROCESS_TASK = "replays.tasks.process_replay"
CUT_TASK = "replays.tasks.cut_replay"
# What a trim leaves at least.
KEEP_SECONDS = 1.0


def replay_open(*, room: Room) -> Replay:
    """The room records: its replay exists from now on, `recording`."""
    replay, _ = Replay.objects.get_or_create(room=room)
    return replay


def replay_room_ended(*, room: Room) -> None:
    """The room ended: a replay it recorded is processed once the media server closed the
    file (the bridge is destroyed after the same commit, before this task is sent)."""
    updated = Replay.objects.filter(room=room, status=Replay.Status.RECORDING).update(
        status=Replay.Status.PROCESSING
    )
    if updated:
        room_id = str(room.pk)
        transaction.on_commit(lambda: current_app.tasks[PROCESS_TASK].delay(room_id))


def replay_process(*, room_id: UUID | str) -> Replay | None:
    """Turns the recording into the replay's files; a repeat does nothing. The WAV parts are
    deleted once the files are stored."""
    replay = Replay.objects.select_related("room").filter(room_id=room_id).first()
    # A replay with files is ready already, or being trimmed (replay_cut_apply).
    if replay is None or replay.status != Replay.Status.PROCESSING or replay.audio_ogg:
        return replay
    folder = recording_folder(replay.room_id)
    try:
        parts = recording_parts(folder) if folder.is_dir() else []
        settings.RECORDINGS_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=settings.RECORDINGS_DIR) as work:
            encoded = replay_encode(
                parts, Path(work), trim_start=replay.trim_start, ffmpeg=settings.FFMPEG
            )
            spans = SpeakingSpan.objects.filter(room_id=replay.room_id).values_list(
                "user_id", "start", "end"
            )
            replay.chapters = chapters_from_spans(
                spans,
                offset_of=lambda at: timeline_offset(parts, encoded.part_offsets, at),
                trim_start=replay.trim_start,
                duration=encoded.duration,
            )
            with encoded.ogg.open("rb") as ogg, encoded.m4a.open("rb") as m4a:
                replay.audio_ogg.save("audio.ogg", File(ogg), save=False)
                replay.audio_m4a.save("audio.m4a", File(m4a), save=False)
    except ProcessingError as error:
        logger.warning("The replay of room %s failed: %s", room_id, error.reason)
        replay.status, replay.failure = Replay.Status.FAILED, error.reason
        replay.save(update_fields=["status", "failure"])
        return replay
    except OSError as error:
        logger.exception("The replay of room %s failed.", room_id)
        replay.status = Replay.Status.FAILED
        replay.failure = f"The replay could not be stored: {error.strerror or error}."[:300]
        replay.save(update_fields=["status", "failure"])
        return replay
    replay.duration = encoded.duration
    replay.peaks = encoded.peaks
    replay.status = Replay.Status.READY
    replay.ready_at = timezone.now()
    ended = replay.room.ended_at or replay.ready_at
    replay.expires_at = ended + timedelta(days=settings.REPLAY_RETENTION_DAYS)
    replay.save()
    replay.speakers.set({chapter["user_id"] for chapter in replay.chapters})
    transcript_request(replay=replay)
    shutil.rmtree(folder, ignore_errors=True)
    SpeakingSpan.objects.filter(room_id=replay.room_id).delete()
    return replay


@transaction.atomic
def replay_trim(*, actor: User, room_id: UUID | str, cut: float) -> Replay:
    """The host cuts `cut` seconds from the start of their room's ready replay; the files
    are cut by a task (the replay is `processing` meanwhile)."""
    replay = (
        Replay.objects.select_for_update(of=("self",))
        .select_related("room")
        .filter(room_id=room_id)
        .first()
    )
    if replay is None:
        raise ApplicationError.not_found("There is no replay of this room.")
    if replay.room.host_id != actor.pk:
        raise ApplicationError.forbidden("Only the host can trim the replay.")
    if replay.status != Replay.Status.READY:
        raise ApplicationError.conflict("Only a ready replay can be trimmed.")
    if not 0 < cut <= (replay.duration or 0) - KEEP_SECONDS:
        raise ApplicationError(
            f"Cut between 0 and {max(0, (replay.duration or 0) - KEEP_SECONDS):.0f} seconds "
            "from the start: a replay keeps at least a second.",
            code="invalid",
        )
    replay.status, replay.failure = Replay.Status.PROCESSING, ""
    replay.save(update_fields=["status", "failure"])
    room = str(replay.room_id)
    transaction.on_commit(lambda: current_app.tasks[CUT_TASK].delay(room, cut))
    return replay


def replay_cut_apply(*, room_id: UUID | str, cut: float) -> Replay | None:
    """Cuts the files, then the waveform and the chapters; a failure leaves the replay as it
    was, ready, with the reason for the host."""
    replay = Replay.objects.filter(room_id=room_id).first()
    if replay is None or replay.status != Replay.Status.PROCESSING or not replay.audio_ogg:
        return replay
    duration = replay.duration or 0.0
    old = (replay.audio_ogg.name, replay.audio_m4a.name)
    try:
        settings.RECORDINGS_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=settings.RECORDINGS_DIR) as work:
            ogg, m4a = replay_cut(
                Path(replay.audio_ogg.path),
                Path(replay.audio_m4a.path),
                Path(work),
                start=cut,
                ffmpeg=settings.FFMPEG,
            )
            with ogg.open("rb") as ogg_file, m4a.open("rb") as m4a_file:
                replay.audio_ogg.save("audio.ogg", File(ogg_file), save=False)
                replay.audio_m4a.save("audio.m4a", File(m4a_file), save=False)
    except (ProcessingError, OSError) as error:
        reason = getattr(error, "reason", None) or "the files could not be written"
        logger.warning("Trimming the replay of room %s failed: %s", room_id, reason)
        replay.status, replay.failure = Replay.Status.READY, f"The start was not cut: {reason}"
        replay.save(update_fields=["status", "failure"])
        return replay
    for name in old:
        replay.audio_ogg.storage.delete(name)
    if replay.peaks:
        replay.peaks = replay.peaks[round(len(replay.peaks) * cut / duration) :]
    replay.chapters = [
        {
            **chapter,
            "start": round(max(0.0, chapter["start"] - cut), 2),
            "end": round(chapter["end"] - cut, 2),
        }
        for chapter in replay.chapters
        if chapter["end"] > cut
    ]
    replay.duration = duration - cut
    replay.trim_start += cut
    replay.status = Replay.Status.READY
    replay.save()
    transcript_cut(replay=replay, cut=cut)
    return replay


def _replay_remove(replay: Replay) -> None:
    for field in (replay.audio_ogg, replay.audio_m4a):
        if field:
            field.delete(save=False)
    shutil.rmtree(recording_folder(replay.room_id), ignore_errors=True)
    replay.delete()


@transaction.atomic
def replay_delete(*, actor: User, room_id: UUID | str) -> None:
    """The host deletes their room's replay, whatever its state."""
    replay = Replay.objects.select_related("room").filter(room_id=room_id).first()
    if replay is None:
        raise ApplicationError.not_found("There is no replay of this room.")
    if replay.room.host_id != actor.pk:
        raise ApplicationError.forbidden("Only the host can delete the replay.")
    if replay.status == Replay.Status.RECORDING:
        raise ApplicationError.conflict("The room is still recording: stop recording first.")
    _replay_remove(replay)


# How long a recording's folder is left alone after it last changed: a part being written,
# or a room that just ended and waits for its task, is never taken.
RECORDINGS_GRACE = timedelta(minutes=30)


def recordings_sweep() -> int:
    """Deletes the recordings' folders that no replay will use: those of rooms whose replay is
    made, failed or deleted (a part written after the end, the leftovers of a crash), once
    unchanged for RECORDINGS_GRACE. Returns how many."""
    if not settings.RECORDINGS_DIR.is_dir():
        return 0
    folders = {}
    for folder in settings.RECORDINGS_DIR.iterdir():
        try:
            folders[UUID(hex=folder.name)] = folder
        except ValueError:
            continue  # not a room's (processing's own scratch folders)
    wanted = set(
        Replay.objects.filter(
            room_id__in=folders,
            status__in=[Replay.Status.RECORDING, Replay.Status.PROCESSING],
        ).values_list("room_id", flat=True)
    )
    quiet_since = (timezone.now() - RECORDINGS_GRACE).timestamp()
    swept = 0
    for room_id, folder in folders.items():
        if room_id in wanted or _last_change(folder) > quiet_since:
            continue
        logger.info("Deleting the recording folder of room %s: no replay will use it.", room_id)
        shutil.rmtree(folder, ignore_errors=True)
        swept += 1
    return swept


def _last_change(folder: Path) -> float:
    return max((path.stat().st_mtime for path in folder.iterdir()), default=folder.stat().st_mtime)


def replays_expire() -> int:
    """Deletes the replays whose time is up; returns how many."""
    expired = list(Replay.objects.filter(expires_at__lte=timezone.now()))
    for replay in expired:
        _replay_remove(replay)
    return len(expired)
