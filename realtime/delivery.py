"""Real-time delivery: every push goes out after the transaction that caused it commits.

Services call `group_send_on_commit` / `send_on_commit`; nothing else talks to the channel
layer for them. With Redis every process reaches every socket directly. On the embedded
defaults the channel layer lives inside the web server's process, so a push made anywhere
else (the Celery worker, a management command) travels through a relay: a queue in a folder
(kombu's file-system transport, the same one the embedded Celery broker uses) that the web
server drains into its in-memory layer.
"""

import asyncio
import contextlib
import logging
import time

import redis.exceptions
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from kombu import Connection

logger = logging.getLogger(__name__)

RELAY_QUEUE = "roundtable.pushes"
# A relayed push older than this is dropped: its readers have resynchronised since.
RELAY_MAX_AGE_SECONDS = 30
# Group messages in flight at once when many go out together.
PARALLEL_PUSHES = 8


class _State:
    serves_sockets = False
    relay_task: asyncio.Task | None = None


def serve_sockets_here() -> None:
    """Called by the ASGI application: pushes made in this process go straight out."""
    _State.serves_sockets = True


def _needs_relay() -> bool:
    return not _State.serves_sockets and isinstance(get_channel_layer(), InMemoryChannelLayer)


def _relay_connection() -> Connection:
    folder = settings.VAR_DIR / "relay"
    folder.mkdir(parents=True, exist_ok=True)
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    options["control_folder"] = str(folder)
    return Connection("filesystem://", transport_options=options)


def deliver(message: dict, *, group: str | None = None, channel: str | None = None) -> None:
    """Sends now (call it after commit): to a group or to one connection's channel."""
    if _needs_relay():
        with _relay_connection() as connection:
            queue = connection.SimpleQueue(RELAY_QUEUE)
            queue.put({"group": group, "channel": channel, "message": message, "at": time.time()})
            queue.close()
        return
    layer = get_channel_layer()
    if group is not None:
        async_to_sync(layer.group_send)(group, message)
    else:
        async_to_sync(layer.send)(channel, message)


def deliver_to_groups(pushes: list[tuple[str, dict]]) -> None:
    """Sends many group messages now (a fan-out's online recipients): one relay write, or
    one pass of the event loop, instead of one per message."""
    if not pushes:
        return
    if _needs_relay():
        with _relay_connection() as connection:
            queue = connection.SimpleQueue(RELAY_QUEUE)
            for group, message in pushes:
                queue.put({"group": group, "channel": None, "message": message, "at": time.time()})
            queue.close()
        return
    layer = get_channel_layer()
    # A few at a time: hundreds at once exhaust the Redis client's connection pool.
    gate = asyncio.Semaphore(PARALLEL_PUSHES)

    async def send(group, message):
        async with gate:
            await layer.group_send(group, message)

    async def send_all():
        await asyncio.gather(*(send(group, message) for group, message in pushes))

    async_to_sync(send_all)()


def _deliver_after_commit(message: dict, **target) -> None:
    """The change is committed; a push lost to a Redis outage must not fail the caller.
    Clients see the gap in `seq` (or reconnect) and ask for a snapshot."""
    try:
        deliver(message, **target)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        logger.warning("Push to %s lost, Redis is unreachable: %r", target, error)


def group_send_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: _deliver_after_commit(message, group=group))


def send_on_commit(channel: str, message: dict) -> None:
    transaction.on_commit(lambda: _deliver_after_commit(message, channel=channel))


def ensure_relay_running() -> None:
    """Starts draining the relay queue in the web server's event loop (embedded mode only)."""
    if not isinstance(get_channel_layer(), InMemoryChannelLayer):
        return
    if _State.relay_task is None or _State.relay_task.done():
        _State.relay_task = asyncio.get_running_loop().create_task(_drain_relay())


def _take_relayed(timeout: float) -> list[dict]:
    taken = []
    with _relay_connection() as connection:
        queue = connection.SimpleQueue(RELAY_QUEUE)
        with contextlib.suppress(queue.Empty):
            message = queue.get(block=True, timeout=timeout)
            while True:
                taken.append(message.payload)
                message.ack()
                message = queue.get(block=False)
        queue.close()
    return taken


async def _drain_relay() -> None:
    layer = get_channel_layer()
    while True:
        try:
            pushes = await asyncio.to_thread(_take_relayed, 1.0)
        except Exception:
            logger.exception("Reading the push relay failed; retrying.")
            await asyncio.sleep(1)
            continue
        for push in pushes:
            if time.time() - push["at"] > RELAY_MAX_AGE_SECONDS:
                continue
            if push["group"] is not None:
                await layer.group_send(push["group"], push["message"])
            else:
                await layer.send(push["channel"], push["message"])
