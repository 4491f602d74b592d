"""Issue 10, items 1 and 2 in a real browser: Excel's "Unicode text" is read, and the admission form refuses a
surname that is a formula or has a digit in the words the import uses."""

import codecs
import csv
import io

import pytest

from membership.models import Member
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser

HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Пол", "Телефон", "E-mail", "Категория",
          "Должность / учебная группа", "Педагогический работник", "Дата вступления в Профсоюз",
          "Дата постановки на учёт", "Заявление об удержании взносов"]  # fmt: skip
ROWS = [
    ["Семёнова", "Мария", "Петровна", "15.03.1985", "ж", "8 900 123 45 67", "", "работающий", "учитель", "да",
     "01.09.2010", "", "да"],
    ["Д'Артаньян", "Шарль", "", "01.02.1990", "м", "", "", "работающий", "учитель физики", "нет", "01.09.2012", "",
     "нет"],
    ["=SUM(A1)", "Анна", "", "01.02.1990", "ж", "123", "", "работающий", "", "нет", "01.09.2012", "", "нет"],
]  # fmt: skip


def test_unicode_text_from_excel_is_read_and_bad_values_are_shown_by_row(
    page, users, union, log_in, screenshot, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows([HEADER, *ROWS])
    upload = tmp_path / "spisok.txt"
    upload.write_bytes(codecs.BOM_UTF16_LE + buffer.getvalue().encode("utf-16-le"))

    log_in(page, users.chair.username, TEST_PASSWORD)
    page.goto(f"/members/import/{union.primary_a1a.pk}/")
    page.set_input_files("input[type=file]", str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="Проверить файл").click()
    page.wait_for_selector("text=Исправьте ошибки в файле")
    table = page.locator("table").first.inner_text()
    assert "начинается с «=», как формула" in table and "«123» — не номер телефона" in table
    screenshot(page, "import-unicode-text")
    assert Member.objects.count() == 0


def test_admission_form_refuses_a_formula_and_a_digit_in_the_same_words(page, users, union, log_in, screenshot):
    log_in(page, users.chair.username, TEST_PASSWORD)
    page.goto(f"/members/admit/{union.primary_a1a.pk}/")
    page.fill("#id_last_name", "=SUM(A1)")
    page.fill("#id_first_name", "Анна2")
    page.fill("#id_birth_date", "1890-02-11")
    page.fill("#id_phone", "123")
    page.select_option("#id_sex", "f")
    page.select_option("#id_category", "working")
    with page.expect_navigation():
        page.get_by_role("button", name="Принять в Профсоюз").click()
    content = page.content()
    assert "начинается с «=», как формула" in content and "недопустимый знак «2»" in content
    assert "больше 110 лет" in content and "не номер телефона" in content
    screenshot(page, "member-form-refusals")
    assert Member.objects.count() == 0
