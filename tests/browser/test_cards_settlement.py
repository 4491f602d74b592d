"""The cards' settlement as its users see it: the region's statement, central office's balance of every region, a ППО's
own statement; the screenshots cards-settlement-*.png."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from cards.models import CardBatch, CardCharge, CardLedgerEntry
from cards.services import card_batch_form, card_request_approve, card_request_create
from cards.settlement_services import (
    batch_charges_post,
    cost_recovery_set,
    price_list_create,
    primary_payment_record,
    region_payment_record,
    vendor_invoice_save,
)
from registry.models import Organization
from tests.factories import TEST_PASSWORD, MemberFactory, RegionFactory, org_create

pytestmark = pytest.mark.browser
Level = Organization.Level


def _approved(org, count: int, decider) -> None:
    for number in range(count):
        member = MemberFactory(organization=org, last_name=f"Пластикова{org.pk}-{number}", card_consents=True)
        card_request_approve(request=card_request_create(member=member, by=decider), by=decider)


def _formed(by, *, days_ago: int) -> CardBatch:
    """A batch formed `days_ago` days ago, while there was no price list yet: it is charged afterwards."""
    batch = card_batch_form(by=by)
    moment = timezone.now() - datetime.timedelta(days=days_ago)
    CardBatch.objects.filter(pk=batch.pk).update(created_at=moment)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def year_of_batches(union, users):
    """Four regions, three batches over the year at two prices, payments on both ledgers."""
    today = timezone.localdate()
    for user, (last_name, first_name) in ((users.central, ("Смирнова", "Ирина")), (users.regional, ("Кузнецов", "Андрей")),
                                          (users.chair, ("Алексеева", "Анна"))):  # fmt: skip
        User.objects.filter(pk=user.pk).update(last_name=last_name, first_name=first_name)
    central = users.central
    gymnasium = org_create(parent=union.local_a1, level=Level.PRIMARY, name="ППО гимназии № 15")
    lyceum = org_create(parent=union.local_a1, level=Level.PRIMARY, name="ППО лицея № 2")
    others = []
    for code, name, district in (
        ("50", "Московская областная организация", "Подольская районная организация"),
        ("66", "Свердловская областная организация", "Кировская районная организация"),
    ):
        region = org_create(
            parent=union.central, level=Level.REGIONAL, name=name, region=RegionFactory(code=code, name=name)
        )
        local = org_create(parent=region, level=Level.LOCAL, name=district)
        others.append([org_create(parent=local, level=Level.PRIMARY, name=f"ППО школы № {n}") for n in (3, 41)])

    for org, count in ((union.primary_a1a, 14), (union.primary_a1b, 9), (union.university_a, 22), (gymnasium, 11),
                       (lyceum, 7)):  # fmt: skip
        _approved(org, count, users.regional)
    first = _formed(users.regional, days_ago=290)
    _approved(union.primary_b1a, 40, users.other_regional)
    for primaries, counts in zip(others, ((70, 50), (45, 30)), strict=True):
        for org, count in zip(primaries, counts, strict=True):
            _approved(org, count, central)
    for org, count in ((union.primary_a1a, 12), (union.university_a, 18)):
        _approved(org, count, users.regional)
    second = _formed(central, days_ago=255)
    for org, count in ((union.primary_a1b, 16), (gymnasium, 20), (lyceum, 12)):
        _approved(org, count, users.regional)
    third = _formed(users.regional, days_ago=190)

    price_list_create(valid_from=today - datetime.timedelta(days=700), tiers=[(1, 18500), (100, 15240), (500, 12990)],
                      by=central, vendor="АО «Гознак»", note="Договор № 14-К/2025")  # fmt: skip
    price_list_create(valid_from=today - datetime.timedelta(days=230), tiers=[(1, 19800), (100, 16350), (500, 13900)],
                      by=central, vendor="АО «Гознак»", note="Дополнительное соглашение № 2")  # fmt: skip
    price_list_create(valid_from=today + datetime.timedelta(days=30), tiers=[(1, 21000), (100, 17500), (500, 14900)],
                      by=central, vendor="АО «Гознак»", note="Дополнительное соглашение № 3")  # fmt: skip
    cost_recovery_set(region=union.region_a, from_primaries=True, by=users.regional)
    for batch in (first, second, third):
        batch_charges_post(batch=batch, by=central)
    # As if each had been charged and passed on the day it was formed.
    for charge in CardCharge.objects.select_related("batch"):
        CardCharge.objects.filter(pk=charge.pk).update(passed_on_at=charge.batch.created_at)

    def paid(days_ago: int) -> datetime.date:
        return today - datetime.timedelta(days=days_ago)

    region_payment_record(region=union.region_a, amount=1_165_500, paid_on=paid(270), document="318", by=central)
    region_payment_record(region=union.region_a, amount=300_000, paid_on=paid(120), document="1102", by=central,
                          note="Частичная оплата за партию № 2")  # fmt: skip
    region_payment_record(region=union.region_b, amount=609_600, paid_on=paid(200), document="77", by=central)
    region_payment_record(region=others[0][0].parent.parent, amount=1_000_000, paid_on=paid(150), document="2045",
                          by=central)  # fmt: skip
    primary_payment_record(primary=union.primary_a1a, amount=259_000, paid_on=paid(260), document="12",
                           by=users.regional)  # fmt: skip
    primary_payment_record(primary=union.university_a, amount=200_000, paid_on=paid(240), document="331",
                           by=users.regional)  # fmt: skip
    pdf = SimpleUploadedFile("schet.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    vendor_invoice_save(batch=first, number="ГЗ-0211", issued_on=paid(285), amount=1_165_500, upload=pdf, by=central)
    vendor_invoice_save(batch=second, number="ГЗ-0348", issued_on=paid(250), amount=4_050_000, by=central)
    return {"first": first, "second": second, "third": third}


def test_region_statement_and_central_balance(page, open_page, users, union, year_of_batches, log_in, screenshot):
    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto("/cards/settlement/")
    closing = sum(
        CardLedgerEntry.objects.filter(ledger="region", account=union.region_a).values_list("amount", flat=True)
    )
    assert page.get_by_test_id("closing").inner_text().replace("\u202f", " ") == _roubles(closing)
    assert page.get_by_test_id("statement").locator("tbody tr").count() == 1 + 3 + 2
    assert "Санкт-Петербургская" not in page.content()
    screenshot(page, "cards-settlement-region")

    central = open_page()
    log_in(central, users.central.username, TEST_PASSWORD)
    central.goto("/cards/settlement/")
    assert central.get_by_test_id("balances").locator("tbody tr").count() == 4
    assert central.evaluate("document.documentElement.scrollWidth") <= 1280  # the whole menu fits the laptop
    screenshot(central, "cards-settlement-balance")
    central.get_by_role("link", name="Прейскурант").click()
    assert central.get_by_test_id("price-list").count() == 3
    screenshot(central, "cards-settlement-prices")
    central.get_by_role("link", name="Партии и счета изготовителя").click()
    assert central.get_by_test_id("batches").locator("tbody tr").count() == 3
    screenshot(central, "cards-settlement-batches")

    chair = open_page()
    log_in(chair, users.chair.username, TEST_PASSWORD)
    chair.get_by_role("button", name="Билеты").click()
    with chair.expect_navigation():
        chair.get_by_role("link", name="Расчёты за билеты").click()
    assert "ППО школы № 1" in chair.content() and "ППО университета" not in chair.content()
    screenshot(chair, "cards-settlement-primary")


def _roubles(kopecks: int) -> str:
    roubles, rest = divmod(kopecks, 100)
    return f"{roubles:,}".replace(",", " ") + f",{rest:02d}"
