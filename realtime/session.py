"""Who is behind a socket: its session, from its cookie, and the person, read once per
connection."""

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser


class SocketSession:
    """ASGI middleware: the socket's session, from its cookie (inside Channels'
    CookieMiddleware), loaded when first read.

    Channels' SessionMiddleware does the same and also wraps every message the socket
    sends, to save a changed session before an HTTP response: for a socket, which never
    changes its session, that asked the session whether it changed for every frame sent."""

    def __init__(self, inner):
        self.inner = inner
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        session = self.store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner({**scope, "session": session}, receive, send)


def socket_user(scope: dict) -> AbstractBaseUser | AnonymousUser:
    """The person behind a socket, from its session cookie, resolved once per connection.

    The socket stack reads the session lazily and does not look the user up (as Channels'
    `AuthMiddleware` does, in a trip of its own to a worker thread): the consumer calls this
    in the trip it makes anyway. Sessions are cached (`cached_db`), so this is one query for
    the user. Tests may put a user in the scope; it is used as it is."""
    if "user" not in scope:
        scope["user"] = auth.get_user(SimpleNamespace(session=scope["session"]))
    return scope["user"]
