from django.conf import settings
from django.core.files.storage import storages
from django.db import models

from rooms.models import Room


def replay_file_path(replay: "Replay", filename: str) -> str:
    return f"{replay.room_id.hex}/{filename}"


def replay_storage():
    return storages["replays"]


class Replay(models.Model):
    """What a recorded room leaves behind: its audio in two formats (Opus in Ogg; AAC in MP4
    for Safari), a waveform and chapters of who spoke when. Made when the room starts
    recording, processed when it ends, deleted after REPLAY_RETENTION_DAYS."""

    class Status(models.TextChoices):
        RECORDING = "recording", "Recording"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDING)
    # Seconds of audio, once ready.
    duration = models.FloatField(null=True, blank=True)
    audio_ogg = models.FileField(upload_to=replay_file_path, storage=replay_storage, blank=True)
    audio_m4a = models.FileField(upload_to=replay_file_path, storage=replay_storage, blank=True)
    # The waveform: the loudest sample of each stretch, 0..1.
    peaks = models.JSONField(default=list, blank=True)
    # [{"start": s, "end": s, "user_id": id}] in the replay's timeline.
    chapters = models.JSONField(default=list, blank=True)
    # Who was heard in it (from the chapters): it shows on their profiles.
    speakers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="replays_heard_in"
    )
    # Why it failed, for the host.
    failure = models.CharField(max_length=300, blank=True)
    # Seconds the host cut from the start.
    trim_start = models.FloatField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["recording", "processing", "ready", "failed"]),
                name="replays_replay_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(trim_start__gte=0), name="replays_replay_trim_start_positive"
            ),
        ]

    def __str__(self):
        return f"Replay of {self.room}"
