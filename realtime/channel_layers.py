"""The channel layers on Redis: one that waits for a pooled connection instead of failing,
and a Pub/Sub one whose connections survive a Redis restart and tell the consumers what
they missed meanwhile.

A burst of sockets opening at once sends more commands than a pool holds: redis-py's plain
pool then raises "Too many connections" and the socket dies. After Redis restarts, every
pooled connection is dead; without retries each one fails the command it carries.
"""

import asyncio
import logging

import redis
from channels_redis import pubsub
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from channels_redis.utils import create_pool, decode_hosts
from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry

from core.redis_connections import (
    HEALTH_CHECK_SECONDS,
    RETRIES,
    RETRY_ERRORS,
    UNAVAILABLE,
    backoff,
)

logger = logging.getLogger(__name__)


class RedisChannelLayer(BaseRedisChannelLayer):
    """channels-redis with a pool that makes a command wait for a free connection (up to
    REDIS_POOL_TIMEOUT_SECONDS) rather than fail, and connections that retry."""

    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(
            address,
            max_connections=settings.REDIS_POOL_SIZE,
            timeout=settings.REDIS_POOL_TIMEOUT_SECONDS,
            retry=AsyncRetry(backoff(), RETRIES),
            retry_on_error=RETRY_ERRORS,
            health_check_interval=HEALTH_CHECK_SECONDS,
            socket_connect_timeout=2,
            **host,
        )


# What a socket hears when the connection its process subscribes through was lost: the
# messages published meanwhile are gone, so the consumer closes with "try again" and its
# client comes back for a fresh snapshot (GuardedConsumer.layer_lost).
LAYER_LOST = "layer.lost"


class _OpensOnce:
    """A Pub/Sub connection that is not opened again once lost. redis-py would reconnect it
    from whichever task touched it next (the reader, a subscribe, an unsubscribe, even two
    at once), and resubscribe quietly: the messages lost meanwhile would go unnoticed, and
    two tasks opening one connection together break it. The shard replaces it instead."""

    _opened = False

    async def connect_check_health(self, *args, **kwargs):
        if self._opened and not self.is_connected:
            raise redis.exceptions.ConnectionError("The Pub/Sub connection was lost.")
        await super().connect_check_health(*args, **kwargs)
        self._opened = True


def _pubsub_pool(host: dict):
    pool = create_pool(host)
    base = pool.connection_class
    pool.connection_class = type(f"OpensOnce{base.__name__}", (_OpensOnce, base), {})
    return pool


class _ShardThatTells(pubsub.RedisSingleShardConnection):
    """channels-redis's Pub/Sub connection (4.3), which replaces a lost Pub/Sub connection
    rather than reusing it, and tells the channels that were subscribed over it (their own
    name or a group they are in) that they lost messages. What was subscribed is subscribed
    again on the next connection, as soon as Redis answers: a room hub keeps its channel."""

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._to_restore: set[str] = set()
        self._unsubscribing: set[asyncio.Future] = set()  # kept referenced till done

    async def subscribe(self, channel):
        async with self._lock:
            if channel not in self._subscribed_to:
                self._ensure_redis()
                self._ensure_receiver()
                await self._ensure_pubsub()
                await self._pubsub.subscribe(channel)
                self._subscribed_to.add(channel)

    async def unsubscribe(self, channel):
        """Channels ends a consumer by cancelling its receive, which then unsubscribes its
        channel. The receive may be cancelled again meanwhile (daphne stopping while sockets
        close, the unsubscribes queued behind one another): the unsubscribe then goes on
        without it, and the receive ends with the cancellation it is already handling
        (channels-redis logged the second one as an error)."""
        unsubscribing = asyncio.ensure_future(self._unsubscribe(channel))
        try:
            await asyncio.shield(unsubscribing)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling() < 2:
                raise
            if not unsubscribing.done():
                self._unsubscribing.add(unsubscribing)
                unsubscribing.add_done_callback(self._unsubscribing.discard)

    async def _unsubscribe(self, channel):
        async with self._lock:
            self._to_restore.discard(channel)
            if channel not in self._subscribed_to:
                return
            self._subscribed_to.discard(channel)
            try:
                await self._pubsub.unsubscribe(channel)
            except UNAVAILABLE as error:
                # Redis went away, and this subscription with the connection.
                logger.warning("Could not unsubscribe %s, Redis is unreachable: %r", channel, error)

    async def flush(self):
        pubsub_client = self._pubsub
        await super().flush()
        self._to_restore = set()
        if pubsub_client is not None:
            await self._close(pubsub_client)

    def _ensure_redis(self):
        # Publishing goes through channels-redis's own client; subscriptions through
        # `_pubsub`, on a connection of its own (`_ensure_pubsub`).
        if self._redis is None:
            self._redis = aioredis.Redis(connection_pool=create_pool(self.host))

    async def _ensure_pubsub(self):
        """Under the lock: a Pub/Sub connection that works, with what was subscribed on a
        lost one subscribed again."""
        current = self._pubsub
        if current is not None and current.connection and not current.connection.is_connected:
            await self._retire(current, "closed")
        if self._pubsub is None:
            self._pubsub = aioredis.Redis(connection_pool=_pubsub_pool(self.host)).pubsub()
        wanted = self._wanted(self._to_restore)
        if wanted:
            await self._pubsub.subscribe(*wanted)
            self._subscribed_to |= wanted
        self._to_restore = set()

    def _wanted(self, names: set[str]) -> set[str]:
        layer = self.channel_layer
        return {name for name in names if name in layer.channels or name in layer.groups}

    async def _retire(self, pubsub_client, error) -> None:
        """Under the lock: the channels subscribed over a lost connection hear that they
        lost messages; the connection is closed and what it carried is to be restored."""
        if pubsub_client is not self._pubsub:
            return
        logger.warning("Redis Pub/Sub connection lost: %r", error)
        layer = self.channel_layer
        told = {name for name in self._subscribed_to if name in layer.channels}
        for group in self._subscribed_to & layer.groups.keys():
            told |= layer.groups[group] & layer.channels.keys()
        lost = layer.channel_layer.serialize({"type": LAYER_LOST})
        for name in told:
            layer.channels[name].put_nowait(lost)
        self._to_restore |= self._subscribed_to
        self._subscribed_to = set()
        self._pubsub = None
        await self._close(pubsub_client)

    @staticmethod
    async def _close(pubsub_client) -> None:
        await pubsub_client.aclose()
        await pubsub_client.connection_pool.disconnect()

    async def _do_receiving(self):
        while True:
            pubsub_client = self._pubsub
            if pubsub_client is None or not pubsub_client.subscribed:
                if self._to_restore:
                    await self._restore()
                else:
                    await asyncio.sleep(0.1)
                continue
            try:
                if not pubsub_client.connection.is_connected:
                    raise redis.exceptions.ConnectionError("The Pub/Sub connection closed.")
                message = await pubsub_client.get_message(
                    ignore_subscribe_messages=True, timeout=0.1
                )
            except Exception as error:
                if not isinstance(error, UNAVAILABLE):
                    logger.exception("Reading from Redis Pub/Sub failed unexpectedly.")
                async with self._lock:
                    await self._retire(pubsub_client, error)
                continue
            self._receive_message(message)

    async def _restore(self) -> None:
        try:
            async with self._lock:
                await self._ensure_pubsub()
        except UNAVAILABLE as error:
            logger.debug("Redis Pub/Sub still unreachable: %r", error)
            await asyncio.sleep(1)


class _LoopLayer(pubsub.RedisPubSubLoopLayer):
    def __init__(self, hosts=None, **kwargs):
        super().__init__(hosts, **kwargs)
        self._shards = [_ShardThatTells(host, self) for host in decode_hosts(hosts)]


class PubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """The Pub/Sub channel layer: a group's message travels once to each process with members
    in it, which hands it to them (the list layer writes one copy per member into Redis).
    A process that loses Redis closes its sockets with "try again" (see `_ShardThatTells`)."""

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            pubsub._wrap_close(self, loop)
        return self._layers[loop]
