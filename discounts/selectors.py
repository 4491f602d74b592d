"""Every read of the discount programme that a view or a task needs, already scoped to the user who asks."""

import datetime
from collections import Counter, deque
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, F, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from accounts.models import ORG_STAFF_ROLES, AccessLog, Role, User
from cards.models import Card
from cards.numbers import card_number_masked
from discounts.models import (
    CardCheck,
    CashbackAccount,
    Cashier,
    Partner,
    PartnerToken,
    PayoutBatch,
    PayoutLine,
    Purchase,
)
from discounts.money import BASIS_POINTS, roubles_text
from membership.models import Consent, Member
from membership.selectors import member_of_user
from registry.models import Organization, Region

# --- partners as the staff manage them ------------------------------------------------------------------------------

PARTNER_MANAGER_ROLES = (Role.CENTRAL, Role.REGIONAL)


def partners_managed_by(user: User) -> QuerySet[Partner]:
    """The partners the user manages: every one for central office, its own organisation's for regional staff."""
    if user.role == Role.CENTRAL:
        return Partner.objects.all()
    if user.role == Role.REGIONAL and user.organization_id:
        return Partner.objects.filter(managed_by_id=user.organization_id)
    return Partner.objects.none()


def user_manages_partner(user: User, partner: Partner) -> bool:
    if user.role == Role.CENTRAL:
        return True
    return (
        user.role == Role.REGIONAL
        and user.organization_id is not None
        and partner.managed_by_id == user.organization_id
    )


def partner_active_q(day: datetime.date) -> Q:
    """Partners taking part on `day`: the same rule as Partner.is_active_on, for a queryset."""
    return Q(active_from__lte=day) & (Q(active_until__isnull=True) | Q(active_until__gte=day))


@dataclass(frozen=True)
class PartnerFilters:
    query: str = ""
    category: str = ""
    region: Region | None = None
    state: str = ""  # "", "active", "inactive"


def partner_list(*, user: User, filters: PartnerFilters) -> QuerySet[Partner]:
    qs = (
        partners_managed_by(user)
        .select_related("managed_by")
        .prefetch_related("regions")
        .annotate(cashier_count=Count("cashiers", filter=Q(cashiers__user__is_active=True), distinct=True))
    )
    for word in filters.query.split():
        qs = qs.filter(name__icontains=word)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.region is not None:
        # Valid in the region: named for it, or valid everywhere (what the region's members see).
        in_region = Partner.regions.through.objects.filter(region=filters.region).values("partner_id")
        qs = qs.filter(Q(is_union_wide=True) | Q(pk__in=in_region))
    if filters.state == "active":
        qs = qs.filter(partner_active_q(timezone.localdate()))
    elif filters.state == "inactive":
        qs = qs.exclude(partner_active_q(timezone.localdate()))
    return qs.order_by("name", "id")


def get_partner_for_user(user: User, pk: int) -> Partner:
    """A partner the user manages; 404 for anyone else's, so another region's partners are not even confirmed."""
    try:
        return partners_managed_by(user).select_related("managed_by__region").get(pk=pk)
    except Partner.DoesNotExist:
        raise Http404 from None


def regions_user_may_select(user: User) -> QuerySet[Region]:
    """The regions the user may make a partner valid in: any for central office, its own for regional staff."""
    if user.role == Role.CENTRAL:
        return Region.objects.order_by("code")
    if user.role == Role.REGIONAL and user.organization_id:
        return Region.objects.filter(pk=user.organization.region_id)
    return Region.objects.none()


def regional_orgs_managing_partners() -> QuerySet[Organization]:
    """The organisations central office may hand a partner to."""
    return Organization.objects.filter(level=Organization.Level.REGIONAL, is_active=True).order_by("name")


def partner_cashiers(*, partner: Partner) -> QuerySet[Cashier]:
    return (
        Cashier.objects.filter(partner=partner)
        .select_related("user")
        .order_by("-user__is_active", "user__last_name", "user__first_name", "id")
    )


def get_partner_cashier(*, partner: Partner, pk: int) -> Cashier:
    try:
        return Cashier.objects.select_related("user", "partner").get(partner=partner, pk=pk)
    except Cashier.DoesNotExist:
        raise Http404 from None


def partner_tokens(*, partner: Partner) -> QuerySet[PartnerToken]:
    return PartnerToken.objects.filter(partner=partner).select_related("created_by", "revoked_by")


def get_partner_logo(pk: int):
    """The stored logo of a partner (any signed-in user may see a partner's logo); 404 if there is none."""
    partner = Partner.objects.filter(pk=pk).only("logo").first()
    if partner is None or not partner.logo:
        raise Http404
    return partner.logo


def get_partner_token(*, partner: Partner, pk: int) -> PartnerToken:
    try:
        return PartnerToken.objects.select_related("partner").get(partner=partner, pk=pk)
    except PartnerToken.DoesNotExist:
        raise Http404 from None


# --- anti-fraud: the central report ---------------------------------------------------------------------------------
# Every query starts from a time window on an indexed timestamp (CardCheck.checked_at, Purchase.created_at,
# AccessLog (action, created_at)) and returns a bounded number of rows, so the report costs the same whatever the
# size of the history.

FRAUD_PARTNERS_PER_HOUR = 3  # a card verified at this many different partners within an hour is suspicious
FRAUD_HOUR = datetime.timedelta(hours=1)
FRAUD_NEAR_LIMIT_BP = 500  # a day's purchases within 5 % under the partner's daily limit
FRAUD_DAYS_DEFAULT = 7
FRAUD_DAYS_MAX = 31
FRAUD_CANDIDATE_CARDS_MAX = 2000
FRAUD_ROWS_MAX = 100
FRAUD_EVENTS_MAX = 500


def fraud_window_start(*, days: int, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=max(1, min(days, FRAUD_DAYS_MAX)))


@dataclass
class CardBurst:
    """A card's busiest hour: how many different partners verified it within one hour."""

    card: Card
    partners: int
    started_at: datetime.datetime
    ended_at: datetime.datetime
    partner_names: list[str] = field(default_factory=list)

    @property
    def masked(self) -> str:
        return card_number_masked(self.card.number)


def busiest_hour(events: list[tuple[datetime.datetime, int]]) -> tuple[int, datetime.datetime, datetime.datetime, set]:
    """Over (time, partner id) in time order: the most different partners within any one hour, that hour's first
    and last check and the partners (a sliding window, so an hour across a clock boundary counts too)."""
    window: deque[tuple[datetime.datetime, int]] = deque()
    counts: Counter[int] = Counter()
    best: tuple[int, datetime.datetime, datetime.datetime, set] = (0, events[0][0], events[0][0], set())
    for at, partner_id in events:
        window.append((at, partner_id))
        counts[partner_id] += 1
        while at - window[0][0] > FRAUD_HOUR:
            _old_at, old_partner = window.popleft()
            counts[old_partner] -= 1
            if not counts[old_partner]:
                del counts[old_partner]
        if len(counts) > best[0]:
            best = (len(counts), window[0][0], at, set(counts))
    return best


def fraud_card_bursts(*, since: datetime.datetime, min_partners: int = FRAUD_PARTNERS_PER_HOUR) -> list[CardBurst]:
    """Cards verified at `min_partners` or more different partners within one hour since `since`.

    One grouped range scan of the window finds the candidates (at least that many partners in the whole window);
    only their checks are then read, by the (card, checked_at) index, and the hour is found in Python."""
    candidates = list(
        CardCheck.objects.filter(checked_at__gte=since, card__isnull=False)
        .values("card_id")
        .annotate(partners=Count("partner_id", distinct=True))
        .filter(partners__gte=min_partners)
        .order_by("-partners", "card_id")
        .values_list("card_id", flat=True)[:FRAUD_CANDIDATE_CARDS_MAX]
    )
    if not candidates:
        return []
    events: dict[int, list[tuple[datetime.datetime, int]]] = {}
    checks = (
        CardCheck.objects.filter(card_id__in=candidates, checked_at__gte=since)
        .order_by("card_id", "checked_at", "id")
        .values_list("card_id", "checked_at", "partner_id")
    )
    for card_id, checked_at, partner_id in checks.iterator(chunk_size=5000):
        events.setdefault(card_id, []).append((checked_at, partner_id))
    found = []
    for card_id, card_events in events.items():
        partners, started_at, ended_at, partner_ids = busiest_hour(card_events)
        if partners >= min_partners:
            found.append((card_id, partners, started_at, ended_at, partner_ids))
    found.sort(key=lambda row: (-row[1], -row[3].timestamp()))
    found = found[:FRAUD_ROWS_MAX]
    cards = Card.objects.select_related("organization").in_bulk([row[0] for row in found])
    names = dict(Partner.objects.filter(pk__in={pk for row in found for pk in row[4]}).values_list("pk", "name"))
    return [
        CardBurst(cards[card_id], partners, started_at, ended_at, sorted(names[pk] for pk in partner_ids))
        for card_id, partners, started_at, ended_at, partner_ids in found
    ]


@dataclass
class NearLimitDay:
    """One card's purchases at one partner on one day that came just under the partner's daily limit."""

    card: Card
    partner: Partner
    day: datetime.date
    total: int
    purchases: int

    @property
    def share_percent(self) -> int:
        return self.total * 100 // self.partner.daily_amount_per_card

    @property
    def total_text(self) -> str:
        return roubles_text(self.total)

    @property
    def limit_text(self) -> str:
        return roubles_text(self.partner.daily_amount_per_card)

    @property
    def masked(self) -> str:
        return card_number_masked(self.card.number)


def fraud_near_limit(*, since: datetime.datetime, near_limit_bp: int = FRAUD_NEAR_LIMIT_BP) -> list[NearLimitDay]:
    """Days on which a card's accepted purchases at a partner (one or several) summed to within `near_limit_bp`
    under the partner's daily amount limit: the pattern of someone who knows the limit and stays below it."""
    limit = F("partner__daily_amount_per_card")
    rows = list(
        Purchase.objects.filter(
            created_at__gte=since, status=Purchase.Status.ACCEPTED, partner__daily_amount_per_card__gt=0
        )
        .annotate(day=TruncDate("created_at"))
        .values("card_id", "partner_id", "day", "partner__daily_amount_per_card")
        .annotate(total=Sum("amount"), purchases=Count("id"))
        .filter(total__lte=limit, total__gte=limit * (BASIS_POINTS - near_limit_bp) / BASIS_POINTS)
        .order_by("-day", "-purchases", "-total", "card_id")[:FRAUD_ROWS_MAX]
    )
    cards = Card.objects.select_related("organization").in_bulk({row["card_id"] for row in rows})
    partners = Partner.objects.in_bulk({row["partner_id"] for row in rows})
    return [
        NearLimitDay(cards[row["card_id"]], partners[row["partner_id"]], row["day"], row["total"], row["purchases"])
        for row in rows
    ]


# What each refusal code of discounts.services counts as in the report.
REFUSAL_KINDS = {
    "duplicate_receipt": "duplicates",
    "daily_count_limit": "limits",
    "daily_amount_limit": "limits",
    "card_blocked": "blocked",
    "member_left": "blocked",
    "card_unknown": "unknown",
    "card_number_invalid": "unknown",
}
REFUSAL_ACTIONS = (AccessLog.Action.VERIFY, AccessLog.Action.PURCHASE, AccessLog.Action.REVERSAL)


@dataclass
class PartnerRefusals:
    """A partner's refusals in the window, by kind, and its verifications that answered "not valid"."""

    partner: Partner
    duplicates: int = 0
    limits: int = 0
    blocked: int = 0
    unknown: int = 0
    other: int = 0
    checks_blocked: int = 0
    checks_unknown: int = 0

    @property
    def refusals(self) -> int:
        return self.duplicates + self.limits + self.blocked + self.unknown + self.other


def _refusals_logged(since: datetime.datetime) -> QuerySet[AccessLog]:
    """The partner calls that the services refused, as the access log kept them (by the (action, time) index)."""
    return AccessLog.objects.filter(
        action__in=REFUSAL_ACTIONS, created_at__gte=since, object_type="discounts.partner", details__has_key="refused"
    )


def fraud_refusals_by_partner(*, since: datetime.datetime) -> list[PartnerRefusals]:
    by_partner: dict[int, PartnerRefusals] = {}
    partners = {}

    def row_of(partner_id: int) -> PartnerRefusals:
        if partner_id not in by_partner:
            by_partner[partner_id] = PartnerRefusals(partner=partners.get(partner_id))
        return by_partner[partner_id]

    logged = (
        _refusals_logged(since)
        .annotate(code=KT("details__refused"))
        .values("object_id", "code")
        .annotate(count=Count("id"))
        .order_by()
    )
    checks = (
        CardCheck.objects.filter(checked_at__gte=since)
        .exclude(result=CardCheck.Result.VALID)
        .values("partner_id", "result")
        .annotate(count=Count("id"))
        .order_by()
    )
    logged, checks = list(logged), list(checks)
    partner_ids = {int(row["object_id"]) for row in logged if row["object_id"].isdigit()}
    partner_ids |= {row["partner_id"] for row in checks}
    partners.update(Partner.objects.in_bulk(partner_ids))
    for row in logged:
        if row["object_id"].isdigit() and int(row["object_id"]) in partners:
            refusals = row_of(int(row["object_id"]))
            kind = REFUSAL_KINDS.get(row["code"], "other")
            setattr(refusals, kind, getattr(refusals, kind) + row["count"])
    for row in checks:
        refusals = row_of(row["partner_id"])
        if row["result"] == CardCheck.Result.BLOCKED:
            refusals.checks_blocked += row["count"]
        else:
            refusals.checks_unknown += row["count"]
    rows = sorted(
        by_partner.values(),
        key=lambda row: (-row.refusals, -(row.checks_blocked + row.checks_unknown), row.partner.name),
    )
    return rows[:FRAUD_ROWS_MAX]


def fraud_partner_refusals(*, partner: Partner, since: datetime.datetime) -> list[AccessLog]:
    """The latest refusals of one partner's calls in the window, newest first."""
    return list(
        _refusals_logged(since).filter(object_id=str(partner.pk)).order_by("-created_at", "-id")[:FRAUD_EVENTS_MAX]
    )


def get_card_for_fraud_report(user: User, pk: int) -> Card:
    """Any card, for central office's drill-down (the view admits central office only)."""
    if user.role != Role.CENTRAL:
        raise Http404
    try:
        return Card.objects.select_related("organization", "member").get(pk=pk)
    except Card.DoesNotExist:
        raise Http404 from None


def get_partner_for_fraud_report(user: User, pk: int) -> Partner:
    if user.role != Role.CENTRAL:
        raise Http404
    try:
        return Partner.objects.get(pk=pk)
    except Partner.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class CardEvent:
    """A verification or a purchase of a card at a partner, for the drill-down's timeline."""

    at: datetime.datetime
    partner: Partner
    check: CardCheck | None = None
    purchase: Purchase | None = None

    @property
    def amount_text(self) -> str:
        return roubles_text(self.purchase.amount) if self.purchase else ""


def fraud_card_events(*, card: Card, since: datetime.datetime) -> list[CardEvent]:
    """The card's verifications and purchases at every partner since `since`, newest first (by the card indexes)."""
    checks = (
        CardCheck.objects.filter(card=card, checked_at__gte=since)
        .select_related("partner")
        .order_by("-checked_at", "-id")[:FRAUD_EVENTS_MAX]
    )
    purchases = (
        Purchase.objects.filter(card=card, created_at__gte=since)
        .select_related("partner")
        .order_by("-created_at", "-id")[:FRAUD_EVENTS_MAX]
    )
    events = [CardEvent(at=check.checked_at, partner=check.partner, check=check) for check in checks]
    events += [CardEvent(at=purchase.created_at, partner=purchase.partner, purchase=purchase) for purchase in purchases]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:FRAUD_EVENTS_MAX]


# --- the partner API: a partner's own purchases ---------------------------------------------------------------------


def purchases_of_partner(*, partner: Partner) -> QuerySet[Purchase]:
    """The partner's purchases, newest first (the (partner, created_at) index): all that its API key may read."""
    return Purchase.objects.filter(partner=partner).order_by("-created_at", "-id")


def get_purchase_for_partner(*, partner: Partner, receipt_id: str) -> Purchase:
    """The partner's purchase by its receipt id; 404 for another partner's receipt, as for one that does not exist."""
    try:
        return Purchase.objects.select_related("partner").get(partner=partner, receipt_id=receipt_id.strip())
    except Purchase.DoesNotExist:
        raise Http404 from None


# --- the members' catalogue -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueScope:
    """Whose region the catalogue shows: a member's organisation, a staff user's one, or None for every region
    (central office)."""

    organization: Organization | None
    member: Member | None = None


def catalogue_scope_for_user(user: User) -> CatalogueScope:
    """Members see their region's catalogue; staff the catalogue of their organisation's region, as their members
    see it; central office every partner. A member account without a member record, or staff without an
    organisation, has no catalogue (404)."""
    if user.role == Role.MEMBER:
        member = member_of_user(user)
        if member is None:
            raise Http404
        return CatalogueScope(organization=member.organization, member=member)
    if user.role in ORG_STAFF_ROLES and user.organization_id:
        return CatalogueScope(organization=None if user.role == Role.CENTRAL else user.organization)
    raise Http404


def organization_region_id(org: Organization) -> Subquery:
    """The region (субъект РФ) of an organisation as a subquery: the nearest region set on it or above it in the tree,
    so a ППО whose own row has none still gets its regional organisation's. One indexed lookup by path."""
    return Subquery(
        Organization.objects.filter(path__in=org.ancestor_paths(), region__isnull=False)
        .order_by("-depth")
        .values("region_id")[:1]
    )


def catalogue_partners(*, scope: CatalogueScope, today: datetime.date | None = None) -> QuerySet[Partner]:
    """Partners active today that are union-wide or valid in the scope's region: one query, region included."""
    partners = Partner.objects.filter(partner_active_q(today or timezone.localdate()))
    if scope.organization is None:
        return partners
    in_region = Partner.regions.through.objects.filter(region_id=organization_region_id(scope.organization))
    return partners.filter(Q(is_union_wide=True) | Q(pk__in=in_region.values("partner_id")))


def get_catalogue_partner(*, scope: CatalogueScope, pk: int) -> Partner:
    """A partner of the scope's catalogue; one of another region, or not active today, does not exist (404)."""
    partner = catalogue_partners(scope=scope).prefetch_related("regions").filter(pk=pk).first()
    if partner is None:
        raise Http404
    return partner


@dataclass(frozen=True)
class CategoryChip:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class Catalogue:
    partners: list[Partner]  # what the page shows: found by the search, in the chosen category
    categories: list[CategoryChip]  # categories among what the search found, with counts
    total: int  # partners in the scope before any search


def _folded(text: str) -> str:
    return text.casefold().replace("ё", "е")


def catalogue_page(*, scope: CatalogueScope, search: str = "", category: str = "") -> Catalogue:
    """The catalogue page: the scope's partners in one query, then searched by name and split by category here.

    The search runs in Python, not in SQL: a region's catalogue is a few hundred partners at most, and Russian
    case folding (and ё = е) then does not depend on the database's collation (SQLite folds only ASCII)."""
    partners = list(catalogue_partners(scope=scope).order_by("name", "id"))
    needle = _folded(search.strip())
    found = [partner for partner in partners if needle in _folded(partner.name)] if needle else partners
    counts = Counter(partner.category for partner in found)
    chips = [CategoryChip(value, label, counts[value]) for value, label in Partner.Category.choices if value in counts]
    shown = [partner for partner in found if partner.category == category] if category else found
    return Catalogue(partners=shown, categories=chips, total=len(partners))


# --- a member's cashback --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerConsentState:
    """Whether partners accept the member's card as far as consent goes: the member's side of card_state."""

    given: bool
    withdrawn_on: datetime.date | None = None  # the last withdrawal, when there is no valid consent


def partner_consent_state(member: Member) -> PartnerConsentState:
    latest = (
        member.consents.filter(purpose=Consent.Purpose.PARTNERS)
        .order_by(F("withdrawn_on").desc(nulls_first=True), "-id")  # the valid one, else the last withdrawn
        .values_list("withdrawn_on", flat=True)
    )
    withdrawals = list(latest[:1])
    if withdrawals and withdrawals[0] is None:
        return PartnerConsentState(given=True)
    return PartnerConsentState(given=False, withdrawn_on=withdrawals[0] if withdrawals else None)


def cashback_account_of(member: Member) -> CashbackAccount:
    """The member's account; an unsaved empty one before the first purchase (a read never creates rows)."""
    return CashbackAccount.objects.filter(member=member).first() or CashbackAccount(member=member)


class CashbackState:
    """Where a purchase's cashback is, as the member's history shows it."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    PAID = "paid"
    REVERSED = "reversed"


def cashback_history(*, member: Member) -> QuerySet[Purchase]:
    """The member's purchases, newest first, each with the running sum of confirmed cashback up to it in the order
    of confirmation (`confirmed_through`): payouts take confirmed cashback oldest first, so a purchase is paid when
    the account's paid total covers it. The window is computed over all the member's purchases before paging."""
    confirmed_cashback = Case(
        When(status=Purchase.Status.ACCEPTED, confirmed_at__isnull=False, then=F("cashback")), default=Value(0)
    )
    return (
        Purchase.objects.filter(member=member)
        .select_related("partner")
        .annotate(
            confirmed_through=Window(
                Sum(confirmed_cashback), order_by=[F("confirmed_at").asc(nulls_last=True), F("id").asc()]
            )
        )
        .order_by("-created_at", "-id")
    )


def cashback_states_mark(purchases, *, account: CashbackAccount) -> list[Purchase]:
    """Set `cashback_state` on each purchase of a cashback_history page; pending, confirmed and paid purchases
    add up to the account's three balances."""
    marked = []
    for purchase in purchases:
        if purchase.status == Purchase.Status.REVERSED:
            purchase.cashback_state = CashbackState.REVERSED
        elif purchase.confirmed_at is None:
            purchase.cashback_state = CashbackState.PENDING
        elif purchase.confirmed_through <= account.paid:
            purchase.cashback_state = CashbackState.PAID
        else:
            purchase.cashback_state = CashbackState.CONFIRMED
        marked.append(purchase)
    return marked


def cashback_payouts(*, account: CashbackAccount) -> QuerySet[PayoutLine]:
    if account.pk is None:
        return PayoutLine.objects.none()
    return PayoutLine.objects.filter(account=account).select_related("batch").order_by("-batch__month", "-id")


# --- the cashier's page ---------------------------------------------------------------------------------------------


def cashier_of_user(user: User) -> Cashier | None:
    """The cashier record (and partner) of a cashier's account; None when central office has not assigned one."""
    if not user.is_authenticated or user.role != Role.CASHIER:
        return None
    return Cashier.objects.select_related("partner").filter(user=user).first()


def cashier_purchases(*, cashier: Cashier) -> QuerySet[Purchase]:
    """Every purchase the cashier may see: those of the cashier's own partner."""
    return Purchase.objects.filter(partner_id=cashier.partner_id).select_related("card")


def cashier_purchases_today(*, cashier: Cashier, now: datetime.datetime | None = None) -> QuerySet[Purchase]:
    day_start = timezone.localtime(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return cashier_purchases(cashier=cashier).filter(created_at__gte=day_start).order_by("-created_at", "-id")


def cashier_purchase_by_receipt(*, cashier: Cashier, receipt_id: str) -> Purchase | None:
    receipt_id = receipt_id.strip()
    if not receipt_id:
        return None
    return cashier_purchases(cashier=cashier).filter(receipt_id=receipt_id).first()


def get_purchase_for_cashier(*, cashier: Cashier, pk: int) -> Purchase:
    """A purchase of the cashier's partner; another partner's does not exist for the cashier (404)."""
    purchase = cashier_purchases(cashier=cashier).select_related("partner").filter(pk=pk).first()
    if purchase is None:
        raise Http404
    return purchase


# --- monthly payouts (central office) -------------------------------------------------------------------------------


def payout_batches(*, user: User) -> QuerySet[PayoutBatch]:
    """Payout registers: central office's alone; nobody else has any."""
    if user.role != Role.CENTRAL:
        return PayoutBatch.objects.none()
    return PayoutBatch.objects.select_related("created_by").order_by("-month")


def get_payout_batch_for_user(user: User, pk: int) -> PayoutBatch:
    batch = payout_batches(user=user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def get_payout_line_for_user(user: User, *, batch: PayoutBatch, pk: int) -> PayoutLine:
    """A line of this batch (a line of another batch under this batch's address does not exist)."""
    line = PayoutLine.objects.filter(batch__in=payout_batches(user=user), batch=batch, pk=pk).first()
    if line is None:
        raise Http404
    return line


def payout_lines(*, batch: PayoutBatch) -> QuerySet[PayoutLine]:
    return batch.lines.select_related("account__member__organization").order_by("id")


@dataclass(frozen=True)
class PayoutTotals:
    paid_count: int
    paid_total: int
    returned_count: int
    returned_total: int


def payout_batch_totals(*, batch: PayoutBatch) -> PayoutTotals:
    """What of the batch went out and what the bank returned, in one query."""
    returned = Q(status=PayoutLine.Status.RETURNED)
    sums = batch.lines.aggregate(
        returned_count=Count("id", filter=returned),
        returned_total=Sum("amount", filter=returned, default=0),
        paid_count=Count("id", filter=~returned),
        paid_total=Sum("amount", filter=~returned, default=0),
    )
    return PayoutTotals(**sums)


def payout_accounts_waiting_for_details(*, user: User) -> QuerySet[CashbackAccount]:
    """Members with enough confirmed cashback for a payout and no phone to pay it to: the next register skips them
    until they give one."""
    if user.role != Role.CENTRAL:
        return CashbackAccount.objects.none()
    return (
        CashbackAccount.objects.filter(
            confirmed__gte=max(settings.CASHBACK_PAYOUT_MINIMUM, 1),
            payout_phone="",
            member__processing_blocked_on__isnull=True,
        )
        .select_related("member__organization")
        .order_by("-confirmed", "id")
    )
