"""Sign-up, profile edits, API tokens."""

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import EmailValidator
from django.db import transaction

from accounts.avatars import avatar_from_upload
from accounts.backends import AccountRestrictedError
from accounts.models import User
from accounts.services.email_change import email_confirmation_send
from accounts.services.tokens import api_token_create
from core.errors import ApplicationError
from core.text import without_bidi_controls

_UNSET: Any = object()


def _shown(name: str) -> str:
    """A display name without direction controls: one could make the text after it, in any
    list it shows in, read backwards."""
    return without_bidi_controls(name).strip()


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    """A new account. An address given is sent a link and becomes the account's once it is
    opened (accounts.services.email_change): until then the account has none."""
    user = User(username=username.strip(), display_name=_shown(display_name))
    user.full_clean(exclude=["password"])
    email = User.objects.normalize_email(email.strip())
    if email:
        try:
            EmailValidator()(email)
        except ValidationError as error:
            raise ValidationError({"email": error.messages}) from error
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.save()
    if email:
        email_confirmation_send(user=user, email=email)
    return user


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    avatar: File | None = _UNSET,
) -> User:
    """Changes what is given; `avatar=None` removes the picture. The email address changes
    through accounts.services.email_change, once the new one is confirmed."""
    if display_name is not None:
        user.display_name = _shown(display_name)
    if bio is not None:
        user.bio = bio.strip()
    old_avatar = user.avatar.name if user.avatar else ""
    if avatar is None:
        user.avatar = ""
    elif avatar is not _UNSET:
        try:
            user.avatar = avatar_from_upload(avatar)
        except ValidationError as error:
            raise ValidationError({"avatar": error.messages}) from error
    user.full_clean(exclude=["password", "avatar"])
    user.save()
    new_avatar = user.avatar.name if user.avatar else ""
    if old_avatar and old_avatar != new_avatar:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


def token_obtain(*, username: str, password: str, name: str = "") -> str:
    """A new API token's key for someone who signs in with their password."""
    try:
        user = authenticate(username=username, password=password)
    except AccountRestrictedError as restricted:
        raise ApplicationError(
            str(restricted.message), code="account_restricted", status=403
        ) from None
    if user is None:
        raise ApplicationError(
            "That username and password do not match an active account.",
            code="invalid_credentials",
            status=400,
        )
    _, key = api_token_create(user=user, name=name or "API sign-in")
    return key
