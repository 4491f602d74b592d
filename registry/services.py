import csv
import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, User
from accounts.services import AccountError, access_log_write, changed_fields, invitation_send, invited_account_create
from registry.models import PATH_SEGMENT_MAX, PATH_SEGMENT_WIDTH, Chair, ChairTraining, Organization, Region
from registry.selectors import (
    child_levels_user_may_create,
    roles_user_may_grant,
    subtree_counts_cache_key,
    user_can_edit_org,
    user_can_manage_chairs,
    user_can_manage_staff_user,
)

CENTRAL_COUNCIL_NAME = "Общероссийский Профсоюз образования"
CENTRAL_COUNCIL_SHORT_NAME = "Профсоюз образования"


class RegistryError(DomainError):
    """A refusal in the organisation registry."""


PASSPORT_FIELDS = (
    "name",
    "short_name",
    "institution_type",
    "inn",
    "address",
    "phone",
    "email",
    "website",
    "employees_count",
    "students_count",
)


def _next_child_path(parent: Organization | None) -> str:
    """Allocate the path of a new child; the caller holds a lock on the parent row."""
    siblings = Organization.objects.filter(parent=parent) if parent else Organization.objects.filter(depth=1)
    last_path = siblings.aggregate(last=Max("path"))["last"]
    last_segment = int(last_path[-PATH_SEGMENT_WIDTH:]) if last_path else 0
    if last_segment >= PATH_SEGMENT_MAX:
        raise RegistryError(_("В этой организации слишком много подразделений."))
    prefix = parent.path if parent else ""
    return f"{prefix}{last_segment + 1:0{PATH_SEGMENT_WIDTH}d}"


@transaction.atomic
def _insert_organization(*, parent: Organization | None, level: str, region: Region | None, **fields) -> Organization:
    if parent is not None:
        # Serialises sibling allocation under one parent; other subtrees are not blocked.
        Organization.objects.select_for_update().filter(pk=parent.pk).first()
    path = _next_child_path(parent)
    org = Organization(
        parent=parent,
        path=path,
        depth=len(path) // PATH_SEGMENT_WIDTH,
        level=level,
        region=region if region is not None else (parent.region if parent else None),
        **fields,
    )
    org.full_clean()
    org.save()
    _subtree_counts_forget(org)
    return org


def _subtree_counts_forget(org: Organization) -> None:
    """The cached counts of every organisation above `org` include it: drop them once the change is committed."""
    keys = [subtree_counts_cache_key(path) for path in org.ancestor_paths()]
    transaction.on_commit(lambda: cache.delete_many(keys))


@transaction.atomic
def organization_create(*, parent: Organization, level: str, by: User, **fields) -> Organization:
    """Open a new organisation under `parent` (a local org, a ППО or a профбюро)."""
    if level not in child_levels_user_may_create(by, parent):
        if parent.level not in Organization.ALLOWED_PARENT_LEVELS.get(level, set()):
            raise RegistryError(
                _("Организацию уровня «%(level)s» нельзя создать в организации уровня «%(parent)s».")
                % {"level": Organization.Level(level).label, "parent": parent.get_level_display()}
            )
        raise PermissionDenied
    unknown = set(fields) - set(PASSPORT_FIELDS)
    if unknown:
        raise ValueError(f"Not passport fields: {sorted(unknown)}")
    org = _insert_organization(parent=parent, level=level, region=None, **fields)
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=org, details={"parent": parent.pk, "level": level})
    return org


@transaction.atomic
def organization_update_passport(*, org: Organization, by: User, **fields) -> Organization:
    """Save the passport of an organisation; the access log keeps what changed from what."""
    if not user_can_edit_org(by, org):
        raise PermissionDenied
    unknown = set(fields) - set(PASSPORT_FIELDS)
    if unknown:
        raise ValueError(f"Not passport fields: {sorted(unknown)}")
    changes = changed_fields(org, fields)
    if not changes:
        return org
    for name, value in fields.items():
        setattr(org, name, value)
    org.full_clean()
    org.save(update_fields=[*changes.keys(), "updated_at"])
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=org, details={"changes": changes})
    return org


@transaction.atomic
def organization_set_active(*, org: Organization, by: User, active: bool) -> Organization:
    """Close (ликвидация, реорганизация) or reopen an organisation; a closed one keeps its history."""
    if not user_can_edit_org(by, org) or org == by.organization:
        raise PermissionDenied
    if org.is_active == active:
        return org
    if not active and Organization.objects.subtree_of(org, include_self=False).filter(is_active=True).exists():
        raise RegistryError(_("Сначала закройте все организации, входящие в эту."))
    if not active and org.members.filter(status="active").exists():
        raise RegistryError(_("В организации есть действующие члены Профсоюза: переведите их или оформите выбытие."))
    org.is_active = active
    org.save(update_fields=["is_active", "updated_at"])
    _subtree_counts_forget(org)
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, obj=org, details={"changes": {"is_active": [not active, active]}}
    )
    return org


@transaction.atomic
def central_council_ensure() -> Organization:
    root = Organization.objects.filter(depth=1, level=Organization.Level.CENTRAL).first()
    if root:
        return root
    return _insert_organization(
        parent=None,
        level=Organization.Level.CENTRAL,
        region=None,
        name=CENTRAL_COUNCIL_NAME,
        short_name=CENTRAL_COUNCIL_SHORT_NAME,
    )


@transaction.atomic
def regions_load(*, csv_path: Path | None = None) -> tuple[int, int]:
    """Load the 85 federal subjects and open a regional organisation for each; safe to run again.

    Returns (regions created, regional organisations created).
    """
    csv_path = csv_path or settings.REGIONS_CSV
    root = central_council_ensure()
    Organization.objects.select_for_update().filter(pk=root.pk).first()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    regions_created = orgs_created = 0
    for row in rows:
        region, created = Region.objects.update_or_create(
            code=row["code"].strip().zfill(2),
            defaults={
                "name": row["name"].strip(),
                "federal_district": row["federal_district"].strip(),
                "pilot_2018": row["pilot_2018"].strip() == "1",
            },
        )
        regions_created += created
        if not Organization.objects.filter(level=Organization.Level.REGIONAL, region=region).exists():
            _insert_organization(
                parent=root,
                level=Organization.Level.REGIONAL,
                region=region,
                name=regional_org_name(region),
                short_name=region.name,
            )
            orgs_created += 1
    return regions_created, orgs_created


def regional_org_name(region: Region) -> str:
    return f"Региональная организация Общероссийского Профсоюза образования: {region.name}"


CHAIR_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "phone",
    "email",
    "term_start",
    "term_end",
    "is_full_time",
    "elected_protocol",
    "notes",
)


def _ensure_chair_term_free(*, org: Organization, term_start: datetime.date, term_end, exclude_pk=None) -> None:
    """Two chairs of one organisation may not hold office on the same day."""
    overlapping = (
        org.chairs.exclude(pk=exclude_pk)
        .filter(term_start__lte=term_end or datetime.date.max)
        .exclude(term_end__lt=term_start)
    )
    if overlapping.exists():
        other = overlapping.first()
        raise RegistryError(
            _(
                "Срок полномочий пересекается со сроком председателя %(name)s (с %(start)s). "
                "Сначала укажите дату окончания его полномочий."
            )
            % {"name": other.full_name, "start": other.term_start.strftime("%d.%m.%Y")}
        )


@transaction.atomic
def chair_create(*, org: Organization, by: User, **fields) -> Chair:
    """Завести учётную карточку председателя организации."""
    if not user_can_manage_chairs(by, org):
        raise PermissionDenied
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    _ensure_chair_term_free(org=org, term_start=fields["term_start"], term_end=fields.get("term_end"))
    chair = Chair(organization=org, **fields)
    chair.full_clean()
    chair.save()
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=chair, organization_path=org.path)
    return chair


@transaction.atomic
def chair_update(*, chair: Chair, by: User, **fields) -> Chair:
    if not user_can_manage_chairs(by, chair.organization):
        raise PermissionDenied
    Organization.objects.select_for_update().filter(pk=chair.organization_id).first()
    changes = changed_fields(chair, fields)
    if not changes:
        return chair
    _ensure_chair_term_free(
        org=chair.organization,
        term_start=fields.get("term_start", chair.term_start),
        term_end=fields.get("term_end", chair.term_end),
        exclude_pk=chair.pk,
    )
    for name, value in fields.items():
        setattr(chair, name, value)
    chair.full_clean()
    chair.save()
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=chair, details={"changes": changes})
    return chair


@transaction.atomic
def chair_training_add(*, chair: Chair, by: User, **fields) -> ChairTraining:
    if not user_can_manage_chairs(by, chair.organization):
        raise PermissionDenied
    if fields["completed_on"] > timezone.localdate():
        raise RegistryError(_("Дата окончания обучения не может быть в будущем."))
    training = ChairTraining(chair=chair, **fields)
    training.full_clean()
    training.save()
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=chair, details={"training_added": training.title})
    return training


@transaction.atomic
def staff_user_create(
    *,
    by: User,
    organization: Organization,
    role: str,
    username: str,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    email: str,
    site_url: str,
) -> User:
    """Open a staff account for an organisation in the user's scope and e-mail an invitation to set a password."""
    if role not in roles_user_may_grant(by, organization):
        raise PermissionDenied
    try:
        staff_user = invited_account_create(
            username=username, last_name=last_name, first_name=first_name, middle_name=middle_name, email=email,
            role=role, organization=organization,
        )  # fmt: skip
    except AccountError as error:
        raise RegistryError(error.message) from None
    access_log_write(
        user=by,
        action=AccessLog.Action.CREATE,
        obj=staff_user,
        organization_path=organization.path,
        details={"role": role},
    )
    transaction.on_commit(lambda: staff_user_send_invitation(staff_user=staff_user, site_url=site_url))
    return staff_user


def staff_user_send_invitation(*, staff_user: User, site_url: str) -> None:
    invitation_send(
        user=staff_user, site_url=site_url, subject=_("Приглашение в Единый реестр Профсоюза образования"),
        template_name="registry/email/staff_invitation.txt",
    )  # fmt: skip


@transaction.atomic
def staff_user_set_active(*, by: User, staff_user: User, active: bool) -> User:
    """Block an account (the person left the post) or unblock it; the account and its history stay."""
    if not user_can_manage_staff_user(by, staff_user):
        raise PermissionDenied
    if staff_user.is_active == active:
        return staff_user
    staff_user.is_active = active
    staff_user.save(update_fields=["is_active"])
    access_log_write(
        user=by,
        action=AccessLog.Action.CHANGE,
        obj=staff_user,
        organization_path=staff_user.organization.path,
        details={"changes": {"is_active": [not active, active]}},
    )
    return staff_user
