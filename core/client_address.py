"""Who is asking: the one rule for a request's client address.

The socket's peer (REMOTE_ADDR) is the client, unless that peer is one of the reverse proxies
named in TRUSTED_PROXIES. Then X-Forwarded-For is read from the right, where each trusted
proxy appended the address it saw, and the first address that is not a trusted proxy is the
client. Anything further left was written by the client and is never believed. With no
trusted proxies (the default) the header is ignored altogether, so a client cannot pick a new
identity per request to slip past a throttle.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def is_trusted_proxy(address: str) -> bool:
    """Whether a peer at this address is one of TRUSTED_PROXIES."""
    return _trusted(_address(address), _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The client's address as text, for throttles and anything else keyed on it."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _trusted(_address(remote), networks):
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A proxy writes only addresses; a malformed hop means the chain is not one we
            # can read, and the nearest proxy is the best that is known.
            return remote
        if not _trusted(address, networks):
            return str(address)
    return remote
