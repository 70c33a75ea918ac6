import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

USERNAME_MAX_LENGTH = 30
DISPLAY_NAME_MAX_LENGTH = 50
BIO_MAX_LENGTH = 300

username_validator = RegexValidator(
    r"^[A-Za-z0-9_]{2,30}\Z",
    "Use 2 to 30 letters, digits or underscores.",
    code="invalid_username",
)


def validate_avatar_size(file):
    limit = settings.AVATAR_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            f"The picture is too large ({file.size // 1024} KB); the limit is {limit // 1024} KB.",
            code="avatar_too_large",
        )


def avatar_upload_to(instance, filename):
    return f"avatars/{uuid.uuid4().hex}.png"


class CaseInsensitiveUserManager(UserManager):
    """Usernames are unique regardless of case, so signing in ignores case too."""

    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    username = models.CharField(
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        validators=[username_validator],
        help_text="2 to 30 letters, digits or underscores.",
        error_messages={"unique": "That username is taken."},
    )
    first_name = None
    last_name = None
    email = models.EmailField(blank=True)
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, blank=True)
    bio = models.CharField(max_length=BIO_MAX_LENGTH, blank=True)
    avatar = models.ImageField(
        upload_to=avatar_upload_to, blank=True, validators=[validate_avatar_size]
    )

    objects = CaseInsensitiveUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="That username is taken.",
            ),
        ]

    def __str__(self):
        return self.username

    def get_absolute_url(self):
        return reverse("profile", args=[self.username])

    @property
    def name(self) -> str:
        """What other people see: the display name, or the username when there is none."""
        return self.display_name or self.username
