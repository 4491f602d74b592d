import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import APPARATUS_ROLES, Role, User
from registry.models import Chair, ChairTraining, Organization, Region

# Chairs are expected to refresh their training at least this often.
CHAIR_TRAINING_PERIOD_DAYS = 3 * 365
# A term ending within this many days is shown as "expiring" in the card index.
CHAIR_TERM_WARNING_DAYS = 180


def scope_root_of(user: User) -> Organization | None:
    """The organisation whose subtree the user may see (the one the user works in), or None for a user who sees no
    organisation's data."""
    if not user.is_authenticated or not user.is_org_staff or user.organization_id is None:
        return None
    return user.organization


def orgs_visible_to(user: User) -> QuerySet[Organization]:
    """Every organisation the user may see: the subtree of the organisation the user works in."""
    root = scope_root_of(user)
    return Organization.objects.none() if root is None else Organization.objects.subtree_of(root)


def org_is_visible_to(user: User, org: Organization) -> bool:
    root = scope_root_of(user)
    return root is not None and org.is_in_subtree_of(root)


def get_org_for_user(user: User, pk: int) -> Organization:
    try:
        return orgs_visible_to(user).select_related("parent", "region").get(pk=pk)
    except Organization.DoesNotExist:
        raise Http404 from None


def org_ancestors_for_user(user: User, org: Organization) -> list[Organization]:
    """Breadcrumbs: the ancestors of `org` that the user may see, from the top of the user's scope down."""
    if not org_is_visible_to(user, org):
        return []
    return list(
        Organization.objects.ancestors_of(org)
        .filter(path__gte=user.organization.path)
        .only("id", "name", "short_name", "path", "depth", "level")
    )


def org_children(*, org: Organization) -> QuerySet[Organization]:
    """Direct children in the order of the tree page; count them and page them before org_children_details."""
    return (
        Organization.objects.filter(parent=org)
        .only("id", "name", "short_name", "level", "institution_type", "inn", "is_active", "path")
        .order_by("-is_active", "level", "name", "id")
    )


def org_children_details(children: list[Organization]) -> list[Organization]:
    """One page of children with their own children counted and whether a chair is in office, in one query."""
    today = timezone.localdate()
    current_chair = Chair.objects.filter(organization=OuterRef("pk"), term_start__lte=today).filter(
        Q(term_end__isnull=True) | Q(term_end__gte=today)
    )
    details = (
        Organization.objects.filter(pk__in=[child.pk for child in children])
        .annotate(children_count=Count("children"), has_current_chair=Exists(current_chair))
        .values_list("id", "children_count", "has_current_chair")
    )
    by_id = {pk: (count, has_chair) for pk, count, has_chair in details}
    for child in children:
        child.children_count, child.has_current_chair = by_id.get(child.pk, (0, False))
    return children


SUBTREE_COUNTS_CACHE_SECONDS = 10 * 60


def subtree_counts_cache_key(path: str) -> str:
    return f"registry:subtree-counts:{path}"


def org_subtree_counts(*, org: Organization) -> dict[str, int]:
    """Organisations below `org` by level: one grouped range scan, cached because the top of the tree spans the
    whole union (75,000 organisations); the services that open or close an organisation clear the cache above it."""
    key = subtree_counts_cache_key(org.path)
    counts = cache.get(key)
    if counts is None:
        rows = (
            Organization.objects.subtree_of(org, include_self=False)
            .filter(is_active=True)
            .values("level")
            .annotate(total=Count("id"))
        )
        counts = {row["level"]: row["total"] for row in rows}
        cache.set(key, counts, SUBTREE_COUNTS_CACHE_SECONDS)
    return counts


def org_search(
    *, user: User, query: str, within: Organization | None = None, limit: int = 50
) -> QuerySet[Organization]:
    """Find organisations in the user's scope by name, short name or ИНН."""
    scope = Organization.objects.subtree_of(within) if within else orgs_visible_to(user)
    if within is not None and not org_is_visible_to(user, within):
        return Organization.objects.none()
    query = query.strip()
    if not query:
        return scope.none()
    condition = Q(name__icontains=query) | Q(short_name__icontains=query)
    if query.isdigit():
        condition |= Q(inn__startswith=query)
    return scope.filter(condition).select_related("parent").order_by("depth", "name")[:limit]


def org_current_chair(*, org: Organization, on: datetime.date | None = None) -> Chair | None:
    on = on or timezone.localdate()
    return (
        org.chairs.filter(term_start__lte=on)
        .filter(Q(term_end__isnull=True) | Q(term_end__gte=on))
        .order_by("-term_start")
        .first()
    )


def user_can_edit_org(user: User, org: Organization) -> bool:
    if not org_is_visible_to(user, org):
        return False
    if user.role == Role.CHAIR:
        return org.level in (Organization.Level.PRIMARY, Organization.Level.UNIT)
    return user.role in APPARATUS_ROLES


def child_levels_user_may_create(user: User, parent: Organization) -> list[str]:
    """Levels of organisation the user may open directly under `parent`."""
    if not org_is_visible_to(user, parent):
        return []
    allowed_under_parent = [
        level for level, parents in Organization.ALLOWED_PARENT_LEVELS.items() if parent.level in parents
    ]
    by_role = {
        Role.CENTRAL: {
            Organization.Level.REGIONAL,
            Organization.Level.LOCAL,
            Organization.Level.PRIMARY,
            Organization.Level.UNIT,
        },
        Role.REGIONAL: {Organization.Level.LOCAL, Organization.Level.PRIMARY, Organization.Level.UNIT},
        Role.LOCAL: {Organization.Level.PRIMARY, Organization.Level.UNIT},
        Role.CHAIR: {Organization.Level.UNIT},
    }.get(user.role, set())
    return [level for level in allowed_under_parent if level in by_role]


def user_can_manage_chairs(user: User, org: Organization) -> bool:
    """Chairs' card index is kept by the apparatus above the organisation, never by the chair alone."""
    return user.role in APPARATUS_ROLES and org_is_visible_to(user, org)


@dataclass(frozen=True)
class ChairFilters:
    query: str = ""
    term: str = ""  # "", "current", "expiring", "expired"
    training: str = ""  # "", "due"
    level: str = ""


def chair_list(*, user: User, filters: ChairFilters, on: datetime.date | None = None) -> QuerySet[Chair]:
    on = on or timezone.localdate()
    qs = Chair.objects.filter(organization__in=orgs_visible_to(user).values("id")).select_related("organization")
    if filters.query:
        words = filters.query.split()
        for word in words:
            qs = qs.filter(
                Q(last_name__istartswith=word)
                | Q(first_name__istartswith=word)
                | Q(organization__name__icontains=word)
                | Q(organization__short_name__icontains=word)
            )
    if filters.level:
        qs = qs.filter(organization__level=filters.level)
    current = Q(term_start__lte=on) & (Q(term_end__isnull=True) | Q(term_end__gte=on))
    if filters.term == "current":
        qs = qs.filter(current)
    elif filters.term == "expiring":
        qs = qs.filter(current, term_end__lte=on + datetime.timedelta(days=CHAIR_TERM_WARNING_DAYS))
    elif filters.term == "expired":
        qs = qs.filter(term_end__lt=on)
    if filters.training == "due":
        recent = ChairTraining.objects.filter(
            chair=OuterRef("pk"), completed_on__gte=on - datetime.timedelta(days=CHAIR_TRAINING_PERIOD_DAYS)
        )
        qs = qs.filter(current).exclude(Exists(recent))
    return qs.order_by("organization__path", "-term_start", "id")


def get_chair_for_user(user: User, pk: int) -> Chair:
    try:
        chair = Chair.objects.select_related("organization").get(pk=pk)
    except Chair.DoesNotExist:
        raise Http404 from None
    if not org_is_visible_to(user, chair.organization):
        raise Http404
    return chair


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def today() -> datetime.date:
    return timezone.localdate()


# The level of organisation each staff role works at.
ROLE_ORG_LEVEL = {
    Role.CENTRAL: Organization.Level.CENTRAL,
    Role.REGIONAL: Organization.Level.REGIONAL,
    Role.LOCAL: Organization.Level.LOCAL,
    Role.CHAIR: Organization.Level.PRIMARY,
}
# Which staff accounts each role may open: its own colleagues and the levels below.
ROLES_GRANTABLE_BY = {
    Role.CENTRAL: (Role.CENTRAL, Role.REGIONAL, Role.LOCAL, Role.CHAIR),
    Role.REGIONAL: (Role.REGIONAL, Role.LOCAL, Role.CHAIR),
    Role.LOCAL: (Role.LOCAL, Role.CHAIR),
}


@dataclass(frozen=True)
class StaffUserFilters:
    query: str = ""
    role: str = ""
    active: str = ""  # "", "1", "0"


def staff_users_visible_to(*, user: User, filters: StaffUserFilters) -> QuerySet[User]:
    """Staff accounts of organisations in the user's subtree (members are managed in the member register)."""
    if user.role not in ROLES_GRANTABLE_BY:
        return User.objects.none()
    qs = User.objects.filter(
        role__in=ROLE_ORG_LEVEL.keys(), organization__in=orgs_visible_to(user).values("id")
    ).select_related("organization")
    for word in filters.query.split():
        qs = qs.filter(
            Q(last_name__istartswith=word)
            | Q(first_name__istartswith=word)
            | Q(username__istartswith=word)
            | Q(organization__short_name__icontains=word)
            | Q(organization__name__icontains=word)
        )
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.active in ("0", "1"):
        qs = qs.filter(is_active=filters.active == "1")
    return qs.order_by("organization__path", "last_name", "first_name", "id")


def get_staff_user_for_user(user: User, pk: int) -> User:
    try:
        return staff_users_visible_to(user=user, filters=StaffUserFilters()).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


def roles_user_may_grant(user: User, org: Organization) -> list[str]:
    """Staff roles the user may give to an account of `org`: the role must match the organisation's level."""
    if not org_is_visible_to(user, org):
        return []
    return [role for role in ROLES_GRANTABLE_BY.get(user.role, ()) if ROLE_ORG_LEVEL[role] == org.level]


def user_can_manage_staff_user(user: User, staff_user: User) -> bool:
    return (
        staff_user.pk != user.pk
        and staff_user.role in ROLES_GRANTABLE_BY.get(user.role, ())
        and staff_user.organization is not None
        and org_is_visible_to(user, staff_user.organization)
    )
