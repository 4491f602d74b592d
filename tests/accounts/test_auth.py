"""Signing in: brute-force lock-out, password change and reset, the language of the login page."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import AccessLog
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "Novyi-parol-dlya-reestra-7"


def sign_in(client, username: str, password: str, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


# Brute-force protection (django-axes)


def fail_until_locked(client, username: str, **extra):
    responses = [
        sign_in(client, username, f"wrong-{attempt}", **extra) for attempt in range(settings.AXES_FAILURE_LIMIT)
    ]
    return responses


def test_wrong_password_is_answered_in_russian(client, users):
    response = sign_in(client, "local_a1", "wrong")

    assert response.status_code == 200
    assert "Неверный логин или пароль." in response.content.decode()
    assert signed_in_as(client) is None


def test_after_the_failure_limit_even_the_right_password_is_refused(client, users):
    responses = fail_until_locked(client, "local_a1")

    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429

    response = sign_in(client, "local_a1", TEST_PASSWORD)

    assert response.status_code == 429
    html = response.content.decode()
    assert "Вход временно заблокирован" in html
    assert "Слишком много неудачных попыток входа." in html
    assert reverse("accounts:password_reset") in html
    assert signed_in_as(client) is None
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN).exists()


def test_lock_out_is_per_user_and_address(client, users):
    fail_until_locked(client, "local_a1")

    other_user = sign_in(client, "regional_a", TEST_PASSWORD)
    assert other_user.status_code == 302
    client.post(reverse("accounts:logout"))

    from_another_address = sign_in(client, "local_a1", TEST_PASSWORD, REMOTE_ADDR="198.51.100.20")
    assert from_another_address.status_code == 302


def test_a_successful_login_resets_the_count(client, users):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "local_a1", "wrong")
    assert sign_in(client, "local_a1", TEST_PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "local_a1", "wrong")

    assert sign_in(client, "local_a1", TEST_PASSWORD).status_code == 302


def test_lock_out_page_says_when_to_try_again_in_words(client, users):
    fail_until_locked(client, "local_a1")

    html = sign_in(client, "local_a1", TEST_PASSWORD).content.decode()

    assert "PT30M" not in html
    assert "30 минут" in html


# Password change


def test_password_change_flow(client_for, users):
    client = client_for(users.chair)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    assert client.get(reverse("accounts:profile")).status_code == 200  # still signed in
    users.chair.refresh_from_db()
    assert users.chair.check_password(NEW_PASSWORD)
    assert not users.chair.check_password(TEST_PASSWORD)


def test_password_change_refuses_a_wrong_old_password(client_for, users):
    response = client_for(users.chair).post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "старый пароль" in response.content.decode().lower()
    users.chair.refresh_from_db()
    assert users.chair.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("Kor0tkii", "слишком короткий"),
        ("5820394718265", "состоит только из цифр"),
    ],
)
def test_password_change_applies_the_password_rules(client_for, users, new_password, message):
    response = client_for(users.chair).post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    users.chair.refresh_from_db()
    assert users.chair.check_password(TEST_PASSWORD)


# Password reset by e-mail


def reset_link_from(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_email_lets_the_user_sign_in_again(client, users, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": users.local.email})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    [message] = mailoutbox
    assert message.to == [users.local.email]
    assert message.subject == "Восстановление пароля в Едином реестре Профсоюза образования"
    assert "«local_a1»" in message.body

    form_page = client.get(reset_link_from(message), follow=True)
    assert form_page.context["validlink"]
    set_password = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert set_password.status_code == 302
    assert set_password.url == reverse("accounts:password_reset_complete")

    assert sign_in(client, "local_a1", TEST_PASSWORD).status_code == 200
    assert sign_in(client, "local_a1", NEW_PASSWORD).status_code == 302
    assert signed_in_as(client) == str(users.local.pk)


def test_reset_link_works_only_once(client, users, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": users.local.email})
    link = reset_link_from(mailoutbox[0])
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True)

    assert not again.context["validlink"]
    assert "Ссылка недействительна" in again.content.decode()


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, users, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mailoutbox == []


# Language of the login page


def test_login_page_is_russian_by_default(client):
    html = client.get(reverse("accounts:login")).content.decode()

    assert '<html lang="ru">' in html
    assert "Вход в личный кабинет" in html
    assert "Пароль" in html  # Django's own label, from its Russian catalogue


def test_login_page_switches_to_english_by_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get(reverse("accounts:login")).content.decode()

    assert '<html lang="en">' in html
    assert "Password" in html  # Django's own label, from its English source strings
    assert "Пароль" not in html
    assert "Sign in to your account" in html  # ours, from locale/en
    assert "Вход в личный кабинет" not in html


def test_set_language_remembers_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("accounts:login")})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en">' in client.get(reverse("accounts:login")).content.decode()
