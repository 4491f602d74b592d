"""PostgreSQL drops the connection in the middle of a request that writes several rows (a restart or a failover of
the database; README, «Сбои»): the user gets the 500 page, and nothing of the request's writes remains, because
each such use case is one transaction (its service is atomic). PostgreSQL only: the database ends the connection
with pg_terminate_backend between two of the request's writes."""

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AccessLog
from cards import services as card_services
from cards.models import Card, CardRequest, CardSerialCounter
from cards.services import card_request_create
from membership import services as membership_services
from membership.models import Member, MemberEvent
from tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def connection_dropped() -> None:
    """The database ends this process's connection and the next statement on it fails."""
    pid = connection.connection.info.backend_pid
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"], host=params["HOST"],
        port=params["PORT"] or None, autocommit=True,
    ) as killer:  # fmt: skip
        killer.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def assert_the_500_page(response) -> None:
    assert response.status_code == 500
    assert "Ошибка на сервере" in response.content.decode()
    connection.close()  # the test's own queries from here on go through a new connection


ADMISSION = {
    "last_name": "Обрывова", "first_name": "Вера", "middle_name": "Павловна", "birth_date": "1984-02-03", "sex": "f",
    "phone": "", "email": "", "category": "working", "position": "учитель", "is_teaching_staff": "on",
    "union_joined_on": "2010-09-01", "org_joined_on": "2015-09-01", "dues_application": "on",
}  # fmt: skip


def test_a_connection_dropped_while_a_member_is_admitted_answers_the_500_page_and_writes_nothing(
    client_for, users, union, monkeypatch, access_log_flushed
):
    record_event = membership_services.member_event_record

    def dropped_between_the_member_and_its_history(**kwargs):
        connection_dropped()
        return record_event(**kwargs)

    monkeypatch.setattr(membership_services, "member_event_record", dropped_between_the_member_and_its_history)
    client = client_for(users.chair)
    client.raise_request_exception = False

    response = client.post(reverse("membership:member_admit", args=[union.primary_a1a.pk]), ADMISSION)

    assert_the_500_page(response)
    assert not Member.objects.exists()
    assert not MemberEvent.objects.exists()
    assert not AccessLog.objects.filter(object_type="membership.member").exists()


def test_a_connection_dropped_while_card_requests_are_approved_answers_the_500_page_and_takes_no_number(
    client_for, users, union, monkeypatch, access_log_flushed
):
    for number in range(3):
        card_request_create(member=MemberFactory(organization=union.primary_a1a, last_name=f"Очередная{number}", card_consents=True),
                            by=users.chair)  # fmt: skip
    allocate = card_services.card_numbers_allocate

    def dropped_after_the_numbers_were_taken(**kwargs):
        numbers = allocate(**kwargs)
        connection_dropped()
        return numbers

    monkeypatch.setattr(card_services, "card_numbers_allocate", dropped_after_the_numbers_were_taken)
    client = client_for(users.regional)
    client.raise_request_exception = False

    response = client.post(reverse("cards:card_requests_approve"), {"scope": "filter", "confirmed": "1"})

    assert_the_500_page(response)
    assert not CardSerialCounter.objects.filter(last_serial__gt=0).exists()  # no number taken, so none skipped
    assert not Card.objects.exists()
    assert set(CardRequest.objects.values_list("status", flat=True)) == {CardRequest.Status.REQUESTED}
    assert not AccessLog.objects.filter(object_type="cards.cardrequest").exists()
