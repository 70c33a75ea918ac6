"""How the project talks to Redis: a channel layer that waits for a pooled connection
instead of failing, connections that survive a Redis restart, and a cache that keeps
working on local memory while Redis is away.

A burst of sockets opening at once sends more commands than a pool holds: redis-py's plain
pool then raises "Too many connections" and the socket dies. After Redis restarts, every
pooled connection is dead; without retries each one fails the command it carries. While
Redis is down, a page that counts a throttle in the cache would answer 500.
"""

import asyncio
import logging
import math
import threading
import time
from collections.abc import Collection
from typing import NamedTuple

import redis
from channels_redis import pubsub
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from channels_redis.utils import create_pool, decode_hosts
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# A dead pooled connection is replaced and the command sent again, a few times, within
# about a second; a connection idle this long is checked with a PING before use.
RETRIES = 3
HEALTH_CHECK_SECONDS = 10
RETRY_ERRORS = [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
UNAVAILABLE = tuple(RETRY_ERRORS)


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


def connection_options() -> dict:
    """redis-py options of the cache's (synchronous) connections: they fail fast when Redis
    is down, so the fallback answers in time."""
    return {
        "retry": Retry(_backoff(), RETRIES),
        "retry_on_error": RETRY_ERRORS,
        "health_check_interval": HEALTH_CHECK_SECONDS,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }


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
            retry=AsyncRetry(_backoff(), RETRIES),
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


class _SharedClients(RedisCacheClient):
    """Django's Redis cache client, which makes one redis-py client per pool and keeps it
    (Django's makes a new one, and copies its table of reply parsers, for every command)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[object, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class FallbackRedisCache(RedisCache):
    """Django's Redis cache that answers from this process's memory while Redis is
    unreachable: throttles keep counting (per process) and pages keep working."""

    # Django makes a cache object, and with it a connection pool, per thread and per
    # asynchronous task; every socket runs in a task of its own, so a burst of 1,000 sockets
    # opened 1,000 pools and as many Redis connections. One client a process serves them all
    # (redis-py's pool is thread-safe and starts afresh in a forked child).
    _clients: dict = {}
    _clients_lock = threading.Lock()

    def __init__(self, server, params):
        options = {**connection_options(), **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _SharedClients
        self._local = LocMemCache(f"redis-fallback-{server}", params)

    @property
    def _cache(self):
        key = tuple(self._servers)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = self._class(self._servers, **self._options)
            return self._clients[key]

    def _or_local(self, method: str, *args, **kwargs):
        try:
            return getattr(super(), method)(*args, **kwargs)
        except UNAVAILABLE as error:
            logger.warning("Redis cache unreachable, using local memory: %r", error)
            return getattr(self._local, method)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._or_local("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._or_local("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._or_local("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._or_local("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._or_local("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._or_local("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._or_local("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._or_local("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._or_local("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._or_local("delete_many", *args, **kwargs)

    def count(self, key: str, *, timeout: int, by: int = 1) -> int:
        """`cache_count` in one trip to Redis."""
        try:
            pipe = self._cache.get_client(write=True).pipeline(transaction=False)
            key = self.make_and_validate_key(key)
            pipe.set(key, 0, ex=timeout, nx=True)
            pipe.incrby(key, by)
            return pipe.execute()[1]
        except UNAVAILABLE as error:
            logger.warning("Redis cache unreachable, using local memory: %r", error)
            return _count_in(self._local, key, timeout, by)

    def gather(self, key: str, members: Collection[str], *, seconds: float) -> "Gathered":
        """`cache_gather` in one trip to Redis (a script, so that no two callers take the
        same window); with Redis away, each caller takes its own."""
        try:
            client = self._cache.get_client(write=True)
            taken, wait_ms = client.register_script(_GATHER)(
                keys=[self.make_and_validate_key(f"{key}:parked"), self.make_and_validate_key(key)],
                args=[max(1, round(seconds * 1000)), PARKED_SECONDS * 1000, *members],
            )
        except UNAVAILABLE as error:
            logger.warning("Redis cache unreachable, gathering locally: %r", error)
            return Gathered(sorted(members), 0.0)
        return Gathered(sorted(m.decode() for m in taken), wait_ms / 1000)

    def take(self, key: str, *, rate: float, burst: int) -> bool:
        """`cache_take` in one trip to Redis (a script: no two callers take one token)."""
        try:
            client = self._cache.get_client(write=True)
            return bool(
                client.register_script(_TAKE)(
                    keys=[self.make_and_validate_key(key)],
                    args=[time.time() * 1000, 1000 / rate, burst],
                )
            )
        except UNAVAILABLE as error:
            logger.warning("Redis cache unreachable, using local memory: %r", error)
            return _take_in(self._local, key, rate, burst)

    def clear(self):
        self._local.clear()
        return self._or_local("clear")


# Members parked for a window that nobody took (every process that parked them died) are
# dropped after this long.
PARKED_SECONDS = 60

# KEYS: the parked set, the window's key. ARGV: the window in ms, the parked set's life in
# ms, then the members to park. Returns {members taken, ms until the window ends (0 when
# nothing is left parked)}.
_GATHER = """
for i = 3, #ARGV, 500 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
if redis.call('SCARD', KEYS[1]) == 0 then
  return {{}, 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  local taken = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  return {taken, 0}
end
return {{}, math.max(redis.call('PTTL', KEYS[2]), 1)}
"""


# A token bucket kept as the time its next token is due (GCRA): KEYS: the bucket. ARGV: now
# and the interval between tokens in ms, the burst. Returns 1 when a token was taken.
_TAKE = """
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
if due - now > (burst - 1) * interval then
  return 0
end
redis.call('SET', KEYS[1], tostring(due + interval), 'PX', math.ceil(due + interval - now))
return 1
"""


class Gathered(NamedTuple):
    taken: list[str]  # what this caller handles now: its own members and those parked
    wait: float  # seconds until the window ends, when others' members are still parked


def cache_gather(key: str, members: Collection[str], *, seconds: float) -> Gathered:
    """One taker per `seconds`-long window, across processes: the caller's members are
    parked under `key`, and the first caller of a window takes everything parked. A caller
    that comes later in the window takes nothing and learns how long until it ends, when
    members are still parked (its own or another's), so it can ask again then.

    A cache that is not Redis is one process's: the caller takes its own members."""
    store = caches["default"]
    if isinstance(store, FallbackRedisCache):
        return store.gather(key, members, seconds=seconds)
    return Gathered(sorted(members), 0.0)


def _count_in(store: BaseCache, key: str, timeout: int, by: int = 1) -> int:
    store.add(key, 0, timeout=timeout)
    try:
        return store.incr(key, by)
    except ValueError:  # the key expired between the two calls
        store.add(key, by, timeout=timeout)
        return by


def _take_in(store: BaseCache, key: str, rate: float, burst: int) -> bool:
    now, interval = time.time(), 1 / rate
    due = max(store.get(key, 0.0), now)
    if due - now > (burst - 1) * interval:
        return False
    store.set(key, due + interval, timeout=math.ceil(due + interval - now))
    return True


def cache_take(key: str, *, rate: float, burst: int) -> bool:
    """Takes a token from a bucket in the default cache that holds `burst` of them and gets
    `rate` a second back: one budget for a person however many sockets and processes they
    act through. False when it is empty."""
    store = caches["default"]
    if isinstance(store, FallbackRedisCache):
        return store.take(key, rate=rate, burst=burst)
    return _take_in(store, key, rate, burst)


def cache_count(key: str, *, timeout: int, by: int = 1) -> int:
    """Adds `by` to a counter in the default cache that lives `timeout` seconds from its
    first count, and returns it."""
    store = caches["default"]
    if isinstance(store, FallbackRedisCache):
        return store.count(key, timeout=timeout, by=by)
    return _count_in(store, key, timeout, by)
