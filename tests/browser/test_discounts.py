"""The discount programme on a phone: the cashier checks a card and records a purchase, the member sees the pending
cashback, the catalogue and a partner's page; and the camera scanner reads the virtual card's QR code and the plastic
card's barcode through the vendored ZXing decoder (Chromium's fake camera shows a picture of each)."""

import datetime

import barcode
import pytest
import qrcode
from barcode.writer import ImageWriter
from PIL import Image

from cards.services import card_verification_token
from discounts.models import Partner
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.discounts.conftest import partner_create
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue(programme, union) -> None:
    """The fixture's partners with their terms, and a few more of region A, so the catalogue looks like one."""
    Partner.objects.filter(pk=programme.partner_a.pk).update(
        description="Книжный магазин для учителей и их семей: методическая литература, детские книги, канцтовары.",
        terms="Кешбэк 5 % на всё, кроме подарочных карт.\nПокажите электронный профсоюзный билет до оплаты.",
        promo_code="PROFAZBUKA", online_url="https://azbuka.example.ru/", hold_days=14,
    )  # fmt: skip
    region_a = [union.region_a.region]
    partner_create(name="Фитнес-клуб «Олимп»", regions=region_a, discount_bp=1500, category=Partner.Category.SPORT)
    partner_create(name="Стоматология «Улыбка»", regions=region_a, discount_bp=1000, cashback_bp=200,
                   category=Partner.Category.HEALTH)  # fmt: skip
    partner_create(name="Театр юного зрителя", regions=region_a, discount_bp=2000, category=Partner.Category.CULTURE)
    partner_create(name="Интернет-магазин «Школьник»", union_wide=True, cashback_bp=750, promo_code="UCHITEL",
                   category=Partner.Category.ONLINE, active_until=datetime.date.today() + datetime.timedelta(days=90))  # fmt: skip


def test_cashier_checks_a_typed_number_records_a_purchase_and_the_member_sees_the_cashback(
    open_page, users, programme, catalogue, log_in, screenshot
):
    till = open_page(PHONE)
    log_in(till, users.cashier.username, TEST_PASSWORD)
    assert till.url.endswith("/discounts/cashier/")  # the cashier's home

    till.get_by_label("Номер билета").fill(programme.card_a.grouped_number)
    with till.expect_navigation():
        till.get_by_role("button", name="Проверить").click()
    assert till.get_by_test_id("verdict").inner_text() == "Билет действует"
    assert till.get_by_test_id("holder").inner_text() == "Ольга С."
    assert "Смирнова" not in till.content()
    assert programme.card_a.number not in till.url
    screenshot(till, "discounts-cashier-check")

    till.locator("#purchase-amount").fill("1 234,50")
    till.locator("#purchase-receipt").fill("Ч-1001")
    with till.expect_navigation():
        till.get_by_role("button", name="Оформить покупку").click()
    assert "Покупка оформлена" in till.get_by_test_id("recorded").inner_text()
    assert till.get_by_test_id("recorded-cashback").inner_text() == "Кешбэк покупателю: 61,73 ₽"
    assert "№ Ч-1001" in till.get_by_test_id("today").inner_text()
    assert till.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(till, "discounts-cashier")

    phone = open_page(PHONE)
    log_in(phone, users.member.username, TEST_PASSWORD)
    assert phone.get_by_test_id("balance-pending").first.inner_text() == "61,73 ₽"  # the cabinet's panel
    screenshot(phone, "discounts-cabinet")
    phone.goto("/discounts/cashback/")
    assert phone.get_by_test_id("balance-pending").inner_text() == "61,73 ₽"
    assert "ожидает до" in phone.get_by_test_id("cashback-history").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "discounts-cashback")

    phone.goto("/discounts/catalogue/")
    shown = phone.get_by_test_id("catalogue").inner_text()
    assert programme.partner_a.name in shown and programme.partner_union.name in shown
    assert programme.partner_b.name not in shown  # the other region's
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "discounts-catalogue")

    with phone.expect_navigation():
        phone.get_by_role("link", name=programme.partner_a.name).click()
    assert phone.locator("#promo-code").input_value() == "PROFAZBUKA"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "discounts-partner")


def test_catalogue_search_and_chips_on_a_phone(open_page, users, programme, catalogue, log_in):
    phone = open_page(PHONE)
    log_in(phone, users.member.username, TEST_PASSWORD)
    phone.goto("/discounts/catalogue/")

    with phone.expect_navigation():
        phone.get_by_role("link", name="Спорт").click()
    assert phone.get_by_test_id("catalogue").inner_text().count("Фитнес-клуб «Олимп»") == 1
    assert programme.partner_a.name not in phone.get_by_test_id("catalogue").inner_text()

    phone.get_by_label("Поиск по названию").fill("театр")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Найти").click()
    assert "Ничего не нашлось" in phone.get_by_test_id("catalogue").inner_text()  # still in "Спорт"
    with phone.expect_navigation():
        phone.get_by_role("link", name="Все", exact=True).click()
    assert "Театр юного зрителя" in phone.get_by_test_id("catalogue").inner_text()


# --- the camera -----------------------------------------------------------------------------------------------------


def _y4m_still(picture: Image.Image, path) -> None:
    """One 640×480 frame in the YUV4MPEG2 format Chromium's fake camera plays (in a loop)."""
    frame = Image.new("RGB", (640, 480), "white")
    picture = picture.convert("RGB")
    scale = min(560 / picture.width, 400 / picture.height)
    picture = picture.resize((int(picture.width * scale), int(picture.height * scale)), Image.Resampling.NEAREST)
    frame.paste(picture, ((640 - picture.width) // 2, (480 - picture.height) // 2))
    luma, blue, red = frame.convert("YCbCr").split()
    chroma = [plane.resize((320, 240)).tobytes() for plane in (blue, red)]
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\nFRAME\n" + luma.tobytes() + b"".join(chroma))


@pytest.fixture
def camera_browser(browser, tmp_path):
    """camera_browser(picture) -> a Chromium whose camera shows `picture`, with the camera permission granted."""
    launched = []

    def launch(picture: Image.Image):
        video = tmp_path / "camera.y4m"
        _y4m_still(picture, video)
        camera_args = [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
        chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + camera_args)
        launched.append(chromium)
        return chromium

    yield launch
    for chromium in launched:
        chromium.close()


def _qr_picture(text: str) -> Image.Image:
    return qrcode.make(text, border=4).get_image()


def _barcode_picture(number: str) -> Image.Image:
    return barcode.get("code128", number, writer=ImageWriter()).render({"module_width": 0.4, "write_text": False})


@pytest.mark.parametrize("code", ["qr", "barcode"])
def test_camera_reads_the_virtual_cards_qr_and_the_plastic_cards_barcode(
    camera_browser, live_server, users, programme, log_in, code
):
    card = programme.card_a
    if code == "qr":
        picture = _qr_picture(f"{live_server.url}/cards/v/{card_verification_token(card)}/")
    else:
        picture = _barcode_picture(card.number)
    chromium = camera_browser(picture)
    context = chromium.new_context(
        base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow", viewport=PHONE
    )
    context.set_default_timeout(15_000)
    till = context.new_page()
    log_in(till, users.cashier.username, TEST_PASSWORD)

    with till.expect_navigation():
        till.get_by_role("button", name="Сканировать камерой").click()  # reads, fills the field and sends the check

    assert till.get_by_test_id("verdict").inner_text() == "Билет действует"
    assert till.get_by_test_id("holder").inner_text() == "Ольга С."
    assert card.number not in till.url
    context.close()
