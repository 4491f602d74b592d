from celery import shared_task

from cards import services


@shared_task(acks_late=True, autoretry_for=(OSError,), max_retries=3, retry_backoff=True)
def card_batch_build(batch_id: int) -> str:
    return services.card_batch_build(batch_id=batch_id).status
