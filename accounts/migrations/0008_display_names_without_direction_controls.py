from django.db import migrations

from core.text import BIDI_CONTROLS, without_bidi_controls


def strip_direction_controls(apps, schema_editor):
    """Names saved before direction controls were taken out of them lose theirs now."""
    User = apps.get_model("accounts", "User")
    for control in BIDI_CONTROLS:
        for user in User.objects.filter(display_name__contains=control).only("display_name"):
            user.display_name = without_bidi_controls(user.display_name).strip()
            user.save(update_fields=["display_name"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_confirmed_unique_email")]

    operations = [migrations.RunPython(strip_direction_controls, migrations.RunPython.noop)]
