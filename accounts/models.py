import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import dateformat, timezone

USERNAME_MAX_LENGTH = 30
DISPLAY_NAME_MAX_LENGTH = 50
BIO_MAX_LENGTH = 300
RESTRICTION_REASON_MAX_LENGTH = 500

# As a schema states it (ECMAScript: `$` is the very end); the validator's `\Z` is Python's.
USERNAME_PATTERN = r"^[A-Za-z0-9_]{2,30}$"
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
    # Only an address its owner confirmed (a link sent to it) is stored here: it receives
    # password resets and reminders (accounts.services.email_change).
    email = models.EmailField(blank=True)
    email_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the address last changed: a confirmation link made before is void.",
    )
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, blank=True)
    bio = models.CharField(max_length=BIO_MAX_LENGTH, blank=True)
    avatar = models.ImageField(
        upload_to=avatar_upload_to, blank=True, validators=[validate_avatar_size]
    )

    # Staff restrictions, set only through moderation.services.restrictions (which logs them).
    suspended_until = models.DateTimeField(
        null=True, blank=True, help_text="Signing in is refused until then."
    )
    banned_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff banned the account for good."
    )
    restriction_reason = models.CharField(
        max_length=RESTRICTION_REASON_MAX_LENGTH,
        blank=True,
        help_text="Shown to the person when they try to sign in.",
    )

    objects = CaseInsensitiveUserManager()

    class Meta:
        permissions = [("suspend_user", "Can suspend, ban and reinstate people")]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="That username is taken.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="Another account has this address.",
            ),
        ]

    def __str__(self):
        return self.username

    def save(self, *args, **kwargs):
        # Django keeps the raw password here from set_password() until the save, and only for
        # a real change (a hash upgrade at sign-in clears it first).
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            self.api_tokens.all().delete()

    def get_absolute_url(self):
        return reverse("profile", args=[self.username])

    @property
    def name(self) -> str:
        """What other people see: the display name, or the username when there is none."""
        return self.display_name or self.username

    def is_suspended(self, now=None) -> bool:
        return self.suspended_until is not None and self.suspended_until > (now or timezone.now())

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

    def restriction(self, now=None) -> str | None:
        """Why this account may not be used now, as a sentence for its owner; else None.

        A suspension ends by itself: past `suspended_until` the account works again.
        """
        if self.is_banned:
            message = "Your account is banned from Roundtable."
        elif self.is_suspended(now):
            until = dateformat.format(timezone.localtime(self.suspended_until), "j F Y, H:i T")
            message = f"Your account is suspended until {until}."
        else:
            return None
        if self.restriction_reason:
            message += f" Reason: {self.restriction_reason}"
        return message


API_TOKEN_NAME_MAX_LENGTH = 100


def api_token_digest(key: str) -> str:
    """Tokens are stored as their SHA-256: a copy of the database signs no one in."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A secret for `Authorization: Token <key>`. A person has as many as they signed in
    with; each expires, can be revoked, and all go when the password changes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell it.")
    name = models.CharField(max_length=API_TOKEN_NAME_MAX_LENGTH, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "-created"])]

    def __str__(self):
        return f"{self.prefix}… of @{self.user}"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
