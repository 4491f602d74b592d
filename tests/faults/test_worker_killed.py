"""A worker killed in the middle of a job (README, «Сбои»): its pool process ends on the spot (os._exit, as the OOM
killer or a deploy's SIGKILL ends it; dying_worker.py), the job's message goes back to the queue (acks_late,
reject_on_worker_lost), and the rerun finishes the job with nothing lost and nothing twice. A real `celery worker`
process on the test database and a Redis of the test's own: PostgreSQL only."""

import pytest

from accounts.models import AccessLog
from cards import tasks as card_tasks
from cards.models import CardBatch
from cards.services import card_batch_form
from membership import imports
from membership import tasks as membership_tasks
from membership.models import Member, MemberEvent, MemberImport
from tests.cards.test_card_batch_parts import approve_requests, assert_package_exact
from tests.faults.servers import needs_redis_server, stored_files, wait_for, worker_process
from tests.faults.test_redis_stopped import checked_import, status_of

pytestmark = [pytest.mark.redis, pytest.mark.postgres, needs_redis_server, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_in_the_middle_of_an_import_commit_leaves_nothing_and_the_rerun_writes_every_member_once(
    app_on_private_redis, users, union, media, tmp_path
):
    """Killed with the members written in the commit's transaction, their history and the job's status not yet: the
    transaction dies with the worker's connection, and the rerun writes the file whole, once."""
    rows = 40
    job = checked_import(users, union, rows=rows)
    imports.member_import_request_commit(by=users.chair, job=job, include_duplicates=False)

    with worker_process(redis_url=app_on_private_redis.url, die_at="import-commit", media_root=media,
                        log_dir=tmp_path) as died:  # fmt: skip
        membership_tasks.member_import_commit.apply_async(args=[job.pk], ignore_result=True)
        wait_for(lambda: status_of(MemberImport, job.pk) != MemberImport.Status.COMMITTING, what="the commit")

    assert died.exists(), "the worker was to die in the middle of the commit"
    job.refresh_from_db()
    assert (job.status, job.committed_count) == (MemberImport.Status.COMMITTED, rows)
    members = Member.objects.filter(organization=union.primary_a1a)
    assert members.count() == rows and members.values("search_name").distinct().count() == rows
    assert MemberEvent.objects.filter(kind=MemberEvent.Kind.IMPORTED).count() == rows
    assert AccessLog.objects.filter(details__import=job.pk).count() == 1


@pytest.mark.parametrize("moment", ["batch-part", "batch-package"])
def test_a_worker_killed_in_the_middle_of_a_batch_build_and_the_rerun_puts_every_card_in_the_package_once(
    app_on_private_redis, users, union, media, tmp_path, moment
):
    """Killed with part 2's PDF in storage and its CSV not, or with the ZIP half copied into storage: the rerun
    finishes the build, and nothing half-written is left beside the package."""
    numbers = approve_requests(union, users)
    batch = card_batch_form(by=users.regional)

    with worker_process(redis_url=app_on_private_redis.url, die_at=moment, media_root=media, log_dir=tmp_path,
                        environment={"CARD_BATCH_CHUNK_SIZE": "10"}) as died:  # fmt: skip
        card_tasks.card_batch_build.apply_async(args=[batch.pk], ignore_result=True)
        wait_for(lambda: status_of(CardBatch, batch.pk) != CardBatch.Status.BUILDING, what="the package")

    assert died.exists(), f"the worker was to die at {moment}"
    assert_package_exact(batch, numbers)
    assert stored_files(media) == [batch.package.name]
