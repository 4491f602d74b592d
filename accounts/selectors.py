import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import ACCESS_LOG_OBJECT_TYPES, AccessLog, Role, User
from registry.models import Organization, path_upper_bound


@dataclass(frozen=True)
class AccessLogFilters:
    username: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    organization_path: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def access_log_list(*, user: User, filters: AccessLogFilters) -> QuerySet[AccessLog]:
    """The access log as central office browses it; nobody else reads it."""
    if not (user.is_authenticated and user.role == Role.CENTRAL):
        return AccessLog.objects.none()
    qs = AccessLog.objects.all()
    if filters.username:
        qs = qs.filter(username__iexact=filters.username.strip())
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id.strip())
    if filters.organization_path:
        # Same index range scan as the organisation tree: every path in the subtree sorts between these two.
        qs = qs.filter(
            organization_path__gte=filters.organization_path,
            organization_path__lt=path_upper_bound(filters.organization_path),
        )
    if filters.date_from:
        qs = qs.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__date__lte=filters.date_to)
    # Ordered by id, the same key the page moves by: ids grow with every insert, whatever created_at says.
    return qs.order_by("-id")


def access_log_object_types() -> list[tuple[str, str]]:
    return list(ACCESS_LOG_OBJECT_TYPES.items())


def access_log_region_choices() -> list[tuple[str, str]]:
    """Regional organisations as (path, name): filtering by path prefix finds everything logged inside a region."""
    regional = Organization.objects.filter(level=Organization.Level.REGIONAL).select_related("region")
    return [
        (org.path, org.region.name if org.region else org.display_name) for org in regional.order_by("region__name")
    ]
