from django.db import migrations, models

from core.text import name_key


def fill_keys(apps, schema_editor):
    """Each club's key, from its name; where two existing names look alike, the later
    club's key gets its id, so both stay (and no new club takes either name)."""
    Club = apps.get_model("follows", "Club")
    seen = set()
    for club in Club.objects.order_by("pk"):
        key = name_key(club.name)
        club.name_key = key if key not in seen else f"{key}#{club.pk}"
        seen.add(key)
        club.save(update_fields=["name_key"])


class Migration(migrations.Migration):
    dependencies = [("follows", "0005_club_owner_picture_unique_name")]

    operations = [
        migrations.AddField(
            model_name="club",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=240),
            preserve_default=False,
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="club", name="follows_club_name_unique_ci"),
        migrations.AddConstraint(
            model_name="club",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="follows_club_name_key_unique",
                violation_error_message="A club with that name already exists.",
            ),
        ),
    ]
