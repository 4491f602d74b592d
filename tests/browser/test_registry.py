"""The organisation tree, passports and the chairs' card index in a real browser."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, ChairFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_regional_user_walks_down_the_tree(page, union, users, log_in, screenshot):
    ChairFactory(organization=union.region_a, last_name="Орлова")
    ChairFactory(organization=union.local_a1, last_name="Волков", first_name="Сергей", middle_name="Ильич")

    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto("/registry/orgs/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Московская городская организация")
    expect(page.get_by_role("link", name="ППО университета")).to_be_visible()
    expect(page.get_by_text("Санкт-Петербургская организация")).to_have_count(0)
    screenshot(page, "tree")

    page.get_by_role("link", name="Районная организация А1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Районная организация А1")
    page.get_by_role("link", name="ППО детского сада № 5").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ППО детского сада № 5")
    expect(page.get_by_label("Путь по дереву организаций")).to_contain_text("Районная организация А1")


def test_regional_user_edits_the_passport_of_a_local_org(page, union, users, log_in):
    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto("/registry/orgs/")
    page.get_by_role("link", name="Районная организация А1", exact=True).click()
    page.get_by_role("link", name="Редактировать паспорт").click()
    page.get_by_label("Телефон").fill("+7 495 222-33-44")
    page.get_by_role("button", name="Сохранить").click()

    expect(page.get_by_role("alert")).to_contain_text("Паспорт организации сохранён.")
    expect(page.locator(".passport")).to_contain_text("+7 495 222-33-44", timeout=2_000)
    union.local_a1.refresh_from_db()
    assert union.local_a1.phone == "+7 495 222-33-44"


def test_regional_user_sees_the_chairs_of_own_region_only(page, union, users, log_in, screenshot):
    expired = {"term_start": datetime.date(2015, 3, 1), "term_end": datetime.date(2020, 3, 1)}
    ChairFactory(organization=union.primary_a1a, last_name="Смирнова", phone="+7 916 000-00-01")
    ChairFactory(organization=union.primary_a1b, last_name="Петрова", **expired)
    ChairFactory(organization=union.university_a, last_name="Соколов", first_name="Андрей", middle_name="Викторович")
    ChairFactory(organization=union.local_a1, last_name="Волков", first_name="Сергей", middle_name="Ильич")
    ChairFactory(organization=union.primary_b1a, last_name="Кузнецова")

    log_in(page, users.regional.username, TEST_PASSWORD)
    page.get_by_role("link", name="Председатели").click()

    table = page.locator("table")
    for own in ("Смирнова", "Петрова", "Соколов", "Волков"):
        expect(table).to_contain_text(own)
    expect(table).not_to_contain_text("Кузнецова")
    screenshot(page, "chairs")

    page.get_by_label("Полномочия").select_option(label="истекли")
    page.get_by_role("button", name="Показать").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Петрова")
