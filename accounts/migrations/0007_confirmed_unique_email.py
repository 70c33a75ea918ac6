import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Lower


def settle_shared_addresses(apps, schema_editor):
    """Addresses become unique whatever their case. Where several accounts share one (sign-up
    did not confirm addresses), the account signed into last keeps it (the first to join on a
    tie); the others keep everything but the address, and may confirm one of their own."""
    User = apps.get_model("accounts", "User")
    shared = (
        User.objects.exclude(email="")
        .annotate(address=Lower("email"))
        .values("address")
        .annotate(accounts=models.Count("pk"))
        .filter(accounts__gt=1)
        .values_list("address", flat=True)
    )
    for address in list(shared):
        holders = User.objects.annotate(address=Lower("email")).filter(address=address)
        keeper = holders.order_by(F("last_login").desc(nulls_last=True), "date_joined", "pk")[0]
        holders.exclude(pk=keeper.pk).update(email="")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_user_search_index")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_changed_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the address last changed: a confirmation link made before is void.",
                null=True,
            ),
        ),
        migrations.RunPython(settle_shared_addresses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="accounts_user_email_ci_unique",
                violation_error_message="Another account has this address.",
            ),
        ),
    ]
