"""Reads about people."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User
from config.db import SubqueryCount, exists_for
from config.errors import ApplicationError
from follows.models import Block, Follow


def user_get(*, username: str) -> User:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise ApplicationError.not_found(f"There is no one called @{username} here.")
    return user


def user_profile_get(*, username: str, viewer: User | AnonymousUser) -> User:
    """The person with counts and how they relate to the viewer, in one query."""
    user = (
        User.objects.filter(username__iexact=username, is_active=True)
        .annotate(
            follower_count=SubqueryCount(Follow.objects.filter(followee=OuterRef("pk"))),
            following_count=SubqueryCount(Follow.objects.filter(follower=OuterRef("pk"))),
            viewer_follows=exists_for(
                viewer, lambda v: Follow.objects.filter(follower=v, followee=OuterRef("pk"))
            ),
            follows_viewer=exists_for(
                viewer, lambda v: Follow.objects.filter(follower=OuterRef("pk"), followee=v)
            ),
            viewer_blocked=exists_for(
                viewer, lambda v: Block.objects.filter(blocker=v, blocked=OuterRef("pk"))
            ),
            blocked_viewer=exists_for(
                viewer, lambda v: Block.objects.filter(blocker=OuterRef("pk"), blocked=v)
            ),
        )
        .first()
    )
    if user is None:
        raise ApplicationError.not_found(f"There is no one called @{username} here.")
    return user


def user_suggestions(*, viewer: User, limit: int = 6) -> QuerySet[User]:
    """People the viewer does not follow yet, most followed first."""
    return (
        User.objects.filter(is_active=True, is_staff=False)
        .exclude(pk=viewer.pk)
        .exclude(follower_set__follower=viewer)
        .exclude(blocks_made__blocked=viewer)
        .exclude(blocks_received__blocker=viewer)
        .annotate(follower_count=SubqueryCount(Follow.objects.filter(followee=OuterRef("pk"))))
        .order_by("-follower_count", "username")[:limit]
    )


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A person's tokens that still work, newest first."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return ApiToken.objects.filter(live, user=user)
