"""Getting back into an account: the password-reset mail, sent from the Celery worker.

The page that asks for it only hands the address to the worker, so its answer takes as long
whether an account has that address or not. Only a confirmed address is stored
(accounts.services.email_change), and an account that staff suspended or banned gets no link.
The link's address is SITE_URL, not the Host of the request that asked for it: a forged Host
header must not send someone a link to another site.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm

from accounts.models import User


class _UnrestrictedResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        return (user for user in super().get_users(email) if user.restriction() is None)


def password_reset_send(*, email: str) -> list[User]:
    """Mails a reset link to the account with this address, if one may have it; returns
    those mailed."""
    form = _UnrestrictedResetForm(data={"email": email})
    if not form.is_valid():
        return []
    users = list(form.get_users(form.cleaned_data["email"]))
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        subject_template_name="accounts/password_reset_subject.txt",
        email_template_name="accounts/password_reset_email.txt",
        extra_email_context={"site_url": settings.SITE_URL.rstrip("/")},
    )
    return users
