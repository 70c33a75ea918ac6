"""Moderation's models, taken over with their rows: reports from accounts (0005) and the log
from rooms (0004), whose migrations renamed the tables to this app's names. Nothing is
created in the database; the content types move here too, so the permissions on them (and
the Moderators group that holds them) stay as they were.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# (the app the model leaves, the model)
MOVED = [("accounts", "report"), ("rooms", "moderationlog")]


def _move_content_types(apps, *, forward: bool) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    for old_label, model in MOVED:
        source, target = (old_label, "moderation") if forward else ("moderation", old_label)
        if content_type_model.objects.filter(app_label=target, model=model).exists():
            continue
        content_type_model.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _move_content_types(apps, forward=True)


def move_content_types_back(apps, schema_editor):
    _move_content_types(apps, forward=False)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0005_report_to_moderation"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("follows", "0003_clubinvite"),
        ("rooms", "0004_moderationlog_to_moderation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ModerationLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("mute", "Muted a speaker"),
                                    ("move_to_audience", "Moved a speaker to the audience"),
                                    ("remove", "Removed from the room"),
                                    ("end_room", "Ended the room"),
                                    ("grant_moderator", "Made a moderator"),
                                    ("revoke_moderator", "Took moderator rights away"),
                                    ("invite_speaker", "Invited to speak"),
                                    ("suspend", "Suspended an account"),
                                    ("unsuspend", "Lifted a suspension"),
                                    ("ban", "Banned an account"),
                                    ("unban", "Lifted a ban"),
                                    ("report_resolved", "Resolved a report"),
                                    ("report_dismissed", "Dismissed a report"),
                                    ("staff_end_room", "Ended the room (staff)"),
                                    ("staff_remove_member", "Removed from the room (staff)"),
                                    ("club_ban", "Banned from a club"),
                                    ("club_unban", "Lifted a club ban"),
                                ],
                                max_length=40,
                            ),
                        ),
                        ("note", models.CharField(blank=True, max_length=500)),
                        ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty when the system acted (for example the grace period ran out).",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="moderation_actions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "club",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="moderation_log",
                                to="follows.club",
                            ),
                        ),
                        (
                            "room",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="moderation_log",
                                to="rooms.room",
                            ),
                        ),
                        (
                            "target",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="moderation_received",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created"],
                    },
                ),
                migrations.CreateModel(
                    name="Report",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("spam", "Spam"),
                                    ("harassment", "Harassment or bullying"),
                                    ("hate", "Hate speech or symbols"),
                                    ("sexual", "Sexual content"),
                                    ("violence", "Violence or threats"),
                                    ("impersonation", "Pretending to be someone else"),
                                    ("other", "Something else"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("text", models.TextField(blank=True, max_length=1000)),
                        (
                            "times",
                            models.PositiveIntegerField(
                                default=1,
                                help_text="How many reports by this person were merged into this one.",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("open", "Open"),
                                    ("resolved", "Resolved"),
                                    ("dismissed", "Dismissed"),
                                ],
                                default="open",
                                max_length=10,
                            ),
                        ),
                        ("handled_at", models.DateTimeField(blank=True, null=True)),
                        ("staff_note", models.TextField(blank=True, max_length=1000)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        ("last_reported", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "handled_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="reports_handled",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "reported_room",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reports",
                                to="rooms.room",
                            ),
                        ),
                        (
                            "reported_user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reports_received",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "reporter",
                            models.ForeignKey(
                                help_text="Empty once the reporter deleted their account.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="reports_made",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-last_reported"],
                        "indexes": [
                            models.Index(
                                fields=["status", "-last_reported"],
                                name="moderation_report_queue_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("reported_user__isnull", False),
                                    ("reported_room__isnull", False),
                                    _connector="OR",
                                ),
                                name="moderation_report_has_target",
                                violation_error_message="Say who or which room you are reporting.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "reason__in",
                                        [
                                            "spam",
                                            "harassment",
                                            "hate",
                                            "sexual",
                                            "violence",
                                            "impersonation",
                                            "other",
                                        ],
                                    )
                                ),
                                name="moderation_report_reason_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("status__in", ["open", "resolved", "dismissed"])
                                ),
                                name="moderation_report_status_valid",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(
                                    ("reported_room__isnull", True), ("status", "open")
                                ),
                                fields=("reporter", "reported_user"),
                                name="moderation_report_open_user_unique",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(
                                    ("reported_user__isnull", True), ("status", "open")
                                ),
                                fields=("reporter", "reported_room"),
                                name="moderation_report_open_room_unique",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("status", "open")),
                                fields=("reporter", "reported_user", "reported_room"),
                                name="moderation_report_open_user_in_room_unique",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
