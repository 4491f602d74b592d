"""A batch's package built by real Celery workers through the real Redis broker and result backend: the parts as a
chord, a part that fails retried alone by the worker, a rerun after a killed worker, and two worker processes
sharing the parts. Each test's workers listen on a queue of their own (see tests/test_celery_worker.py)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from cards import batch_build, tasks
from cards.models import CardBatch, CardBatchChunk
from cards.services import card_batch_form
from tests.cards.test_card_batch_parts import approve_requests, assert_package_exact
from tests.test_celery_worker import (
    _remove_rows_the_trigger_guards,
    celery_app,  # noqa: F401 (the fixture: tasks through the broker)
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: no broker for a real Celery worker"),
]
ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


@pytest.fixture(autouse=True)
def parts_of_ten(settings, tmp_path):
    settings.CARD_BATCH_CHUNK_SIZE = 10
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def access_log_flushed():
    """Forming a batch writes the access log, which SQLite's flush after a transactional test cannot delete."""
    yield
    _remove_rows_the_trigger_guards()


@pytest.fixture
def numbers(union, users) -> list[str]:
    return approve_requests(union, users)


def finished(batch: CardBatch) -> CardBatch:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status != CardBatch.Status.BUILDING:
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch.pk} still building after {WAIT_SECONDS} s")


def test_a_worker_builds_the_parts_and_retries_the_one_that_failed(celery_app, users, numbers, monkeypatch):  # noqa: F811
    batch = card_batch_form(by=users.regional)
    ordered, original, attempts = sorted(numbers), batch_build.cards_pdf, []

    def fail_part_two_once(faces, **kwargs):
        attempts.append(faces[0].number)
        if faces[0].number == ordered[10] and attempts.count(ordered[10]) == 1:
            raise OSError("хранилище не ответило")
        return original(faces, **kwargs)

    monkeypatch.setattr(batch_build, "cards_pdf", fail_part_two_once)
    queue = f"test-batch-{uuid.uuid4().hex}"
    with start_worker(celery_app, perform_ping_check=False, pool="solo", queues=[queue], shutdown_timeout=30):
        sent = tasks.card_batch_build.apply_async(args=[batch.pk], queue=queue)
        assert sent.get(timeout=WAIT_SECONDS) == 3  # three parts went out as a chord
        finished(batch)

    assert sent.backend.__class__.__name__ == "RedisBackend"
    assert_package_exact(batch, numbers)
    assert sorted(attempts) == sorted([ordered[0], ordered[10], ordered[10], ordered[20]])  # part 2 alone, twice
    assert all(chunk.worker for chunk in batch.chunks.all())


def test_a_rerun_after_a_killed_worker_completes_the_batch_exactly(celery_app, users, numbers):  # noqa: F811
    """Part 1 was recorded, part 2 half-written when the worker died: the batch is still building. The rerun sent
    through the broker renders parts 2 and 3 only and assembles every number exactly once."""
    batch = card_batch_form(by=users.regional)
    assert batch_build.card_batch_plan(batch_id=batch.pk) == [1, 2, 3]
    part_one = batch_build.card_batch_chunk_render(batch_id=batch.pk, index=1)
    default_storage.save(f"{batch_build._batch_storage_folder(batch.pk)}/chunk-0002-0badf00d.pdf", ContentFile(b"%PDF"))

    queue = f"test-batch-{uuid.uuid4().hex}"
    with start_worker(celery_app, perform_ping_check=False, pool="solo", queues=[queue], shutdown_timeout=30):
        assert tasks.card_batch_build.apply_async(args=[batch.pk], queue=queue).get(timeout=WAIT_SECONDS) == 2
        finished(batch)

    assert_package_exact(batch, numbers)
    assert CardBatchChunk.objects.get(pk=part_one.pk).rendered_at == part_one.rendered_at


def _test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_… database), for the worker processes."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.mark.postgres
def test_two_worker_processes_share_the_parts(celery_app, users, union, tmp_path):  # noqa: F811
    """Separate `celery worker` processes on the test database: the parts are spread over both, the package is
    exact. (PostgreSQL only: worker processes cannot reach the test run's in-memory SQLite.)"""
    numbers = approve_requests(union, users, count=60)
    batch = card_batch_form(by=users.regional)
    queue, workers = f"test-batch-{uuid.uuid4().hex}", []
    names = [f"{name}-{queue}@{socket.gethostname()}" for name in ("first", "second")]
    environment = os.environ | {
        "DATABASE_URL": _test_database_url(), "MEDIA_ROOT": str(tmp_path), "CARD_BATCH_CHUNK_SIZE": "10",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }  # fmt: skip
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    try:
        for name in names:
            log = (tmp_path / f"{name.split('-')[0]}.log").open("w")
            workers.append(subprocess.Popen(
                [celery, "-A", "config", "worker", "-P", "solo", "-Q", queue, "-n", name,
                 "--without-mingle", "--without-gossip", "-l", "warning"],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        deadline = time.monotonic() + WAIT_SECONDS
        while len(celery_app.control.ping(timeout=0.5, destination=names)) < len(names):
            assert time.monotonic() < deadline, "the worker processes did not answer"
        tasks.card_batch_build.apply_async(args=[batch.pk], queue=queue)
        finished(batch)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    assert_package_exact(batch, numbers)
    rendered_by = set(batch.chunks.values_list("worker", flat=True))
    assert len(rendered_by) == 2, rendered_by
