from celery import shared_task
from django.db import transaction

from discounts import services


@shared_task
def cashback_confirm() -> int:
    return services.cashback_confirm_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def payout_batch_build(batch_id: int) -> str:
    return services.payout_batch_build(batch_id=batch_id).status


def payout_batch_build_after_commit(batch_id: int) -> None:
    """Build the register once the batch's forming has committed (at once outside a transaction)."""
    transaction.on_commit(lambda: payout_batch_build.delay(batch_id))


@shared_task
def payout_monthly() -> int | None:
    """On the 1st: the previous month's payout register (a second run finds it there and does nothing)."""
    batch = services.payout_monthly_form()
    if batch is None:
        return None
    payout_batch_build_after_commit(batch.pk)
    return batch.pk
