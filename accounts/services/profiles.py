"""Sign-up, profile edits, API tokens."""

import io

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError
from rest_framework.authtoken.models import Token

from accounts.models import User, validate_avatar_size
from accounts.selectors import user_restriction_for_credentials
from config.errors import ApplicationError

AVATAR_SIZE = 256
_UNSET = object()


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    user = User(username=username.strip(), email=email.strip(), display_name=display_name.strip())
    user.full_clean(exclude=["password"])
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.save()
    return user


def _avatar_normalised(upload) -> ContentFile:
    """Re-encodes an upload as a square PNG: drops metadata and anything that is not pixels."""
    try:
        with Image.open(upload) as image:
            image.verify()
        upload.seek(0)
        with Image.open(upload) as original:
            pixels = original.convert("RGBA")
        side = min(pixels.size)
        left, top = (pixels.width - side) // 2, (pixels.height - side) // 2
        square = pixels.crop((left, top, left + side, top + side))
        square = square.resize((AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationError({"avatar": ["Upload a picture (PNG, JPEG, GIF or WebP)."]}) from error
    return ContentFile(out.getvalue(), name="avatar.png")


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    email: str | None = None,
    avatar=_UNSET,
) -> User:
    """Changes what is given; `avatar=None` removes the picture."""
    if display_name is not None:
        user.display_name = display_name.strip()
    if bio is not None:
        user.bio = bio.strip()
    if email is not None:
        user.email = email.strip()
    old_avatar = user.avatar.name if user.avatar else ""
    if avatar is None:
        user.avatar = ""
    elif avatar is not _UNSET:
        try:
            validate_avatar_size(avatar)
        except ValidationError as error:
            raise ValidationError({"avatar": error.messages}) from error
        user.avatar = _avatar_normalised(avatar)
    user.full_clean(exclude=["password", "avatar"])
    user.save()
    new_avatar = user.avatar.name if user.avatar else ""
    if old_avatar and old_avatar != new_avatar:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


def token_obtain(*, username: str, password: str) -> Token:
    user = authenticate(username=username, password=password)
    if user is None:
        restriction = user_restriction_for_credentials(username=username, password=password)
        if restriction is not None:
            raise ApplicationError(restriction, code="account_restricted", status=403)
        raise ApplicationError(
            "That username and password do not match an active account.",
            code="invalid_credentials",
            status=400,
        )
    token, _ = Token.objects.get_or_create(user=user)
    return token
