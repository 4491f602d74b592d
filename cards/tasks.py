from collections.abc import Callable
from functools import partial

from celery import Task, chord, shared_task

from cards import batch_build
from cards.batch_build import BatchChanged, BuildStep
from registry.task_queue import task_send

# Attempts of a package step after its first: a part that fails is retried alone, with a back-off on a worker.
PACKAGE_STEP_RETRIES = 3
# Each step stops itself (its soft limit, then the retries or the failure with a reason) or is killed (its hard
# limit) long before the beat task takes the build for lost (batch_build.CARD_BATCH_TIME_LIMIT).
PLAN_SOFT_LIMIT, PLAN_HARD_LIMIT = 4 * 60, 5 * 60
PART_SOFT_LIMIT, PART_HARD_LIMIT = 10 * 60, 11 * 60
PACKAGE_SOFT_LIMIT, PACKAGE_HARD_LIMIT = 20 * 60, 21 * 60


def card_batch_build_send(batch_id: int) -> None:
    """Queue the batch's build and note it is queued. TaskQueueUnavailable when Redis is down: the batch waits, and
    card_batches_watch queues it once Redis is back."""
    task_send(card_batch_build, batch_id)
    batch_build.card_batch_build_queued(batch_id=batch_id)


@shared_task
def card_batches_watch() -> dict[str, int]:
    """The beat task: fail the builds lost with their workers, queue the ones the queue could not take when they
    were asked for."""
    failed = batch_build.card_batches_fail_stuck()
    unqueued = batch_build.card_batches_unqueued()
    for batch_id in unqueued:
        card_batch_build_send(batch_id)
    return {"failed": failed, "queued": len(unqueued)}


# A worker that dies in the middle of a step hands its message back (acks_late, reject_on_worker_lost); every step
# is idempotent, so running it again is safe.
@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=PLAN_SOFT_LIMIT, time_limit=PLAN_HARD_LIMIT
)
def card_batch_build(self, batch_id: int) -> int:
    """Plan the parts and run the missing ones as a chord: each part on whichever worker is free, then the assembly.
    The parts go to the queue this task came from. Returns how many parts were sent."""
    pending = _retrying(
        self, partial(batch_build.card_batch_plan, batch_id=batch_id), batch_id=batch_id, step=BuildStep.PLAN
    )
    if pending is None:
        return 0
    queue = (self.request.delivery_info or {}).get("routing_key")
    route = {"queue": queue} if queue else {}
    assemble = card_batch_assemble.si(batch_id).set(**route)
    if pending:
        chord([card_batch_chunk_render.si(batch_id, index).set(**route) for index in pending], assemble).apply_async()
    else:
        assemble.apply_async()
    return len(pending)


def _retrying(task: Task, run: Callable[[], object], *, batch_id: int, step: str, index: int | None = None) -> object:
    """Run a step of the build; on any error run it again, it alone: on a worker as a new message after a back-off
    (the worker is free meanwhile), when eager at once (Celery's eager retry would only raise). After the last
    attempt, or at once when the batch's requests changed (no attempt would find them again), the batch fails with
    the reason and a code, which its page shows, and the error goes on to Celery."""
    attempt = task.request.retries or 0
    while True:
        try:
            return run()
        except Exception as error:
            if attempt >= PACKAGE_STEP_RETRIES or isinstance(error, BatchChanged):
                batch_build.card_batch_fail(batch_id=batch_id, step=step, index=index, error=error)
                raise
            if not task.request.is_eager:
                raise task.retry(exc=error, countdown=min(60, 2**attempt), max_retries=PACKAGE_STEP_RETRIES) from error
            attempt += 1


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=PART_SOFT_LIMIT, time_limit=PART_HARD_LIMIT
)
def card_batch_chunk_render(self, batch_id: int, index: int) -> int:
    render = partial(
        batch_build.card_batch_chunk_render, batch_id=batch_id, index=index, worker=self.request.hostname or ""
    )
    _retrying(self, render, batch_id=batch_id, step=BuildStep.PART, index=index)
    return index


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=PACKAGE_SOFT_LIMIT,
    time_limit=PACKAGE_HARD_LIMIT,
)
def card_batch_assemble(self, batch_id: int) -> str:
    assemble = partial(batch_build.card_batch_assemble, batch_id=batch_id, worker=self.request.hostname or "")
    return _retrying(self, assemble, batch_id=batch_id, step=BuildStep.PACKAGE).status
