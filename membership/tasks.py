from celery import shared_task

from membership import imports, services

# A task stopped by its soft limit ends its job as failed with the reason; the hard limit a minute later kills a
# worker stuck in C code, and the beat task below marks that job failed once IMPORT_TIME_LIMIT has passed.
IMPORT_SOFT_LIMIT = int(imports.IMPORT_TIME_LIMIT.total_seconds()) - 120
IMPORT_HARD_LIMIT = int(imports.IMPORT_TIME_LIMIT.total_seconds()) - 60


@shared_task
def members_destroy_after_withdrawal() -> int:
    return services.members_destroy_after_withdrawal()


@shared_task(acks_late=True, soft_time_limit=IMPORT_SOFT_LIMIT, time_limit=IMPORT_HARD_LIMIT)
def member_import_check(import_id: int) -> str:
    return imports.member_import_check(job_id=import_id).status


@shared_task(acks_late=True, soft_time_limit=IMPORT_SOFT_LIMIT, time_limit=IMPORT_HARD_LIMIT)
def member_import_commit(import_id: int) -> str:
    return imports.member_import_commit(job_id=import_id).status


@shared_task
def member_imports_fail_stuck() -> int:
    return imports.member_imports_fail_stuck()
