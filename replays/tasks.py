from celery import shared_task

from replays.services.replays import (
    recordings_sweep,
    replay_cut_apply,
    replay_process,
    replays_expire,
)
from replays.services.transcripts import transcript_make


@shared_task(name="replays.tasks.process_replay", acks_late=True)
def process_replay(room_id: str) -> str | None:
    """Makes a replay's files once its room ended; a repeat does nothing."""
    replay = replay_process(room_id=room_id)
    return replay.status if replay is not None else None


@shared_task(name="replays.tasks.cut_replay", acks_late=True)
def cut_replay(room_id: str, cut: float) -> str | None:
    """Cuts the start of a replay's files, as its host asked; a repeat does nothing."""
    replay = replay_cut_apply(room_id=room_id, cut=cut)
    return replay.status if replay is not None else None


@shared_task(name="replays.tasks.expire_replays")
def expire_replays() -> int:
    """Deletes replays past REPLAY_RETENTION_DAYS (runs hourly from beat)."""
    return replays_expire()


@shared_task(name="replays.tasks.sweep_recordings")
def sweep_recordings() -> int:
    """Deletes recording folders no replay will use (runs hourly from beat)."""
    return recordings_sweep()


@shared_task(name="replays.tasks.transcribe_replay", acks_late=True)
def transcribe_replay(room_id: str) -> str | None:
    """Transcribes a ready replay (minutes of a core per hour); a repeat does nothing."""
    transcript = transcript_make(room_id=room_id)
    return transcript.status if transcript is not None else None
