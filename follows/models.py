import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from accounts.models import validate_avatar_size
from core.text import name_key

CLUB_NAME_MAX_LENGTH = 60
CLUB_DESCRIPTION_MAX_LENGTH = 1000

club_slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    "Use lowercase letters, digits and single hyphens.",
    code="invalid_slug",
)


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_set"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follows_follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")),
                name="follows_follow_not_self",
                violation_error_message="You cannot follow yourself.",
            ),
        ]
        indexes = [models.Index(fields=["followee", "-created"])]

    def __str__(self):
        return f"{self.follower} → {self.followee}"


class Block(models.Model):
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="follows_block_unique"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")),
                name="follows_block_not_self",
                violation_error_message="You cannot block yourself.",
            ),
        ]

    def __str__(self):
        return f"{self.blocker} ⊘ {self.blocked}"


def club_picture_upload_to(instance, filename):
    return f"clubs/{uuid.uuid4().hex}.png"


class Club(models.Model):
    class JoinPolicy(models.TextChoices):
        OPEN = "open", "Anyone can join"
        APPROVAL = "approval", "An admin approves each member"

    slug = models.SlugField(max_length=50, unique=True, validators=[club_slug_validator])
    name = models.CharField(max_length=CLUB_NAME_MAX_LENGTH)
    # What the name shares with every name that looks like it (core.text.name_key).
    name_key = models.CharField(max_length=CLUB_NAME_MAX_LENGTH * 4, editable=False)
    description = models.TextField(max_length=CLUB_DESCRIPTION_MAX_LENGTH, blank=True)
    join_policy = models.CharField(
        max_length=10, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    # A square PNG made by accounts.avatars from the upload, as profile pictures are.
    picture = models.ImageField(
        upload_to=club_picture_upload_to, blank=True, validators=[validate_avatar_size]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The one admin who may hand the club over or delete it; None once their account is gone
    # (the site's staff then decide).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clubs_owned",
    )
    # The member the owner offered the club to; they become its owner when they accept.
    owner_offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(join_policy__in=["open", "approval"]),
                name="follows_club_join_policy_valid",
            ),
            # "Owls" and "owls", or "Owls" with a Cyrillic O, would be two clubs nobody could
            # tell apart.
            models.UniqueConstraint(
                fields=["name_key"],
                name="follows_club_name_key_unique",
                violation_error_message="A club with that name already exists.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("club", args=[self.slug])


class ClubMembership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        LEADER = "leader", "Leader"
        MEMBER = "member", "Member"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        ACTIVE = "active", "Member"

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "user"], name="follows_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "leader", "member"]),
                name="follows_membership_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "active"]),
                name="follows_membership_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["club", "status", "role"])]

    def __str__(self):
        return f"{self.user} in {self.club} ({self.role}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class ClubBan(models.Model):
    """Someone a club admin banned: out of the club and all of its rooms."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_bans"
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["club", "user"], name="follows_ban_unique")]

    def __str__(self):
        return f"{self.user} banned from {self.club}"


class ClubFollow(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_follows"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "user"], name="follows_clubfollow_unique"),
        ]

    def __str__(self):
        return f"{self.user} follows {self.club}"


class ClubInvite(models.Model):
    """An admin asked someone to join: accepting makes them a member without approval."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="invites")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="club_invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["club", "user"], name="follows_clubinvite_unique"),
        ]

    def __str__(self):
        return f"{self.user} invited to {self.club}"
