"""A session left without requests for SESSION_IDLE_TIMEOUT_MINUTES ends: the person lands on the login page, told
why, and comes back to the page they were on. Members' sessions have no idle limit (their card app); the absolute
SESSION_COOKIE_AGE from sign-in stays for everyone."""

import datetime
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import LAST_ACTIVITY_SESSION_KEY
from accounts.models import AccessLog
from tests.factories import TEST_PASSWORD

MEMBERS = reverse("membership:member_list")


def idle_for(client, seconds: int) -> None:
    """As if the session's last request was `seconds` ago."""
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] = int(time.time()) - seconds
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("role", ["central", "regional", "local", "chair"])
def test_an_idle_staff_session_ends_on_the_login_page_that_says_why(client_for, users, role):
    client = client_for(users.by_role(role))
    assert client.get(MEMBERS).status_code == 200
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 + 1)

    response = client.get(f"{MEMBERS}?status=active&page=2")

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={quote(MEMBERS + '?status=active&page=2', safe='/')}"
    assert not signed_in(client)
    login_page = client.get(response.url).content.decode()
    assert "Сеанс завершён" in login_page and f"больше {settings.SESSION_IDLE_TIMEOUT_MINUTES} мин." in login_page
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGOUT, user=users.by_role(role)).exists()


def test_signing_in_again_after_expiry_returns_to_the_page(client_for, users):
    client = client_for(users.local)
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 + 1)
    login_url = client.get(MEMBERS).url

    response = client.post(login_url, {"username": "local_a1", "password": TEST_PASSWORD, "next": MEMBERS})

    assert response.status_code == 302 and response.url == MEMBERS
    assert client.get(MEMBERS).status_code == 200


def test_an_active_session_goes_on_and_its_clock_restarts(client_for, users):
    client = client_for(users.regional)
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 - 60)

    assert client.get(MEMBERS).status_code == 200

    assert time.time() - client.session[LAST_ACTIVITY_SESSION_KEY] < 5
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 - 60)
    assert client.get(MEMBERS).status_code == 200 and signed_in(client)


def test_requests_within_a_minute_do_not_write_the_session(client_for, users):
    client = client_for(users.chair)
    idle_for(client, 20)
    stored = client.session[LAST_ACTIVITY_SESSION_KEY]

    client.get(MEMBERS)
    client.get(MEMBERS)

    assert client.session[LAST_ACTIVITY_SESSION_KEY] == stored


def test_the_limit_is_a_setting(client, users, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    client.force_login(users.local)
    idle_for(client, 4 * 60)
    assert client.get(MEMBERS).status_code == 200

    idle_for(client, 5 * 60 + 1)

    assert client.get(MEMBERS).status_code == 302 and not signed_in(client)


def test_a_members_session_has_no_idle_limit(client_for, users, programme):
    client = client_for(users.member)
    idle_for(client, 3 * 60 * 60)

    assert client.get(reverse("membership:my_cabinet")).status_code == 200
    assert signed_in(client)


def test_the_session_ends_at_the_same_time_however_busy(client_for, users):
    client = client_for(users.local)
    ends_at = client.session.get_expiry_date()
    assert abs(ends_at - (timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE))).total_seconds() < 5

    idle_for(client, 120)
    client.get(MEMBERS)  # the clock of the last request is saved, and with it the session

    assert client.session.get_expiry_date() == ends_at
