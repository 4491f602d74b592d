"""Organisations of the demo union with their passports, and the chairs' card index with trainings.

The plan already holds every organisation with its path; here they get ids from one reserved block and go to the
database in path order, so that parents are written before their children.
"""

import datetime

from demo.plan import UnionPlan
from demo.report import DemoSeedReport, Say
from registry.bulk import reserve_ids, write_rows
from registry.models import PATH_SEGMENT_WIDTH, Chair, ChairTraining, Organization

ORGANIZATION_COLUMNS = (
    "id",
    "parent_id",
    "path",
    "depth",
    "level",
    "region_id",
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
    "is_active",
    "created_at",
    "updated_at",
)
CHAIR_COLUMNS = (
    "id",
    "organization_id",
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
    "created_at",
    "updated_at",
)
TRAINING_COLUMNS = ("chair_id", "title", "provider", "completed_on", "hours", "certificate_number", "created_at")


def organizations_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "organizations": the planned local and primary organisations, профбюро and профгруппы, in path order."""
    for org, pk in zip(plan.organizations, reserve_ids(Organization, len(plan.organizations)), strict=True):
        org.id = pk
    rows = (
        (
            org.id,
            org.parent.id,
            org.path,
            len(org.path) // PATH_SEGMENT_WIDTH,
            org.level,
            org.region_id,
            org.name,
            org.short_name,
            org.institution_type,
            org.inn,
            org.address,
            org.phone,
            org.email,
            "",
            org.employees_count,
            org.students_count,
            True,
            now,
            now,
        )
        for org in plan.organizations
    )
    write_rows(Organization, columns=ORGANIZATION_COLUMNS, rows=rows)
    _regional_passports_fill(plan)
    for org in plan.organizations:
        report.organizations[org.level] = report.organizations.get(org.level, 0) + 1


def _regional_passports_fill(plan: UnionPlan) -> None:
    """Write the contacts planned for regional organisations (planning kept any field someone had filled)."""
    planned = {region.org.id: region.org for region in plan.regions}
    fields = ("inn", "address", "phone", "email")
    changed = []
    for org in Organization.objects.filter(pk__in=planned):
        if any(getattr(org, name) != getattr(planned[org.pk], name) for name in fields):
            for name in fields:
                setattr(org, name, getattr(planned[org.pk], name))
            changed.append(org)
    Organization.objects.bulk_update(changed, fields)


def chairs_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "chairs": chairs' cards and their trainings; a regional organisation that has a chair keeps it."""
    already_chaired = set(
        Chair.objects.filter(organization_id__in=[region.org.id for region in plan.regions]).values_list(
            "organization_id", flat=True
        )
    )
    chairs = [chair for chair in plan.chairs if chair.org.id not in already_chaired]
    for chair, pk in zip(chairs, reserve_ids(Chair, len(chairs)), strict=True):
        chair.id = pk
    rows = (
        (
            chair.id,
            chair.org.id,
            chair.last_name,
            chair.first_name,
            chair.middle_name,
            chair.phone,
            chair.email,
            chair.term_start,
            chair.term_end,
            chair.is_full_time,
            chair.elected_protocol,
            "",
            now,
            now,
        )
        for chair in chairs
    )
    write_rows(Chair, columns=CHAIR_COLUMNS, rows=rows)
    trainings = ((chair.id, *training, now) for chair in chairs for training in chair.trainings)
    write_rows(ChairTraining, columns=TRAINING_COLUMNS, rows=trainings)
    report.chairs = len(chairs)
    report.trainings = sum(len(chair.trainings) for chair in chairs)
