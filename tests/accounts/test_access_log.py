"""The 152-FZ access log: what writes an entry, how central office reads it, and that nobody can rewrite it."""

import datetime

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from accounts.services import access_log_purge_expired, access_log_write, access_log_write_many
from accounts.tasks import access_log_purge_expired as access_log_purge_expired_task
from tests.factories import TEST_PASSWORD

IP = "203.0.113.7"


def insert_log_row(*, created_at: datetime.datetime, object_repr: str, username: str = "", action: str = "view"):
    """An entry with a past timestamp: created_at is auto_now_add and rows cannot be updated, so raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_accesslog (created_at, user_id, username, action, object_type, object_id, "
            "object_repr, organization_path, details, ip_address) "
            "VALUES (%s, NULL, %s, %s, '', '', %s, '', %s, NULL)",
            [connection.ops.adapt_datetimefield_value(created_at), username, action, object_repr, "{}"],
        )
    return AccessLog.objects.get(object_repr=object_repr)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


# What writes an entry


def test_viewing_an_org_page_is_logged_with_user_object_and_ip(client_for, users, union):
    client_for(users.regional).get(reverse("registry:org_detail", args=[union.primary_a1a.pk]), REMOTE_ADDR=IP)

    entry = AccessLog.objects.get(action=AccessLog.Action.VIEW)
    assert entry.user == users.regional
    assert entry.username == "regional_a"
    assert (entry.object_type, entry.object_id) == ("registry.organization", str(union.primary_a1a.pk))
    assert entry.object_repr == "ППО школы № 1"
    assert entry.organization_path == union.primary_a1a.path
    assert entry.ip_address == IP


def test_viewing_a_chair_card_is_logged_with_user_object_and_ip(client_for, users, chairs):
    client_for(users.local).get(reverse("registry:chair_detail", args=[chairs.a1a.pk]), REMOTE_ADDR=IP)

    entry = AccessLog.objects.get(action=AccessLog.Action.VIEW)
    assert entry.user == users.local
    assert (entry.object_type, entry.object_id) == ("registry.chair", str(chairs.a1a.pk))
    assert entry.object_repr == chairs.a1a.full_name
    assert entry.organization_path == chairs.a1a.organization.path
    assert entry.ip_address == IP


def test_a_refused_page_logs_no_view(client_for, users, union, chairs):
    client = client_for(users.regional)

    assert client.get(reverse("registry:org_detail", args=[union.primary_b1a.pk])).status_code == 404
    assert client.get(reverse("registry:chair_detail", args=[chairs.b1a.pk])).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.VIEW).exists()


def test_login_and_logout_are_logged(client, users):
    client.post(reverse("accounts:login"), {"username": "local_a1", "password": TEST_PASSWORD}, REMOTE_ADDR=IP)
    client.post(reverse("accounts:logout"), REMOTE_ADDR=IP)

    login, logout = AccessLog.objects.order_by("id")
    assert (login.action, login.user, login.ip_address) == (AccessLog.Action.LOGIN, users.local, IP)
    assert (logout.action, logout.user, logout.ip_address) == (AccessLog.Action.LOGOUT, users.local, IP)


def test_failed_login_is_logged_without_the_password(client, users):
    client.post(reverse("accounts:login"), {"username": "local_a1", "password": "not-the-password"}, REMOTE_ADDR=IP)

    entry = AccessLog.objects.get()
    assert entry.action == AccessLog.Action.LOGIN_FAILED
    assert entry.user is None
    assert entry.username == "local_a1"
    assert entry.ip_address == IP
    assert "not-the-password" not in str(entry.details)


# The access-log page


@pytest.fixture
def log_rows(users, union):
    """Entries of two users, three kinds and three days, in both regions."""
    return {
        "old_view_a": insert_log_row(
            created_at=days_ago(30), object_repr="Просмотр 30 дней назад", username="regional_a"
        ),
        "old_change_b": insert_log_row(
            created_at=days_ago(20), object_repr="Изменение 20 дней назад", username="regional_b", action="change"
        ),
        "view_a": access_log_write(user=users.regional, action=AccessLog.Action.VIEW, obj=union.primary_a1a),
        "view_b": access_log_write(user=users.other_regional, action=AccessLog.Action.VIEW, obj=union.primary_b1a),
        "export_a": access_log_write(user=users.local, action=AccessLog.Action.EXPORT, obj=union.local_a1),
    }


def shown(client, **params) -> set[str]:
    response = client.get(reverse("accounts:access_log"), params)
    assert response.status_code == 200
    return {entry.object_repr for entry in response.context["entries"]}


def test_log_filtered_by_user(client_for, users, log_rows):
    assert shown(client_for(users.central), username="regional_a") == {"Просмотр 30 дней назад", "ППО школы № 1"}


def test_log_filtered_by_action(client_for, users, log_rows):
    client = client_for(users.central)

    assert shown(client, action="change") == {"Изменение 20 дней назад"}
    assert shown(client, action="export") == {"Районная организация А1"}


def test_log_filtered_by_dates(client_for, users, log_rows):
    client = client_for(users.central)
    day = timezone.localdate()

    assert shown(
        client,
        date_from=(day - datetime.timedelta(days=31)).isoformat(),
        date_to=(day - datetime.timedelta(days=19)).isoformat(),
    ) == {"Просмотр 30 дней назад", "Изменение 20 дней назад"}
    assert "Просмотр 30 дней назад" not in shown(client, date_from=(day - datetime.timedelta(days=25)).isoformat())


def test_log_filtered_by_region(client_for, users, union, log_rows):
    client = client_for(users.central)

    in_region_a = shown(client, region=union.region_a.path)

    assert in_region_a == {"ППО школы № 1", "Районная организация А1"}


def test_log_page_shows_what_changed_in_words(client_for, users, union):
    access_log_write(
        user=users.local,
        action=AccessLog.Action.CHANGE,
        obj=union.primary_a1a,
        details={"changes": {"phone": ["", "+7 495 111-22-33"]}},
    )

    html = client_for(users.central).get(reverse("accounts:access_log")).content.decode()

    assert "телефон: — → +7 495 111-22-33" in html


def test_keyset_paging_walks_the_whole_log_once(client_for, users, union):
    access_log_write_many(user=users.local, action=AccessLog.Action.VIEW, objects=[union.primary_a1a] * 130)
    client = client_for(users.central)
    expected = list(AccessLog.objects.order_by("-created_at", "-id").values_list("id", flat=True))

    first = client.get(reverse("accounts:access_log"), {"action": "view"})
    first_ids = [entry.id for entry in first.context["entries"]]
    assert len(first_ids) == 100
    assert first.context["has_next"]
    assert f"before={first_ids[-1]}" in first.context["next_query"]
    assert "action=view" in first.context["next_query"]

    second = client.get(f"{reverse('accounts:access_log')}?{first.context['next_query']}")
    second_ids = [entry.id for entry in second.context["entries"]]
    assert not second.context["has_next"]
    assert first_ids + second_ids == [pk for pk in expected if pk in set(first_ids + second_ids)]
    assert len(set(first_ids) | set(second_ids)) == 130


def test_keyset_paging_reaches_entries_imported_with_earlier_dates(client_for, users, union):
    access_log_write_many(user=users.local, action=AccessLog.Action.VIEW, objects=[union.primary_a1a] * 100)
    insert_log_row(created_at=days_ago(200), object_repr="Импортировано из бумажного журнала")
    client = client_for(users.central)

    seen, query = [], "action=view"
    while True:
        page = client.get(f"{reverse('accounts:access_log')}?{query}")
        seen.extend(entry.pk for entry in page.context["entries"])
        if not page.context["has_next"]:
            break
        query = page.context["next_query"]

    assert len(seen) == len(set(seen)) == AccessLog.objects.filter(action="view").count() == 101
    assert AccessLog.objects.get(object_repr="Импортировано из бумажного журнала").pk in seen


# Append-only in the database


def test_entries_cannot_be_updated_in_the_database(users, union):
    entry = access_log_write(user=users.regional, action=AccessLog.Action.VIEW, obj=union.primary_a1a)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(username="someone_else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.object_repr = "Другая организация"
        entry.save()

    assert AccessLog.objects.get(pk=entry.pk).username == "regional_a"


def test_old_entries_cannot_be_updated_either(db):
    entry = insert_log_row(created_at=days_ago(1500), object_repr="Старая запись")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(object_repr="Подменённая запись")


def test_fresh_entries_cannot_be_deleted(users, union):
    entry = access_log_write(user=users.regional, action=AccessLog.Action.VIEW, obj=union.primary_a1a)
    recent = insert_log_row(created_at=days_ago(364), object_repr="Запись почти годовой давности")

    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
        AccessLog.objects.filter(pk=recent.pk).delete()

    assert AccessLog.objects.filter(pk__in=[entry.pk, recent.pk]).count() == 2


# Retention purge


@pytest.fixture
def aged_rows(db):
    return {
        "fresh": insert_log_row(created_at=days_ago(10), object_repr="10 дней"),
        "year_and_a_month": insert_log_row(created_at=days_ago(400), object_repr="400 дней"),
        "past_retention": insert_log_row(
            created_at=days_ago(settings.ACCESS_LOG_RETENTION_DAYS + 5), object_repr="за сроком хранения"
        ),
    }


def remaining() -> set[str]:
    return set(AccessLog.objects.values_list("object_repr", flat=True))


def test_purge_deletes_only_rows_past_the_retention(aged_rows):
    assert access_log_purge_expired() == 1

    assert remaining() == {"10 дней", "400 дней"}


def test_purge_with_a_shorter_period(aged_rows):
    assert access_log_purge_expired(older_than_days=365) == 2

    assert remaining() == {"10 дней"}


@pytest.mark.parametrize("older_than_days", [0, 30, 364])
def test_purge_never_goes_below_a_year(aged_rows, older_than_days):
    assert access_log_purge_expired(older_than_days=older_than_days) == 2

    assert remaining() == {"10 дней"}


def test_purge_follows_the_retention_setting_but_not_below_a_year(aged_rows, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30

    assert access_log_purge_expired() == 2
    assert remaining() == {"10 дней"}


def test_purge_twice_finds_nothing_the_second_time(aged_rows):
    access_log_purge_expired()

    assert access_log_purge_expired() == 0


def test_purge_task_runs_the_service(aged_rows):
    assert access_log_purge_expired_task.apply().get() == 1

    assert remaining() == {"10 дней", "400 дней"}


def test_purge_is_on_the_beat_schedule():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule[access_log_purge_expired_task.name] <= 24 * 60 * 60
