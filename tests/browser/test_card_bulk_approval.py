"""Regional staff approve many plastic-card requests at once: tick or filter, confirm the count, read the refusals."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import User
from cards.models import Card, CardRequest
from cards.services import card_request_create
from membership.models import Member
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = [
    ("Андреева", "Ольга", "Сергеевна"), ("Белов", "Игорь", "Павлович"), ("Воронцова", "Елена", "Викторовна"),
    ("Гусев", "Артём", "Олегович"), ("Данилова", "Ксения", "Андреевна"), ("Ершов", "Максим", "Ильич"),
    ("Жукова", "Надежда", "Петровна"), ("Зайцев", "Роман", "Николаевич"), ("Ильина", "Татьяна", "Юрьевна"),
    ("Карпов", "Денис", "Алексеевич"), ("Лебедева", "Марина", "Олеговна"), ("Морозов", "Павел", "Сергеевич"),
]  # fmt: skip


@pytest.fixture
def queue(union, users):
    """Twelve requests of region A in three organisations, made over the last weeks; two members can get no card."""
    User.objects.filter(pk=users.regional.pk).update(last_name="Кузнецов", first_name="Андрей")  # who asked: shown
    orgs = [union.primary_a1a, union.primary_a1b, union.university_a]
    requests = []
    for number, (last, first, middle) in enumerate(NAMES):
        member = MemberFactory(organization=orgs[number % 3], last_name=last, first_name=first, middle_name=middle, search_name=f"{last} {first} {middle}".lower(), card_consents=True)  # fmt: skip
        requests.append(card_request_create(member=member, by=users.regional))
        made = timezone.now() - datetime.timedelta(days=20 - number, hours=number)
        CardRequest.objects.filter(pk=requests[-1].pk).update(requested_at=made)
    Member.objects.filter(pk=requests[1].member_id).update(
        status="left", left_on=datetime.date(2025, 9, 1), leaving_reason="voluntary"
    )
    Member.objects.filter(pk=requests[5].member_id).update(processing_blocked_on=datetime.date(2025, 10, 2))
    return requests


def test_region_ticks_or_filters_confirms_and_reads_the_refusals(page, users, queue, log_in, screenshot):
    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto("/cards/requests/")
    approve_ticked = page.get_by_role("button", name="Одобрить отмеченные")
    assert approve_ticked.is_disabled()  # nothing ticked yet
    for name in ("Андреева Ольга Сергеевна", "Воронцова Елена Викторовна", "Гусев Артём Олегович"):
        page.get_by_role("checkbox", name=name).check()
    assert page.locator("[data-bulk-count]").inner_text() == "3" and approve_ticked.is_enabled()
    screenshot(page, "cards-bulk-approval")

    page.get_by_role("checkbox", name="Отметить все на странице").check()
    assert page.locator("[data-bulk-count]").inner_text() == "12"
    page.get_by_role("checkbox", name="Отметить все на странице").uncheck()

    page.get_by_label("Организация").select_option(label="\u00a0\u00a0ППО школы № 1 · 4")
    with page.expect_navigation():
        page.get_by_role("button", name="Показать").click()
    assert page.locator('input[name="ids"]').count() == 4
    with page.expect_navigation():
        page.get_by_role("button", name="Одобрить все по фильтру (4)").click()
    assert page.get_by_test_id("preview-count").inner_text() == "4"
    assert not CardRequest.objects.filter(status="approved").exists()  # the confirmation changes nothing

    page.goto("/cards/requests/")
    with page.expect_navigation():
        page.get_by_role("button", name="Одобрить все по фильтру (12)").click()
    screenshot(page, "cards-bulk-approval-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Одобрить и выдать номера (12)").click()
    assert page.get_by_test_id("approved-count").inner_text() == "10"
    refusals = page.get_by_test_id("refusals").inner_text()
    assert "Белов Игорь Павлович" in refusals and "Ершов Максим Ильич" in refusals
    assert "отозвал согласие" in refusals and "только действующему члену" in refusals
    screenshot(page, "cards-bulk-approval-result")

    serials = sorted(int(number[2:15]) for number in Card.objects.values_list("number", flat=True))
    assert serials == list(range(1, 11))
