"""The whole way of one member through the portal, each person in a browser of their own, only through the pages:

the chair of a school's ППО admits a teacher, records her consents (one as a scanned signed form), orders a plastic
card and prints the slip for her personal cabinet; regional staff approve the request, form a batch and download the
vendor package; central office runs the rollup and finds her in the union's figures; she sets her password with the
slip's code and opens the virtual card on her phone; a bookshop's cashier checks the number she shows and records a
purchase; she signs in again and sees the cashback at the partner's rate.
"""

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass

import pypdfium2
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from discounts.models import Cashier, Partner
from tests.browser.conftest import PHONE
from tests.discounts.conftest import partner_create
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = pytest.mark.browser

NEWCOMER = {"last_name": "Кузьмина", "first_name": "Дарья", "middle_name": "Игоревна", "birth_date": "1994-03-17"}
FULL_NAME = "Кузьмина Дарья Игоревна"
MEMBER_PASSWORD = "Ясень-и-липа-1994"
PURCHASE, CASHBACK = "1 990,00", "99,50"  # 5 % of the bookshop's sale


@dataclass
class Slip:
    """The printed slip the chair hands over: where to go, the login and the one-time code."""

    address: str
    username: str
    code: str


@pytest.fixture
def bookshop(union, users) -> Partner:
    """A region A partner with 5 % cashback whose till the fixture cashier works."""
    partner = partner_create(
        name="Книжный дом «Азбука»", regions=[union.region_a.region], managed_by=union.region_a, cashback_bp=500,
        category=Partner.Category.EDUCATION,
    )  # fmt: skip
    Cashier.objects.create(user=users.cashier, partner=partner)
    return partner


@pytest.fixture
def members_already_on_the_register(union):
    """Long-standing members without cards: three in the school (region A), two in the gymnasium (region B)."""
    for last_name in ("Орлова", "Соколова", "Лебедева"):
        MemberFactory(organization=union.primary_a1a, last_name=last_name)
    for last_name in ("Воронова", "Голубева"):
        MemberFactory(organization=union.primary_b1a, last_name=last_name)


def signed_form_scan(path) -> str:
    """A phone photo of the signed consent form, as a chair uploads it (a real PNG the upload check decodes)."""
    picture = Image.new("RGB", (620, 877), "white")
    draw = ImageDraw.Draw(picture)
    for line in range(12):
        draw.line((60, 120 + line * 40, 560, 120 + line * 40), fill="gray", width=2)
    draw.line((360, 760, 540, 730), fill="navy", width=4)  # the signature
    picture.save(path, format="PNG")
    return str(path)


def chair_admits_records_consents_and_orders_a_card(page, log_in, screenshot, scan_path) -> Slip:
    log_in(page, "chair_a1a", TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("link", name="Члены Профсоюза").first.click()
    with page.expect_navigation():
        page.get_by_role("link", name="Принять в Профсоюз").click()
    page.get_by_label("Фамилия").fill(NEWCOMER["last_name"])
    page.get_by_label("Имя").fill(NEWCOMER["first_name"])
    page.get_by_label("Отчество").fill(NEWCOMER["middle_name"])
    page.get_by_label("Дата рождения").fill(NEWCOMER["birth_date"])
    page.get_by_role("combobox", name="Пол").select_option(label="женский")
    page.get_by_label("Телефон").fill("+7 916 204-17-03")
    page.get_by_label("E-mail").fill("d.kuzmina@school1.example.ru")
    page.get_by_label("Категория").select_option(label="Работающий")
    page.get_by_label("Должность / учебная группа").fill("учитель математики")
    page.get_by_label("Педагогический работник").check()
    page.get_by_label("Заявление об удержании взносов").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Принять в Профсоюз").click()
    expect(page.get_by_text(f"{FULL_NAME} принят(а) в Профсоюз.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    expect(page.get_by_text("Согласие не внесено")).to_be_visible()

    consents = [
        ("Обработка персональных данных Профсоюзом", "Скан подписанного бланка"),
        ("Передача данных изготовителю профсоюзного билета", "Подписанный бланк (оригинал в ППО)"),
        ("Участие в программе скидок и кэшбэка партнёров", "Подписанный бланк (оригинал в ППО)"),
    ]
    for purpose, method in consents:
        with page.expect_navigation():
            page.get_by_role("link", name="Внести").click()
        page.get_by_label("Согласие").select_option(label=purpose)
        page.get_by_label("Как получено").select_option(label=method)
        if method.startswith("Скан"):
            page.get_by_label("Скан (PDF, JPEG или PNG").set_input_files(scan_path)
        with page.expect_navigation():
            page.get_by_role("button", name="Внести").click()
        expect(page.get_by_text("Согласие внесено.")).to_be_visible()
    given = page.locator(".list-group-item", has=page.get_by_text("действует"))
    expect(given).to_have_count(3)
    expect(page.get_by_role("link", name="скан")).to_have_count(1)
    screenshot(page, "journey-1-chair-member")

    with page.expect_navigation():
        page.get_by_role("link", name="Профсоюзный билет").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Заказать пластиковый билет").click()
    expect(page.get_by_text("Заявка на пластиковый билет подана.")).to_be_visible()
    expect(page.get_by_text("Действующего профсоюзного билета нет.")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("link", name=FULL_NAME).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Открыть личный кабинет").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Доступ в личный кабинет")
    expect(page.get_by_text("Письмо с кодом отправлено на d.kuzmina@school1.example.ru.")).to_be_visible()
    screenshot(page, "journey-1-chair-slip")
    slip = page.locator(".card-body dl")
    return Slip(
        address=slip.locator("dt:has-text('Адрес') + dd").inner_text().strip(),
        username=slip.locator("dt:has-text('Логин') + dd").inner_text().strip(),
        code=page.get_by_test_id("code").inner_text().strip(),
    )


def region_approves_forms_a_batch_and_downloads_the_package(page, log_in, screenshot) -> str:
    """Returns the card number the batch gave the member, as the batch page shows it."""
    log_in(page, "regional_a", TEST_PASSWORD)
    page.locator("#mainNav").get_by_role("button", name="Билеты").click()
    with page.expect_navigation():
        page.locator("#mainNav").get_by_role("link", name="Заявки на билеты").click()
    request_row = page.get_by_role("row").filter(has_text=FULL_NAME)
    expect(request_row).to_contain_text("ППО школы № 1")
    expect(request_row).to_contain_text("Запрошен")
    screenshot(page, "journey-2-region-queue")
    with page.expect_navigation():
        request_row.get_by_role("button", name="Одобрить").click()
    expect(page.get_by_text(f"Заявка: {FULL_NAME} — готово.")).to_be_visible()
    expect(page.get_by_text("Заявок нет.")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="Сформировать партию из одобренных").click()
    expect(page.get_by_text(re.compile(r"Партия № \d+ сформирована: 1 билет\."))).to_be_visible()
    package_link = page.get_by_role("link", name="Пакет для изготовителя (ZIP)")
    expect(package_link).to_be_visible()
    batch_row = page.get_by_role("row").filter(has_text=FULL_NAME)
    number = batch_row.locator("td").first.inner_text().strip()
    assert re.fullmatch(r"77\d\d \d{4} \d{4} \d{4}", number), number  # region 77's number, in groups of four
    screenshot(page, "journey-2-region-batch")

    with page.expect_download() as download:
        package_link.click()
    assert re.fullmatch(r"partiya-\d+\.zip", download.value.suggested_filename)
    with zipfile.ZipFile(download.value.path()) as package:
        manifest = json.loads(package.read("manifest.json"))
        rows = list(csv.reader(io.StringIO(package.read("personalization.csv").decode("utf-8"))))
        pdf = package.read("cards-0001.pdf")
    assert manifest["count"] == 1
    plain_number = number.replace(" ", "")
    assert rows[1][:4] == [plain_number, "Кузьмина", "Дарья", "Игоревна"]
    vendor_row = "".join(rows[1])
    assert "1994" not in vendor_row and "204-17-03" not in vendor_row  # no birth date or phone for the vendor
    document = pypdfium2.PdfDocument(pdf)
    try:
        proof = document[0]
        proof_text = proof.get_textpage().get_text_range()
        image = io.BytesIO()
        proof.render(scale=300 / 72).to_pil().save(image, format="PNG")
    finally:
        document.close()
    assert "Кузьмина" in proof_text and number in proof_text
    screenshot.save_bytes("journey-2-card-proof", image.getvalue())
    return number


def central_office_runs_the_rollup_and_finds_her_in_the_figures(page, log_in, screenshot, union) -> None:
    log_in(page, "central", TEST_PASSWORD)
    with page.expect_navigation():
        page.locator(".statistics-subnav").get_by_role("link", name="Расчёты").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Запустить расчёт").click()
    expect(page.get_by_text(re.compile(r"Расчёт за \d{4} год запущен"))).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Готово")

    with page.expect_navigation():
        page.locator(".statistics-subnav").get_by_role("link", name="Показатели").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(union.central.display_name)
    # Six members in the union: five long-standing ones and the newcomer, the only one admitted this year
    # and the only one with a card.
    expect(tile(page, "Членов Профсоюза")).to_contain_text("6")
    expect(tile(page, "Принято за год")).to_contain_text("1")
    expect(tile(page, "Электронные билеты")).to_contain_text("1 действующих")
    region_a = page.locator("table").get_by_role("row").filter(has_text=union.region_a.display_name)
    region_b = page.locator("table").get_by_role("row").filter(has_text=union.region_b.display_name)
    expect(region_a.locator("td").nth(1)).to_have_text("4")
    expect(region_b.locator("td").nth(1)).to_have_text("2")
    page.wait_for_function(CHARTS_DRAWN)
    screenshot(page, "journey-3-central-dashboard")

    for org, members in ((union.region_a, "4"), (union.local_a1, "4"), (union.primary_a1a, "4")):
        with page.expect_navigation():
            page.locator("table").get_by_role("link", name=org.display_name, exact=True).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(org.display_name)
        expect(tile(page, "Членов Профсоюза")).to_contain_text(members)
        expect(tile(page, "Электронные билеты")).to_contain_text("1 действующих")


# Chart.js animates the bars and lines in: the picture is taken once every chart has come to rest.
CHARTS_DRAWN = """() => window.Chart && Object.values(Chart.instances).length > 0
    && Object.values(Chart.instances).every((chart) => !Chart.animator.running(chart))"""


def tile(page, label: str):
    return page.locator(".stat-tile").filter(has=page.locator(".label", has_text=label))


def member_activates_the_cabinet_and_opens_the_card(phone, slip: Slip, number: str, screenshot) -> str:
    """Returns the number the virtual card shows: what she reads out at the till."""
    phone.goto(slip.address)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Личный кабинет члена Профсоюза")
    phone.get_by_label("Логин").fill(slip.username)
    phone.get_by_label("Одноразовый код").fill(slip.code)
    phone.get_by_label("Дата рождения").fill(NEWCOMER["birth_date"])
    phone.get_by_label("Новый пароль").fill(MEMBER_PASSWORD)
    phone.get_by_label("Пароль ещё раз").fill(MEMBER_PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Задать пароль и войти").click()
    expect(phone.get_by_text("Пароль установлен. Добро пожаловать в личный кабинет!")).to_be_visible()
    expect(phone.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    expect(phone.get_by_test_id("balance-pending")).to_have_text("0,00 ₽")

    with phone.expect_navigation():
        phone.get_by_role("link", name="Мой профсоюзный билет").click()
    expect(phone.get_by_test_id("card-number")).to_have_text(number)
    expect(phone.locator(".union-card-name")).to_contain_text("Кузьмина")
    expect(phone.locator(".union-card-qr svg")).to_be_visible()
    expect(phone.get_by_test_id("card-barcode").locator("svg")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "journey-4-member-card")
    return phone.get_by_test_id("card-number").inner_text()


def cashier_checks_the_card_and_records_a_purchase(till, number: str, log_in, screenshot) -> None:
    log_in(till, "cashier", TEST_PASSWORD)
    expect(till.get_by_role("heading", level=1)).to_have_text("Касса")
    till.get_by_label("Номер билета").fill(number)
    with till.expect_navigation():
        till.get_by_role("button", name="Проверить").click()
    expect(till.get_by_test_id("verdict")).to_have_text("Билет действует")
    expect(till.get_by_test_id("holder")).to_have_text("Дарья К.")
    assert "Кузьмина" not in till.content()  # the till learns the first name and an initial, nothing more

    purchase = till.locator("form", has=till.get_by_role("button", name="Оформить покупку"))
    purchase.get_by_label("Сумма покупки, ₽").fill(PURCHASE)
    purchase.get_by_label("Номер чека").fill("А-2048")
    with till.expect_navigation():
        purchase.get_by_role("button", name="Оформить покупку").click()
    expect(till.get_by_test_id("recorded")).to_contain_text("Покупка оформлена")
    expect(till.get_by_test_id("recorded")).to_contain_text(f"Чек № А-2048 · {PURCHASE} ₽")
    expect(till.get_by_test_id("recorded-cashback")).to_have_text(f"Кешбэк покупателю: {CASHBACK} ₽")
    screenshot(till, "journey-5-cashier")


def member_signs_in_and_sees_the_cashback(phone, slip: Slip, log_in, screenshot, partner: Partner) -> None:
    log_in(phone, slip.username, MEMBER_PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    expect(phone.get_by_test_id("balance-pending")).to_have_text(f"{CASHBACK} ₽")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Мой кешбэк").first.click()
    expect(phone.get_by_test_id("balance-pending")).to_have_text(f"{CASHBACK} ₽")
    history = phone.get_by_test_id("cashback-history")
    expect(history).to_contain_text(partner.name)
    expect(history).to_contain_text(f"{CASHBACK} ₽")
    expect(history).to_contain_text("ожидает до")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "journey-6-member-cashback")


def test_a_new_member_from_admission_to_cashback(
    open_page, log_in, screenshot, union, users, bookshop, members_already_on_the_register, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    slip = chair_admits_records_consents_and_orders_a_card(
        open_page(), log_in, screenshot, signed_form_scan(tmp_path / "soglasie.png")
    )
    number = region_approves_forms_a_batch_and_downloads_the_package(open_page(), log_in, screenshot)
    central_office_runs_the_rollup_and_finds_her_in_the_figures(open_page(), log_in, screenshot, union)
    shown_number = member_activates_the_cabinet_and_opens_the_card(open_page(PHONE), slip, number, screenshot)
    cashier_checks_the_card_and_records_a_purchase(open_page(PHONE), shown_number, log_in, screenshot)
    member_signs_in_and_sees_the_cashback(open_page(PHONE), slip, log_in, screenshot, bookshop)
