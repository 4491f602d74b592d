from celery import shared_task

from membership import imports, services


@shared_task
def members_destroy_after_withdrawal() -> int:
    return services.members_destroy_after_withdrawal()


@shared_task(acks_late=True)
def member_import_check(import_id: int) -> str:
    return imports.member_import_check(job_id=import_id).status


@shared_task(acks_late=True)
def member_import_commit(import_id: int) -> str:
    return imports.member_import_commit(job_id=import_id).status
