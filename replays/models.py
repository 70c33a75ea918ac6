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


class Transcript(models.Model):
    """What was said in a replay, once transcribed after the replay is ready."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    replay = models.OneToOneField(Replay, on_delete=models.CASCADE, primary_key=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSING)
    # The model that made it (TRANSCRIBE_MODEL or the bundled one), and how long it took.
    model = models.CharField(max_length=200, blank=True)
    seconds_taken = models.FloatField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["processing", "ready", "failed"]),
                name="replays_transcript_status_valid",
            )
        ]

    def __str__(self):
        return f"Transcript of {self.replay.room}"


class TranscriptSegment(models.Model):
    """A stretch of speech: when (seconds into the replay), the words, and who was speaking
    when the stage's history tells."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="segments")
    start = models.FloatField()
    end = models.FloatField()
    text = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["transcript", "start"])]

    def __str__(self):
        return f"{self.start:.1f}s: {self.text[:40]}"
