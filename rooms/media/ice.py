"""ICE servers for the browser: STUN and TURN from settings.

With TURN_SECRET set, TURN credentials follow the TURN REST convention coturn implements
(`use-auth-secret`): the username is `<expiry unix time>:<user id>` and the credential is
base64(HMAC-SHA1(secret, username)), so they expire on their own.
"""

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(*, user_id: int, now: float | None = None) -> tuple[str, str, int]:
    expires = int((now or time.time()) + settings.TURN_CREDENTIAL_TTL_SECONDS)
    username = f"{expires}:{user_id}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode(), expires


def renewal_delay(ttl: int) -> int:
    """Seconds until a page should fetch fresh credentials: four fifths of their lifetime,
    so an ICE restart late in a long room still finds them valid (a minute at the least)."""
    return max(60, ttl * 4 // 5)


def ice_configuration(*, user) -> dict:
    servers, expires = [], None
    if settings.STUN_URLS:
        servers.append({"urls": settings.STUN_URLS})
    if settings.TURN_URLS:
        turn = {"urls": settings.TURN_URLS}
        if settings.TURN_SECRET:
            username, credential, expires = turn_credentials(user_id=user.pk)
            turn.update(username=username, credential=credential)
        servers.append(turn)
    return {
        "ice_servers": servers,
        "ice_transport_policy": settings.ICE_TRANSPORT_POLICY,
        "expires_at": expires,
        "renew_in": None
        if expires is None
        else renewal_delay(settings.TURN_CREDENTIAL_TTL_SECONDS),
    }
