"""Redis stopped: pages still render, and each job Redis would carry follows its policy (README, «Сбои»):

    upload of a member list     refused, nothing kept: the chair uploads again
    «Записать в реестр»         refused: the checked file waits, nothing written
    forming a card batch        accepted: the batch waits, and the beat task queues its build once Redis is back
    rollup on request           refused: nothing started
    payout register             refused: the register fails at once, «Собрать реестр заново» once Redis is back
    partner API                 answers, within its limit counted by each web process; revocations read from the DB
    signing in                  works, its limit counted by each web process

Each test stops a redis-server of its own (SIGKILL), checks the refusal or the waiting, starts it again and checks
that the job goes through.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cards import tasks as card_tasks
from cards.models import CardBatch
from discounts.models import Cashier, PayoutBatch
from discounts.services import partner_token_revoke
from membership import imports
from membership.models import Member, MemberImport
from tests.cards.test_card_batch_parts import approve_requests, assert_package_exact
from tests.discounts.conftest import partner_create
from tests.discounts.test_payouts import _month
from tests.factories import TEST_PASSWORD, MemberFactory
from tests.faults.servers import celery_worker_thread, needs_redis_server, stored_files, wait_for
from tests.membership.test_import_export import csv_file, good_row
from union_statistics import services as statistics_services
from union_statistics.models import RollupBuild

pytestmark = [pytest.mark.redis, needs_redis_server]
QUEUE_DOWN = "Очередь фоновых задач сейчас недоступна."


def checked_import(users, union, rows: int) -> MemberImport:
    """A list uploaded and checked (inline), waiting for «Записать в реестр»."""
    upload = csv_file([good_row(number) for number in range(rows)])
    job = imports.member_import_start(by=users.chair, organization=union.primary_a1a, uploaded_file=upload)
    job = imports.member_import_check(job_id=job.pk)
    assert job.status == MemberImport.Status.VALIDATED, job.errors
    return job


def status_of(model, pk) -> str:
    return model.objects.values_list("status", flat=True).get(pk=pk)


@pytest.mark.parametrize("role", ["central", "regional", "local", "chair", "member", "cashier"])
def test_with_redis_stopped_every_page_of_the_menu_still_renders(
    app_on_private_redis, client, users, union, role, caplog
):
    """The cache answers as an empty one and the pages are computed from the database; the outage is logged."""
    MemberFactory(user=users.member, organization=union.primary_a1a, card_consents=True)
    Cashier.objects.create(user=users.cashier, partner=partner_create(name="Книжный дом", union_wide=True))
    statistics_services.rollup_build(year=timezone.localdate().year, variant="register")  # dashboards use the cache
    user = users.by_role(role)
    app_on_private_redis.stop()

    client.force_login(user)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    menu = home.context["nav_items"]
    pages = {"/"} | {item["url"] for item in menu if "url" in item}
    pages |= {child["url"] for item in menu for child in item.get("children", [])}
    if user.organization_id:
        pages |= {reverse("registry:org_detail", args=[user.organization_id]),
                  reverse("statistics:dashboard", args=[user.organization_id])}  # fmt: skip
    assert len(pages) > 1, "the role's menu"
    for page in sorted(pages):
        assert client.get(page, follow=True).status_code == 200, page
    if user.organization_id:  # staff pages read the cache (tree counts, dashboards)
        assert "Redis (cache) unreachable" in caplog.text


def test_with_redis_stopped_signing_in_still_works(app_on_private_redis, client, users):
    app_on_private_redis.stop()

    response = client.post(reverse("accounts:login"), {"username": users.member.username, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(users.member.pk)


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_an_upload_is_refused_and_kept_nowhere_then_checked_once_redis_is_back(
    app_on_private_redis, client_for, users, union, media, access_log_flushed
):
    client, url = client_for(users.chair), reverse("membership:import_upload", args=[union.primary_a1a.pk])
    app_on_private_redis.stop()

    refused = client.post(url, {"file": csv_file([good_row(number) for number in range(3)])})

    assert refused.status_code == 200
    page = refused.content.decode()
    assert QUEUE_DOWN in page and "Файл не принят: загрузите его ещё раз через несколько минут." in page
    assert not MemberImport.objects.exists() and stored_files(media) == []

    app_on_private_redis.start()
    with celery_worker_thread():
        accepted = client.post(url, {"file": csv_file([good_row(number) for number in range(3)])})
        assert accepted.status_code == 302
        job = MemberImport.objects.get()
        wait_for(lambda: status_of(MemberImport, job.pk) == MemberImport.Status.VALIDATED, what="the check")


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_writing_a_checked_file_is_refused_and_it_waits_then_is_written_once_redis_is_back(
    app_on_private_redis, client_for, users, union, media, access_log_flushed
):
    job = checked_import(users, union, rows=4)
    client, url = client_for(users.chair), reverse("membership:import_job", args=[job.pk])
    app_on_private_redis.stop()

    refused = client.post(url, {}, follow=True)

    page = refused.content.decode()
    assert QUEUE_DOWN in page and "В реестр ничего не записано: файл проверен и ждёт" in page
    assert status_of(MemberImport, job.pk) == MemberImport.Status.VALIDATED and not Member.objects.exists()

    app_on_private_redis.start()
    with celery_worker_thread():
        client.post(url, {})
        wait_for(lambda: status_of(MemberImport, job.pk) == MemberImport.Status.COMMITTED, what="the commit")
    assert Member.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_a_card_batch_is_formed_and_its_package_is_built_once_redis_is_back(
    app_on_private_redis, client_for, users, union, media, access_log_flushed
):
    numbers = approve_requests(union, users)
    client = client_for(users.regional)
    app_on_private_redis.stop()

    formed = client.post(reverse("cards:card_batch_form"), follow=True)

    batch = CardBatch.objects.get()
    page = formed.content.decode()
    assert f"Партия № {batch.pk} сформирована" in page
    assert QUEUE_DOWN in page and "начнёт собираться сам, когда она заработает" in page
    assert "сборка начнётся сама, когда она заработает" in page
    assert batch.status == CardBatch.Status.BUILDING and batch.build_queued_at is None

    app_on_private_redis.start()
    CardBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    with celery_worker_thread():
        # What beat sends every five minutes: it finds the batch not queued and queues its build.
        card_tasks.card_batches_watch.apply_async(ignore_result=True)
        wait_for(lambda: CardBatch.objects.get(pk=batch.pk).build_queued_at, what="the build queued by beat")
        wait_for(lambda: status_of(CardBatch, batch.pk) != CardBatch.Status.BUILDING, what="the package")
    assert_package_exact(batch, numbers)


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_a_rollup_is_refused_and_runs_when_asked_again_once_redis_is_back(
    app_on_private_redis, client_for, users, union, access_log_flushed
):
    client, url = client_for(users.central), reverse("statistics:rollup_list")
    asked = {"year": timezone.localdate().year, "variant": "register"}
    app_on_private_redis.stop()

    refused = client.post(url, asked, follow=True).content.decode()

    assert QUEUE_DOWN in refused and "Расчёт не запущен" in refused
    assert not RollupBuild.objects.exists()

    app_on_private_redis.start()
    with celery_worker_thread():
        assert "запущен;" in client.post(url, asked, follow=True).content.decode()
        wait_for(lambda: RollupBuild.objects.filter(status=RollupBuild.Status.DONE).exists(), what="the rollup")


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_a_payout_register_fails_at_once_and_is_built_again_once_redis_is_back(
    app_on_private_redis, client_for, users, due, media, access_log_flushed
):
    client = client_for(users.central)
    app_on_private_redis.stop()

    formed = client.post(reverse("discounts:payout_batch_form"), {"month": f"{_month():%Y-%m}"}, follow=True)

    page = formed.content.decode()
    assert QUEUE_DOWN in page and "Файл реестра не записан" in page and "Собрать реестр заново" in page
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.FAILED and "очередь фоновых задач была недоступна" in batch.failure
    assert not batch.register_file

    app_on_private_redis.start()
    with celery_worker_thread():
        client.post(reverse("discounts:payout_batch_rebuild", args=[batch.pk]))
        wait_for(lambda: status_of(PayoutBatch, batch.pk) == PayoutBatch.Status.READY, what="the register")
    batch.refresh_from_db()
    assert batch.register_file and batch.failure == ""


def test_with_redis_stopped_the_partner_api_answers_within_a_limit_counted_in_the_process(
    app_on_private_redis, programme, keys, settings
):
    """Fail open to a limit of each process: the tills keep working, a key over its limit is still refused (counted by
    each web process alone, so at most the number of processes times the limit in all)."""
    settings.DISCOUNTS_API_RATE_LIMIT = "3/3600"
    app_on_private_redis.stop()

    answers = [keys.a.verify(programme.card_a.number) for _call in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[0].json() == {"state": "valid", "holder": "Ольга С."}
    assert int(answers[3]["Retry-After"]) > 0
    assert keys.b.verify(programme.card_b.number).status_code == 200  # another key counts on its own


def test_with_redis_stopped_a_partner_key_revoked_meanwhile_stops_at_once(app_on_private_redis, programme, keys, users):
    """The revocation's mark for the other web processes is lost with Redis: each call asks the database instead."""
    assert keys.a.verify(programme.card_a.number).status_code == 200  # the web process now remembers the key
    app_on_private_redis.stop()

    partner_token_revoke(token=keys.token_a, by=users.central)

    refused = keys.a.verify(programme.card_a.number)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
