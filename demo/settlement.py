"""The cards' cost in the demo: the vendor's price list, a year of union-wide batches charged to the regions, payments.

Central office gathered the plastic cards of the whole union into one batch a quarter in 2025 (the requests that
the demo had already moved past approval); the last one, of the cards still in production, is not yet delivered.
Each batch is charged by cards.settlement_services.batch_charges_post, as in the product, at the price list in force
on its day: the price rose on 1 July 2025. Moscow recovers the cost from its primary organisations, so its ППО have
their own statements. The regions paid for most batches, some in part and some not yet for the last one; most of
Moscow's ППО paid the region. The vendor's invoices are entered for the delivered batches.

Payments are written in bulk with their ledger entries, as the payment services would post them; the draws come
from a generator seeded from the seed, and every date is counted from the batches' own dates.
"""

import datetime
import random
import zoneinfo

from django.db.models import Max

from accounts.models import User
from cards.models import (
    CardBatch,
    CardCharge,
    CardChargeLine,
    CardCostRecovery,
    CardLedgerEntry,
    CardPayment,
    CardPriceList,
    CardPriceTier,
    CardRequest,
    CardVendorInvoice,
    SettlementLedger,
)
from cards.settlement_services import batch_charges_write
from demo.plan import MOSCOW_CODE, UnionPlan
from demo.report import DemoSeedReport, Say, grouped
from registry.models import Organization

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
VENDOR = "АО «Гознак»"
PRICE_LISTS = (
    (datetime.date(2024, 1, 1), "Договор № 17-ПБ/2024", ((1, 21000), (100, 18500), (1000, 16250), (10000, 14800))),
    (datetime.date(2025, 7, 1), "Дополнительное соглашение № 3", ((1, 22500), (100, 19800), (1000, 17400),
                                                                   (10000, 15800))),
)  # fmt: skip
QUARTERS = (
    (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
    (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30)),
    (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)),
)
Request = CardRequest.Status
DELIVERED = (Request.DELIVERED, Request.ISSUED)
# Regions that paid only part of a charge, and the primary organisations that paid their region.
SHARE_PART_PAID = 0.15
SHARE_PRIMARY_PAID = 0.75


def _moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(11, 0), tzinfo=MOSCOW)


def _batches_form(*, central: User) -> list[CardBatch]:
    """One union-wide batch a quarter of the requests delivered since, and one of those still in production; each
    formed two days after the last of its requests was approved."""
    batches = []
    groups = [(start, end, DELIVERED, CardBatch.Status.DELIVERED) for start, end in QUARTERS]
    groups.append((QUARTERS[0][0], QUARTERS[-1][1], (Request.PRODUCED,), CardBatch.Status.PRODUCED))
    for start, end, statuses, batch_status in groups:
        requests = CardRequest.objects.filter(
            batch=None, status__in=statuses, decided_at__gte=_moment(start) - datetime.timedelta(hours=11),
            decided_at__lt=_moment(end + datetime.timedelta(days=1)) - datetime.timedelta(hours=11),
        )  # fmt: skip
        last_decided = requests.aggregate(last=Max("decided_at"))["last"]
        if last_decided is None:
            continue
        formed = _moment(last_decided.astimezone(MOSCOW).date() + datetime.timedelta(days=2))
        batch = CardBatch.objects.create(organization=central.organization, created_by=central, status=batch_status)
        count = requests.update(batch=batch)
        CardBatch.objects.filter(pk=batch.pk).update(created_at=formed, status_changed_at=formed, card_count=count)
        batch.refresh_from_db()
        batches.append(batch)
    return batches


def _payments_write(rows: list[tuple[str, int, int, int, datetime.date, str, str]], *, by: User) -> int:
    """(ledger, payer id, region id, kopecks, day, document, note) → payments and their ledger entries."""
    payments = CardPayment.objects.bulk_create(
        CardPayment(ledger=ledger, payer_id=payer, region_id=region, amount=amount, paid_on=day, document=document,
                    note=note, recorded_by=by)
        for ledger, payer, region, amount, day, document, note in rows
    )  # fmt: skip
    CardLedgerEntry.objects.bulk_create(
        CardLedgerEntry(ledger=payment.ledger, account_id=payment.payer_id, region_id=payment.region_id,
                        kind=CardLedgerEntry.Kind.PAYMENT, amount=-payment.amount, occurred_on=payment.paid_on,
                        payment=payment, created_by=by)
        for payment in payments
    )  # fmt: skip
    return len(payments)


def settlement_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "settlement": price lists, quarterly batches and their charges, payments and the vendor's invoices."""
    central = User.objects.filter(username="central").select_related("organization").first()
    regional = User.objects.filter(username="regional").select_related("organization").first()
    if central is None or central.organization is None:
        return
    rng = random.Random(f"eseur-demo-settlement:{plan.seed}")
    for valid_from, note, tiers in PRICE_LISTS:
        price_list = CardPriceList.objects.create(valid_from=valid_from, vendor=VENDOR, note=note, created_by=central)
        CardPriceTier.objects.bulk_create(
            CardPriceTier(price_list=price_list, min_cards=min_cards, unit_price=price) for min_cards, price in tiers
        )
    moscow = Organization.objects.filter(depth=2, region__code=MOSCOW_CODE).first()
    if moscow is not None and regional is not None and regional.organization_id == moscow.pk:
        CardCostRecovery.objects.create(region=moscow, from_primaries=True, changed_by=regional)

    batches = _batches_form(central=central)
    # The charges as the product writes them when a batch is formed (only the access log's line is left out:
    # nobody did this today).
    charges = [charge for batch in batches for charge in batch_charges_write(batch=batch, by=central)]
    for charge in charges:  # passed on to the ППО the day the batch was formed, not the day of seeding
        if charge.passed_on_at is not None:
            charge.passed_on_at = _moment(charge.charged_on)
            CardCharge.objects.filter(pk=charge.pk).update(passed_on_at=charge.passed_on_at)

    last_batch = batches[-1].pk if batches else None
    region_rows, primary_rows = [], []
    for charge in sorted(charges, key=lambda charge: (charge.charged_on, charge.region_id)):
        if charge.batch_id == last_batch and rng.random() < 0.6:
            continue  # not paid yet
        amount = charge.amount if rng.random() >= SHARE_PART_PAID else charge.amount // 2
        day = charge.charged_on + datetime.timedelta(days=rng.randint(12, 45))
        region_rows.append((SettlementLedger.REGION, charge.region_id, charge.region_id, amount, day,
                            f"{rng.randint(100, 9999)}", ""))  # fmt: skip
    moscow_lines = CardChargeLine.objects.filter(charge__in=[c for c in charges if c.passed_on_at]).select_related(
        "charge"
    )
    for line in moscow_lines.order_by("charge__charged_on", "organization_id"):
        if line.charge.batch_id == last_batch or rng.random() >= SHARE_PRIMARY_PAID:
            continue
        day = line.charge.charged_on + datetime.timedelta(days=rng.randint(10, 40))
        primary_rows.append((SettlementLedger.PRIMARY, line.organization_id, line.charge.region_id, line.amount, day,
                             f"{rng.randint(1, 999)}", ""))  # fmt: skip
    payments = _payments_write(region_rows, by=central)
    if regional is not None:
        payments += _payments_write(primary_rows, by=regional)

    charged = {batch.pk: sum(c.amount for c in charges if c.batch_id == batch.pk) for batch in batches}
    CardVendorInvoice.objects.bulk_create(
        CardVendorInvoice(batch=batch, number=f"ГЗ-{batch.created_at:%y}{index:03d}", amount=charged[batch.pk],
                          issued_on=batch.created_at.astimezone(MOSCOW).date() + datetime.timedelta(days=3),
                          recorded_by=central)
        for index, batch in enumerate(batches, start=1)
        if batch.status == CardBatch.Status.DELIVERED and charged[batch.pk]
    )  # fmt: skip
    cards = sum(batch.card_count for batch in batches)
    say(f"Партий пластиковых билетов: {len(batches)} ({grouped(cards)} билетов), начислений регионам: "
        f"{len(charges)}, оплат: {grouped(payments)}.")  # fmt: skip
