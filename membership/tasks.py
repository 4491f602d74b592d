from celery import shared_task

from membership import imports, services

# A task stopped by its soft limit ends its job as failed with the reason; the hard limit a minute later kills a
# worker stuck in C code, and the beat task below marks that job failed once IMPORT_TIME_LIMIT has passed.
IMPORT_SOFT_LIMIT = int(imports.IMPORT_TIME_LIMIT.total_seconds()) - 120
IMPORT_HARD_LIMIT = int(imports.IMPORT_TIME_LIMIT.total_seconds()) - 60


@shared_task
def members_destroy_after_withdrawal() -> int:
    return services.members_destroy_after_withdrawal()


# A worker that dies in the middle (killed, out of memory) hands the message back (reject_on_worker_lost) and the
# step runs again: the check writes only its result, and the commit's single transaction was rolled back with the
# dead worker's connection. The beat task below bounds the reruns: a job past its time limit is failed, and a
# message arriving after that does nothing.
@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=IMPORT_SOFT_LIMIT, time_limit=IMPORT_HARD_LIMIT
)
def member_import_check(import_id: int) -> str:
    return imports.member_import_check(job_id=import_id).status


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=IMPORT_SOFT_LIMIT, time_limit=IMPORT_HARD_LIMIT
)
def member_import_commit(import_id: int) -> str:
    return imports.member_import_commit(job_id=import_id).status


@shared_task
def member_imports_fail_stuck() -> int:
    return imports.member_imports_fail_stuck()
