"""The member's virtual card on a phone, and the page a partner sees after scanning it."""

import pytest

from cards.services import card_issue, card_verification_token
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = pytest.mark.browser


def test_member_shows_the_virtual_card_on_a_phone(phone_page, users, union, log_in, screenshot):
    member = MemberFactory(organization=union.primary_a1a, user=users.member, last_name="Алексеева", first_name="Анна", middle_name="Александровна", search_name="алексеева анна александровна", card_consents=True)  # fmt: skip
    card = card_issue(member=member, by=users.chair)

    log_in(phone_page, users.member.username, TEST_PASSWORD)
    phone_page.goto("/cards/my/")
    assert phone_page.get_by_test_id("card-number").inner_text() == card.grouped_number
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    screenshot(phone_page, "card-phone")

    phone_page.goto(f"/cards/v/{card_verification_token(card)}/")
    assert phone_page.get_by_test_id("verdict").inner_text() == "Билет действителен"
    assert "Анна А." in phone_page.content() and "Алексеева" not in phone_page.content()


def test_region_forms_a_batch_and_gets_the_vendor_package(page, users, union, log_in, screenshot, settings, tmp_path):
    import io
    import zipfile

    import pypdfium2

    from cards.services import card_request_approve, card_request_create

    settings.MEDIA_ROOT = tmp_path
    for number in range(12):
        member = MemberFactory(organization=union.primary_a1a, last_name=f"Пакетова{number}", first_name="Вера", middle_name="Ильинична", search_name=f"пакетова{number} вера ильинична", card_consents=True)  # fmt: skip
        card_request_approve(request=card_request_create(member=member, by=users.chair), by=users.regional)

    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto("/cards/requests/?status=approved")
    screenshot(page, "card-requests")
    with page.expect_navigation():
        page.get_by_role("button", name="Сформировать партию из одобренных").first.click()
    page.wait_for_selector("text=Пакет для изготовителя (ZIP)")
    screenshot(page, "card-batch")

    with page.expect_download() as download:
        page.get_by_role("link", name="Пакет для изготовителя (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        pdf = archive.read("cards-0001.pdf")
    document = pypdfium2.PdfDocument(pdf)
    try:
        sheet = document[12].render(scale=110 / 72).to_pil()  # the first A4 sheet, after twelve proofs
    finally:
        document.close()
    image = io.BytesIO()
    sheet.save(image, format="PNG")
    screenshot.save_bytes("card-sheet", image.getvalue())
