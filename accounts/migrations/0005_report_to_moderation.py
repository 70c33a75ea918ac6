"""Reports move to the moderation app with their rows: the table and its constraints take
the new app's names, and the model leaves this app's state (moderation 0001 takes it up)."""

from django.db import migrations, models

OPEN = models.Q(status="open")
# (old name, new name, the constraint) for each of the report's constraints.
CONSTRAINTS = [
    (
        "accounts_report_has_target",
        "moderation_report_has_target",
        lambda name: models.CheckConstraint(
            condition=models.Q(reported_user__isnull=False) | models.Q(reported_room__isnull=False),
            name=name,
            violation_error_message="Say who or which room you are reporting.",
        ),
    ),
    (
        "accounts_report_reason_valid",
        "moderation_report_reason_valid",
        lambda name: models.CheckConstraint(
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
            name=name,
        ),
    ),
    (
        "accounts_report_status_valid",
        "moderation_report_status_valid",
        lambda name: models.CheckConstraint(
            condition=models.Q(status__in=["open", "resolved", "dismissed"]), name=name
        ),
    ),
    (
        "accounts_report_open_user_unique",
        "moderation_report_open_user_unique",
        lambda name: models.UniqueConstraint(
            fields=["reporter", "reported_user"],
            condition=OPEN & models.Q(reported_room__isnull=True),
            name=name,
        ),
    ),
    (
        "accounts_report_open_room_unique",
        "moderation_report_open_room_unique",
        lambda name: models.UniqueConstraint(
            fields=["reporter", "reported_room"],
            condition=OPEN & models.Q(reported_user__isnull=True),
            name=name,
        ),
    ),
    (
        "accounts_report_open_user_in_room_unique",
        "moderation_report_open_user_in_room_unique",
        lambda name: models.UniqueConstraint(
            fields=["reporter", "reported_user", "reported_room"], condition=OPEN, name=name
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="report", table="moderation_report"),
                migrations.RenameIndex(
                    model_name="report",
                    old_name="accounts_re_status_9fa63b_idx",
                    new_name="moderation_report_queue_idx",
                ),
                *(
                    operation
                    for old, new, constraint in CONSTRAINTS
                    for operation in (
                        migrations.RemoveConstraint(model_name="report", name=old),
                        migrations.AddConstraint(model_name="report", constraint=constraint(new)),
                    )
                ),
            ],
            state_operations=[migrations.DeleteModel(name="Report")],
        ),
    ]
