"""Annual reports of the demo: accepted reports of past years, a campaign in progress, and the rollups built.

The figures of each report are what the register gives the chair (union_statistics counts every primary
organisation in one pass per year), plus the numbers a chair enters (employees and students of the institution),
drawn from the organisation's passport. Every draw comes from a generator seeded from the seed and the
organisation's path, every date from DEMO_REFERENCE_DATE, so the same seed gives the same reports.

The last complete year before the reference date has a campaign in progress: most reports accepted, some waiting
for the level above, a few returned with a comment, the rest not yet submitted. Earlier years are accepted, with
a few organisations that never reported. The rollups of both variants are built at the end, so that the first
page of `make run` shows figures.
"""

import datetime
import random

from django.db import connection

from accounts.models import Role, User
from demo.plan import DEMO_REFERENCE_DATE, UnionPlan
from demo.report import DemoSeedReport, Say, grouped
from registry.bulk import reserve_ids, uses_copy, write_rows
from registry.models import Organization
from union_statistics.indicators import END, START, WOMEN
from union_statistics.models import AnnualReport, ReportCampaign, ReportEvent, RollupSnapshot
from union_statistics.services import primaries_register_figures, rollup_build

CAMPAIGN_YEAR = DEMO_REFERENCE_DATE.year - 1
ACCEPTED_YEARS = (CAMPAIGN_YEAR - 2, CAMPAIGN_YEAR - 1)
# The campaign's deadline, counted from the reference date like every demo date.
CAMPAIGN_DEADLINE = DEMO_REFERENCE_DATE.replace(month=12, day=31)
# Of the campaign year's reports: accepted, waiting for a decision, returned; the rest are not submitted yet.
CAMPAIGN_SHARES = (0.55, 0.15, 0.05)
# Organisations that did not report in a past year (their register is all there is for it).
SHARE_NEVER_REPORTED = {ACCEPTED_YEARS[0]: 0.12, ACCEPTED_YEARS[1]: 0.05}
WOMEN_SHARE_OF_STAFF = 0.82
WOMEN_SHARE_OF_STUDENTS = 0.62
RETURN_COMMENTS = (
    "Численность работающих не совпадает с паспортом организации: проверьте и исправьте строку 1.",
    "В строке 2 не указаны обучающиеся колледжа, хотя в реестре есть члены Профсоюза из числа студентов.",
    "Проверьте число женщин среди работающих: оно больше, чем в прошлом году, при меньшей численности.",
)
EXPLANATIONS = (
    "Часть членов Профсоюза внесена в реестр после сдачи прошлого отчёта.",
    "Исправлены даты вступления по карточкам учёта.",
)
Status = AnnualReport.Status


def _moment(day: datetime.date, rng: random.Random) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9 + rng.randrange(9), rng.randrange(60)), tzinfo=datetime.UTC)


def _entered(
    rng: random.Random, figures: dict, org: Organization, previous: dict | None
) -> dict[str, list[int | None]]:
    """Employees and students of the institution: at least as many as the members among them, near the passport."""
    entered = {}
    for key, members_key, passport, women_share in (
        ("working", "working_members", org.employees_count, WOMEN_SHARE_OF_STAFF),
        ("students", "student_members", org.students_count, WOMEN_SHARE_OF_STUDENTS),
    ):
        members = figures[members_key]
        end = max(passport or 0, members[END] + round(members[END] * rng.uniform(0.05, 0.4)))
        start = (previous or {}).get(key, [None, None])[END]
        if start is None:
            start = max(members[START], end + rng.randint(-3, 3))
        start = max(start, members[START])
        women = min(end, max(members[WOMEN], round(end * women_share)))
        entered[key] = [start, end, women]
    return entered


def _status_in(year: int, rng: random.Random) -> str | None:
    """What became of the organisation's report of `year`; none for a past year it was never submitted."""
    draw = rng.random()
    if year != CAMPAIGN_YEAR:
        return None if draw < SHARE_NEVER_REPORTED[year] else Status.ACCEPTED
    accepted, waiting, returned = CAMPAIGN_SHARES
    if draw < accepted:
        return Status.ACCEPTED
    if draw < accepted + waiting:
        return Status.SUBMITTED
    if draw < accepted + waiting + returned:
        return Status.RETURNED
    return Status.DRAFT


def reports_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    central_user = User.objects.filter(username="central", role=Role.CENTRAL).first()
    campaign = ReportCampaign.objects.create(year=CAMPAIGN_YEAR, deadline=CAMPAIGN_DEADLINE, opened_by=central_user)
    ReportCampaign.objects.filter(pk=campaign.pk).update(opened_at=_moment(DEMO_REFERENCE_DATE, random.Random(0)))
    forced = _demo_users_work(plan)
    organizations = {
        org.pk: org
        for org in Organization.objects.filter(level=Organization.Level.PRIMARY, is_active=True).only(
            "id", "path", "employees_count", "students_count"
        )
    }
    previous_entered: dict[int, dict] = {}
    report_rows, event_rows = [], []
    for year in (*ACCEPTED_YEARS, CAMPAIGN_YEAR):
        say(f"Отчёты за {year} год: показатели по реестру…")
        by_org = primaries_register_figures(year=year, today=DEMO_REFERENCE_DATE.replace(year=year + 1))
        submitted_on = datetime.date(year + 1, 2, 1)
        for org_id in sorted(by_org):
            org = organizations[org_id]
            rng = random.Random(f"{plan.seed}:report:{year}:{org.path}")
            status = _status_in(year, rng)
            if year == CAMPAIGN_YEAR:
                status = forced.get(org.path, status)
            if status is None:
                continue
            figures = by_org[org_id]
            entered = _entered(rng, figures, org, previous_entered.get(org_id))
            previous_entered[org_id] = entered
            frozen = status != Status.DRAFT
            submitted_at = _moment(submitted_on + datetime.timedelta(days=rng.randrange(40)), rng) if frozen else None
            decided_at = (
                submitted_at + datetime.timedelta(days=1 + rng.randrange(10))
                if status in (Status.ACCEPTED, Status.RETURNED)
                else None
            )
            comment = rng.choice(RETURN_COMMENTS) if status == Status.RETURNED else ""
            explanation = rng.choice(EXPLANATIONS) if frozen and rng.random() < 0.1 else ""
            report_rows.append(
                (org_id, year, campaign.pk if year == CAMPAIGN_YEAR else None, status, entered,
                 {**figures, **entered} if frozen else {}, explanation, submitted_at, decided_at, comment,
                 submitted_at or now, decided_at or submitted_at or now)
            )  # fmt: skip
            if frozen:
                event_rows.append((len(report_rows) - 1, ReportEvent.Kind.SUBMITTED, submitted_at, explanation))
            if decided_at is not None:
                kind = ReportEvent.Kind.ACCEPTED if status == Status.ACCEPTED else ReportEvent.Kind.RETURNED
                event_rows.append((len(report_rows) - 1, kind, decided_at, comment))
    report.reports = len(report_rows)
    _reports_write(report_rows, event_rows)
    say(f"Отчётов: {grouped(len(report_rows))}; сводные показатели…")
    if uses_copy():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE statistics_annualreport")
    for year in (*ACCEPTED_YEARS, CAMPAIGN_YEAR):
        rollup_build(year=year, variant=RollupSnapshot.Variant.ACCEPTED, trigger="nightly")
    for year in (*ACCEPTED_YEARS, CAMPAIGN_YEAR, DEMO_REFERENCE_DATE.year):
        rollup_build(year=year, variant=RollupSnapshot.Variant.REGISTER, trigger="nightly")


def _demo_users_work(plan: UnionPlan) -> dict[str, str]:
    """Something to do for the demo users: the chair's school has its report to fill in, and the local
    organisation has reports waiting for its decision."""
    forced = {}
    if plan.demo_school is not None:
        forced[plan.demo_school.path] = Status.DRAFT
    if plan.demo_local is not None:
        neighbours = sorted(
            org.path
            for org in plan.primaries
            if org.path.startswith(plan.demo_local.path) and org is not plan.demo_school
        )
        for path in neighbours[:3]:
            forced[path] = Status.SUBMITTED
    return forced


REPORT_COLUMNS = (
    "id", "organization_id", "year", "campaign_id", "status", "entered", "figures", "explanation", "submitted_at",
    "decided_at", "return_comment", "created_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("report_id", "kind", "created_at", "comment")


def _reports_write(report_rows: list[tuple], event_rows: list[tuple]) -> None:
    ids = reserve_ids(AnnualReport, len(report_rows))
    json_value = _jsonb if uses_copy() else (lambda value: value)
    write_rows(
        AnnualReport,
        columns=REPORT_COLUMNS,
        rows=(
            (report_id, *row[:4], json_value(row[4]), json_value(row[5]), *row[6:])
            for report_id, row in zip(ids, report_rows, strict=True)
        ),
    )
    write_rows(
        ReportEvent,
        columns=EVENT_COLUMNS,
        rows=((ids[index], kind, created_at, comment) for index, kind, created_at, comment in event_rows),
    )


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)
