"""The demo's cards' cost: quarterly batches charged to the regions at the price of their day, payments, statements."""

import datetime

import pytest
from django.db.models import Sum
from django.urls import reverse

from cards.models import (
    CardBatch,
    CardCharge,
    CardChargeLine,
    CardLedgerEntry,
    CardPayment,
    CardRequest,
    CardVendorInvoice,
    SettlementLedger,
)
from demo.seed import demo_seed
from tests.demo.union import union_wipe

pytestmark = pytest.mark.django_db
MEMBERS = 3000


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return demo_seed(members=MEMBERS, seed=5)


def test_batches_are_charged_to_every_region_at_the_price_of_their_day(seeded):
    batches = list(CardBatch.objects.order_by("created_at"))
    assert len(batches) >= 4
    for batch in batches:
        assert batch.card_count == batch.requests.count() > 0
        assert sum(batch.charges.values_list("cards", flat=True)) == batch.card_count
    for charge in CardCharge.objects.select_related("price_list"):
        assert charge.amount == charge.cards * charge.unit_price
        assert charge.price_list.valid_from == (
            datetime.date(2025, 7, 1) if charge.charged_on >= datetime.date(2025, 7, 1) else datetime.date(2024, 1, 1)
        )
        assert charge.lines.aggregate(total=Sum("amount"))["total"] == charge.amount
    assert CardCharge.objects.values("region").distinct().count() >= 20
    # Only requests past production are in batches; approved ones wait for the region to form the next.
    assert not CardRequest.objects.filter(batch__isnull=False, status=CardRequest.Status.APPROVED).exists()
    assert CardVendorInvoice.objects.count() >= 3


def test_every_balance_is_the_sum_of_its_ledger(seeded):
    for ledger in (SettlementLedger.REGION, SettlementLedger.PRIMARY):
        charged = CardLedgerEntry.objects.filter(ledger=ledger, kind="charge").aggregate(total=Sum("amount"))["total"]
        paid = CardPayment.objects.filter(ledger=ledger).aggregate(total=Sum("amount"))["total"]
        entries = CardLedgerEntry.objects.filter(ledger=ledger).aggregate(total=Sum("amount"))["total"]
        assert charged > 0 and paid > 0 and entries == charged - paid
    region_charged = CardCharge.objects.aggregate(total=Sum("amount"))["total"]
    assert (
        CardLedgerEntry.objects.filter(ledger="region", kind="charge").aggregate(total=Sum("amount"))["total"]
        == region_charged
    )
    # Moscow recovers the cost: its ППО were charged exactly their lines.
    passed_on = CardChargeLine.objects.filter(charge__passed_on_at__isnull=False).aggregate(total=Sum("amount"))
    assert (
        CardLedgerEntry.objects.filter(ledger="primary", kind="charge").aggregate(total=Sum("amount"))["total"]
        == passed_on["total"]
    )
    assert not CardCharge.objects.filter(passed_on_at__isnull=False).exclude(region__region__code="77").exists()


def test_the_demo_users_see_the_pages_populated(seeded, client):
    client.force_login(_user("central"))
    html = client.get(reverse("cards:settlement_balance")).content.decode()
    assert "Московская городская" in html or "Москва" in html
    client.force_login(_user("regional"))
    response = client.get(reverse("cards:settlement_home"), follow=True)
    assert len(response.context["statement"].rows) >= 4 and response.context["primaries"]
    client.force_login(_user("chair"))
    response = client.get(reverse("cards:settlement_home"), follow=True)
    assert response.status_code == 200 and response.context["statement"].rows


def test_the_same_seed_gives_the_same_settlement(seeded):
    def digest():
        return sorted(CardLedgerEntry.objects.values_list("ledger", "account__path", "kind", "amount", "occurred_on"))

    first = digest()
    union_wipe()
    demo_seed(members=MEMBERS, seed=5)
    assert digest() == first


def _user(username):
    from accounts.models import User

    return User.objects.get(username=username)
