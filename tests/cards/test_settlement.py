"""The cards' cost: a batch's charge to its region at the price in force, the ledger, statements and payments.

Prices of the fixture (kopecks): from 1 card 150,00 ₽, from 5 cards 120,50 ₽, from 100 cards 99,99 ₽.
Region A's approved requests: ППО A1a 3 cards (one of them a профгруппа's member), ППО A1b 2, the university 1;
region B's: ППО B1a 2.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AccessLog
from cards import settlement_selectors as selectors
from cards.models import CardBatch, CardCharge, CardLedgerEntry, CardPriceTier, SettlementLedger
from cards.services import card_batch_form, card_request_approve, card_request_create
from cards.settlement_selectors import Period
from cards.settlement_services import (
    SettlementError,
    batch_charges_post,
    charge_pass_on,
    cost_recovery_set,
    payment_cancel,
    price_in_force,
    price_list_create,
    price_list_delete,
    primary_payment_record,
    region_payment_record,
)
from tests.factories import MemberFactory

TIERS = [(1, 15000), (5, 12050), (100, 9999)]
PLACES = {"primary_a1a": 2, "unit_a1a": 1, "primary_a1b": 2, "university_a": 1, "primary_b1a": 2}


@pytest.fixture
def prices(users):
    return price_list_create(valid_from=datetime.date(2020, 1, 1), tiers=TIERS, by=users.central, vendor="Гознак")


def approve_cards(union, users, places=PLACES, *, prefix="Билетова"):
    """Approved plastic-card requests of members in the given organisations (the region's staff approve)."""
    requests = []
    for place, count in places.items():
        org = getattr(union, place)
        decider = users.other_regional if org.is_in_subtree_of(union.region_b) else users.regional
        for number in range(count):
            member = MemberFactory(organization=org, last_name=f"{prefix}{place}{number}", card_consents=True)
            requests.append(card_request_approve(request=card_request_create(member=member, by=users.central),
                                                 by=decider))  # fmt: skip
    return requests


@pytest.fixture
def approved(union, users):
    return approve_cards(union, users)


def ledger_sum(ledger, account) -> int:
    return sum(CardLedgerEntry.objects.filter(ledger=ledger, account=account).values_list("amount", flat=True))


# --- the charge -----------------------------------------------------------------------------------------------------


def test_a_batch_is_charged_cards_times_the_tier_price_in_kopecks(union, users, prices, approved):
    batch = card_batch_form(by=users.regional)

    charge = CardCharge.objects.get(batch=batch)
    assert charge.region == union.region_a
    assert (charge.cards, charge.batch_cards, charge.tier_min_cards) == (6, 6, 5)
    assert charge.unit_price == 12050 and charge.amount == 6 * 12050 == 72300
    assert isinstance(charge.amount, int) and charge.price_list == prices
    assert charge.charged_on == timezone.localdate()
    lines = {line.organization: (line.cards, line.amount) for line in charge.lines.all()}
    # The профгруппа's member is counted for the ППО above it.
    assert lines == {union.primary_a1a: (3, 36150), union.primary_a1b: (2, 24100), union.university_a: (1, 12050)}
    assert sum(amount for _cards, amount in lines.values()) == charge.amount
    entry = CardLedgerEntry.objects.get(ledger=SettlementLedger.REGION, account=union.region_a)
    assert (entry.kind, entry.amount, entry.charge) == ("charge", 72300, charge)
    # Region B's approved requests are not the regional staff of A's to batch, nor to pay for.
    assert not CardLedgerEntry.objects.filter(account=union.region_b).exists()


def test_the_tier_is_chosen_by_the_batch_size(union, users, prices):
    approve_cards(union, users, {"primary_a1a": 4})
    assert CardCharge.objects.get(batch=card_batch_form(by=users.regional)).unit_price == 15000
    assert price_in_force(cards=100, on=datetime.date(2026, 1, 1))[1].unit_price == 9999
    assert price_in_force(cards=99, on=datetime.date(2026, 1, 1))[1].unit_price == 12050
    assert price_in_force(cards=1, on=datetime.date(2019, 12, 31)) is None


def test_central_office_batch_over_regions_charges_each_region_its_own_cards(union, users, prices, approved):
    batch = card_batch_form(by=users.central)

    charges = {charge.region: charge for charge in CardCharge.objects.filter(batch=batch)}
    assert set(charges) == {union.region_a, union.region_b}
    # Eight cards in the batch: every region gets the price of the whole batch's tier.
    assert {region: (c.cards, c.batch_cards, c.amount) for region, c in charges.items()} == {
        union.region_a: (6, 8, 6 * 12050),
        union.region_b: (2, 8, 2 * 12050),
    }
    assert sum(c.cards for c in charges.values()) == batch.card_count


def test_the_charge_is_fixed_at_forming_and_later_prices_do_not_move_it(union, users, prices, approved):
    batch = card_batch_form(by=users.regional)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    price_list_create(valid_from=tomorrow, tiers=[(1, 50000)], by=users.central)
    CardPriceTier.objects.filter(price_list=prices).update(unit_price=1)  # even a tampered old version

    charge = CardCharge.objects.get(batch=batch)
    assert (charge.unit_price, charge.amount) == (12050, 72300)
    assert selectors.account_balance(ledger=SettlementLedger.REGION, account=union.region_a) == 72300
    # A second posting (a retry, a click on "Начислить") finds the charge and adds nothing.
    assert batch_charges_post(batch=batch, by=users.central) == [charge]
    assert CardLedgerEntry.objects.filter(account=union.region_a).count() == 1


def test_a_price_cannot_be_slipped_in_before_a_charge_made_by_an_older_version(users, prices, approved):
    card_batch_form(by=users.regional)
    with pytest.raises(SettlementError, match="задним числом"):
        price_list_create(valid_from=timezone.localdate(), tiers=[(1, 100)], by=users.central)
    with pytest.raises(SettlementError, match="нельзя удалить"):
        price_list_delete(price_list=prices, by=users.central)


def test_a_batch_formed_without_a_price_list_is_charged_later_at_the_price_of_its_day(union, users, approved):
    batch = card_batch_form(by=users.regional)
    assert not batch.charges.exists()
    formed = datetime.datetime(2025, 6, 10, 12, tzinfo=datetime.UTC)
    CardBatch.objects.filter(pk=batch.pk).update(created_at=formed)
    price_list_create(valid_from=datetime.date(2025, 1, 1), tiers=[(1, 20000)], by=users.central)
    price_list_create(valid_from=datetime.date(2025, 7, 1), tiers=[(1, 30000)], by=users.central)

    charge = batch_charges_post(batch=batch, by=users.central)[0]
    assert (charge.charged_on, charge.unit_price, charge.amount) == (datetime.date(2025, 6, 10), 20000, 120000)
    assert selectors.statement(ledger=SettlementLedger.REGION, account=union.region_a, period=Period()).rows[
        0
    ].entry.occurred_on == datetime.date(2025, 6, 10)


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([], "хотя бы одну"),
        ([(5, 100)], "от 1 билета"),
        ([(1, 100), (1, 90)], "одного числа"),
        ([(1, 0)], "больше нуля"),
    ],
)
def test_a_price_list_needs_sensible_tiers(users, tiers, message):
    with pytest.raises(SettlementError, match=message):
        price_list_create(valid_from=datetime.date(2026, 1, 1), tiers=tiers, by=users.central)


def test_the_database_refuses_a_charge_that_is_not_cards_times_price(union, users, prices, approved):
    charge = CardCharge.objects.get(batch=card_batch_form(by=users.regional))
    with pytest.raises(IntegrityError), transaction.atomic():
        CardCharge.objects.filter(pk=charge.pk).update(amount=charge.amount + 1)


# --- statements equal the ledger ------------------------------------------------------------------------------------


def test_region_statement_and_breakdown_sum_to_the_ledger(union, users, prices, approved):
    card_batch_form(by=users.regional)
    approve_cards(union, users, {"primary_a1b": 5}, prefix="Вторая")
    card_batch_form(by=users.regional)
    region_payment_record(region=union.region_a, amount=50000, paid_on=timezone.localdate(), by=users.central,
                          document="17")  # fmt: skip
    wrong = region_payment_record(region=union.region_a, amount=99999, paid_on=timezone.localdate(), by=users.central)
    payment_cancel(payment=wrong, reason="Ошибка в сумме", by=users.central)

    statement = selectors.statement(ledger=SettlementLedger.REGION, account=union.region_a, period=Period())
    assert statement.charged == 72300 + 5 * 12050
    assert statement.paid == 50000  # the cancelled one counts out
    assert statement.closing == ledger_sum(SettlementLedger.REGION, union.region_a) == 72300 + 60250 - 50000
    assert [row.balance for row in statement.rows][-1] == statement.closing
    assert statement.cards == 11

    primaries = selectors.region_primaries(region=union.region_a, period=Period())
    assert sum(row.amount for row in primaries) == statement.charged
    assert sum(row.cards for row in primaries) == statement.cards
    assert {row.org: row.cards for row in primaries} == {
        union.primary_a1a: 3, union.primary_a1b: 7, union.university_a: 1,
    }  # fmt: skip

    balances = {b.region: b for b in selectors.region_balances(period=Period())}
    assert balances[union.region_a].closing == statement.closing and balances[union.region_a].charged == 132550
    assert balances[union.region_b].closing == 0
    assert balances[union.region_a].last_paid_on == timezone.localdate()


def test_a_period_statement_opens_with_the_balance_before_it(union, users, prices, approved):
    batch = card_batch_form(by=users.regional)
    CardLedgerEntry.objects.filter(charge__batch=batch).update(occurred_on=datetime.date(2025, 12, 20))
    region_payment_record(region=union.region_a, amount=30000, paid_on=datetime.date(2026, 1, 15), by=users.central)

    statement = selectors.statement(
        ledger=SettlementLedger.REGION,
        account=union.region_a,
        period=Period(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
    )
    assert statement.opening == 72300 and statement.charged == 0 and statement.paid == 30000
    assert statement.closing == 42300 == ledger_sum(SettlementLedger.REGION, union.region_a)


def test_primary_statements_follow_the_region_recovery_setting(union, users, prices, approved):
    first = CardCharge.objects.get(batch=card_batch_form(by=users.regional))
    assert first.passed_on_at is None
    assert not CardLedgerEntry.objects.filter(ledger=SettlementLedger.PRIMARY).exists()

    cost_recovery_set(region=union.region_a, from_primaries=True, by=users.regional)
    approve_cards(union, users, {"primary_a1a": 2}, prefix="После")
    second = CardCharge.objects.get(batch=card_batch_form(by=users.regional))
    assert second.passed_on_at is not None
    assert ledger_sum(SettlementLedger.PRIMARY, union.primary_a1a) == 2 * 15000

    charge_pass_on(charge=first, by=users.regional)  # the earlier batch, passed on by hand
    with pytest.raises(SettlementError, match="уже предъявлено"):
        charge_pass_on(charge=first, by=users.regional)
    primary_payment_record(primary=union.primary_a1a, amount=10000, paid_on=timezone.localdate(), by=users.regional)

    for primary in (union.primary_a1a, union.primary_a1b, union.university_a):
        statement = selectors.statement(ledger=SettlementLedger.PRIMARY, account=primary, period=Period())
        assert statement.closing == ledger_sum(SettlementLedger.PRIMARY, primary)
    a1a = selectors.statement(ledger=SettlementLedger.PRIMARY, account=union.primary_a1a, period=Period())
    assert (a1a.charged, a1a.paid, a1a.closing) == (36150 + 30000, 10000, 56150)
    # What the ППО were charged adds up to what the region was charged for them.
    primaries = selectors.region_primaries(region=union.region_a, period=Period())
    region_total = selectors.statement(ledger=SettlementLedger.REGION, account=union.region_a, period=Period())
    assert sum(row.passed_on for row in primaries) == region_total.charged
    assert sum(row.balance for row in primaries) == sum(
        CardLedgerEntry.objects.filter(ledger=SettlementLedger.PRIMARY, region=union.region_a).values_list(
            "amount", flat=True
        )
    )


# --- payments by role only ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["regional", "local", "chair", "other_regional"])
def test_only_central_office_records_region_payments(union, users, role):
    with pytest.raises(PermissionDenied):
        region_payment_record(region=union.region_a, amount=100, paid_on=timezone.localdate(), by=users.by_role(role))


@pytest.mark.parametrize("role", ["central", "local", "chair", "other_regional"])
def test_only_the_region_records_its_primary_organisations_payments(union, users, role):
    cost_recovery_set(region=union.region_a, from_primaries=True, by=users.regional)
    with pytest.raises(PermissionDenied):
        primary_payment_record(
            primary=union.primary_a1a, amount=100, paid_on=timezone.localdate(), by=users.by_role(role)
        )


@pytest.mark.parametrize("role", ["regional", "local", "chair"])
def test_only_central_office_keeps_prices(users, role):
    with pytest.raises(PermissionDenied):
        price_list_create(valid_from=datetime.date(2026, 1, 1), tiers=[(1, 100)], by=users.by_role(role))


def test_the_region_setting_is_the_regions_own(union, users):
    for user in (users.central, users.other_regional, users.chair):
        with pytest.raises(PermissionDenied):
            cost_recovery_set(region=union.region_a, from_primaries=True, by=user)


def test_a_payment_refuses_nonsense(union, users):
    record = dict(region=union.region_a, by=users.central)
    with pytest.raises(SettlementError, match="больше нуля"):
        region_payment_record(amount=0, paid_on=timezone.localdate(), **record)
    with pytest.raises(SettlementError, match="не наступила"):
        region_payment_record(amount=100, paid_on=timezone.localdate() + datetime.timedelta(days=1), **record)
    with pytest.raises(SettlementError, match="региональными"):
        region_payment_record(region=union.local_a1, amount=100, paid_on=timezone.localdate(), by=users.central)
    with pytest.raises(SettlementError, match="не возмещает"):
        primary_payment_record(primary=union.primary_a1a, amount=100, paid_on=timezone.localdate(), by=users.regional)


def test_a_cancelled_payment_stays_in_the_ledger_with_its_reversal(union, users):
    payment = region_payment_record(region=union.region_a, amount=5000, paid_on=timezone.localdate(), by=users.central)
    with pytest.raises(SettlementError, match="причину"):
        payment_cancel(payment=payment, reason=" ", by=users.central)
    payment_cancel(payment=payment, reason="Дубль", by=users.central)
    with pytest.raises(SettlementError, match="уже отменена"):
        payment_cancel(payment=payment, reason="Ещё раз", by=users.central)
    assert sorted(CardLedgerEntry.objects.filter(payment=payment).values_list("kind", "amount")) == [
        ("payment", -5000),
        ("payment_cancelled", 5000),
    ]
    assert ledger_sum(SettlementLedger.REGION, union.region_a) == 0


def test_every_write_is_in_the_access_log(union, users, prices, approved):
    card_batch_form(by=users.regional)
    cost_recovery_set(region=union.region_a, from_primaries=True, by=users.regional)
    payment = region_payment_record(region=union.region_a, amount=100, paid_on=timezone.localdate(), by=users.central)
    payment_cancel(payment=payment, reason="Ошибка", by=users.central)
    logged = set(AccessLog.objects.filter(object_type__startswith="cards.card").values_list("object_type", "action"))
    assert {
        ("cards.cardpricelist", "create"),
        ("cards.cardcharge", "create"),
        ("cards.cardcostrecovery", "change"),
        ("cards.cardpayment", "create"),
        ("cards.cardpayment", "change"),
    } <= logged
    assert AccessLog.objects.filter(object_type="cards.cardpayment", organization_path=union.region_a.path).count() == 2
