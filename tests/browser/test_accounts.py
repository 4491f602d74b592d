"""Signing in through the real login page, as people do it."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, ChairFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNION_BLUE = "rgb(11, 79, 156)"


def test_login_page_loads_its_styles(page, screenshot):
    response = page.goto("/accounts/login/")

    assert response.ok
    expect(page).to_have_title(re.compile("Вход"))
    # Bootstrap's own primary is rgb(13, 110, 253): the union blue proves that app.css was served too.
    expect(page.get_by_role("button", name="Войти")).to_have_css("background-color", UNION_BLUE)
    expect(page.locator("body")).to_have_css("font-family", re.compile("PT Sans"))
    screenshot(page, "login")


def test_chair_signs_in_and_lands_on_own_primary_org(page, live_server, union, users, log_in, screenshot):
    primary = union.primary_a1a
    primary.address = "г. Москва, ул. Учительская, д. 1"
    primary.phone = "+7 495 100-00-01"
    primary.email = "school1@example.org"
    primary.employees_count, primary.students_count = 84, 1120
    primary.save()
    ChairFactory(organization=primary, last_name="Смирнова", phone="+7 916 000-00-01")

    log_in(page, users.chair.username, TEST_PASSWORD)

    # Staff start on their organisation's statistics; the passport is one click away.
    expect(page).to_have_url(f"{live_server.url}/statistics/org/{primary.pk}/")
    page.get_by_role("link", name="Паспорт организации").click()
    expect(page).to_have_url(f"{live_server.url}/registry/orgs/{primary.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ППО школы № 1")
    expect(page.locator(".passport")).to_contain_text("г. Москва, ул. Учительская, д. 1")
    expect(page.get_by_role("link", name="Смирнова Анна Петровна")).to_be_visible()
    screenshot(page, "passport")


def test_wrong_password_is_refused_in_russian(page, users, log_in):
    log_in(page, users.chair.username, "не-тот-пароль")

    expect(page.get_by_text("Неверный логин или пароль")).to_be_visible()
    page.goto("/registry/orgs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_phone_screen_collapses_the_menu(phone_page, users, log_in, screenshot):
    log_in(phone_page, users.regional.username, TEST_PASSWORD)
    toggler = phone_page.get_by_role("button", name="Меню")
    chairs_link = phone_page.locator("#mainNav").get_by_role("link", name="Председатели")

    expect(toggler).to_be_visible()
    expect(chairs_link).to_be_hidden()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    screenshot(phone_page, "tree-phone")

    toggler.click()
    expect(chairs_link).to_be_visible()
