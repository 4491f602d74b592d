"""Headless Chromium (Debian's package, never `playwright install`) driving the live server.

Every test here carries the `browser` marker, so `pytest -m "not browser"` leaves them out; without
/usr/bin/chromium they are skipped with the reason printed in the summary.
"""

import importlib
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts.models import User
from tests.discounts.conftest import programme  # noqa: F401 (the discount programme's partners and holders)
from tests.second_factor import totp_code, totp_device_of
from tests.union_statistics.conftest import year_2025  # noqa: F401 (the hand-built year of the statistics tests)

# Playwright's sync API keeps an asyncio loop in the main thread, where the tests also touch the
# database (factories, refresh_from_db); Django would otherwise refuse those calls as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS_DIR = Path(settings.BASE_DIR) / "screenshots"


@pytest.fixture(autouse=True)
def access_log_emptied_before_flush(transactional_db):
    """Let the flush that ends a live-server test through the 152-FZ trigger on SQLite.

    The trigger refuses to DELETE access-log rows younger than a year. PostgreSQL flushes with TRUNCATE,
    which fires no row trigger; SQLite flushes with DELETE, so the rows the test wrote are removed here
    with the trigger lifted for that one statement (set up after the database, so torn down before its flush).
    """
    yield
    if connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("accounts.migrations.0002_access_log_append_only")
    with connection.cursor() as cursor:
        for statement in append_only.SQLITE_REVERSE:
            cursor.execute(statement)
        cursor.execute("DELETE FROM accounts_accesslog")
        for statement in append_only.SQLITE_FORWARD:
            cursor.execute(statement)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(viewport=DESKTOP) -> a fresh page of a Russian-speaking visitor, cookies of its own."""
    contexts = []

    def open_(viewport: dict = DESKTOP):
        context = browser.new_context(
            base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow", viewport=viewport
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page(DESKTOP)


@pytest.fixture
def phone_page(open_page):
    """An iPhone 12-sized screen: 390×844."""
    return open_page(PHONE)


@pytest.fixture
def log_in():
    """log_in(page, user, password) fills the real login form and waits for the page after it. When the portal then
    asks for the second step's code, it types the one the user's authenticator app shows now; central and regional
    staff, who must have an app, get one first if they have none (as if they had set it up earlier)."""

    def log_in_(page, username: str, password: str):
        user = User.objects.filter(username=username).first()
        if user is not None and user.second_factor_required:
            totp_device_of(user)
        page.goto("/accounts/login/")
        page.get_by_label("Логин").fill(username)
        page.get_by_label("Пароль").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Войти").click()
        if user is not None and urlsplit(page.url).path == reverse("accounts:two_factor_verify"):
            page.locator("input[name=code]").fill(totp_code(totp_device_of(user)))
            with page.expect_navigation():
                page.get_by_role("button", name="Подтвердить").click()

    return log_in_


@pytest.fixture
def screenshot():
    """screenshot(page, name) refreshes screenshots/<name>.png; screenshot.save_bytes(name, png) stores a picture
    made otherwise (a rendered PDF page). A read-only checkout only gets a warning."""

    def save_bytes(name: str, image: bytes) -> None:
        try:
            SCREENSHOTS_DIR.mkdir(exist_ok=True)
            (SCREENSHOTS_DIR / f"{name}.png").write_bytes(image)
        except OSError as error:
            warnings.warn(f"screenshot {name}.png not saved: {error}", stacklevel=2)

    def save(page, name: str) -> None:
        save_bytes(name, page.screenshot(full_page=True))

    save.save_bytes = save_bytes
    return save
