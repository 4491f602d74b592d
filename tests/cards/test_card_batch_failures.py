"""A batch's build always ends in a state its page explains: ready, or failed with the reason and a code the staff
quote to support. Nothing stays «Готовится пакет» for good: a failing plan fails the batch, a build nothing has
moved for half an hour is failed by the beat task, and a build the queue could not take is queued by it."""

import datetime
import re
import traceback
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from cards import batch_build, tasks
from cards.models import CardBatch, CardRequest
from cards.services import card_batch_form
from tests.cards.test_card_batch_parts import approve_requests, assert_package_exact

CODE = re.compile(r"код сбоя ([0-9A-F]{4}-[0-9A-F]{4})")


@pytest.fixture(autouse=True)
def parts_of_ten(settings, tmp_path):
    settings.CARD_BATCH_CHUNK_SIZE = 10
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def numbers(union, users) -> list[str]:
    return approve_requests(union, users)


@pytest.fixture
def batch(numbers, users) -> CardBatch:
    return card_batch_form(by=users.regional)


def logged_traceback(caplog, reference: str) -> str:
    record = next(record for record in caplog.records if reference in record.getMessage())
    assert record.exc_info, "the traceback is logged beside the code"
    return "".join(traceback.format_exception(*record.exc_info))


def test_a_batch_whose_plan_fails_ends_failed_with_a_code_found_in_the_log(
    batch, client_for, users, caplog, django_capture_on_commit_callbacks
):
    CardRequest.objects.filter(pk=batch.requests.order_by("pk").first().pk).update(card=None)

    with pytest.raises(batch_build.BatchChanged):
        tasks.card_batch_build.delay(batch.pk)  # eager: the error reaches the caller once the batch has failed

    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.FAILED
    assert "Не удалось начать сборку пакета" in batch.failure and "Заявки партии изменились" in batch.failure
    reference = CODE.search(batch.failure).group(1)
    assert "BatchChanged" in logged_traceback(caplog, reference)
    page = client_for(users.regional).get(reverse("cards:card_batch", args=[batch.pk])).content.decode()
    assert reference in page and "Собрать заново" in page


def test_a_plan_that_fails_once_is_tried_again_and_the_package_is_built(batch, numbers, monkeypatch):
    original, attempts = batch_build.card_batch_plan, []

    def database_gone_once(**kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(**kwargs)

    monkeypatch.setattr(batch_build, "card_batch_plan", database_gone_once)
    tasks.card_batch_build.delay(batch.pk)

    assert len(attempts) == 2
    assert_package_exact(batch, numbers)


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after this line runs, no `except Exception` sees it."""


def test_a_package_cut_short_by_a_killed_worker_leaves_no_file_behind(batch, numbers, monkeypatch, tmp_path):
    """The worker died while copying the ZIP into storage: half a file lies there, unrecorded. The rerun writes the
    package again, and once it is ready the storage holds that package and nothing else of the batch."""
    for index in batch_build.card_batch_plan(batch_id=batch.pk):
        batch_build.card_batch_chunk_render(batch_id=batch.pk, index=index)
    original_file = batch_build.File

    class KilledWhileCopying(original_file):
        def chunks(self, chunk_size=None):
            yield self.read(1000)
            raise WorkerKilled

    monkeypatch.setattr(batch_build, "File", KilledWhileCopying)
    with pytest.raises(WorkerKilled):
        batch_build.card_batch_assemble(batch_id=batch.pk)
    half_written = [path for path in tmp_path.rglob("*.zip")]
    assert len(half_written) == 1 and half_written[0].stat().st_size == 1000
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.BUILDING and not batch.package

    monkeypatch.setattr(batch_build, "File", original_file)
    tasks.card_batch_build.delay(batch.pk)  # the redelivered message, or «Собрать заново» after the beat task

    assert_package_exact(batch, numbers)
    stored = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert stored == [batch.package.name]


def _aged(batch: CardBatch, **minutes_ago) -> CardBatch:
    now = timezone.now()
    CardBatch.objects.filter(pk=batch.pk).update(
        **{field: now - datetime.timedelta(minutes=minutes) if minutes is not None else None
           for field, minutes in minutes_ago.items()}
    )  # fmt: skip
    batch.refresh_from_db()
    return batch


def test_beat_fails_builds_lost_past_their_time_limit_and_queues_the_ones_never_queued(union, users):
    entry = next(
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "cards.tasks.card_batches_watch"
    )
    assert entry["schedule"] <= batch_build.CARD_BATCH_TIME_LIMIT.total_seconds() / 2
    forms = []
    for _ in range(5):
        approve_requests(union, users, count=1)
        forms.append(card_batch_form(by=users.regional))
    lost, moving, restarted, never_queued, ready = forms
    _aged(lost, created_at=40, build_queued_at=31)
    _aged(moving, created_at=40, build_queued_at=40)
    batch_build.card_batch_plan(batch_id=moving.pk)  # planned long ago; its part finished five minutes ago
    batch_build.card_batch_chunk_render(batch_id=moving.pk, index=1)
    _aged(moving, build_queued_at=40)
    moving.chunks.update(rendered_at=timezone.now() - datetime.timedelta(minutes=5))
    _aged(restarted, created_at=300, build_queued_at=2, status_changed_at=2)  # «Собрать заново» two minutes ago
    _aged(never_queued, created_at=120, build_queued_at=None)  # formed while Redis was down
    CardBatch.objects.filter(pk=ready.pk).update(status=CardBatch.Status.READY)
    _aged(ready, created_at=600, build_queued_at=600)

    assert tasks.card_batches_watch.delay().get() == {"failed": 1, "queued": 1}

    statuses = dict(CardBatch.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: "failed", moving.pk: "building", restarted.pk: "building", never_queued.pk: "ready",
        ready.pk: "ready",
    }  # fmt: skip
    lost.refresh_from_db()
    assert "30 минут она не продвигалась" in lost.failure and "Собрать заново" in lost.failure
    # The lost build's message arriving late changes nothing: the batch stays failed until «Собрать заново».
    assert tasks.card_batch_build.delay(lost.pk).get() == 0
    lost.refresh_from_db()
    assert lost.status == CardBatch.Status.FAILED


def test_a_batch_formed_a_moment_ago_is_left_to_the_request_that_formed_it(batch):
    """The view queues the build right after the forming commits: the beat task running in between leaves it."""
    assert batch.build_queued_at is None
    assert batch_build.card_batches_unqueued() == []
    assert batch_build.card_batches_unqueued(now=timezone.now() + datetime.timedelta(minutes=2)) == [batch.pk]


def test_the_build_steps_stop_before_the_beat_task_gives_up_on_them():
    for task in (tasks.card_batch_build, tasks.card_batch_chunk_render, tasks.card_batch_assemble):
        assert task.soft_time_limit < task.time_limit < batch_build.CARD_BATCH_TIME_LIMIT.total_seconds()
        assert task.acks_late and task.reject_on_worker_lost


def test_forming_and_rebuilding_record_that_the_build_was_queued(client_for, users, union, numbers):
    client_for(users.regional).post(reverse("cards:card_batch_form"))
    batch = CardBatch.objects.get()
    assert batch.status == CardBatch.Status.READY and batch.build_queued_at is not None
    assert Path(batch.package.name).parent.name == str(batch.pk)  # in the batch's own folder

    approve_requests(union, users, count=3)
    failed = card_batch_form(by=users.regional)  # its plan failed: «Собрать заново» starts it again
    CardBatch.objects.filter(pk=failed.pk).update(status=CardBatch.Status.FAILED, failure="сбой")
    client_for(users.regional).post(reverse("cards:card_batch_rebuild", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.status == CardBatch.Status.READY and failed.build_queued_at is not None
