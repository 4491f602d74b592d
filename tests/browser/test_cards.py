"""The member's virtual card on a phone, and the page a partner sees after scanning it."""

import pytest

from cards.services import card_issue, card_verification_token
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = pytest.mark.browser


def test_member_shows_the_virtual_card_on_a_phone(phone_page, users, union, log_in, screenshot):
    member = MemberFactory(
        organization=union.primary_a1a, user=users.member, last_name="Алексеева", first_name="Анна",
        middle_name="Александровна", search_name="алексеева анна александровна",
    )  # fmt: skip
    card = card_issue(member=member, by=users.chair)

    log_in(phone_page, users.member.username, TEST_PASSWORD)
    phone_page.goto("/cards/my/")
    assert phone_page.get_by_test_id("card-number").inner_text() == card.grouped_number
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    screenshot(phone_page, "card-phone")

    phone_page.goto(f"/cards/v/{card_verification_token(card)}/")
    assert phone_page.get_by_test_id("verdict").inner_text() == "Билет действителен"
    assert "Анна А." in phone_page.content() and "Алексеева" not in phone_page.content()
