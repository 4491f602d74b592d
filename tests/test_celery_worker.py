"""A real Celery worker, through the real Redis broker and result backend, runs the access-log purge.

Everything else in the suite runs Celery eagerly; this is the one place the message actually travels. The worker
listens on a queue of its own, so a worker or test of someone else on the same Redis never takes its message.
"""

import datetime
import importlib
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import AccessLog
from accounts.tasks import access_log_purge_expired

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: no broker for a real Celery worker"),
]


def insert_log_row(*, days_ago: int, object_repr: str) -> None:
    """created_at is auto_now_add and rows cannot be updated (152-FZ trigger): old rows are inserted with SQL."""
    created_at = timezone.now() - datetime.timedelta(days=days_ago)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_accesslog (created_at, user_id, username, action, object_type, object_id, "
            "object_repr, organization_path, details, ip_address) "
            "VALUES (%s, NULL, '', 'view', '', '', %s, '', %s, NULL)",
            [connection.ops.adapt_datetimefield_value(created_at), object_repr, "{}"],
        )


@pytest.fixture
def celery_app(settings):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = was_eager


@pytest.fixture
def old_and_fresh_rows(transactional_db):
    insert_log_row(days_ago=settings.ACCESS_LOG_RETENTION_DAYS + 30, object_repr="за сроком хранения 1")
    insert_log_row(days_ago=settings.ACCESS_LOG_RETENTION_DAYS + 400, object_repr="за сроком хранения 2")
    insert_log_row(days_ago=400, object_repr="в сроке хранения")
    yield
    _remove_rows_the_trigger_guards()


def _remove_rows_the_trigger_guards() -> None:
    """The flush after a transactional test on SQLite is a DELETE, which the trigger refuses for rows under a year
    old; PostgreSQL flushes with TRUNCATE, which fires no row trigger."""
    if connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("accounts.migrations.0002_access_log_append_only")
    with connection.cursor() as cursor:
        for statement in append_only.SQLITE_REVERSE:
            cursor.execute(statement)
        cursor.execute("DELETE FROM accounts_accesslog")
        for statement in append_only.SQLITE_FORWARD:
            cursor.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_worker_purges_the_access_log_through_redis(celery_app, old_and_fresh_rows):
    queue = f"test-purge-{uuid.uuid4().hex}"
    with start_worker(celery_app, perform_ping_check=False, pool="solo", queues=[queue]):
        result = access_log_purge_expired.apply_async(queue=queue)
        purged = result.get(timeout=30)

    assert not isinstance(result, EagerResult)
    assert result.backend.__class__.__name__ == "RedisBackend"
    assert purged == 2
    assert set(AccessLog.objects.values_list("object_repr", flat=True)) == {"в сроке хранения"}
