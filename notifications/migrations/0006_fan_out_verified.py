from django.db import migrations, models


def planned_ones_are_verified(apps, schema_editor):
    """Fan-outs planned before the check existed are not checked now."""
    FanOut = apps.get_model("notifications", "FanOut")
    FanOut.objects.filter(planned_at__isnull=False).update(verified_at=models.F("planned_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_event_references_unchecked"),
        ("rooms", "0008_calendar_sequence"),
    ]

    operations = [
        migrations.AddField(
            model_name="fanout",
            name="verified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(planned_ones_are_verified, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="fanout",
            index=models.Index(
                condition=models.Q(("planned_at__isnull", False), ("verified_at__isnull", True)),
                fields=["planned_at"],
                name="notifications_fanout_unchecked",
            ),
        ),
    ]
