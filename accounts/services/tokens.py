"""API tokens: made at sign-in, listed and revoked by their owner, gone with a new password
or once expired (with expired sessions, hourly)."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User, api_token_digest
from core.errors import ApplicationError

# last_used is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=5)


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token and its key. The key is shown this once: only its digest is kept."""
    key = secrets.token_hex(20)
    ttl_days = settings.API_TOKEN_TTL_DAYS
    token = ApiToken.objects.create(
        user=user,
        digest=api_token_digest(key),
        prefix=key[:8],
        name=name.strip(),
        expires_at=timezone.now() + timedelta(days=ttl_days) if ttl_days else None,
    )
    return token, key


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The live token with this key, its user loaded; None when unknown or expired."""
    token = ApiToken.objects.select_related("user").filter(digest=api_token_digest(key)).first()
    now = timezone.now()
    if token is None or token.is_expired(now):
        return None
    if token.last_used is None or token.last_used < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> None:
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise ApplicationError.not_found("You have no such token.")


def expired_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes what can no longer sign anyone in: API tokens past their expiry and sessions
    past theirs (kept in the database behind the cache; a cached copy expires by itself).
    Returns how many of each went."""
    now = now or timezone.now()
    tokens, _ = ApiToken.objects.filter(expires_at__lte=now).delete()
    sessions, _ = Session.objects.filter(expire_date__lte=now).delete()
    return {"tokens": tokens, "sessions": sessions}
