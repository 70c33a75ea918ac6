"""What every socket consumer shares: a consumer that never dies with 1011, the closing of
every socket of a stopping process, and the limit on how often one person opens sockets."""

import contextlib
import logging
import time
import weakref
from typing import ClassVar

import redis.exceptions
from autobahn.exception import Disconnected as ClientGone
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import OperationalError

from core.cache import cache_count
from realtime.close_codes import (
    CLOSE_NORMAL,
    CLOSE_RESTARTING,
    CLOSE_SERVER_ERROR,
    CLOSE_TRY_AGAIN,
)

logger = logging.getLogger(__name__)

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
