"""Moderation's records: what people reported, and every action moderators and staff took."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from chat.models import Message
from follows.models import Club
from rooms.models import Room

REPORT_TEXT_MAX_LENGTH = 1000
STAFF_NOTE_MAX_LENGTH = 1000


class Report(models.Model):
    """Someone asked staff to look at a person, a room, or a person in a room.

    Repeated reports of the same target by the same person, while the first is open, are
    merged into it (`times` counts them).
    """

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        HARASSMENT = "harassment", "Harassment or bullying"
        HATE = "hate", "Hate speech or symbols"
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Violence or threats"
        IMPERSONATION = "impersonation", "Pretending to be someone else"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reports_made",
        help_text="Empty once the reporter deleted their account.",
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports_received",
    )
    reported_room = models.ForeignKey(
        Room, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    # A report of a chat message also names its author and its room.
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    replay_at = models.FloatField(
        null=True,
        blank=True,
        help_text="A moment of the room's replay, in seconds from its start, that the report is about.",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    text = models.TextField(max_length=REPORT_TEXT_MAX_LENGTH, blank=True)
    times = models.PositiveIntegerField(
        default=1, help_text="How many reports by this person were merged into this one."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_handled",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.TextField(max_length=STAFF_NOTE_MAX_LENGTH, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_reported = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_reported"]
        indexes = [
            models.Index(fields=["status", "-last_reported"], name="moderation_report_queue_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reported_user__isnull=False)
                | models.Q(reported_room__isnull=False),
                name="moderation_report_has_target",
                violation_error_message="Say who or which room you are reporting.",
            ),
            models.CheckConstraint(
                condition=models.Q(replay_at__isnull=True)
                | models.Q(replay_at__gte=0, reported_room__isnull=False),
                name="moderation_report_replay_moment_of_a_room",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    reason__in=[
                        "spam",
                        "harassment",
                        "hate",
                        "sexual",
                        "violence",
                        "impersonation",
                        "other",
                    ]
                ),
                name="moderation_report_reason_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "resolved", "dismissed"]),
                name="moderation_report_status_valid",
            ),
            # One open report per reporter and target; NULLs are distinct in unique
            # constraints, so each shape of target gets its own.
            models.UniqueConstraint(
                fields=["reporter", "reported_user"],
                condition=models.Q(status="open", reported_room__isnull=True),
                name="moderation_report_open_user_unique",
            ),
            models.UniqueConstraint(
                fields=["reporter", "reported_room"],
                condition=models.Q(status="open", reported_user__isnull=True),
                name="moderation_report_open_room_unique",
            ),
            models.UniqueConstraint(
                fields=["reporter", "reported_user", "reported_room"],
                condition=models.Q(status="open", message__isnull=True),
                name="moderation_report_open_user_in_room_unique",
            ),
            models.UniqueConstraint(
                fields=["reporter", "message"],
                condition=models.Q(status="open"),
                name="moderation_report_open_message_unique",
            ),
        ]

    def __str__(self):
        return f"Report #{self.pk}: {self.get_reason_display()} about {self.target_label}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def target_label(self) -> str:
        parts = []
        if self.reported_user_id:
            parts.append(f"@{self.reported_user}")
        if self.reported_room_id:
            parts.append(f"room “{self.reported_room}”")
        label = " in ".join(parts)
        return f"a chat message by {label}" if self.message_id else label


class ModerationLog(models.Model):
    """One row per moderation action, by a room moderator or by site staff. Never edited."""

    class Action(models.TextChoices):
        MUTE = "mute", "Muted a speaker"
        MOVE_TO_AUDIENCE = "move_to_audience", "Moved a speaker to the audience"
        REMOVE = "remove", "Removed from the room"
        END_ROOM = "end_room", "Ended the room"
        GRANT_MODERATOR = "grant_moderator", "Made a moderator"
        REVOKE_MODERATOR = "revoke_moderator", "Took moderator rights away"
        INVITE_SPEAKER = "invite_speaker", "Invited to speak"
        SUSPEND = "suspend", "Suspended an account"
        UNSUSPEND = "unsuspend", "Lifted a suspension"
        BAN = "ban", "Banned an account"
        UNBAN = "unban", "Lifted a ban"
        REPORT_RESOLVED = "report_resolved", "Resolved a report"
        REPORT_DISMISSED = "report_dismissed", "Dismissed a report"
        STAFF_END_ROOM = "staff_end_room", "Ended the room (staff)"
        STAFF_REMOVE_MEMBER = "staff_remove_member", "Removed from the room (staff)"
        CLUB_BAN = "club_ban", "Banned from a club"
        CLUB_UNBAN = "club_unban", "Lifted a club ban"
        CHAT_DELETE = "chat_delete", "Deleted a chat message"
        CHAT_MUTE = "chat_mute", "Muted in the chat"
        CHAT_UNMUTE = "chat_unmute", "Lifted a mute in the chat"
        CHAT_SETTINGS = "chat_settings", "Changed the chat's settings"

    action = models.CharField(max_length=40, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
        help_text="Empty when the system acted (for example the grace period ran out).",
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_received",
    )
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_log"
    )
    club = models.ForeignKey(
        Club, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_log"
    )
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return (
            f"{self.actor or 'system'}: {self.get_action_display()} ({self.created:%Y-%m-%d %H:%M})"
        )
