"""Fixtures of the fault tests (README, «Сбои»): a Redis of the test's own that the test stops, this process pointed
at it as production settings point it, and the discount programme's fixtures for the partner API and payouts."""

import pytest

from accounts import rate_limits
from registry import cache as degrading_cache
from tests.discounts.conftest import programme  # noqa: F401 (fixture)
from tests.discounts.test_api import keys  # noqa: F401 (fixture)
from tests.discounts.test_payouts import due  # noqa: F401 (fixture)
from tests.faults.servers import RedisServer, celery_point_at, production_settings, remove_access_log_rows_on_sqlite


@pytest.fixture
def private_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_on_private_redis(private_redis, settings, monkeypatch):
    """This process on the private Redis as production settings put it there (config/settings.py read with REDIS_URL
    naming it): the cache, the rate limits, Celery's broker and result backend, tasks sent to the broker."""
    from config.celery import app

    production = production_settings(private_redis.url)
    settings.REDIS_URL = private_redis.url
    settings.CACHES = production["CACHES"]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(degrading_cache, "REDIS_PAUSE_SECONDS", 0.3)
    monkeypatch.setattr(degrading_cache, "_paused_until", {})
    rate_limits._redis.cache_clear()
    rate_limits._counts_while_redis_is_down.clear()
    saved = {name: app.conf[name] for name in ("broker_url", "result_backend", "task_always_eager")}
    celery_point_at(app, {
        "broker_url": production["CELERY_BROKER_URL"], "result_backend": production["CELERY_RESULT_BACKEND"],
        "task_always_eager": False,
    })  # fmt: skip
    yield private_redis
    private_redis.stop()
    celery_point_at(app, saved)
    rate_limits._redis.cache_clear()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CARD_BATCH_CHUNK_SIZE = 10
    return settings.MEDIA_ROOT


@pytest.fixture
def access_log_flushed():
    """Jobs here write the access log, which SQLite's flush after a transactional test cannot delete."""
    yield
    remove_access_log_rows_on_sqlite()
