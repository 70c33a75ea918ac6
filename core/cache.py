"""The cache: Django's Redis cache that keeps working on this process's memory while Redis
is away (a page that counts a throttle in the cache would otherwise answer 500), and the
counting, gathering and rate operations the apps run on it, atomic on Redis."""

import logging
import math
import threading
import time
from collections.abc import Collection
from typing import NamedTuple

import redis
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.redis_connections import UNAVAILABLE, connection_options

logger = logging.getLogger(__name__)


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
