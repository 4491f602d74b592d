"""Reads of the cards' settlement, scoped to the user: statements, balances, the per-ППО breakdown, price lists.

Who sees what: central office every region and every ППО; regional staff their own region and its ППО; a ППО
chair the own ППО's statement, and only while the region recovers the cost from its ППО. Everything else is 404.
Every balance here is a sum of ledger entries; nothing is read from a stored total.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role, User
from cards.models import (
    CardBatch,
    CardCharge,
    CardChargeLine,
    CardCostRecovery,
    CardLedgerEntry,
    CardPayment,
    CardPriceList,
    SettlementLedger,
)
from cards.settlement_services import region_of
from registry.models import REGIONAL_DEPTH, Organization
from registry.money import roubles_text

SETTLEMENT_ROLES = (Role.CENTRAL, Role.REGIONAL, Role.CHAIR)
PAYMENT_KINDS = (CardLedgerEntry.Kind.PAYMENT, CardLedgerEntry.Kind.PAYMENT_CANCELLED)


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included; None is open on that side."""

    start: datetime.date | None = None
    end: datetime.date | None = None

    def filter(self, prefix: str = "occurred_on") -> Q:
        q = Q()
        if self.start:
            q &= Q(**{f"{prefix}__gte": self.start})
        if self.end:
            q &= Q(**{f"{prefix}__lte": self.end})
        return q

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    @property
    def slug(self) -> str:
        """For file names: "2026-01-01_2026-12-31", "vse" for all time."""
        if self.is_open:
            return "vse"
        return (
            f"{self.start.isoformat() if self.start else 'nachalo'}_{self.end.isoformat() if self.end else 'seichas'}"
        )


# --- who may see which account --------------------------------------------------------------------------------------


def regional_orgs() -> QuerySet[Organization]:
    return Organization.objects.filter(depth=REGIONAL_DEPTH, level=Organization.Level.REGIONAL).select_related("region")


def get_region_for_settlement(user: User, pk: int) -> Organization:
    """A regional organisation whose statement the user may see: any for central office, the own for its staff."""
    region = regional_orgs().filter(pk=pk).first()
    if region is None:
        raise Http404
    if user.role == Role.CENTRAL or (user.role == Role.REGIONAL and user.organization_id == region.pk):
        return region
    raise Http404


def region_recovers(region: Organization) -> bool:
    return CardCostRecovery.objects.filter(region=region, from_primaries=True).exists()


def get_primary_for_settlement(user: User, pk: int) -> Organization:
    """A primary organisation whose statement the user may see."""
    org = Organization.objects.filter(pk=pk, level=Organization.Level.PRIMARY).first()
    if org is None:
        raise Http404
    if user.role == Role.CENTRAL:
        return org
    if user.role == Role.REGIONAL and org.is_in_subtree_of(user.organization):
        return org
    if user.role == Role.CHAIR and user.organization_id == org.pk and chair_sees_statement(user):
        return org
    raise Http404


def chair_sees_statement(user: User) -> bool:
    """A ППО chair has a statement only while the region recovers the cards' cost from its ППО."""
    org = user.organization
    if user.role != Role.CHAIR or org is None or org.level != Organization.Level.PRIMARY:
        return False
    return CardCostRecovery.objects.filter(region__path=region_of(org), from_primaries=True).exists()


# --- statements -----------------------------------------------------------------------------------------------------


@dataclass
class StatementRow:
    entry: CardLedgerEntry
    charged: int  # kopecks the account was charged by this entry (0 if none)
    paid: int  # kopecks it paid (a cancelled payment counts negative)
    balance: int  # what the account owes after this entry
    operation: str
    basis: str


@dataclass
class Statement:
    """Выписка: what an account owed at the start of the period, what happened in it, what it owes at the end."""

    ledger: str
    account: Organization
    period: Period
    opening: int
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def charged(self) -> int:
        return sum(row.charged for row in self.rows)

    @property
    def paid(self) -> int:
        return sum(row.paid for row in self.rows)

    @property
    def closing(self) -> int:
        return self.opening + self.charged - self.paid

    @property
    def cards(self) -> int:
        return sum(_entry_cards(row.entry) for row in self.rows)


def _entry_cards(entry: CardLedgerEntry) -> int:
    if entry.kind != CardLedgerEntry.Kind.CHARGE:
        return 0
    return entry.charge_line.cards if entry.charge_line_id else entry.charge.cards


def entry_description(entry: CardLedgerEntry) -> tuple[str, str]:
    """(operation, basis) as a statement and the 1C file print them."""
    if entry.kind == CardLedgerEntry.Kind.CHARGE:
        source = entry.charge_line if entry.charge_line_id else entry.charge
        return (
            f"Начисление за партию № {entry.charge.batch_id}",
            f"{source.cards} бил. × {roubles_text(source.unit_price)} ₽",
        )
    payment = entry.payment
    document = f"п/п № {payment.document} от {payment.paid_on:%d.%m.%Y}" if payment.document else ""
    if entry.kind == CardLedgerEntry.Kind.PAYMENT:
        return "Оплата", "; ".join(part for part in (document, payment.note) if part)
    return "Отмена оплаты", "; ".join(part for part in (document, payment.cancel_reason) if part)


def ledger_entries(*, ledger: str, account: Organization) -> QuerySet[CardLedgerEntry]:
    return (
        CardLedgerEntry.objects.filter(ledger=ledger, account=account)
        .select_related("charge", "charge_line", "payment")
        .order_by("occurred_on", "id")
    )


def account_balance(*, ledger: str, account: Organization, on: datetime.date | None = None) -> int:
    """What the account owes (negative: paid in advance): the sum of its entries, up to `on` if given."""
    entries = CardLedgerEntry.objects.filter(ledger=ledger, account=account)
    if on is not None:
        entries = entries.filter(occurred_on__lte=on)
    return entries.aggregate(total=Coalesce(Sum("amount"), 0))["total"]


def statement(*, ledger: str, account: Organization, period: Period) -> Statement:
    opening = 0
    if period.start:
        opening = account_balance(ledger=ledger, account=account, on=period.start - datetime.timedelta(days=1))
    result = Statement(ledger=ledger, account=account, period=period, opening=opening)
    balance = opening
    for entry in ledger_entries(ledger=ledger, account=account).filter(period.filter()):
        charged = entry.amount if entry.kind == CardLedgerEntry.Kind.CHARGE else 0
        paid = -entry.amount if entry.kind in PAYMENT_KINDS else 0
        balance += entry.amount
        operation, basis = entry_description(entry)
        result.rows.append(StatementRow(entry, charged, paid, balance, operation, basis))
    return result


# --- the region's breakdown by primary organisation -----------------------------------------------------------------


@dataclass
class PrimaryRow:
    org: Organization
    cards: int = 0
    amount: int = 0  # charged for its members' cards in the period (lines), whether passed on or not
    passed_on: int = 0  # of that, charged to the ППО's own account
    paid: int = 0  # paid by the ППО in the period
    balance: int = 0  # what the ППО owes the region at the end of the period


def region_primaries(*, region: Organization, period: Period) -> list[PrimaryRow]:
    """Each primary organisation with cards in the region's charges of the period, or with an account balance."""
    lines = (
        CardChargeLine.objects.filter(charge__region=region)
        .filter(period.filter("charge__charged_on"))
        .values("organization")
        .annotate(
            line_cards=Sum("cards"),
            line_amount=Sum("amount"),
            line_passed_on=Coalesce(Sum("amount", filter=Q(charge__passed_on_at__isnull=False)), 0),
        )
        .order_by()
    )
    upto = Period(end=period.end).filter()
    accounts = (
        CardLedgerEntry.objects.filter(ledger=SettlementLedger.PRIMARY, region=region)
        .filter(upto)
        .values("account")
        .annotate(
            account_balance=Sum("amount"),
            account_paid=Coalesce(Sum("amount", filter=Q(kind__in=PAYMENT_KINDS) & period.filter()), 0),
        )
        .order_by()
    )
    rows: dict[int, PrimaryRow] = {}
    for line in lines:
        rows[line["organization"]] = PrimaryRow(
            org=None, cards=line["line_cards"], amount=line["line_amount"], passed_on=line["line_passed_on"]
        )
    for account in accounts:
        row = rows.setdefault(account["account"], PrimaryRow(org=None))
        row.balance, row.paid = account["account_balance"], -account["account_paid"]
    orgs = Organization.objects.in_bulk(list(rows))
    for org_id, row in rows.items():
        row.org = orgs[org_id]
    return sorted(rows.values(), key=lambda row: (row.org.name.lower(), row.org.pk))


def region_charge_lines(*, region: Organization, period: Period) -> QuerySet[CardChargeLine]:
    return (
        CardChargeLine.objects.filter(charge__region=region)
        .filter(period.filter("charge__charged_on"))
        .select_related("organization", "charge")
        .order_by("organization__name", "organization_id", "charge__charged_on", "charge_id")
    )


def primary_charge_lines(*, primary: Organization, period: Period) -> QuerySet[CardChargeLine]:
    return (
        CardChargeLine.objects.filter(organization=primary)
        .filter(period.filter("charge__charged_on"))
        .select_related("charge")
        .order_by("charge__charged_on", "charge_id")
    )


def region_charges(*, region: Organization, period: Period) -> QuerySet[CardCharge]:
    """The region's charges by batch, newest first, with their vendor-side facts."""
    return (
        CardCharge.objects.filter(region=region)
        .filter(period.filter("charged_on"))
        .select_related("batch", "price_list")
        .annotate(primaries=Count("lines"))
        .order_by("-charged_on", "-id")
    )


# --- central office: every region -----------------------------------------------------------------------------------


@dataclass
class RegionBalance:
    region: Organization
    opening: int = 0
    cards: int = 0
    charged: int = 0
    paid: int = 0
    closing: int = 0
    last_paid_on: datetime.date | None = None
    recovers: bool = False


def region_balances(*, period: Period) -> list[RegionBalance]:
    """Every regional organisation, in the order of the regions' codes, with its figures for the period; a region
    with nothing yet is listed with zeros, so the page answers for all of them."""
    before = Q(occurred_on__lt=period.start) if period.start else Q(pk__in=[])
    in_period = period.filter()
    sums = (
        CardLedgerEntry.objects.filter(ledger=SettlementLedger.REGION)
        .filter(Period(end=period.end).filter())
        .values("account")
        .annotate(
            opening=Coalesce(Sum("amount", filter=before), 0),
            charged=Coalesce(Sum("amount", filter=in_period & Q(kind=CardLedgerEntry.Kind.CHARGE)), 0),
            paid=Coalesce(Sum("amount", filter=in_period & Q(kind__in=PAYMENT_KINDS)), 0),
            closing=Sum("amount"),
        )
        .order_by()
    )
    cards = dict(
        CardCharge.objects.filter(period.filter("charged_on"))
        .values("region")
        .annotate(region_cards=Sum("cards"))
        .order_by()
        .values_list("region", "region_cards")
    )
    last_paid = dict(
        CardPayment.objects.filter(ledger=SettlementLedger.REGION, cancelled_at__isnull=True)
        .filter(period.filter("paid_on"))
        .values("payer")
        .annotate(last=Max("paid_on"))
        .order_by()
        .values_list("payer", "last")
    )
    recovering = set(CardCostRecovery.objects.filter(from_primaries=True).values_list("region_id", flat=True))
    by_region = {row["account"]: row for row in sums}
    result = []
    for region in regional_orgs().order_by("region__code", "name"):
        row = by_region.get(region.pk, {})
        result.append(
            RegionBalance(
                region=region, opening=row.get("opening", 0), cards=cards.get(region.pk, 0),
                charged=row.get("charged", 0), paid=-row.get("paid", 0), closing=row.get("closing", 0),
                last_paid_on=last_paid.get(region.pk), recovers=region.pk in recovering,
            )
        )  # fmt: skip
    return result


def region_ledger_entries(*, period: Period, region: Organization | None = None) -> QuerySet[CardLedgerEntry]:
    """Entries of the regions' accounts (all, or one region's), for the 1C file."""
    entries = CardLedgerEntry.objects.filter(ledger=SettlementLedger.REGION).filter(period.filter())
    if region is not None:
        entries = entries.filter(account=region)
    return entries.select_related("account", "charge", "payment").order_by("occurred_on", "id")


def primary_ledger_entries(*, region: Organization, period: Period) -> QuerySet[CardLedgerEntry]:
    return (
        CardLedgerEntry.objects.filter(ledger=SettlementLedger.PRIMARY, region=region)
        .filter(period.filter())
        .select_related("account", "region", "charge", "charge_line", "payment")
        .order_by("occurred_on", "id")
    )


def central_org() -> Organization | None:
    return Organization.objects.filter(depth=1).first()


# --- the vendor side ------------------------------------------------------------------------------------------------


def price_lists() -> QuerySet[CardPriceList]:
    return (
        CardPriceList.objects.prefetch_related("tiers")
        .select_related("created_by")
        .annotate(charge_count=Count("charges"))
    )


def get_price_list(pk: int) -> CardPriceList:
    try:
        return CardPriceList.objects.get(pk=pk)
    except CardPriceList.DoesNotExist:
        raise Http404 from None


def batches_with_settlement() -> QuerySet[CardBatch]:
    """Every batch with what its regions were charged and the vendor's invoice: central office's list."""
    return (
        CardBatch.objects.select_related("organization", "vendor_invoice")
        .annotate(
            charged=Coalesce(Sum("charges__amount"), 0),
            charged_cards=Coalesce(Sum("charges__cards"), 0),
            regions=Count("charges"),
        )
        .order_by("-created_at", "-id")
    )


def uncharged_batches() -> QuerySet[CardBatch]:
    return CardBatch.objects.filter(charges__isnull=True).order_by("created_at", "id")


def get_batch_for_settlement(pk: int) -> CardBatch:
    try:
        return batches_with_settlement().get(pk=pk)
    except CardBatch.DoesNotExist:
        raise Http404 from None


def get_payment_for_user(user: User, pk: int) -> CardPayment:
    """A payment the user could have recorded (and so may cancel); anything else is 404."""
    payment = CardPayment.objects.select_related("payer", "region").filter(pk=pk).first()
    if payment is None:
        raise Http404
    if payment.ledger == SettlementLedger.REGION and user.role == Role.CENTRAL:
        return payment
    if (
        payment.ledger == SettlementLedger.PRIMARY
        and user.role == Role.REGIONAL
        and user.organization_id == payment.region_id
    ):
        return payment
    raise Http404


def get_charge_for_region_staff(user: User, pk: int) -> CardCharge:
    charge = CardCharge.objects.select_related("region").filter(pk=pk).first()
    if charge is None or user.role != Role.REGIONAL or charge.region_id != user.organization_id:
        raise Http404
    return charge


def settlement_menu_items(user: User) -> list[tuple[str, str, str, str]]:
    """The entries under "Билеты" (accounts.context_processors.CARDS_MENU_PROVIDERS): the batches and the
    settlement for central office and regions; a ППО chair's statement while the region recovers the cost."""
    settlement = (_("Расчёты за билеты"), reverse("cards:settlement_home"), "bi-calculator", "cards:settlement")
    if user.role in (Role.CENTRAL, Role.REGIONAL):
        return [(_("Партии для изготовителя"), reverse("cards:card_batches"), "bi-box-seam", "cards:card_batch"),
                settlement]  # fmt: skip
    if chair_sees_statement(user):
        return [settlement]
    return []
