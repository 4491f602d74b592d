"""Rate limits of signing in and of password reset (accounts/rate_limits.py): counted per client address, and for
the reset also per e-mail; over a limit the page answers 429 in Russian with Retry-After and does nothing asked.

Small limits are set per test; the cashier's limit is tested in tests/discounts/test_cashier.py, the partner API's in
tests/discounts/test_api.py.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from accounts.models import AccessLog
from accounts.rate_limits import RateLimit, RateLimited, rate_limit_take
from tests.factories import TEST_PASSWORD

ANOTHER_ADDRESS = "198.51.100.20"


def sign_in(client, username: str, password: str, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def reset(client, email: str, **extra):
    return client.post(reverse("accounts:password_reset"), {"email": email}, **extra)


def assert_refused_for_a_while(response, *, window: int):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= window
    html = response.content.decode()
    assert "Слишком много запросов" in html
    assert "Повторите через" in html


# --- signing in -----------------------------------------------------------------------------------------------------


def test_sign_in_attempts_from_one_address_are_limited_whatever_the_username(client, users, settings):
    settings.LOGIN_RATE_LIMIT = "3/300"
    for username in ("central", "regional_a", "chair_a1a"):  # one wrong password each: django-axes locks none
        assert sign_in(client, username, "wrong").status_code == 200

    response = sign_in(client, "local_a1", TEST_PASSWORD)

    assert_refused_for_a_while(response, window=300)
    assert client.session.get("_auth_user_id") is None
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN).exists()
    assert client.get(reverse("accounts:login")).status_code == 200  # the page still opens; only attempts count
    assert sign_in(client, "local_a1", TEST_PASSWORD, REMOTE_ADDR=ANOTHER_ADDRESS).status_code == 302


def test_behind_the_proxy_each_client_counts_for_itself_and_a_forged_header_does_not_help(client, users, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_RATE_LIMIT = "2/300"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for forged in ("192.0.2.1", "192.0.2.2"):
        sign_in(client, "central", "wrong", HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7", **proxy)

    refused = sign_in(client, "central", "wrong", HTTP_X_FORWARDED_FOR="192.0.2.3, 203.0.113.7", **proxy)
    another_client = sign_in(client, "local_a1", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)

    assert refused.status_code == 429
    assert another_client.status_code == 302
    assert AccessLog.objects.get(action=AccessLog.Action.LOGIN).ip_address == "203.0.113.8"


# --- password reset -------------------------------------------------------------------------------------------------


def test_reset_requests_from_one_address_are_limited(client, users, settings, mailoutbox):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/3600"
    assert reset(client, users.central.email).status_code == 302
    assert reset(client, users.regional.email).status_code == 302

    response = reset(client, users.local.email)

    assert_refused_for_a_while(response, window=3600)
    assert [message.to for message in mailoutbox] == [[users.central.email], [users.regional.email]]
    assert reset(client, users.local.email, REMOTE_ADDR=ANOTHER_ADDRESS).status_code == 302
    assert len(mailoutbox) == 3


def test_reset_letters_to_one_mailbox_are_limited_from_any_address(client, users, settings, mailoutbox):
    settings.PASSWORD_RESET_EMAIL_RATE_LIMIT = "2/3600"
    for address in ("198.51.100.1", "198.51.100.2"):
        assert reset(client, users.local.email, REMOTE_ADDR=address).status_code == 302

    response = reset(client, users.local.email.upper(), REMOTE_ADDR="198.51.100.3")

    assert_refused_for_a_while(response, window=3600)
    assert len(mailoutbox) == 2
    assert reset(client, users.central.email, REMOTE_ADDR="198.51.100.3").status_code == 302


def test_an_unknown_mailbox_is_limited_like_a_known_one(client, users, settings, mailoutbox):
    """Otherwise the limit would tell which e-mails belong to accounts."""
    settings.PASSWORD_RESET_EMAIL_RATE_LIMIT = "1/3600"
    assert reset(client, "nobody@example.org").status_code == 302
    assert reset(client, "nobody@example.org").status_code == 429
    assert mailoutbox == []


# --- the counter ----------------------------------------------------------------------------------------------------


def cache_keys() -> list[str]:
    if settings.REDIS_URL:
        from accounts.rate_limits import _redis

        return [key.decode() for key in _redis().scan_iter(count=1000)]
    return list(cache._cache)


def test_counters_keep_no_address_or_e_mail_in_clear(client, users):
    reset(client, users.local.email, REMOTE_ADDR="198.51.100.77")

    keys = [key for key in cache_keys() if "rate:password-reset" in key]
    assert len(keys) == 2
    assert not any("198.51.100.77" in key or users.local.email in key for key in keys)


@pytest.mark.parametrize(("setting", "limit"), [("30/300", RateLimit(30, 300)), ("5", RateLimit(5, 60))])
def test_a_limit_is_calls_per_seconds(settings, setting, limit):
    settings.LOGIN_RATE_LIMIT = setting
    assert RateLimit.from_setting("LOGIN_RATE_LIMIT") == limit


def test_scopes_count_apart(db):
    limit = RateLimit(1, 60)
    rate_limit_take(scope="login", subject="203.0.113.9", limit=limit, now=1_800_000_000)
    rate_limit_take(scope="password-reset", subject="203.0.113.9", limit=limit, now=1_800_000_000)
    with pytest.raises(RateLimited):
        rate_limit_take(scope="login", subject="203.0.113.9", limit=limit, now=1_800_000_001)
