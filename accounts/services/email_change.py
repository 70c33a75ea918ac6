"""Changing the email address of an account: the new address is confirmed before it is used.

An address receives reminders and password-reset links, so a typo or someone else's address
must not take it over: the change is a link sent to the new address, signed with the
account and the address it replaces, so it stops working once the address changed
otherwise, and after PASSWORD_RESET_TIMEOUT. The old address is told once the change is made.
"""

from django.conf import settings
from django.core import mail, signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from config.errors import ApplicationError

SALT = "accounts.email-change"
STALE = "This link does not work any more: it is too old, or your address changed since."


def _link(user: User, email: str) -> str:
    token = signing.dumps({"user": user.pk, "email": email, "was": user.email}, salt=SALT)
    path = reverse("email_change_confirm", kwargs={"token": token})
    return settings.SITE_URL.rstrip("/") + path


def _send(*, subject: str, template: str, to: str, context: dict) -> None:
    body = render_to_string(template, context)
    transaction.on_commit(lambda: mail.send_mail(subject, body, None, [to]))


@transaction.atomic
def email_change_request(*, user: User, email: str) -> bool:
    """Asks for `email` to become the account's address. Removing the address takes effect
    at once; a new one is only sent a confirmation link (True is returned)."""
    email = User.objects.normalize_email(email.strip())
    if email.lower() == user.email.lower():
        return False
    if not email:
        user.email = ""
        user.save(update_fields=["email"])
        return False
    context = {"user": user, "email": email, "link": _link(user, email)}
    _send(
        subject="Confirm your new Roundtable address",
        template="accounts/email_change_confirm.txt",
        to=email,
        context=context,
    )
    return True


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    try:
        claim = signing.loads(token, salt=SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature as error:
        raise ApplicationError(STALE, code="invalid_link") from error
    user = User.objects.select_for_update().filter(pk=claim.get("user")).first()
    if user is None or user.email != claim.get("was"):
        raise ApplicationError(STALE, code="invalid_link")
    old, user.email = user.email, claim["email"]
    user.save(update_fields=["email"])
    if old:
        _send(
            subject="Your Roundtable address changed",
            template="accounts/email_changed_notice.txt",
            to=old,
            context={"user": user, "old": old},
        )
    return user
