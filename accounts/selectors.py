"""Reads about people."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User
from core.errors import ApplicationError


def user_get(*, username: str) -> User:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise ApplicationError.not_found(f"There is no one called @{username} here.")
    return user


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A person's tokens that still work, newest first."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return ApiToken.objects.filter(live, user=user)
