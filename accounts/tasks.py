from celery import shared_task
from django.db import OperationalError

from accounts import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3)
def access_log_purge_expired() -> int:
    """Daily (beat): 152-FZ access-log rows past the retention period are deleted."""
    return services.access_log_purge_expired()
