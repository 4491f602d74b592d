from celery import shared_task

from membership import services


@shared_task
def members_destroy_after_withdrawal() -> int:
    return services.members_destroy_after_withdrawal()
