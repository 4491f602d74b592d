"""The project's cache on Redis, which a Redis outage does not take down (README, «Сбои»).

Everything kept in the cache can be computed again (tree counts, a dashboard's table, a job's progress bar), so
while Redis cannot be reached a read is a miss, a write is dropped, and pages render from the database. After a
connection error this process leaves Redis alone for REDIS_PAUSE_SECONDS, so a page does not wait for a refused
or timed-out connection on each of its cache calls; the pause is logged once. The rate limits, which talk to Redis
directly, take the same kind of pause and count in the process meanwhile (accounts.rate_limits).
"""

import logging
import threading
import time
from functools import partial

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What an unreachable, restarting (BusyLoadingError is a ConnectionError) or hung Redis raises.
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
REDIS_PAUSE_SECONDS = 5.0

_paused_until: dict[str, float] = {}
_pause_lock = threading.Lock()


def redis_paused(name: str) -> bool:
    """Whether this process is leaving the Redis called `name` alone after a recent connection error."""
    return time.monotonic() < _paused_until.get(name, 0.0)


def redis_pause(name: str, error: BaseException) -> None:
    """Leave the Redis called `name` alone for REDIS_PAUSE_SECONDS; logged once per pause, not once per call."""
    with _pause_lock:
        already_paused = redis_paused(name)
        _paused_until[name] = time.monotonic() + REDIS_PAUSE_SECONDS
    if not already_paused:
        logger.warning("Redis (%s) unreachable, going on without it for %s s: %s", name, REDIS_PAUSE_SECONDS, error)


class DegradingRedisCache(RedisCache):
    """RedisCache whose calls answer as an empty cache while Redis cannot be reached."""

    pause_name = "cache"

    def _guarded(self, call, fallback):
        if redis_paused(self.pause_name):
            return fallback
        try:
            return call()
        except REDIS_UNREACHABLE as error:
            redis_pause(self.pause_name, error)
            return fallback

    def get(self, key, default=None, version=None):
        return self._guarded(partial(super().get, key, default, version), default)

    def get_many(self, keys, version=None):
        return self._guarded(partial(super().get_many, keys, version), {})

    def has_key(self, key, version=None):
        return self._guarded(partial(super().has_key, key, version), False)

    def add(self, key, value, *args, **kwargs):
        return self._guarded(partial(super().add, key, value, *args, **kwargs), False)

    def set(self, key, value, *args, **kwargs):
        return self._guarded(partial(super().set, key, value, *args, **kwargs), None)

    def set_many(self, data, *args, **kwargs):
        return self._guarded(partial(super().set_many, data, *args, **kwargs), list(data))

    def touch(self, key, *args, **kwargs):
        return self._guarded(partial(super().touch, key, *args, **kwargs), False)

    def delete(self, key, version=None):
        return self._guarded(partial(super().delete, key, version), False)

    def delete_many(self, keys, version=None):
        return self._guarded(partial(super().delete_many, keys, version), None)

    def clear(self):
        return self._guarded(super().clear, False)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._guarded(partial(super().incr, key, delta, version), missing)
        if value is missing:
            raise ValueError(f"Key '{key}' not found")  # what incr() says of a key the cache does not hold
        return value
