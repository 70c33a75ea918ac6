import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from follows.models import Club
from rooms.languages import DEFAULT_LANGUAGE, LANGUAGES

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 1000
# Slow mode: at most one chat message per person every this many seconds, at most.
CHAT_SLOW_SECONDS_MAX = 3600
# Most topics one room carries.
TOPICS_MAX = 3


class Topic(models.Model):
    """A subject rooms are about, from a curated list (seeded by a migration, kept in admin):
    a room carries up to TOPICS_MAX, and the hallway filters by them."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def room_group_name(room_id: uuid.UUID) -> str:
    """The channel-layer group of the room `room_id` (`Room.group_name`)."""
    return f"room.{room_id.hex}"


class Room(models.Model):
    class Visibility(models.TextChoices):
        OPEN = "open", "Open — anyone signed in"
        SOCIAL = "social", "Social — people the moderators follow"
        CLOSED = "closed", "Closed — invited people and club members"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    class Media(models.TextChoices):
        MESH = "mesh", "Browser mesh"
        SFU = "sfu", "Media server"

    class ChatMode(models.TextChoices):
        ON = "on", "Everyone may write"
        STAGE = "stage", "Only people on stage may write"
        OFF = "off", "Chat is off"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_rooms"
    )
    club = models.ForeignKey(
        Club, on_delete=models.SET_NULL, null=True, blank=True, related_name="rooms"
    )
    co_hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_hosted_rooms",
        help_text="Become moderators when they arrive.",
    )
    invitees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="room_invitations",
        help_text="May enter a closed room.",
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.OPEN
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="rooms")
    # What the room is held in: an ISO 639-1 code from rooms.languages.
    language = models.CharField(max_length=2, choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    speaker_cap = models.PositiveSmallIntegerField(
        help_text="Most people on stage at once (moderators included)."
    )
    # How its audio travels; a room moves from the mesh to the media server, never back.
    media = models.CharField(max_length=4, choices=Media.choices, default=Media.MESH)
    # The room's chat settings, changed live by its moderators (the chat app).
    chat_mode = models.CharField(max_length=5, choices=ChatMode.choices, default=ChatMode.ON)
    chat_slow_seconds = models.PositiveSmallIntegerField(
        default=0, help_text="Seconds between two messages of one person; 0 turns slow mode off."
    )
    # Whether the media server records the stage's mix (replays): from the start for a room
    # scheduled so, or from when a moderator turned it on. A live room records only there.
    recording = models.BooleanField(default=False)
    # The number of the last event sent to the room's members; grows by one per event.
    seq = models.PositiveBigIntegerField(default=0)
    # The iCalendar SEQUENCE of its event: one more with every change to a scheduled room
    # (and its cancellation), so that calendars replace their copy.
    calendar_sequence = models.PositiveIntegerField(default=0)
    # Set while no moderator is connected; the sweep ends the room after the grace period.
    unmoderated_since = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("moderate_room", "Can end rooms and remove people from them as staff")]
        indexes = [
            models.Index(fields=["status", "scheduled_for"]),
            models.Index(fields=["status", "started_at"]),
            models.Index(fields=["language", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visibility__in=["open", "social", "closed"]),
                name="rooms_room_visibility_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["scheduled", "live", "ended"]),
                name="rooms_room_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="live") | models.Q(started_at__isnull=False),
                name="rooms_room_live_has_started_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ended") | models.Q(ended_at__isnull=False),
                name="rooms_room_ended_has_ended_at",
            ),
            models.CheckConstraint(
                condition=models.Q(speaker_cap__gte=1), name="rooms_room_speaker_cap_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(media__in=["mesh", "sfu"]), name="rooms_room_media_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(recording=True, status="live") | models.Q(media="sfu"),
                name="rooms_room_recording_on_media_server",
            ),
            models.CheckConstraint(
                condition=models.Q(chat_mode__in=["on", "stage", "off"]),
                name="rooms_room_chat_mode_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(chat_slow_seconds__lte=CHAT_SLOW_SECONDS_MAX),
                name="rooms_room_chat_slow_seconds_range",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("room", args=[self.pk])

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

    @property
    def is_cancelled(self) -> bool:
        """Ended before it ever started: called off while scheduled."""
        return self.status == self.Status.ENDED and self.started_at is None

    @property
    def group_name(self) -> str:
        """The channel-layer group every member's connection joins."""
        return room_group_name(self.pk)


class RoomMember(models.Model):
    """Someone in a live room right now. Leaving deletes the row."""

    class Role(models.TextChoices):
        MODERATOR = "moderator", "Moderator"
        SPEAKER = "speaker", "Speaker"
        LISTENER = "listener", "Listener"

    STAGE_ROLES = (Role.MODERATOR, Role.SPEAKER)

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_presences"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.LISTENER)
    hand_raised_at = models.DateTimeField(null=True, blank=True)
    invited_to_speak_at = models.DateTimeField(null=True, blank=True)
    muted = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    # The connection that currently speaks for this member; empty while disconnected.
    channel_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_member_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["moderator", "speaker", "listener"]),
                name="rooms_member_role_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "role"]),
            models.Index(fields=["last_seen"]),
        ]

    def __str__(self):
        return f"{self.user} in {self.room} ({self.role})"

    @property
    def on_stage(self) -> bool:
        return self.role in self.STAGE_ROLES

    @property
    def hand_raised(self) -> bool:
        return self.hand_raised_at is not None

    @property
    def connected(self) -> bool:
        return bool(self.channel_name)


class RoomBan(models.Model):
    """Someone a moderator removed: they cannot come back to that room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_bans"
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="rooms_ban_unique")]

    def __str__(self):
        return f"{self.user} banned from {self.room}"


class RoomRsvp(models.Model):
    """ "Remind me" on a scheduled room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_rsvps"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="rooms_rsvp_unique")]

    def __str__(self):
        return f"{self.user} → {self.room}"


class RecordConsent(models.Model):
    """Someone agreed that their voice enters the room's recording. Without it they cannot
    come on stage or unmute while the room records; it lasts for the room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="record_consents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="record_consents"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_record_consent_unique")
        ]

    def __str__(self):
        return f"{self.user} agreed to be recorded in {self.room}"


class SpeakingSpan(models.Model):
    """A stretch of time someone was heard from the stage of a recording room, as the media
    server told it (the replay's chapters come from these). Each server process that watches
    the room writes what it saw, so spans of one person may repeat and overlap: readers
    merge them."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="speaking_spans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="speaking_spans"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["room", "start"])]

    def __str__(self):
        return f"{self.user} spoke in {self.room} at {self.start:%H:%M:%S}"


class MediaBridge(models.Model):
    """A room's place on the media server: an AudioBridge room for the stage and a Streaming
    mountpoint, fed by the bridge's RTP forward, for the audience. The id is ours and the
    passwords derive from it and the admin key, so the server can find, re-create and destroy
    them after either side restarts, even with no row left for them."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True)
    # The same number names the AudioBridge room and the mountpoint (two plugins).
    janus_id = models.PositiveBigIntegerField(unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.room} on the media server ({self.janus_id})"

    @property
    def secret(self) -> str:
        return janus_password(self.janus_id, "secret")

    @property
    def pin(self) -> str:
        return janus_password(self.janus_id, "pin")


class MediaMountpoint(models.Model):
    """Where part of a room's audience listens: the room's Streaming mountpoint on one Janus
    (the stage's own, or an edge once the audience outgrows it), fed by an RTP forward of the
    stage's mix."""

    bridge = models.ForeignKey(MediaBridge, on_delete=models.CASCADE, related_name="mountpoints")
    # The Janus API this mountpoint lives on (JANUS_URL or one of JANUS_SERVERS).
    server = models.CharField(max_length=300)
    # Where it receives the mix, known once it exists.
    port = models.PositiveIntegerField(null=True, blank=True)
    # Listeners placed here; recounted from Janus by the reconciliation.
    listeners = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bridge", "server"], name="rooms_mountpoint_unique")
        ]

    def __str__(self):
        return f"{self.bridge} on {self.server}"


def janus_password(janus_id: int, purpose: str) -> str:
    """The room `secret` (to manage it) or `pin` (to join it) of a Janus room or mountpoint."""
    key = settings.JANUS_ADMIN_KEY.encode()
    return hmac.new(key, f"{purpose}:{janus_id}".encode(), hashlib.sha256).hexdigest()
