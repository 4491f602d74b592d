"""Every write of the statistics app: reports and their decisions, campaigns and reminders, rollup snapshots."""

from __future__ import annotations

import datetime
import hashlib
import logging
import operator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import MD5
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import APPARATUS_ROLES, AccessLog, Role, User
from accounts.services import access_log_write
from registry.bulk import uses_copy, write_rows
from registry.models import Organization
from registry.selectors import org_is_visible_to
from union_statistics.indicators import (
    END,
    ENTERED_KEYS,
    FLOW_KEYS,
    INDICATORS_BY_KEY,
    LEFT_KEYS,
    REGISTER_EXTRA_KEYS,
    REGISTER_KEYS,
    SNAPSHOT_LAYOUT_VERSION,
    START,
    VECTOR_POSITION,
    VECTOR_WIDTH,
    WOMEN,
    Figures,
    Period,
    figure,
    figures_add,
    figures_derive,
    figures_to_vector,
    vector_pack,
    vector_to_figures,
)
from union_statistics.models import AnnualReport, ReportCampaign, ReportEvent, RollupBuild, RollupSnapshot
from union_statistics.register import register_figures_by_org, register_vectors_by_org

logger = logging.getLogger(__name__)

# Reminders go to a chair at most this often while the report is owed.
REMINDER_INTERVAL_DAYS = 7
# Reminders start this many days before the deadline.
REMINDER_LEAD_DAYS = 14


class StatisticsError(DomainError):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------------------------


def user_can_fill_report(user: User, org: Organization) -> bool:
    """The chair of the primary organisation fills in its report."""
    return user.role == Role.CHAIR and user.organization_id == org.pk and org.is_primary


def user_can_decide_report(user: User, org: Organization) -> bool:
    """The apparatus above the organisation (local, regional, central) accepts or returns its report."""
    return user.role in APPARATUS_ROLES and org.pk != user.organization_id and org_is_visible_to(user, org)


# ---------------------------------------------------------------------------------------------------------------
# Figures of one organisation from the register
# ---------------------------------------------------------------------------------------------------------------


def organization_register_figures(*, organization: Organization, year: int, today: datetime.date | None = None):
    """The organisation's figures for the year counted from the register now, its units (and everything below)
    included. Used for the report form of a primary organisation and for a live look at any organisation."""
    period = Period.of_year(year, today=today or timezone.localdate())
    subtree_ids = list(Organization.objects.subtree_of(organization).values_list("id", flat=True))
    by_org = register_figures_by_org(period=period, org_ids=subtree_ids)
    total: Figures = {}
    for figures in by_org.values():
        figures_add(total, figures)
    for key in REGISTER_KEYS:
        total.setdefault(key, [0, 0, 0])
    for key in FLOW_KEYS:
        total[key][START] = None
    for key in REGISTER_EXTRA_KEYS:
        total.setdefault(key, [None, 0, None])
    return total


def last_accepted_report(*, organization: Organization, before_year: int) -> AnnualReport | None:
    return (
        AnnualReport.objects.filter(
            organization=organization, year__lt=before_year, status=AnnualReport.Status.ACCEPTED
        )
        .order_by("-year")
        .first()
    )


# ---------------------------------------------------------------------------------------------------------------
# The annual report
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ReportCheck:
    """What the form tells the chair: errors stop the submission, differences need an explanation."""

    errors: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    balance: list[str] = field(default_factory=list)

    @property
    def needs_explanation(self) -> bool:
        return bool(self.differences)


def report_check(*, figures: Figures, previous: AnnualReport | None, complete: bool = True) -> ReportCheck:
    """Validation of the union's form: members within the totals, the start of the year equal to last year's end.

    `complete=False` leaves out the lines still to be filled in: a fresh draft is not yet wrong for being empty.
    """
    check = ReportCheck()
    derived = figures_derive(figures)
    for members_key, total_key in (("working_members", "working"), ("student_members", "students")):
        for column, when in ((START, _("на начало года")), (END, _("на конец года")), (WOMEN, _("женщин"))):
            members, total = figure(derived, members_key, column), figure(derived, total_key, column)
            if members is not None and total is not None and members > total:
                check.errors.append(
                    _("«%(members)s» (%(m)s) больше, чем «%(total)s» (%(t)s), %(when)s.")
                    % {
                        "members": INDICATORS_BY_KEY[total_key].label
                        + ": "
                        + str(INDICATORS_BY_KEY[members_key].label),
                        "m": members,
                        "total": INDICATORS_BY_KEY[total_key].label,
                        "t": total,
                        "when": when,
                    }
                )
    for key in ENTERED_KEYS:
        values = figures.get(key) or [None, None, None]
        if any(value is None for value in values):
            if not complete:
                continue
            check.errors.append(
                _("Заполните строку «%(label)s»: на начало года, на конец года и из них женщин.")
                % {"label": INDICATORS_BY_KEY[key].label}
            )
        elif values[WOMEN] > values[END]:
            check.errors.append(
                _("В строке «%(label)s» женщин (%(w)s) больше, чем всего (%(t)s).")
                % {"label": INDICATORS_BY_KEY[key].label, "w": values[WOMEN], "t": values[END]}
            )
    if previous is not None:
        for key in ("members", *ENTERED_KEYS, "working_members", "student_members", "pensioners", "youth"):
            before, now = figure(previous.figures, key, END), figure(figures, key, START)
            if before is not None and now is not None and before != now:
                check.differences.append(
                    _(
                        "«%(label)s» на начало %(year)s года: %(now)s, а в принятом отчёте за %(prev)s год на конец "
                        "года было %(before)s (разница %(diff)+d)."
                    )
                    % {
                        "label": INDICATORS_BY_KEY[key].label,
                        "year": previous.year + 1,
                        "now": now,
                        "prev": previous.year,
                        "before": before,
                        "diff": now - before,
                    }
                )
    start, end = figure(figures, "members", START), figure(figures, "members", END)
    if start is not None and end is not None:
        came = sum(figure(figures, key) or 0 for key in ("joined", "arrived"))
        went = sum(figure(figures, key) or 0 for key in (*LEFT_KEYS, "transferred_out"))
        unexplained = end - (start + came - went)
        check.balance.append(
            _("Движение за год: было %(start)s, принято и прибыло %(came)s, выбыло и убыло %(went)s, стало %(end)s.")
            % {"start": start, "came": came, "went": went, "end": end}
        )
        if unexplained:
            check.balance.append(
                _(
                    "Ещё %(diff)+d чел.: изменения в реестре без записи о движении (восстановление в Профсоюзе, "
                    "перевод и выбытие в одном году, исправленные даты)."
                )
                % {"diff": unexplained}
            )
    return check


def report_open(*, organization: Organization, year: int, by: User) -> AnnualReport:
    """The chair's report of the year: the one the campaign created, or a new draft."""
    if not user_can_fill_report(by, organization):
        raise PermissionDenied
    if year >= timezone.localdate().year:
        raise StatisticsError(_("Отчёт за %(year)s год сдаётся после его окончания.") % {"year": year})
    campaign = ReportCampaign.objects.filter(year=year).first()
    report, _created = AnnualReport.objects.get_or_create(
        organization=organization, year=year, defaults={"campaign": campaign}
    )
    return report


def report_entered_defaults(*, report: AnnualReport) -> Figures:
    """What the form shows before the chair types: last time's entries, else the last accepted end, else the
    passport's numbers of employees and students."""
    if report.entered:
        return {key: list(values) for key, values in report.entered.items()}
    previous = last_accepted_report(organization=report.organization, before_year=report.year)
    org = report.organization
    passport = {"working": org.employees_count, "students": org.students_count}
    defaults = {}
    for key in ENTERED_KEYS:
        start = figure(previous.figures, key, END) if previous else None
        defaults[key] = [start, passport[key], None]
    return defaults


def _report_figures(*, report: AnnualReport, entered: Figures) -> Figures:
    figures = organization_register_figures(organization=report.organization, year=report.year)
    for key in ENTERED_KEYS:
        figures[key] = list(entered.get(key) or [None, None, None])
    return figures


def report_preview(*, report: AnnualReport, entered: Figures, complete: bool = True) -> tuple[Figures, ReportCheck]:
    """The figures the chair would submit now, and what the check says of them."""
    figures = report.figures if report.is_frozen else _report_figures(report=report, entered=entered)
    previous = last_accepted_report(organization=report.organization, before_year=report.year)
    return figures, report_check(figures=figures, previous=previous, complete=complete)


@transaction.atomic
def report_save(*, report: AnnualReport, by: User, entered: Figures, explanation: str = "") -> AnnualReport:
    """Keep the chair's entries without submitting."""
    report = AnnualReport.objects.select_for_update().get(pk=report.pk)
    if not user_can_fill_report(by, report.organization):
        raise PermissionDenied
    if not report.is_editable:
        raise StatisticsError(_("Отчёт уже сдан: изменить его можно, только если его вернут на доработку."))
    report.entered = {key: list(entered.get(key) or [None, None, None]) for key in ENTERED_KEYS}
    report.explanation = explanation.strip()
    report.save(update_fields=["entered", "explanation", "updated_at"])
    return report


@transaction.atomic
def report_submit(*, report: AnnualReport, by: User, entered: Figures, explanation: str = "") -> AnnualReport:
    """Freeze the register's figures with the chair's entries and send the report to the level above."""
    report = report_save(report=report, by=by, entered=entered, explanation=explanation)
    figures, check = report_preview(report=report, entered=report.entered)
    if check.errors:
        raise StatisticsError(" ".join(check.errors))
    if check.needs_explanation and not report.explanation:
        raise StatisticsError(
            _("Начало года не совпадает с концом прошлого года в принятом отчёте: объясните расхождение в пояснении.")
        )
    report.figures = figures
    report.status = AnnualReport.Status.SUBMITTED
    report.submitted_at, report.submitted_by = timezone.now(), by
    report.save(update_fields=["figures", "status", "submitted_at", "submitted_by", "updated_at"])
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.SUBMITTED, by=by, comment=report.explanation)
    access_log_write(
        user=by,
        action=AccessLog.Action.CHANGE,
        obj=report.organization,
        details={"report": report.year, "status": "submitted"},
    )
    return report


def _decide(*, report: AnnualReport, by: User, status: str, kind: str, comment: str) -> AnnualReport:
    report = AnnualReport.objects.select_for_update().select_related("organization").get(pk=report.pk)
    if not user_can_decide_report(by, report.organization):
        raise PermissionDenied
    if report.status != AnnualReport.Status.SUBMITTED:
        raise StatisticsError(
            _("Решение принимают по сданному отчёту; этот отчёт «%(status)s».")
            % {"status": report.get_status_display()}
        )
    report.status, report.decided_at, report.decided_by = status, timezone.now(), by
    report.return_comment = comment if status == AnnualReport.Status.RETURNED else ""
    report.save(update_fields=["status", "decided_at", "decided_by", "return_comment", "updated_at"])
    ReportEvent.objects.create(report=report, kind=kind, by=by, comment=comment)
    access_log_write(
        user=by,
        action=AccessLog.Action.CHANGE,
        obj=report.organization,
        details={"report": report.year, "status": status},
    )
    return report


@transaction.atomic
def report_accept(*, report: AnnualReport, by: User, comment: str = "") -> AnnualReport:
    return _decide(
        report=report,
        by=by,
        status=AnnualReport.Status.ACCEPTED,
        kind=ReportEvent.Kind.ACCEPTED,
        comment=comment.strip(),
    )


@transaction.atomic
def report_return(*, report: AnnualReport, by: User, comment: str) -> AnnualReport:
    comment = comment.strip()
    if not comment:
        raise StatisticsError(_("Напишите, что исправить: без замечаний председатель не поймёт, почему отчёт вернули."))
    return _decide(
        report=report, by=by, status=AnnualReport.Status.RETURNED, kind=ReportEvent.Kind.RETURNED, comment=comment
    )


# ---------------------------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------------------------


@transaction.atomic
def campaign_open(*, year: int, deadline: datetime.date, by: User) -> ReportCampaign:
    """Central office asks every open primary organisation for its report of `year`."""
    if by.role != Role.CENTRAL:
        raise PermissionDenied
    today = timezone.localdate()
    if year >= today.year:
        raise StatisticsError(
            _("Кампанию открывают за прошедший год: %(year)s год ещё не закончился.") % {"year": year}
        )
    if deadline < today:
        raise StatisticsError(_("Срок сдачи уже прошёл: укажите дату не раньше сегодняшней."))
    if ReportCampaign.objects.filter(year=year).exists():
        raise StatisticsError(_("Кампания за %(year)s год уже открыта.") % {"year": year})
    campaign = ReportCampaign.objects.create(year=year, deadline=deadline, opened_by=by)
    campaign_reports_create(campaign=campaign)
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=campaign, organization_path=by.organization.path)
    return campaign


def campaign_reports_create(*, campaign: ReportCampaign) -> int:
    """A report row for every open primary organisation that has none for the year, so "not submitted" is a query."""
    have = AnnualReport.objects.filter(year=campaign.year).values("organization_id")
    owed = (
        Organization.objects.filter(level=Organization.Level.PRIMARY, is_active=True)
        .exclude(pk__in=have)
        .values_list("id", flat=True)
        .order_by("id")
    )
    AnnualReport.objects.filter(year=campaign.year, campaign__isnull=True).update(campaign=campaign)
    now = timezone.now()
    # Read whole before the COPY starts: a server-side cursor cannot fetch on a connection busy with COPY.
    rows = (
        (org_id, campaign.year, campaign.pk, AnnualReport.Status.DRAFT, {}, {}, "", "", now, now)
        for org_id in list(owed)
    )
    columns = (
        "organization_id",
        "year",
        "campaign_id",
        "status",
        "entered",
        "figures",
        "explanation",
        "return_comment",
        "created_at",
        "updated_at",
    )
    if uses_copy():
        from psycopg.types.json import Jsonb

        rows = ((*row[:4], Jsonb(row[4]), Jsonb(row[5]), *row[6:]) for row in rows)
    return write_rows(AnnualReport, columns=columns, rows=rows)


@transaction.atomic
def campaign_close(*, campaign: ReportCampaign, by: User) -> ReportCampaign:
    if by.role != Role.CENTRAL:
        raise PermissionDenied
    if not campaign.is_open:
        raise StatisticsError(_("Кампания уже закрыта."))
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["closed_at"])
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=campaign, organization_path=by.organization.path)
    return campaign


def campaign_send_reminders(*, today: datetime.date | None = None, site_url: str = "") -> int:
    """E-mail the chairs whose report is owed, from two weeks before the deadline, once a week each."""
    today = today or timezone.localdate()
    now = timezone.now()
    sent = 0
    for campaign in ReportCampaign.objects.filter(
        closed_at__isnull=True, deadline__lte=today + datetime.timedelta(days=REMINDER_LEAD_DAYS)
    ):
        due = AnnualReport.objects.filter(campaign=campaign, status__in=AnnualReport.OWED_STATUSES).filter(
            Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - datetime.timedelta(days=REMINDER_INTERVAL_DAYS))
        )
        report_ids = list(due.values_list("id", flat=True))
        chairs = (
            User.objects.filter(role=Role.CHAIR, is_active=True, organization__reports__id__in=report_ids)
            .exclude(email="")
            .values_list("email", "organization_id")
        )
        emails_by_org: dict[int, list[str]] = {}
        for email, org_id in chairs:
            emails_by_org.setdefault(org_id, []).append(email)
        reports = AnnualReport.objects.filter(pk__in=report_ids).select_related("organization")
        messages = []
        for report in reports:
            recipients = emails_by_org.get(report.organization_id, [])
            if report.organization.email:
                recipients = [*recipients, report.organization.email]
            if not recipients:
                continue
            messages.append(
                (
                    *_reminder_text(report=report, campaign=campaign, today=today, site_url=site_url),
                    settings.DEFAULT_FROM_EMAIL,
                    sorted(set(recipients)),
                )
            )
        if messages:
            send_mass_mail(messages, fail_silently=False)
            sent += len(messages)
        due.update(reminded_at=now)
        campaign.last_reminders_on = today
        campaign.save(update_fields=["last_reminders_on"])
    return sent


def _reminder_text(*, report: AnnualReport, campaign: ReportCampaign, today: datetime.date, site_url: str):
    overdue = campaign.deadline < today
    subject = _("Статистический отчёт за %(year)s год: %(state)s") % {
        "year": campaign.year,
        "state": _("срок сдачи прошёл")
        if overdue
        else _("срок сдачи %(date)s") % {"date": campaign.deadline.strftime("%d.%m.%Y")},
    }
    lines = [
        _("Здравствуйте!"),
        "",
        _("Статистический отчёт %(org)s за %(year)s год не сдан.")
        % {"org": report.organization.display_name, "year": campaign.year},
    ]
    if report.status == AnnualReport.Status.RETURNED:
        lines.append(_("Отчёт возвращён на доработку. Замечания: %(comment)s") % {"comment": report.return_comment})
    lines.append(_("Срок сдачи: %(date)s.") % {"date": campaign.deadline.strftime("%d.%m.%Y")})
    lines.append(
        _("Почти все показатели заполнены по данным реестра: осталось указать численность работающих и обучающихся.")
    )
    if site_url:
        lines.append(site_url.rstrip("/") + report.get_absolute_url())
    return subject, "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Rollups
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _TreeNode:
    id: int
    parent_id: int | None
    depth: int
    level: str
    is_active: bool
    passport_filled: bool
    employees: int | None
    students: int | None


def _tree() -> list[_TreeNode]:
    """Every organisation with what the rollup needs of its passport, in one scan of the table (a plain cursor:
    85,000 ORM rows would cost more than the query)."""
    columns = ("id", "parent_id", "depth", "level", "is_active", "institution_type", "inn", "address")
    queryset = Organization.objects.order_by().values_list(*columns, "employees_count", "students_count")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        _TreeNode(
            id=row[0],
            parent_id=row[1],
            depth=row[2],
            level=row[3],
            is_active=row[4],
            passport_filled=bool(row[5] and row[6] and row[7] and row[8] is not None),
            employees=row[8],
            students=row[9],
        )
        for row in rows
    ]


def _rows(queryset) -> list[tuple]:
    """A values_list queryset's rows through a plain cursor: the same SQL without the ORM's per-row work."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _vector_set(vectors: dict[int, list[int]], org_id: int, key: str, value: int) -> None:
    """Put a single-valued figure (the end column) of an organisation into its vector."""
    vector = vectors.get(org_id)
    if vector is None:
        vector = vectors[org_id] = [0] * VECTOR_WIDTH
    vector[VECTOR_POSITION[f"{key}__{END}"]] = value


def _register_own_vectors(*, period: Period, nodes: list[_TreeNode]) -> tuple[dict[int, list[int]], dict]:
    vectors = register_vectors_by_org(period=period)
    primary = Organization.Level.PRIMARY
    for node in nodes:
        if node.employees or node.students:
            _vector_set(vectors, node.id, "working", node.employees or 0)
            _vector_set(vectors, node.id, "students", node.students or 0)
        if node.level == primary and node.is_active:
            _vector_set(vectors, node.id, "primary_orgs", 1)
            _vector_set(vectors, node.id, "passports_filled", int(node.passport_filled))
    # The members line of each organisation's last accepted report: one number read out of the JSON by the
    # database. Latest year last, so the dict keeps it; PostgreSQL sends only that row (DISTINCT ON).
    reported = (
        AnnualReport.objects.filter(status=AnnualReport.Status.ACCEPTED, year__lte=period.year)
        .order_by("organization_id", "year")
        .values_list("organization_id", "members_end")
    )
    if connection.features.can_distinct_on_fields:
        reported = reported.order_by("organization_id", "-year").distinct("organization_id")
    last_members = {org_id: int(members or 0) for org_id, members in _rows(reported)}
    for org_id, members in last_members.items():
        _vector_set(vectors, org_id, "reported_members", members)
    _report_counts_into(vectors, year=period.year)
    source = {
        "register_start": period.start.isoformat(),
        "register_end": period.end.isoformat(),
        "accepted_reports_used": len(last_members),
    }
    return vectors, source


def _report_counts_into(vectors: dict[int, list[int]], *, year: int) -> None:
    statuses = AnnualReport.objects.filter(year=year).order_by().values_list("organization_id", "status")
    submitted = (AnnualReport.Status.SUBMITTED, AnnualReport.Status.ACCEPTED)
    accepted = AnnualReport.Status.ACCEPTED
    expected_at = VECTOR_POSITION[f"reports_expected__{END}"]
    submitted_at = VECTOR_POSITION[f"reports_submitted__{END}"]
    accepted_at = VECTOR_POSITION[f"reports_accepted__{END}"]
    for org_id, status in _rows(statuses):
        vector = vectors.get(org_id)
        if vector is None:
            vector = vectors[org_id] = [0] * VECTOR_WIDTH
        vector[expected_at] = 1
        vector[submitted_at] = int(status in submitted)
        vector[accepted_at] = int(status == accepted)


def _accepted_own_vectors(*, year: int) -> tuple[dict[int, list[int]], dict]:
    vectors: dict[int, list[int]] = {}
    accepted = AnnualReport.objects.filter(year=year, status=AnnualReport.Status.ACCEPTED)
    for org_id, figures in accepted.order_by().values_list("organization_id", "figures").iterator(chunk_size=5_000):
        vectors[org_id] = figures_to_vector(figures)
    count = len(vectors)
    _report_counts_into(vectors, year=year)
    return vectors, {"accepted_reports": count}


def _rolled_up(nodes: list[_TreeNode], own: dict[int, list[int]]) -> dict[int, list[int]]:
    """Every organisation's figures plus everything below it: children are added into parents, deepest first."""
    vectors = {node.id: own.get(node.id) or [0] * VECTOR_WIDTH for node in nodes}
    add = operator.add
    for node in sorted(nodes, key=operator.attrgetter("depth"), reverse=True):
        parent = node.parent_id
        if parent is not None and parent in vectors:
            vectors[parent] = list(map(add, vectors[parent], vectors[node.id]))
    return vectors


def primaries_register_figures(*, year: int, today: datetime.date | None = None) -> dict[int, Figures]:
    """Every open primary organisation's figures from the register, its units included: what each chair's report
    would be pre-filled with, counted for the whole union in one pass (the demo's reports are made from it)."""
    period = Period.of_year(year, today=today or timezone.localdate())
    nodes = _tree()
    vectors = _rolled_up(nodes, register_vectors_by_org(period=period))
    primaries = {}
    for node in nodes:
        if node.level == Organization.Level.PRIMARY and node.is_active:
            figures = vector_to_figures(vectors[node.id])
            for key in ENTERED_KEYS:
                figures.pop(key, None)
            primaries[node.id] = figures
    return primaries


# The rollup reads the whole members table in one grouped scan and joins cards to members: more memory for
# its sorts and hashes than a page's query needs (this transaction only).
ROLLUP_WORK_MEM = "128MB"


def rollup_build(
    *, year: int, variant: str, trigger: str = RollupBuild.Trigger.ON_DEMAND, by: User | None = None, today=None
) -> RollupBuild:
    """Count (register) or sum (accepted reports) the figures of every organisation and replace the year's
    snapshot. The same data gives the same snapshot: the digest of its rows says so."""
    if variant not in RollupSnapshot.Variant.values:
        raise StatisticsError(_("Неизвестный вариант сводки: %(variant)s.") % {"variant": variant})
    build = RollupBuild.objects.create(year=year, variant=variant, trigger=trigger, requested_by=by)
    try:
        with transaction.atomic():
            if uses_copy():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")
                    # A snapshot is derived data that the next build remakes: its commit need not wait for the
                    # disk (a crash right after loses at most this build, never leaves half of one).
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    # One build of a year and variant at a time: each compares the stored rows with its own.
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"rollup:{year}:{variant}"]
                    )
            nodes = _tree()
            if variant == RollupSnapshot.Variant.REGISTER:
                period = Period.of_year(year, today=today or timezone.localdate())
                own, source = _register_own_vectors(period=period, nodes=nodes)
            else:
                own, source = _accepted_own_vectors(year=year)
            vectors = _rolled_up(nodes, own)
            digest = hashlib.sha256()
            packed_rows = {}
            # Each row's figures are packed once, and the digest is taken of those same bytes.
            for org_id in sorted(vectors):
                packed = packed_rows[org_id] = vector_pack(vectors[org_id])
                digest.update(b"%d:%b\n" % (org_id, packed))
            rewritten = _snapshots_replace(year=year, variant=variant, build=build, packed_rows=packed_rows)
            build.status = RollupBuild.Status.DONE
            build.finished_at = timezone.now()
            build.source = {
                **source, "layout": SNAPSHOT_LAYOUT_VERSION, "organizations": len(nodes), "rows_rewritten": rewritten
            }  # fmt: skip
            build.digest = digest.hexdigest()
            build.organizations = len(vectors)
            build.save(update_fields=["status", "finished_at", "source", "digest", "organizations"])
    except Exception as error:
        logger.exception("rollup %s %s failed", year, variant)
        RollupBuild.objects.filter(pk=build.pk).update(
            status=RollupBuild.Status.FAILED,
            finished_at=timezone.now(),
            failure=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    return build


# Deleting rows by the list of their organisations: a chunk of ids per statement.
SNAPSHOT_DELETE_CHUNK = 5_000


def _snapshots_replace(*, year: int, variant: str, build: RollupBuild, packed_rows: dict[int, bytes]) -> int:
    """Make the year's snapshot rows say `packed_rows`, writing only the rows whose figures differ; returns how many
    were written. A nightly rebuild changes the organisations whose members changed that day and their ancestors:
    rewriting all eighty-five thousand rows, with their index entries and their WAL, would cost as much as counting
    them. A row keeps the build that last changed it; pages show the year's latest build
    (selectors.rollup_build_current). When most rows change (the year's first build) all are replaced at once."""
    stored = RollupSnapshot.objects.filter(year=year, variant=variant).order_by()
    if uses_copy():
        # The database hashes its rows rather than sending forty megabytes of figures to be compared here.
        current = dict(_rows(stored.annotate(fingerprint=MD5("figures")).values_list("organization_id", "fingerprint")))

        def fingerprint(packed: bytes) -> str:
            return hashlib.md5(packed, usedforsecurity=False).hexdigest()
    else:
        current = {org_id: bytes(figures) for org_id, figures in stored.values_list("organization_id", "figures")}
        fingerprint = bytes
    changed = [org_id for org_id, packed in packed_rows.items() if current.get(org_id) != fingerprint(packed)]
    vanished = [org_id for org_id in current if org_id not in packed_rows]
    replace_all = len(changed) + len(vanished) > len(packed_rows) // 2
    if replace_all:
        stored.delete()
        changed = list(packed_rows)
    else:
        outdated = [org_id for org_id in changed if org_id in current] + vanished
        for start in range(0, len(outdated), SNAPSHOT_DELETE_CHUNK):
            stored.filter(organization_id__in=outdated[start : start + SNAPSHOT_DELETE_CHUNK]).delete()
    write_rows(
        RollupSnapshot, columns=("organization_id", "year", "variant", "figures", "build_id"), binary=True,
        rows=((org_id, year, variant, packed_rows[org_id], build.pk) for org_id in changed),
    )  # fmt: skip
    if replace_all and uses_copy():
        with connection.cursor() as cursor:
            # Fresh statistics, or the planner takes the year's snapshot for a handful of rows and scans all of
            # them for a dashboard's children. Only the columns pages filter on: the figures are read whole and
            # never searched. A partial rewrite leaves the statistics to autovacuum: the distribution is the same.
            cursor.execute("ANALYZE statistics_rollupsnapshot (organization_id, year, variant)")
    return len(changed)


def rollups_due_tonight(*, today: datetime.date) -> list[tuple[int, str]]:
    """The current year from the register; both variants of every year whose campaign is open."""
    due = [(today.year, RollupSnapshot.Variant.REGISTER)]
    for year in ReportCampaign.objects.filter(closed_at__isnull=True).values_list("year", flat=True):
        due += [(year, RollupSnapshot.Variant.REGISTER), (year, RollupSnapshot.Variant.ACCEPTED)]
    return list(dict.fromkeys(due))
