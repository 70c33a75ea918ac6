"""What every socket shares: its close codes, the channel-layer messages its consumers
handle, a consumer that never dies with 1011, and the limit on how often one person opens
sockets.

daphne sends only 1000 and 3000-4999 as close codes (anything else kills the consumer), so
every code here is in the 4000s; the last three digits echo the HTTP status they mean.
"""

import contextlib
import logging
import time
import weakref
from importlib import import_module
from types import SimpleNamespace
from typing import ClassVar

import redis.exceptions
from autobahn.exception import Disconnected as ClientGone
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError

from config.redis import cache_count

logger = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
# The server process is stopping (a deploy, a restart): come back at once, to another one.
# It echoes WebSocket's own 1012 "Service Restart", which daphne cannot send.
CLOSE_RESTARTING = 4012
CLOSE_UNAUTHENTICATED = 4401  # not signed in
CLOSE_FORBIDDEN = 4403  # not allowed here (locked out, removed, blocked)
CLOSE_NOT_FOUND = 4404  # no such room, or it ended
CLOSE_IDLE = 4408  # no ping for too long, or dropped by the presence sweep
CLOSE_REPLACED = 4409  # a newer connection of the same person took over
CLOSE_TOO_BIG = 4413  # a frame over the size limit
CLOSE_RATE_LIMITED = 4429  # too many frames, or too many new sockets
CLOSE_SERVER_ERROR = 4500  # a fault of ours; the client may reconnect
CLOSE_TRY_AGAIN = 4503  # Redis or the database is unreachable; reconnect later
# What each code means, for the protocol page (docs/protocol.md).
CLOSE_MEANINGS = {
    CLOSE_NORMAL: "The client left (`room.leave`), or a reply raced its own close.",
    CLOSE_RESTARTING: (
        "The server process is stopping (a deploy or a restart); reconnect at once. "
        "A member who comes back within the room's grace keeps their place."
    ),
    CLOSE_UNAUTHENTICATED: "Not signed in.",
    CLOSE_FORBIDDEN: "Not allowed here: removed from the room, blocked, locked out.",
    CLOSE_NOT_FOUND: "No such room, or it ended.",
    CLOSE_IDLE: "No ping for too long, or dropped by the presence sweep.",
    CLOSE_REPLACED: "Replaced by a newer connection of the same person.",
    CLOSE_TOO_BIG: "A frame over the socket's size limit.",
    CLOSE_RATE_LIMITED: "Too many frames, or too many sockets opened this minute.",
    CLOSE_SERVER_ERROR: "A fault of the server's (logged); reconnect.",
    CLOSE_TRY_AGAIN: "Redis or the database is unreachable; reconnect later.",
}

# Channel-layer message types. Channels hands each to the consumer method of the same name,
# dots as underscores (`room.frame` → `room_frame`).
ROOM_FRAME = "room.frame"  # `text`: a frame to send on
ROOM_CLOSE = "room.close"  # `text`: a last frame to send on, then close with `code`
ROOM_REPLACED = "room.replaced"  # a newer connection of the same person took over
ROOM_MEDIA_REVOKE = "room.media_revoke"  # `reason`: their right to send audio ended
USER_DISCONNECT = "user.disconnect"  # `code`, `reason`: every socket of a person closes
NOTIFICATION_CREATED = "notification.created"  # `text`: the frame; `count`: unread after it
UNREAD_COUNT = "unread.count"  # `count`
HALLWAY_CHANGED = "hallway.changed"  # nothing: an open room started or ended

# What a lost Redis or database looks like: the client should come back, nobody is at fault.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError)


class GuardedConsumer(AsyncWebsocketConsumer):
    """A consumer whose failures end in a close code the client understands.

    Without this, an exception in a handler (or in the channel layer's receive loop, when
    Redis goes away) ends the application: daphne closes with 1011 and `disconnect` never
    runs, so the person stays shown as connected until the sweep. Here the socket closes
    with CLOSE_TRY_AGAIN (Redis or the database unreachable) or CLOSE_SERVER_ERROR, and
    `disconnect` runs so the room hears they left.

    Every open one is known to its process (`open_here`), which closes them all with
    CLOSE_RESTARTING when it stops (`close_all_restarting`).
    """

    open_here: ClassVar[weakref.WeakSet["GuardedConsumer"]] = weakref.WeakSet()
    # Set when the process closed this socket because it is stopping: the client comes
    # straight back (to another process), so `disconnect` keeps what a lost connection would
    # give up.
    restarting = False

    async def __call__(self, scope, receive, send):
        # Channels sets this after the channel layer gave the consumer its channel; on the
        # Pub/Sub layer that already needs Redis, and a socket opening while Redis is down
        # must still be closed with "try again".
        self.base_send = send
        GuardedConsumer.open_here.add(self)
        try:
            await super().__call__(scope, receive, send)
        except ClientGone:
            # A reply raced the client's own close: nothing to tell anyone.
            await self._fail(CLOSE_NORMAL)
        except UNAVAILABLE as error:
            logger.warning("Socket closed, a backing service is unreachable: %r", error)
            await self._fail(CLOSE_TRY_AGAIN)
        except Exception:
            logger.exception("Socket handler failed; closing the socket.")
            await self._fail(CLOSE_SERVER_ERROR)
        finally:
            GuardedConsumer.open_here.discard(self)

    async def close_restarting(self) -> None:
        """The process is stopping: the client is told to reconnect at once."""
        if self.restarting:
            return
        self.restarting = True
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.close(code=CLOSE_RESTARTING)

    async def dispatch(self, message: dict) -> None:
        """Hands a message (a frame, a channel-layer event) to its handler.

        Channels' own dispatch first closes stale database connections in a trip to the
        process's one thread for synchronous work, for every message: a room of 1,000
        members then made 1,000 such trips per event, queued behind the joins' database
        work. Our handlers reach the database only through `database_sync_to_async`, which
        closes stale connections itself, in the thread that uses them."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def layer_lost(self, message: dict) -> None:
        """The process lost Redis for a moment and with it what was published meanwhile."""
        raise redis.exceptions.ConnectionError("The channel layer lost its connection to Redis.")

    async def _fail(self, code: int) -> None:
        opened = hasattr(self, "channel_name")
        with contextlib.suppress(Exception):
            if not opened:
                # It failed before its handler ran: a close code needs an open socket.
                await self.base_send({"type": "websocket.accept"})
            await self.base_send({"type": "websocket.close", "code": code})
        if not opened:
            return  # nothing to clean up
        try:
            await self.disconnect(code)
        except Exception:
            logger.exception("Cleaning up after a failed socket failed too.")


async def close_all_restarting() -> int:
    """Closes every socket of this process with CLOSE_RESTARTING (those it closed already
    are skipped); returns how many it closed now."""
    closing = [consumer for consumer in GuardedConsumer.open_here if not consumer.restarting]
    for consumer in closing:
        await consumer.close_restarting()
    return len(closing)


def socket_open_allowed(user_id: int, kind: str) -> bool:
    """Counts one more socket of `kind` opened by this person this minute; False past
    SOCKET_OPENS_PER_MINUTE. A reconnecting client backs off; a script does not.

    Synchronous, like `socket_user`: a consumer calls both in the one trip to a worker
    thread it makes when a socket opens."""
    key = f"socket-opens:{kind}:{user_id}:{int(time.time() // 60)}"
    count = cache_count(key, timeout=120)
    return count <= settings.SOCKET_OPENS_PER_MINUTE


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
