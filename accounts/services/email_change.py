"""An account's email address: only an address its owner confirmed is ever stored.

An address receives reminders and password-reset links, so a typo or someone else's address
must not become an account's: a new address, given at sign-up or later, is sent a link, and
it becomes the account's when the link is opened. Changing or removing the address asks for
the password.

A link is good once, and only for the account as it was when the link was made: it is signed
with the address it replaces and the moment the address last changed, so any change since
(this one, another, a removal) voids it, as does PASSWORD_RESET_TIMEOUT. Addresses are
unique whatever their case: a link for an address another account confirmed since is
refused. The old address is told once the change is made.
"""

from django.conf import settings
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError

SALT = "accounts.email-change"
STALE = "This link does not work any more: it was used, is too old, or your address changed since."
TAKEN = "Another account has confirmed this address since; it cannot be yours too."


def _state(user: User) -> str:
    return user.email_changed_at.isoformat() if user.email_changed_at else ""


def _link(user: User, email: str) -> str:
    claim = {"user": user.pk, "email": email, "was": user.email, "state": _state(user)}
    token = signing.dumps(claim, salt=SALT)
    path = reverse("email_change_confirm", kwargs={"token": token})
    return settings.SITE_URL.rstrip("/") + path


def _send(*, subject: str, template: str, to: str, context: dict) -> None:
    body = render_to_string(template, context)
    transaction.on_commit(lambda: mail.send_mail(subject, body, None, [to]))


def email_confirmation_send(*, user: User, email: str) -> None:
    """Sends `email` the link that makes it the account's address (sign-up, a change)."""
    context = {"user": user, "email": email, "link": _link(user, email)}
    _send(
        subject="Confirm your Roundtable address",
        template="accounts/email_change_confirm.txt",
        to=email,
        context=context,
    )


@transaction.atomic
def email_change_request(*, user: User, email: str, password: str) -> bool:
    """Asks for `email` to become the account's address; `password` is the account's.
    Removing the address takes effect at once; a new one is only sent a confirmation link
    (True is returned)."""
    email = User.objects.normalize_email(email.strip())
    if email.lower() == user.email.lower():
        return False
    if not user.check_password(password):
        raise ApplicationError(
            "Give your current password to change your address.", code="wrong_password"
        )
    if not email:
        user.email, user.email_changed_at = "", timezone.now()
        user.save(update_fields=["email", "email_changed_at"])
        return False
    email_confirmation_send(user=user, email=email)
    return True


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    try:
        claim = signing.loads(token, salt=SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature as error:
        raise ApplicationError(STALE, code="invalid_link") from error
    user = User.objects.select_for_update().filter(pk=claim.get("user")).first()
    if user is None or (user.email, _state(user)) != (claim.get("was"), claim.get("state")):
        raise ApplicationError(STALE, code="invalid_link")
    if User.objects.filter(email__iexact=claim["email"]).exclude(pk=user.pk).exists():
        raise ApplicationError(TAKEN, code="email_taken", status=409)
    old, user.email, user.email_changed_at = user.email, claim["email"], timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_changed_at"])
    except IntegrityError as error:  # another account confirmed it at this very moment
        raise ApplicationError(TAKEN, code="email_taken", status=409) from error
    if old:
        _send(
            subject="Your Roundtable address changed",
            template="accounts/email_changed_notice.txt",
            to=old,
            context={"user": user, "old": old},
        )
    return user
