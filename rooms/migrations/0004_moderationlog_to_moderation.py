"""The moderation log moves to the moderation app with its rows: the table takes the new
app's name, and the model leaves this app's state (moderation 0001 takes it up)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0003_media_server"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="moderationlog", table="moderation_moderationlog"),
            ],
            state_operations=[migrations.DeleteModel(name="ModerationLog")],
        ),
    ]
