"""The "Moderators" group: staff who work reports, suspend people and end rooms.

Just what that needs: they read people, clubs, rooms and the log; they may change a person's
profile (the admin keeps passwords, staff rights and groups away from non-superusers),
suspend, ban and reinstate people, handle reports, and end rooms or remove people from them.
No delete permission anywhere: history stays.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Moderators"
PERMISSIONS = {
    "accounts": ["view_user", "change_user", "suspend_user", "view_report", "change_report"],
    "follows": [
        "view_follow",
        "view_block",
        "view_club",
        "view_clubmembership",
        "view_clubfollow",
        "view_clubban",
    ],
    "rooms": [
        "view_room",
        "moderate_room",
        "view_roommember",
        "view_roomban",
        "view_roomrsvp",
        "view_moderationlog",
    ],
}


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations ran; this group needs them now.
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=GROUP)
    for label, codenames in PERMISSIONS.items():
        found = permission_model.objects.filter(
            content_type__app_label=label, codename__in=codenames
        )
        if found.count() != len(codenames):
            raise RuntimeError(f"Missing {label} permissions for the {GROUP} group.")
        group.permissions.add(*found)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_restrictions_and_reports"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("follows", "0002_club_ban"),
        ("rooms", "0002_staff_moderation"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
