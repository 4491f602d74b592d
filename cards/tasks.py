from collections.abc import Callable
from functools import partial

from celery import Task, chord, shared_task
from django.db import OperationalError

from cards import batch_build

# Attempts of a package step after its first: a part that fails is retried alone, with a back-off on a worker.
PACKAGE_STEP_RETRIES = 3


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def card_batch_build(self, batch_id: int) -> int:
    """Plan the parts and run the missing ones as a chord: each part on whichever worker is free, then the assembly.
    The parts go to the queue this task came from. Returns how many parts were sent."""
    pending = batch_build.card_batch_plan(batch_id=batch_id)
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


def _retrying(task: Task, step: Callable[[], object], *, batch_id: int, index: int | None) -> object:
    """Run a package step; on any error run it again, it alone: on a worker as a new message after a back-off (the
    worker is free meanwhile), when eager at once (Celery's eager retry would only raise). After the last attempt
    the batch fails with the reason, which its page shows, and the error goes on to Celery."""
    attempt = task.request.retries or 0
    while True:
        try:
            return step()
        except Exception as error:
            if attempt >= PACKAGE_STEP_RETRIES:
                batch_build.card_batch_fail(batch_id=batch_id, index=index, error=error)
                raise
            if not task.request.is_eager:
                raise task.retry(exc=error, countdown=min(60, 2**attempt), max_retries=PACKAGE_STEP_RETRIES) from error
            attempt += 1


# A worker that dies in the middle of a step hands its message back (acks_late, reject_on_worker_lost); every step
# is idempotent, so running it again is safe.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def card_batch_chunk_render(self, batch_id: int, index: int) -> int:
    step = partial(
        batch_build.card_batch_chunk_render, batch_id=batch_id, index=index, worker=self.request.hostname or ""
    )
    _retrying(self, step, batch_id=batch_id, index=index)
    return index


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def card_batch_assemble(self, batch_id: int) -> str:
    step = partial(batch_build.card_batch_assemble, batch_id=batch_id, worker=self.request.hostname or "")
    return _retrying(self, step, batch_id=batch_id, index=None).status
