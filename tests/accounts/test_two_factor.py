"""Вход в два шага: after the password, central and regional staff must give a code of an authenticator app (or a
recovery code); everyone else may turn the step on. These tests sign in through the login form, as a person does:
the test client's force_login passes the step for the rest of the suite (tests/conftest.py)."""

import re
from base64 import b32decode
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessLog, Role
from accounts.two_factor_services import RECOVERY_CODE_COUNT, recovery_codes_issue
from tests.factories import TEST_PASSWORD, UserFactory
from tests.second_factor import totp_code, totp_device_of

VERIFY = reverse("accounts:two_factor_verify")
SETUP = reverse("accounts:two_factor_setup")
RECOVERY_CODES = reverse("accounts:two_factor_recovery_codes")
PROFILE = reverse("accounts:profile")


def sign_in(client, username: str, next_url: str = ""):
    login = reverse("accounts:login") + (f"?next={quote(next_url)}" if next_url else "")
    return client.post(login, {"username": username, "password": TEST_PASSWORD, "next": next_url})


def enter_code(client, code: str, next_url: str = ""):
    return client.post(VERIFY, {"code": code, "next": next_url})


def app_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def step_url(step: str, next_url: str) -> str:
    return f"{step}?next={quote(next_url, safe='/')}"


@pytest.fixture
def no_slow_down(settings):
    """Wrong codes one after another without django-otp's growing wait, which has a test of its own."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


# Who must pass the step


@pytest.mark.parametrize("role", ["central", "regional"])
def test_staff_without_an_app_reach_only_its_setup_after_the_password(client, users, role):
    user = users.by_role(role)
    tree = reverse("registry:org_tree")

    response = sign_in(client, user.username, next_url=tree)
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == step_url(SETUP, tree)

    for url in (reverse("home"), PROFILE, reverse("membership:member_list"), reverse("accounts:access_log"), VERIFY):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(SETUP), url
    assert client.get(SETUP).status_code == 200
    assert client.post(reverse("accounts:logout")).url == reverse("accounts:login")


def test_staff_with_an_app_are_asked_for_its_code_and_nothing_else_opens(client, users):
    totp_device_of(users.central)

    sign_in(client, "central")
    response = client.get(reverse("statistics:home"))

    assert response.status_code == 302 and response.url == step_url(VERIFY, reverse("statistics:home"))
    for url in (PROFILE, reverse("registry:org_tree"), reverse("admin:index"), SETUP):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(VERIFY), url
    page = client.get(VERIFY).content.decode()
    assert "Введите код из приложения" in page and 'name="code"' in page


def test_a_session_owing_the_code_may_not_put_another_app_on_the_account(client, users):
    """Whoever knows only the password must not add their own authenticator in place of the owner's."""
    totp_device_of(users.regional)
    sign_in(client, "regional_a")

    response = client.post(SETUP, {"code": "123456"})

    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=users.regional).count() == 1


def test_anyone_who_can_open_the_admin_site_must_pass_the_step(client, users):
    UserFactory(username="admin", role=Role.MEMBER, is_staff=True, is_superuser=True)

    sign_in(client, "admin")

    assert client.get(reverse("admin:index")).url.startswith(SETUP)


@pytest.mark.parametrize("role", ["local", "chair", "member", "cashier"])
def test_other_roles_are_not_asked_for_a_code_but_are_offered_it(client, users, programme, role):
    sign_in(client, users.by_role(role).username)

    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200 and VERIFY not in response.redirect_chain[-1][0]
    assert SETUP not in response.redirect_chain[-1][0]
    profile = client.get(PROFILE).content.decode()
    assert "Включить вход в два шага" in profile and SETUP in profile


# The code


def test_a_wrong_code_is_refused_and_counted_as_a_failed_sign_in(client, users):
    device = totp_device_of(users.central)
    sign_in(client, "central")
    wrong = f"{(int(app_code(device)) + 1) % 1_000_000:06d}"

    response = enter_code(client, wrong)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Код не подошёл." in page and f"Осталось попыток: {settings.AXES_FAILURE_LIMIT - 1}." in page
    assert client.get(PROFILE).url.startswith(VERIFY)
    failure = AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).get()
    assert failure.username == "central" and wrong not in str(failure.details)


def test_the_code_the_app_shows_admits_to_the_page_asked_for(client, users):
    device = totp_device_of(users.regional)
    members = reverse("membership:member_list")
    sign_in(client, "regional_a", next_url=members)
    client.get(members)
    session_before = client.session.session_key

    response = enter_code(client, app_code(device), next_url=members)

    assert response.status_code == 302 and response.url == members
    assert client.get(members).status_code == 200
    assert client.get(PROFILE).status_code == 200
    assert client.session.session_key != session_before  # a new key for the session that has both factors
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_a_code_is_accepted_once(client, users):
    device = totp_device_of(users.regional)
    code = app_code(device)
    sign_in(client, "regional_a")
    assert enter_code(client, code).status_code == 302
    client.post(reverse("accounts:logout"))

    sign_in(client, "regional_a")

    assert enter_code(client, code).status_code == 200
    assert client.get(PROFILE).url.startswith(VERIFY)


def test_next_may_not_lead_to_another_site(client, users):
    device = totp_device_of(users.central)
    sign_in(client, "central")

    response = enter_code(client, app_code(device), next_url="https://evil.example/")

    assert response.url == reverse("home")


def test_each_wrong_code_makes_the_next_check_wait(client, users):
    device = totp_device_of(users.central)
    sign_in(client, "central")
    enter_code(client, "000000" if app_code(device) != "000000" else "000001")

    response = enter_code(client, app_code(device))

    assert response.status_code == 200
    assert "Подождите" in response.content.decode()
    assert client.get(PROFILE).url.startswith(VERIFY)
    # Nothing was checked: the wait is no guess, and counts for no lock.
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).count() == 1


def test_after_five_wrong_codes_the_session_is_signed_out_and_the_login_locked(client, users, no_slow_down):
    device = totp_device_of(users.central)
    wrong = "000000" if app_code(device) != "000000" else "000001"
    sign_in(client, "central")

    responses = [enter_code(client, wrong) for _attempt in range(settings.AXES_FAILURE_LIMIT)]

    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert "Осталось попыток: 1." in responses[-2].content.decode()
    assert responses[-1].status_code == 429 and "Вход временно заблокирован" in responses[-1].content.decode()
    assert "_auth_user_id" not in client.session
    # The password alone lets nobody in from here for the cool-off time, and so no more codes can be tried.
    response = sign_in(client, "central")
    assert response.status_code == 429 and "_auth_user_id" not in client.session


# Recovery codes


def test_a_recovery_code_admits_once_and_its_use_is_logged(client, users, no_slow_down):
    totp_device_of(users.regional)
    codes = recovery_codes_issue(user=users.regional)
    sign_in(client, "regional_a")

    response = enter_code(client, f"{codes[0][:4]}-{codes[0][4:]}".upper())

    assert response.status_code == 302
    assert client.get(PROFILE).status_code == 200
    used = AccessLog.objects.get(action=AccessLog.Action.RECOVERY_CODE_USED)
    assert used.user == users.regional and used.details == {"осталось резервных кодов": RECOVERY_CODE_COUNT - 1}
    client.post(reverse("accounts:logout"))
    sign_in(client, "regional_a")
    response = enter_code(client, codes[0])
    assert response.status_code == 200 and "уже использован" in response.content.decode()
    assert enter_code(client, codes[1]).status_code == 302


def test_new_recovery_codes_replace_the_old_and_are_shown_once(client_for, users):
    old_codes = recovery_codes_issue(user=totp_device_of(users.central).user)
    client = client_for(users.central)

    response = client.post(reverse("accounts:two_factor_recovery_codes_issue"))
    assert response.url == f"{RECOVERY_CODES}?next={PROFILE}"
    page = client.get(RECOVERY_CODES).content.decode()

    new_codes = StaticDevice.objects.get(user=users.central).token_set.values_list("token", flat=True)
    assert len(new_codes) == RECOVERY_CODE_COUNT and not set(new_codes) & set(old_codes)
    assert all(f"{code[:4]}-{code[4:]}" in page for code in new_codes)
    assert client.get(RECOVERY_CODES).url == PROFILE  # shown once
    issued = AccessLog.objects.filter(action=AccessLog.Action.RECOVERY_CODES_ISSUED).latest("id")
    assert issued.user == users.central and not any(code in str(issued.details) for code in new_codes)


# Setting up an app


def secret_on_page(html: str) -> bytes:
    secret = re.search(r"data-otp-secret>([A-Z2-7 ]+)<", html).group(1)
    return b32decode(secret.replace(" ", ""))


def test_regional_staff_set_up_the_app_from_the_key_on_the_page_and_get_recovery_codes(client, users):
    members = reverse("membership:member_list")
    sign_in(client, "regional_a", next_url=members)
    page = client.get(step_url(SETUP, members)).content.decode()
    key = secret_on_page(page)
    assert "<svg" in page and "<script>" not in page and "onclick" not in page

    assert client.get(SETUP).status_code == 200  # a reload keeps the key already scanned
    assert secret_on_page(client.get(SETUP).content.decode()) == key
    response = client.post(step_url(SETUP, members), {"code": f"{totp(key):06d}", "next": members})

    assert response.status_code == 302 and response.url == step_url(RECOVERY_CODES, members)
    codes_page = client.get(response.url).content.decode()
    device = TOTPDevice.objects.get(user=users.regional)
    assert device.confirmed and device.bin_key == key
    codes = list(StaticDevice.objects.get(user=users.regional).token_set.values_list("token", flat=True))
    assert len(codes) == RECOVERY_CODE_COUNT and all(f"{code[:4]}-{code[4:]}" in codes_page for code in codes)
    assert f'href="{members}"' in codes_page
    assert client.get(members).status_code == 200
    assert AccessLog.objects.filter(action=AccessLog.Action.SECOND_FACTOR_ON, user=users.regional).count() == 1


def test_a_wrong_first_code_leaves_the_step_off(client, users):
    sign_in(client, "regional_a")
    key = secret_on_page(client.get(SETUP).content.decode())
    wrong = "000000" if f"{totp(key):06d}" != "000000" else "000001"

    response = client.post(SETUP, {"code": wrong})

    assert response.status_code == 200 and "Код не подошёл." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=users.regional, confirmed=True).exists()
    assert client.get(PROFILE).url.startswith(SETUP)


def test_a_chair_turns_the_step_on_and_is_asked_for_the_code_from_then_on(client, users):
    sign_in(client, "chair_a1a")
    key = secret_on_page(client.get(SETUP).content.decode())
    client.post(SETUP, {"code": f"{totp(key):06d}"})
    assert "включён" in client.get(PROFILE).content.decode()
    client.post(reverse("accounts:logout"))

    sign_in(client, "chair_a1a")

    assert client.get(reverse("registry:org_tree")).url.startswith(VERIFY)
    assert enter_code(client, totp_code(TOTPDevice.objects.get(user=users.chair))).status_code == 302
    assert client.get(PROFILE).status_code == 200


def test_moving_to_another_phone_retires_the_old_app(client_for, users):
    old_device = totp_device_of(users.central)
    client = client_for(users.central)
    key = secret_on_page(client.get(SETUP).content.decode())

    client.post(SETUP, {"code": f"{totp(key):06d}"})

    assert list(TOTPDevice.objects.filter(user=users.central).values_list("key", flat=True)) == [key.hex()]
    assert not TOTPDevice.objects.filter(pk=old_device.pk).exists()
    assert client.get(PROFILE).status_code == 200  # the session passed the step with the new app


# Turning it off


def test_a_chair_turns_the_step_off_with_a_code(client_for, users):
    device = totp_device_of(users.chair)
    recovery_codes_issue(user=users.chair)
    client = client_for(users.chair)

    response = client.post(reverse("accounts:two_factor_disable"), {"code": "111111"})
    assert response.status_code == 200 and TOTPDevice.objects.filter(user=users.chair).exists()
    device.throttle_reset()
    response = client.post(reverse("accounts:two_factor_disable"), {"code": totp_code(device)})

    assert response.status_code == 302 and response.url == PROFILE
    assert not TOTPDevice.objects.filter(user=users.chair).exists()
    assert not StaticDevice.objects.filter(user=users.chair).exists()
    assert client.get(reverse("registry:org_tree"), follow=True).status_code == 200
    assert AccessLog.objects.filter(action=AccessLog.Action.SECOND_FACTOR_OFF, user=users.chair).exists()


def test_regional_staff_cannot_turn_the_step_off(client_for, users):
    device = totp_device_of(users.regional)
    client = client_for(users.regional)

    response = client.post(reverse("accounts:two_factor_disable"), {"code": totp_code(device)})

    assert response.status_code == 200 and "обязателен" in response.content.decode()
    assert TOTPDevice.objects.filter(user=users.regional).exists()
    assert "Отключить" not in client.get(PROFILE).content.decode()


# What the step leaves alone


def test_the_partner_api_answers_a_session_that_owes_the_code_as_before(client, users):
    totp_device_of(users.regional)
    sign_in(client, "regional_a")

    response = client.get("/api/v1/schema/")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")


def test_a_chair_made_regional_staff_mid_session_owes_the_step_at_once(client, users):
    sign_in(client, "chair_a1a")
    assert client.get(PROFILE).status_code == 200
    users.chair.role, users.chair.organization = Role.REGIONAL, users.regional.organization
    users.chair.save()

    assert client.get(PROFILE).url.startswith(SETUP)
