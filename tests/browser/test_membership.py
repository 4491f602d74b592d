"""The chair's member register in a real browser: list, member card, admission, and an import preview with errors."""

import csv
import io

import pytest

from membership.models import Member
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = pytest.mark.browser

HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Пол", "Телефон", "E-mail", "Категория",
          "Должность / учебная группа", "Педагогический работник", "Дата вступления в Профсоюз",
          "Дата постановки на учёт", "Заявление об удержании взносов"]  # fmt: skip


@pytest.fixture
def school_members(union):
    names = ["Андреева", "Белова", "Волкова", "Григорьева", "Давыдова", "Егорова", "Жукова", "Зуева"]
    for number, last_name in enumerate(names):
        MemberFactory(
            organization=union.primary_a1a, last_name=last_name, first_name="Ольга", middle_name="Сергеевна",
            search_name=f"{last_name.lower()} ольга сергеевна", position="учитель начальных классов",
            is_teaching_staff=number % 3 != 0,
        )  # fmt: skip
    MemberFactory(organization=union.primary_b1a, last_name="Чужакова", search_name="чужакова мария ивановна")


def test_chair_finds_a_member_opens_the_card_and_admits_a_new_one(page, users, school_members, log_in, screenshot):
    log_in(page, users.chair.username, TEST_PASSWORD)
    page.get_by_role("link", name="Члены Профсоюза").first.click()
    page.wait_for_selector("text=Андреева Ольга Сергеевна")
    assert page.locator("text=Чужакова").count() == 0
    screenshot(page, "members")

    page.get_by_label("Фамилия (и имя)").fill("вол")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name="Волкова Ольга Сергеевна").click()
    page.wait_for_selector("text=Учётные данные")
    screenshot(page, "member")

    page.goto("/members/")
    page.get_by_role("link", name="Принять в Профсоюз").click()
    page.fill("#id_last_name", "Новикова")
    page.fill("#id_first_name", "Алина")
    page.fill("#id_birth_date", "1996-02-11")
    page.select_option("#id_sex", "f")
    page.select_option("#id_category", "working")
    with page.expect_navigation():
        page.get_by_role("button", name="Принять в Профсоюз").click()
    assert "принят(а) в Профсоюз" in page.content()
    assert Member.objects.filter(last_name="Новикова", organization=users.chair.organization).exists()


def test_import_preview_lists_bad_rows_and_writes_nothing(page, users, union, log_in, screenshot, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    rows = [[f"Фамилия{'абвгдежзийкл'[n]}", "Анна", "Петровна", "15.03.1985", "ж", "", "", "работающий", "", "да", "01.09.2010",
             "", "да"] for n in range(12)]  # fmt: skip
    rows[3][3] = "31.02.1985"
    rows[7][7] = "космонавт"
    rows[9][0] = ""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([HEADER, *rows])
    upload = tmp_path / "spisok.csv"
    upload.write_text(buffer.getvalue(), encoding="utf-8")

    log_in(page, users.chair.username, TEST_PASSWORD)
    page.goto(f"/members/import/{union.primary_a1a.pk}/")
    page.set_input_files("input[type=file]", str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="Проверить файл").click()
    page.wait_for_selector("text=Исправьте ошибки в файле")
    table = page.locator("table").first.inner_text()
    assert "неизвестная категория «космонавт»" in table and "не дата" in table and "не заполнено" in table
    assert page.get_by_role("button", name="Записать в реестр").count() == 0
    screenshot(page, "import-errors")
    assert Member.objects.count() == 0
