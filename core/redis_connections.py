"""How the project's connections to Redis behave: a dead pooled connection is replaced and
its command sent again; an idle one is checked before use; a command fails fast when Redis
is down, so that what falls back on something else (the cache) answers in time. Shared by
the cache (core.cache) and the channel layers (realtime.channel_layers)."""

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# A dead pooled connection is replaced and the command sent again, a few times, within
# about a second; a connection idle this long is checked with a PING before use.
RETRIES = 3
HEALTH_CHECK_SECONDS = 10
RETRY_ERRORS = [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
UNAVAILABLE = tuple(RETRY_ERRORS)


def backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


def connection_options() -> dict:
    """redis-py options of the cache's (synchronous) connections: they fail fast when Redis
    is down, so the fallback answers in time."""
    return {
        "retry": Retry(backoff(), RETRIES),
        "retry_on_error": RETRY_ERRORS,
        "health_check_interval": HEALTH_CHECK_SECONDS,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
