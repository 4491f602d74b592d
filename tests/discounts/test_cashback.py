"""Cashback arithmetic in kopecks and the ledger: accrual, hold, reversal, confirmation, payout, and the invariant
that every balance is the sum of its ledger entries, after a few hundred random operations.

Rounding rule (discounts/money.py): cashback = amount × rate, rounded half up to the whole kopeck.
"""

import datetime
import random
import zoneinfo

import pytest
from django.db.models import Sum

from accounts.models import AccessLog
from cards.services import card_issue
from discounts import services
from discounts.models import CashbackAccount, CashbackEntry, PayoutBatch, PayoutLine, Purchase
from discounts.money import cashback_for, kopecks_from_text
from discounts.services import DiscountError
from tests.factories import MemberFactory

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
START = datetime.datetime(2025, 3, 10, 11, 0, tzinfo=MOSCOW)
Bucket = CashbackEntry.Bucket
Kind = CashbackEntry.Kind


# --- the rounding rule ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate_bp", "cashback"),
    [
        (1, 500, 0),  # 0.05 kopeck → 0
        (9, 500, 0),  # 0.45 → 0
        (10, 500, 1),  # 0.5 rounds up
        (12_345, 500, 617),  # 617.25 → 617
        (12_350, 500, 618),  # 617.5 → 618
        (12_369, 500, 618),  # 618.45 → 618
        (99_999, 333, 3_330),  # 3329.9667 → 3330
        (100_000, 550, 5_500),  # 5.5 % of 1000 ₽ is exactly 55 ₽
        (1_000_000_000, 10_000, 1_000_000_000),  # 100 % of the largest purchase
        (0, 500, 0),
        (12_345, 0, 0),
    ],
)
def test_cashback_rounds_half_up_to_the_kopeck(amount, rate_bp, cashback):
    assert cashback_for(amount_kopecks=amount, rate_bp=rate_bp) == cashback


def test_cashback_is_an_integer_even_for_huge_amounts():
    # No float on the way: 10**15 kopecks at 33.33 % is exact.
    assert cashback_for(amount_kopecks=10**15, rate_bp=3_333) == 333_300_000_000_000


@pytest.mark.parametrize(("amount", "rate_bp"), [(-1, 500), (100, -1)])
def test_cashback_of_a_negative_amount_or_rate_is_refused(amount, rate_bp):
    with pytest.raises(ValueError):
        cashback_for(amount_kopecks=amount, rate_bp=rate_bp)


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("1234,56", 123_456), ("1 234,56", 123_456), ("1\u202f234,5", 123_450), ("1234.5", 123_450), ("0,01", 1),
     (" 12 ", 1_200), ("-5", -500), ("100000000000000", 10**16)],
)  # fmt: skip
def test_amounts_typed_in_roubles_become_kopecks(text, kopecks):
    assert kopecks_from_text(text) == kopecks


@pytest.mark.parametrize(
    "text", ["", "12,345", "0.001", "--5", "+5", "1e3", "1e100000", "1_000", "NaN", "Infinity", "12,3,4", "١٢٣", "5 ₽"]
)
def test_anything_else_typed_as_an_amount_is_a_value_error(text):
    with pytest.raises(ValueError):
        kopecks_from_text(text)


# --- helpers ------------------------------------------------------------------------------------------------------------


def _buy(programme, users, *, amount, receipt, now=START, partner=None, card=None):
    return services.purchase_record(
        partner=partner or programme.partner_a, presented=(card or programme.card_a).number, receipt_id=receipt,
        amount=amount, channel=Purchase.Channel.CASHIER, by=users.cashier, now=now,
    ).purchase  # fmt: skip


def _balances(member) -> tuple[int, int, int]:
    account = CashbackAccount.objects.get(member=member)
    return account.pending, account.confirmed, account.paid


def _entries(member) -> list[tuple[str, str, int]]:
    return list(
        CashbackEntry.objects.filter(account__member=member).order_by("id").values_list("kind", "bucket", "amount")
    )


def assert_ledger_consistent() -> None:
    """Every account's buckets equal the sums of its entries, none is negative, and the ledger agrees with the
    purchases: pending is the cashback of accepted purchases still on hold, confirmed + paid that of confirmed ones."""
    sums: dict[tuple[int, str], int] = {}
    for account_id, bucket, total in CashbackEntry.objects.values_list("account_id", "bucket").annotate(Sum("amount")):
        sums[account_id, bucket] = total
    accepted = Purchase.objects.filter(status=Purchase.Status.ACCEPTED)
    for account in CashbackAccount.objects.all():
        for bucket in Bucket.values:
            balance = getattr(account, bucket)
            assert balance == sums.get((account.pk, bucket), 0), (account, bucket)
            assert balance >= 0, (account, bucket)
        on_hold = accepted.filter(member_id=account.member_id, confirmed_at__isnull=True).aggregate(s=Sum("cashback"))
        confirmed = accepted.filter(member_id=account.member_id, confirmed_at__isnull=False).aggregate(
            s=Sum("cashback")
        )
        assert account.pending == (on_hold["s"] or 0), account
        assert account.confirmed + account.paid == (confirmed["s"] or 0), account
        in_payouts = PayoutLine.objects.filter(account=account).exclude(status=PayoutLine.Status.RETURNED)
        assert account.paid == (in_payouts.aggregate(s=Sum("amount"))["s"] or 0), account


# --- accrual ----------------------------------------------------------------------------------------------------------


def test_a_purchase_accrues_its_cashback_as_pending_until_the_hold_ends(programme, users):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")

    assert purchase.cashback_bp == 500
    assert purchase.cashback == 617
    assert purchase.hold_until == START + datetime.timedelta(days=14)
    assert _balances(programme.holder_a) == (617, 0, 0)
    assert _entries(programme.holder_a) == [(Kind.ACCRUAL, Bucket.PENDING, 617)]
    assert CashbackEntry.objects.get().purchase == purchase


def test_the_rate_is_fixed_at_the_purchase_even_if_the_partner_changes_it_later(programme, users):
    purchase = _buy(programme, users, amount=100_000, receipt="A-1")
    programme.partner_a.cashback_bp = 1_000
    programme.partner_a.save()

    services.cashback_confirm_due(now=purchase.hold_until)

    assert _balances(programme.holder_a) == (0, 5_000, 0)


def test_a_purchase_too_small_for_a_kopeck_of_cashback_posts_nothing(programme, users):
    purchase = _buy(programme, users, amount=9, receipt="A-1")

    assert purchase.cashback == 0
    assert _entries(programme.holder_a) == []
    assert _balances(programme.holder_a) == (0, 0, 0)
    services.cashback_confirm_due(now=purchase.hold_until)
    purchase.refresh_from_db()
    assert purchase.confirmed_at == purchase.hold_until
    assert _entries(programme.holder_a) == []


def test_a_refused_purchase_leaves_the_ledger_as_it_was(programme, users):
    _buy(programme, users, amount=10_000, receipt="A-1")

    with pytest.raises(DiscountError) as refusal:
        _buy(programme, users, amount=20_000, receipt="A-1")  # the same receipt, another amount

    assert refusal.value.code == "duplicate_receipt"
    assert _balances(programme.holder_a) == (500, 0, 0)
    assert len(_entries(programme.holder_a)) == 1


# --- hold and reversal ------------------------------------------------------------------------------------------------


def test_a_return_within_the_hold_takes_the_pending_cashback_back(programme, users):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")
    _buy(programme, users, amount=2_000, receipt="A-2")

    services.purchase_reverse(
        purchase=purchase, by=users.cashier, now=purchase.hold_until - datetime.timedelta(seconds=1)
    )

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REVERSED
    assert _balances(programme.holder_a) == (100, 0, 0)
    assert _entries(programme.holder_a) == [
        (Kind.ACCRUAL, Bucket.PENDING, 617),
        (Kind.ACCRUAL, Bucket.PENDING, 100),
        (Kind.REVERSAL, Bucket.PENDING, -617),
    ]


def test_a_second_return_of_the_same_purchase_changes_nothing(programme, users):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")
    services.purchase_reverse(purchase=purchase, by=users.cashier, now=START + datetime.timedelta(days=1))

    again = services.purchase_reverse(purchase=purchase, by=users.cashier, now=START + datetime.timedelta(days=2))

    assert again.reversed_at == START + datetime.timedelta(days=1)
    assert _balances(programme.holder_a) == (0, 0, 0)
    assert [kind for kind, _bucket, _amount in _entries(programme.holder_a)] == [Kind.ACCRUAL, Kind.REVERSAL]


@pytest.mark.parametrize("after", [datetime.timedelta(0), datetime.timedelta(days=3)])
def test_no_return_once_the_hold_has_ended_even_before_the_beat_confirmed(programme, users, after):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")

    with pytest.raises(DiscountError) as refusal:
        services.purchase_reverse(purchase=purchase, by=users.cashier, now=purchase.hold_until + after)

    assert refusal.value.code == "hold_expired"
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.ACCEPTED
    assert _balances(programme.holder_a) == (617, 0, 0)
    assert AccessLog.objects.filter(action=AccessLog.Action.REVERSAL, details__refused="hold_expired").exists()


def test_a_confirmed_purchase_cannot_be_returned(programme, users):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")
    services.cashback_confirm_due(now=purchase.hold_until)

    with pytest.raises(DiscountError) as refusal:
        # Even with a clock that is behind: the confirmation, not only the time, closes the return.
        services.purchase_reverse(purchase=purchase, by=users.cashier, now=START + datetime.timedelta(days=1))

    assert refusal.value.code == "hold_expired"
    assert _balances(programme.holder_a) == (0, 617, 0)


# --- confirmation -----------------------------------------------------------------------------------------------------


def test_cashback_is_confirmed_when_the_hold_ends_and_a_rerun_changes_nothing(programme, users):
    first = _buy(programme, users, amount=12_345, receipt="A-1")
    second = _buy(programme, users, amount=50_000, receipt="A-2", now=START + datetime.timedelta(days=2))
    _buy(programme, users, amount=10_000, receipt="B-1", partner=programme.partner_b, card=programme.card_b)

    assert services.cashback_confirm_due(now=first.hold_until - datetime.timedelta(seconds=1)) == 0
    assert _balances(programme.holder_a) == (617 + 2_500, 0, 0)

    assert services.cashback_confirm_due(now=first.hold_until) == 2  # first (5 %) and other (7 %, same moment)
    assert _balances(programme.holder_a) == (2_500, 617, 0)
    assert _balances(programme.holder_b) == (0, 700, 0)
    first.refresh_from_db()
    assert first.confirmed_at == first.hold_until

    assert services.cashback_confirm_due(now=first.hold_until) == 0
    assert services.cashback_confirm_due(now=second.hold_until) == 1
    assert services.cashback_confirm_due(now=second.hold_until + datetime.timedelta(days=30)) == 0
    assert _balances(programme.holder_a) == (0, 3_117, 0)
    assert _entries(programme.holder_a)[-2:] == [(Kind.CONFIRMATION, Bucket.PENDING, -2_500),
                                                 (Kind.CONFIRMATION, Bucket.CONFIRMED, 2_500)]  # fmt: skip
    assert_ledger_consistent()


def test_a_returned_purchase_is_never_confirmed(programme, users):
    purchase = _buy(programme, users, amount=12_345, receipt="A-1")
    services.purchase_reverse(purchase=purchase, by=users.cashier, now=START + datetime.timedelta(days=1))

    assert services.cashback_confirm_due(now=purchase.hold_until + datetime.timedelta(days=1)) == 0
    purchase.refresh_from_db()
    assert purchase.confirmed_at is None
    assert _balances(programme.holder_a) == (0, 0, 0)


def test_confirmation_goes_on_past_a_chunk(programme, users, monkeypatch):
    monkeypatch.setattr(services, "CONFIRM_CHUNK", 2)
    programme.partner_a.daily_purchases_per_card = 0
    programme.partner_a.save()
    for number in range(5):
        _buy(programme, users, amount=1_000 * (number + 1), receipt=f"A-{number}")

    assert services.cashback_confirm_due(now=START + datetime.timedelta(days=14)) == 5
    assert _balances(programme.holder_a) == (0, 50 + 100 + 150 + 200 + 250, 0)


# --- payout -----------------------------------------------------------------------------------------------------------


def test_a_payout_moves_the_whole_confirmed_balance_to_paid(programme, users, settings):
    settings.CASHBACK_PAYOUT_MINIMUM = 600
    CashbackAccount.objects.create(member=programme.holder_a, payout_phone="+79161234567", payout_bank="Сбербанк")
    held = _buy(programme, users, amount=12_345, receipt="A-1")
    services.cashback_confirm_due(now=held.hold_until)
    _buy(programme, users, amount=40_000, receipt="A-2", now=held.hold_until)  # still on hold at the payout

    batch = services.payout_batch_form(month=datetime.date(2025, 3, 1), by=users.central, now=held.hold_until)

    assert batch.total == 617
    assert _balances(programme.holder_a) == (2_000, 0, 617)
    line = batch.lines.get()
    assert _entries(programme.holder_a)[-2:] == [(Kind.PAYOUT, Bucket.CONFIRMED, -617), (Kind.PAYOUT, Bucket.PAID, 617)]
    assert set(CashbackEntry.objects.filter(kind=Kind.PAYOUT).values_list("payout", flat=True)) == {line.pk}
    assert_ledger_consistent()


# --- the invariant under random operations ----------------------------------------------------------------------------


class _RandomRun:
    """Purchases, returns, confirmations, payouts, bank steps and returned payments in a random order on a clock
    that moves forward; refusals are part of the run (they must leave the ledger as it was)."""

    def __init__(self, *, programme, users, cards, seed: int):
        self.rng = random.Random(seed)
        self.programme, self.users, self.cards = programme, users, cards
        self.partners = [programme.partner_a, programme.partner_union, programme.partner_b]
        self.now = START
        self.receipts = 0
        self.done: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def step(self) -> None:
        self.now += datetime.timedelta(minutes=self.rng.randint(1, 36 * 60))
        operation = self.rng.choices(
            [self.purchase, self.reverse, self.confirm, self.payout, self.advance, self.return_line],
            weights=[50, 12, 12, 4, 4, 4],
        )[0]
        try:
            operation()
        except DiscountError as refusal:
            self.refused[refusal.code] = self.refused.get(refusal.code, 0) + 1
        else:
            self.done[operation.__name__] = self.done.get(operation.__name__, 0) + 1

    def purchase(self) -> None:
        self.receipts += 1
        # Now and then a receipt number that was used before: a duplicate, refused.
        receipt = self.receipts if self.rng.random() > 0.05 else self.rng.randint(1, self.receipts)
        amount = self.rng.choice(
            [self.rng.randint(1, 30), self.rng.randint(100, 500_000), self.rng.randint(1, 5_000_000)]
        )
        services.purchase_record(
            partner=self.rng.choice(self.partners), presented=self.rng.choice(self.cards).number,
            receipt_id=f"R-{receipt}", amount=amount, channel=Purchase.Channel.CASHIER, by=self.users.cashier,
            now=self.now,
        )  # fmt: skip

    def reverse(self) -> None:
        # Mostly purchases still on hold; some whose hold has ended (refused).
        recent = list(Purchase.objects.order_by("-id").values_list("id", flat=True)[:15])
        if recent:
            purchase = Purchase.objects.get(pk=self.rng.choice(recent))
            services.purchase_reverse(purchase=purchase, by=self.users.cashier, now=self.now)

    def confirm(self) -> None:
        services.cashback_confirm_due(now=self.now)

    def payout(self) -> None:
        month = self.now.date().replace(day=1)
        if self.rng.random() < 0.3:  # a month that may have been paid already (refused then)
            month = (month - datetime.timedelta(days=self.rng.randint(1, 90))).replace(day=1)
        services.payout_batch_form(month=month, by=self.users.central, now=self.now)

    def advance(self) -> None:
        batch = PayoutBatch.objects.exclude(status=PayoutBatch.Status.PAID).order_by("?").first()
        if batch is not None:
            if batch.status == PayoutBatch.Status.BUILDING:
                services.payout_batch_build(batch_id=batch.pk)
            else:
                services.payout_batch_advance(batch=batch, by=self.users.central)

    def return_line(self) -> None:
        line = PayoutLine.objects.order_by("?").first()
        if line is not None:
            services.payout_line_return(line=line, by=self.users.central, now=self.now)


@pytest.mark.parametrize("seed", [1, 2026])
def test_every_balance_equals_its_ledger_after_random_operations(programme, users, union, settings, seed):
    settings.CASHBACK_PAYOUT_MINIMUM = 5_000
    for partner in (programme.partner_a, programme.partner_union, programme.partner_b):
        partner.hold_days = 3 + seed % 5
        partner.daily_purchases_per_card = 3
        partner.save()
    cards = [programme.card_a, programme.card_b]
    for number in range(4):
        member = MemberFactory(organization=union.primary_a1a, last_name=f"Покупателева{number}", card_consents=True)
        cards.append(card_issue(member=member, by=users.chair))
    for card in cards[::2]:  # half of the members gave a phone for payouts
        CashbackAccount.objects.create(member=card.member, payout_phone=f"+7916000000{card.pk % 10}")

    run = _RandomRun(programme=programme, users=users, cards=cards, seed=seed)
    for _step in range(300):
        run.step()
        assert_ledger_consistent()

    # The run did what it was meant to: every kind of operation happened, and so did refusals.
    assert set(run.done) == {"purchase", "reverse", "confirm", "payout", "advance", "return_line"}, run.done
    assert {"duplicate_receipt", "hold_expired"} <= set(run.refused), run.refused
    assert CashbackEntry.objects.filter(kind=Kind.PAYOUT_RETURNED).exists()
    assert CashbackAccount.objects.filter(paid__gt=0).exists()
