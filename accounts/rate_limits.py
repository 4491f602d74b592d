"""Fixed-window rate limits counted in the cache: the partner API's limit per key (discounts/api.py) and the pages'
limits per address, e-mail or user (sign-in, password reset, the cashier's page).

A limit is a setting "<calls>/<seconds>". Each subject has one counter per window of its scope, shared by every
worker through Redis in production (one round trip), in the local-memory cache of the embedded set-up. Subjects go
into the key as a keyed hash: no address or e-mail is stored in the cache in clear. A page over its limit answers
429 with Retry-After and says in Russian when to try again, without doing what was asked.
"""

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

from registry.cache import REDIS_UNREACHABLE, redis_pause, redis_paused


@dataclass(frozen=True)
class RateLimit:
    calls: int
    seconds: int

    @classmethod
    def from_setting(cls, name: str) -> "RateLimit":
        calls, _slash, seconds = getattr(settings, name).partition("/")
        return cls(calls=int(calls), seconds=int(seconds or 60))


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def rate_limit_take(
    *, scope: str, subject: str, limit: RateLimit, now: float | None = None, also_read: str = ""
) -> bool:
    """Count one call of `subject` in the current window of `scope`; raise RateLimited with the seconds until the
    window ends once the subject is over the limit. Returns whether the cache key `also_read` is set, read in the
    same round trip (the partner API learns so whether a key was revoked)."""
    now = time.time() if now is None else now
    window_start = int(now // limit.seconds) * limit.seconds
    subject_hash = salted_hmac("accounts.rate_limits", subject).hexdigest()[:24]
    # The counter outlives its window by a margin: a late call of the window still finds it.
    calls, marked = _window_count(
        f"rate:{scope}:{subject_hash}:{window_start}", expire=limit.seconds + 60, also_read=also_read
    )
    if calls > limit.calls:
        raise RateLimited(retry_after=max(1, math.ceil(window_start + limit.seconds - now)))
    return marked


def _window_count(key: str, *, expire: int, also_read: str) -> tuple[int, bool]:
    """One more call in a window's counter, the count, and whether `also_read` is set. With Redis (production) one
    round trip: SET NX with the expiry, INCR and GET, pipelined (the cache API would take four). Without Redis (the
    embedded set-up) the local-memory cache's add(), incr() and get(), atomic under its lock.

    Redis unreachable (README, «Сбои»): the limits hold, counted by each process alone (so up to the number of web
    processes times the limit in all), rather than refusing every sign-in and every till; `also_read` cannot be
    read and counts as set, so the partner API asks the database whether the key was revoked on every call."""
    if settings.REDIS_URL:
        if not redis_paused(RATE_LIMITS_REDIS):
            try:
                pipeline = _redis().pipeline(transaction=False).set(key, 0, ex=expire, nx=True).incr(key)
                if also_read:
                    pipeline.get(cache.make_key(also_read))
                _created, calls, *marked = pipeline.execute()
                return calls, bool(marked) and marked[0] is not None
            except REDIS_UNREACHABLE as error:
                redis_pause(RATE_LIMITS_REDIS, error)
        _counts_while_redis_is_down.add(key, 0, timeout=expire)
        return _counts_while_redis_is_down.incr(key), bool(also_read)
    cache.add(key, 0, timeout=expire)
    return cache.incr(key), bool(also_read) and cache.get(also_read) is not None


RATE_LIMITS_REDIS = "rate limits"
_counts_while_redis_is_down = LocMemCache("rate-limits-while-redis-is-down", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


@functools.cache
def _redis():
    import redis

    # Short timeouts: a Redis that hangs costs a call a second at most, then the pause above.
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def rate_limited(scope: str, *, limit: str, subject: Callable[[HttpRequest], str | None], methods=("POST",)):
    """Let a view's `methods` requests through while subject(request) (an address, an e-mail, a user id; None or ""
    counts nothing) is within the setting `limit`; over it, answer the 429 page instead of running the view."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                counted = subject(request)
                if counted:
                    try:
                        rate_limit_take(scope=scope, subject=counted, limit=RateLimit.from_setting(limit))
                    except RateLimited as over:
                        return too_many_requests(request, retry_after=over.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    minutes = math.ceil(retry_after / 60)
    response = render(
        request, "429.html", {"retry_seconds": retry_after if retry_after < 60 else None, "retry_minutes": minutes},
        status=429,
    )  # fmt: skip
    response["Retry-After"] = str(retry_after)
    return response
