"""Вход в два шага in the browser: regional staff set up an authenticator app on their first sign-in, typing the key
shown on the page into the "app" (here: a code computed from that key), keep their recovery codes, and are asked for
a code at the next sign-in."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.second_factor import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_login_form(page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()


def test_regional_staff_set_up_the_app_and_are_asked_for_its_code_next_time(page, live_server, users, screenshot):
    csp_reports = []
    page.on("console", lambda message: csp_reports.append(message.text) if "Content Security" in message.text else None)
    members = "/members/"

    fill_login_form(page, users.regional.username, members)

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/\?next=/members/"))
    expect(page.get_by_role("heading", name="Вход в два шага")).to_be_visible()
    expect(page.locator(".otp-qr svg")).to_be_visible()
    secret = page.locator("[data-otp-secret]").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
    screenshot(page, "two-factor-setup")

    page.get_by_label("Код из приложения").fill(f"{totp(b32decode(secret.replace(' ', ''))):06d}")
    page.get_by_role("button", name="Подтвердить и включить").click()

    expect(page.get_by_role("heading", name="Резервные коды")).to_be_visible()
    codes = page.locator("[data-recovery-codes] li")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}$"))
    screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="Коды сохранены, продолжить").click()
    expect(page).to_have_url(f"{live_server.url}{members}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Члены Профсоюза")

    page.locator(".navbar .dropdown-toggle", has_text=users.regional.display_name).click()
    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(re.compile("/accounts/login/"))
    fill_login_form(page, users.regional.username, members)

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next=/members/"))
    screenshot(page, "two-factor-verify")
    device = TOTPDevice.objects.get(user=users.regional)
    page.get_by_label("Код из приложения или резервный код").fill(
        "000000" if totp_code(device) != "000000" else "000001"
    )
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_text("Осталось попыток: 4.")).to_be_visible()
    page.wait_for_timeout(1100)  # the wait that follows a wrong code
    page.get_by_label("Код из приложения или резервный код").fill(totp_code(device))
    page.get_by_role("button", name="Подтвердить").click()
    expect(page).to_have_url(f"{live_server.url}{members}")
    assert not csp_reports
