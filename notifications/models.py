import secrets
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.db.models import Q

from follows.models import Club
from rooms.models import Room


class Notification(models.Model):
    """One thing one person is told. (recipient, kind, subject) happens at most once, so a
    task that runs twice, or two that overlap, write each row once."""

    class Kind(models.TextChoices):
        ROOM_STARTED = "room_started", "A room started"
        ROOM_SCHEDULED = "room_scheduled", "A room was scheduled"
        ROOM_REMINDER = "room_reminder", "A room starts soon"
        NEW_FOLLOWER = "new_follower", "Someone followed you"
        SPEAKER_INVITE = "speaker_invite", "Someone invited you to speak"
        CLUB_INVITE = "club_invite", "Someone invited you to a club"
        CHAT_MENTION = "chat_mention", "Someone mentioned you in a room's chat"
        ROOM_RESCHEDULED = "room_rescheduled", "A room you wait for moved to a new time"
        ROOM_CANCELLED = "room_cancelled", "A room you wait for was cancelled"

    ROOM_KINDS = (
        Kind.ROOM_STARTED,
        Kind.ROOM_SCHEDULED,
        Kind.ROOM_REMINDER,
        Kind.ROOM_RESCHEDULED,
        Kind.ROOM_CANCELLED,
    )
    # Told to the people waiting for a scheduled room (reminders asked for, invitees).
    CHANGE_KINDS = (Kind.ROOM_RESCHEDULED, Kind.ROOM_CANCELLED)

    # Indexed by the uniqueness rule and the inbox index, which both begin with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What the notification is about, as text ("room:<id>", "user:<id>", "club:<id>"): the
    # third part of the uniqueness rule.
    subject = models.CharField(max_length=64)
    # What it is about. A room's fan-out writes the same actor, room and club on every one
    # of its rows, and the database checks a foreign key row by row: with these three
    # checked, 100,000 rows took 1.15 s to check at commit against 0.44 s with the recipient
    # alone. So the database checks the recipient only; these are deleted with what they
    # point at by Django's cascade, the only way people, rooms and clubs are deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications_caused",
        db_constraint=False,
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_constraint=False,
    )
    club = models.ForeignKey(
        Club,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_constraint=False,
    )
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when a reminder email went out (at most once, claimed before sending).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set when its Web Push went out to the person's devices (claimed before sending, so a
    # task that runs twice pushes once).
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject"], name="notifications_once_per_subject"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "room_started",
                        "room_scheduled",
                        "room_reminder",
                        "new_follower",
                        "speaker_invite",
                        "club_invite",
                        "chat_mention",
                        "room_rescheduled",
                        "room_cancelled",
                    ]
                ),
                name="notifications_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created", "-id"], name="notifications_inbox"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notifications_unread",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient}"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class FanOut(models.Model):
    """A room event whose audience is told through Celery: written in the transaction of
    the event itself, so a broker that is down at that moment loses nothing — the minute
    task dispatches what was never planned. One per (kind, room)."""

    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="fan_outs")
    created = models.DateTimeField(auto_now_add=True)
    # Set once the audience was computed and every chunk task was enqueued.
    planned_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(null=True, blank=True)
    # Set by the minute task once every recipient was found to have their row.
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "room"], name="notifications_fanout_once"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "room_started",
                        "room_scheduled",
                        "room_reminder",
                        "room_rescheduled",
                        "room_cancelled",
                    ]
                ),
                name="notifications_fanout_kind_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created"],
                condition=Q(planned_at__isnull=True),
                name="notifications_fanout_pending",
            ),
            models.Index(
                fields=["planned_at"],
                condition=Q(planned_at__isnull=False, verified_at__isnull=True),
                name="notifications_fanout_unchecked",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.room}"


def zone_or_utc(name: str) -> tzinfo:
    """The time zone of this IANA name; UTC for an empty or unknown one (a name the zone
    database dropped must not break sending)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class Preferences(models.Model):
    """What one person wants to hear. No row means the defaults: every kind on, no email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preferences",
    )
    room_started = models.BooleanField(default=True)
    room_scheduled = models.BooleanField(default=True)
    room_reminder = models.BooleanField(default=True)
    new_follower = models.BooleanField(default=True)
    speaker_invite = models.BooleanField(default=True)
    club_invite = models.BooleanField(default=True)
    chat_mention = models.BooleanField(default=True)
    room_rescheduled = models.BooleanField(default=True)
    room_cancelled = models.BooleanField(default=True)
    email_reminders = models.BooleanField(
        default=False, help_text="Also send 'starting soon' reminders by email."
    )
    # The secret of the private calendar feed; empty when the feed is off. Revoking it or
    # making a new one kills every copy of the old address.
    calendar_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Quiet hours: no Web Push between these two times of day in `time_zone` (the in-app
    # notification is still written). A start after the end spans midnight.
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, default="", help_text="An IANA name; empty means UTC."
    )

    class Meta:
        verbose_name_plural = "preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="notifications_quiet_hours_both_or_none",
            ),
        ]

    def __str__(self):
        return f"Notification preferences of {self.user}"

    def wants(self, kind: str) -> bool:
        return getattr(self, kind)

    def is_quiet(self, moment: datetime) -> bool:
        """Whether `moment` falls in the person's quiet hours, on their clock."""
        if self.quiet_start is None or self.quiet_end is None:
            return False
        clock = moment.astimezone(zone_or_utc(self.time_zone)).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= clock < self.quiet_end
        return clock >= self.quiet_start or clock < self.quiet_end


class PersonMute(models.Model):
    """No room notifications about rooms this person hosts, and no invitations to speak from
    them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person_mutes"
    )
    muted = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muted_by"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "muted"], name="notifications_personmute_once"),
            models.CheckConstraint(
                condition=~Q(user=models.F("muted")), name="notifications_personmute_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.user} muted {self.muted}"


class ClubMute(models.Model):
    """No room notifications about this club's rooms."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_mutes"
    )
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="muted_by")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "club"], name="notifications_clubmute_once"),
        ]

    def __str__(self):
        return f"{self.user} muted {self.club}"


class Connection(models.Model):
    """An open notification socket, so that a fan-out pushes only to people who are online.

    Rows of a server that died without a goodbye age out (the socket refreshes `last_seen`;
    the minute task removes rows not seen for a while)."""

    channel_name = models.CharField(max_length=200, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_connections",
    )
    last_seen = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user"]), models.Index(fields=["last_seen"])]

    def __str__(self):
        return f"{self.user} online ({self.channel_name})"


class PushSubscription(models.Model):
    """One browser's Web Push subscription (what `PushManager.subscribe()` gave it): where
    to send, and the keys to encrypt for it. An endpoint belongs to one person at a time —
    the last one signed in on that browser who turned push on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    # The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=30)
    user_agent = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_success = models.DateTimeField(null=True, blank=True)
    # Failures in a row other than "gone" (404/410); past PUSH_MAX_FAILURES it is dropped.
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self):
        return f"Push subscription of {self.user}"

    def info(self) -> dict:
        """The subscription as pywebpush (and the browser's `toJSON()`) spell it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
