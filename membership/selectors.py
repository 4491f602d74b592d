import base64
import datetime
import json
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ORG_STAFF_ROLES, User
from membership.models import Consent, Member, MemberEvent, MemberImport, MemberTransfer, search_name_of
from registry.models import Organization
from registry.selectors import org_is_visible_to, orgs_visible_to

MEMBER_PAGE_SIZE = 50
# Counting is exact up to this many rows; past it the list says "more than".
MEMBER_COUNT_LIMIT = 1_000

# Levels at which members are on the register.
MEMBER_ORG_LEVELS = (Organization.Level.PRIMARY, Organization.Level.UNIT)


class AgeGroup:
    YOUTH = "youth"  # до 35 лет: the union's youth policy threshold
    MIDDLE = "middle"
    SENIOR = "senior"

    CHOICES = ((YOUTH, _("до 35 лет")), (MIDDLE, _("35–54 года")), (SENIOR, _("55 лет и старше")))


# name: (ordering fields, their direction as +1/-1); every ordering ends with id so the keyset is total.
MEMBER_ORDERINGS = {
    "name": (("search_name", 1), ("id", 1)),
    "-joined": (("org_joined_on", -1), ("id", -1)),
    "birth": (("birth_date", 1), ("id", 1)),
}


@dataclass(frozen=True)
class MemberFilters:
    query: str = ""
    organization_id: int | None = None
    category: str = ""
    status: str = Member.Status.ACTIVE
    age_group: str = ""
    teaching: str = ""  # "", "1", "0"
    card: str = ""  # "", "valid", "none": whether the member holds a valid union card
    ordering: str = "name"


def user_can_manage_members(user: User, org: Organization) -> bool:
    """Admit, edit, transfer and record leaving: the chair and the apparatus above, within their subtree."""
    return user.role in ORG_STAFF_ROLES and org.level in MEMBER_ORG_LEVELS and org_is_visible_to(user, org)


# Up to this many organisations a scope is passed to the database as a list of ids, so that the planner sees
# them and walks the (organization, search_name, id) index in order; a larger scope stays a subquery.
SMALL_SCOPE_ORGS = 200


@dataclass(frozen=True)
class MemberScope:
    members: QuerySet[Member]
    # A handful of organisations (a ППО with its units): their rows are few, sorting them beats walking the
    # union-wide name index in order and skipping everybody else's, which the planner would otherwise try.
    sort_rows: bool = False


def _members_of(orgs: QuerySet[Organization]) -> MemberScope:
    ids = list(orgs.values_list("id", flat=True)[: SMALL_SCOPE_ORGS + 1])
    if len(ids) == 1:
        return MemberScope(Member.objects.filter(organization_id=ids[0]))
    if len(ids) <= SMALL_SCOPE_ORGS:
        return MemberScope(Member.objects.filter(organization_id__in=ids), sort_rows=True)
    return MemberScope(Member.objects.filter(organization__in=orgs.values("id")))


def _member_scope(user: User) -> MemberScope:
    if not user.is_authenticated or user.role not in ORG_STAFF_ROLES or user.organization_id is None:
        return MemberScope(Member.objects.none())
    if user.organization.depth == 1:
        # The central office sees the whole union: no need to join the tree at all.
        return MemberScope(Member.objects.all())
    return _members_of(orgs_visible_to(user))


def members_visible_to(user: User) -> QuerySet[Member]:
    return _member_scope(user).members


def get_member_for_user(user: User, pk: int) -> Member:
    try:
        return members_visible_to(user).select_related("organization", "organization__region", "user").get(pk=pk)
    except Member.DoesNotExist:
        raise Http404 from None


def _birth_date_bounds(age_group: str, today: datetime.date) -> Q:
    def years_ago(years: int) -> datetime.date:
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    if age_group == AgeGroup.YOUTH:
        return Q(birth_date__gt=years_ago(35))
    if age_group == AgeGroup.MIDDLE:
        return Q(birth_date__lte=years_ago(35), birth_date__gt=years_ago(55))
    if age_group == AgeGroup.SENIOR:
        return Q(birth_date__lte=years_ago(55))
    return Q()


def member_list(*, user: User, filters: MemberFilters) -> QuerySet[Member]:
    """Members the user may see, filtered; ordered by filters.ordering with id as the tie-breaker."""
    scope = _member_scope(user)
    if filters.organization_id:
        org = Organization.objects.filter(pk=filters.organization_id).first()
        if org is None or not org_is_visible_to(user, org):
            return Member.objects.none()
        scope = _members_of(Organization.objects.subtree_of(org))
    qs = scope.members
    query = search_name_of(filters.query, "")
    if query:
        qs = qs.filter(search_name__startswith=query)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.teaching in ("0", "1"):
        qs = qs.filter(is_teaching_staff=filters.teaching == "1")
    if filters.age_group:
        qs = qs.filter(_birth_date_bounds(filters.age_group, timezone.localdate()))
    if filters.card in ("valid", "none"):
        # "cards" is the reverse name of the cards app's Card.member; a member holds at most one valid card.
        holds_valid_card = Q(cards__status="active")
        qs = qs.filter(holds_valid_card) if filters.card == "valid" else qs.exclude(holds_valid_card)
    ordering = MEMBER_ORDERINGS.get(filters.ordering, MEMBER_ORDERINGS["name"])
    order_by = []
    for name, direction in ordering:
        # The same values as the column, but no index matches the expression: the rows of the scope get sorted.
        expression = Concat(F(name), Value("")) if scope.sort_rows and name == "search_name" else F(name)
        order_by.append(expression.asc() if direction > 0 else expression.desc())
    # The page's organisations come in a second small query: a join lets the planner walk the whole tree table.
    return qs.prefetch_related("organization").order_by(*order_by)


@dataclass
class KeysetPage:
    """One page of a keyset-paginated list: rows plus opaque cursors for the neighbouring pages."""

    rows: list = field(default_factory=list)
    next_cursor: str = ""
    previous_cursor: str = ""


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def _decode_cursor(cursor: str) -> list | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        return None
    return values if isinstance(values, list) else None


def _after(ordering, values, *, forward: bool) -> Q:
    """Rows strictly after `values` in `ordering` (or before it when not forward): a row-value comparison."""
    condition = Q()
    for position in range(len(ordering) - 1, -1, -1):
        name, direction = ordering[position]
        goes_up = (direction > 0) == forward
        step = Q(**{f"{name}__{'gt' if goes_up else 'lt'}": values[position]})
        equal_prefix = Q(**{ordering[i][0]: values[i] for i in range(position)})
        condition = (equal_prefix & step) | condition if position < len(ordering) - 1 else equal_prefix & step
    return condition


def keyset_page(qs: QuerySet, *, ordering_name: str, after: str = "", before: str = "", size: int = MEMBER_PAGE_SIZE):
    """Page through `qs` (already ordered by MEMBER_ORDERINGS[ordering_name]) without OFFSET."""
    ordering = MEMBER_ORDERINGS.get(ordering_name, MEMBER_ORDERINGS["name"])
    names = [name for name, _ in ordering]
    forward = not before
    cursor_values = _decode_cursor(before or after) if (before or after) else None
    if cursor_values is not None and len(cursor_values) == len(ordering):
        qs = qs.filter(_after(ordering, cursor_values, forward=forward))
    if not forward:
        qs = qs.reverse()
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    page = KeysetPage(rows=rows)
    if rows:
        first = [_cursor_value(getattr(rows[0], n)) for n in names]
        last = [_cursor_value(getattr(rows[-1], n)) for n in names]
        if forward:
            page.next_cursor = _encode_cursor(last) if has_more else ""
            page.previous_cursor = _encode_cursor(first) if cursor_values else ""
        else:
            page.previous_cursor = _encode_cursor(first) if has_more else ""
            page.next_cursor = _encode_cursor(last)
    return page


def _cursor_value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def member_count(qs: QuerySet[Member]) -> tuple[int, bool]:
    """(count, exact): exact up to MEMBER_COUNT_LIMIT, so the count never costs a scan of the whole union."""
    total = qs.select_related(None).order_by().values("id")[: MEMBER_COUNT_LIMIT + 1].count()
    return min(total, MEMBER_COUNT_LIMIT), total <= MEMBER_COUNT_LIMIT


@dataclass(frozen=True)
class PossibleDuplicate:
    member_id: int
    full_name: str
    birth_date: datetime.date
    organization_name: str
    region_name: str
    status_label: str


def member_possible_duplicates(
    *, last_name: str, first_name: str, middle_name: str, birth_date: datetime.date, exclude_pk: int | None = None
) -> list[PossibleDuplicate]:
    """Anyone in the whole union with the same name and date of birth; says where, not who else they are."""
    matches = (
        Member.objects.filter(search_name=search_name_of(last_name, first_name, middle_name), birth_date=birth_date)
        .exclude(pk=exclude_pk)
        .select_related("organization", "organization__region")[:10]
    )
    return [
        PossibleDuplicate(
            member_id=match.pk,
            full_name=match.full_name,
            birth_date=match.birth_date,
            organization_name=match.organization.display_name,
            region_name=match.organization.region.name if match.organization.region else "",
            status_label=match.get_status_display(),
        )
        for match in matches
    ]


def member_history(*, member: Member) -> QuerySet[MemberEvent]:
    return member.events.select_related("by", "organization").order_by("-created_at", "-id")


def member_pending_transfer(*, member: Member) -> MemberTransfer | None:
    return member.transfers.filter(status=MemberTransfer.Status.PENDING).select_related("to_organization").first()


def incoming_transfers(*, user: User) -> QuerySet[MemberTransfer]:
    """Transfers waiting for the user's organisations to accept them."""
    return (
        MemberTransfer.objects.filter(
            status=MemberTransfer.Status.PENDING, to_organization__in=orgs_visible_to(user).values("id")
        )
        .select_related("member", "from_organization", "from_organization__region", "to_organization", "requested_by")
        .order_by("requested_at", "id")
    )


def get_transfer_for_receiver(user: User, pk: int) -> MemberTransfer:
    try:
        return incoming_transfers(user=user).get(pk=pk)
    except MemberTransfer.DoesNotExist:
        raise Http404 from None


def transfer_target_search(*, query: str, exclude: Organization, limit: int = 20) -> QuerySet[Organization]:
    """Primary organisations of the whole union by name or ИНН: names of organisations are not personal data."""
    query = query.strip()
    if len(query) < 3:
        return Organization.objects.none()
    condition = Q(name__icontains=query) | Q(short_name__icontains=query)
    if query.isdigit():
        condition = Q(inn__startswith=query)
    return (
        Organization.objects.filter(condition, level__in=MEMBER_ORG_LEVELS, is_active=True)
        .exclude(pk=exclude.pk)
        .select_related("region", "parent")
        .order_by("name")[:limit]
    )


def transfer_target(*, pk: int, exclude: Organization) -> Organization | None:
    return (
        Organization.objects.filter(pk=pk, level__in=MEMBER_ORG_LEVELS, is_active=True).exclude(pk=exclude.pk).first()
    )


def consent_valid(purpose: str, *, member_field: str = "pk") -> Exists:
    """Whether the member has a valid consent for `purpose` (given and not withdrawn), as a subquery to fold into the
    query that loads the member or its card (`member_field` names the member's id there): the partial unique index
    one_active_consent_per_purpose answers it with one index probe, and no query of its own is sent."""
    return Exists(Consent.objects.filter(member_id=OuterRef(member_field), purpose=purpose, withdrawn_on__isnull=True))


def member_has_consent(*, member: Member, purpose: str) -> bool:
    return member.consents.filter(purpose=purpose, withdrawn_on__isnull=True).exists()


def get_member_consent(*, member: Member, pk: int) -> Consent:
    try:
        return member.consents.get(pk=pk)
    except Consent.DoesNotExist:
        raise Http404 from None


def member_of_user(user: User) -> Member | None:
    """The member record behind a member's own account (self-service)."""
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("organization", "organization__region").filter(user=user).first()


def get_import_for_user(user: User, pk: int) -> MemberImport:
    job = MemberImport.objects.select_related("organization", "uploaded_by").filter(pk=pk).first()
    if job is None or not user_can_manage_members(user, job.organization):
        raise Http404
    return job


def recent_imports(*, organization: Organization, limit: int = 10) -> QuerySet[MemberImport]:
    return MemberImport.objects.filter(organization=organization).select_related("uploaded_by")[:limit]
