"""Downloads of the statistics pages: the annual report, a rollup, a dashboard's table, the digitalisation progress.

Each export checks the role and the scope exactly as the page it exports does, and leaves an access-log record.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import client_ip, require_role
from accounts.models import ORG_STAFF_ROLES, AccessLog
from accounts.services import access_log_write
from registry.models import Organization
from registry.selectors import get_org_for_user
from union_statistics import exports, selectors, services
from union_statistics.indicators import Period, report_rows
from union_statistics.models import AnnualReport, RollupBuild, RollupSnapshot
from union_statistics.tables import StatTable

STAFF = tuple(ORG_STAFF_ROLES)
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _check_format(fmt: str) -> None:
    if fmt not in CONTENT_TYPES:
        raise Http404(_("Такого формата выгрузки нет: %(fmt)s.") % {"fmt": fmt})


def _readable_filename(title: str, fmt: str) -> str:
    """The file's name in Russian for browsers that read filename*: no characters a file system refuses."""
    cleaned = re.sub(r"[^\w\s№.,()-]+", " ", title)
    return re.sub(r"\s+", " ", cleaned).strip(" .")[:150] + f".{fmt}"


def _download(request, *, content: bytes, fmt: str, filename: str, title: str, org: Organization, details: dict):
    """152-FZ: the export is logged (who, which organisation, what) before the file leaves."""
    access_log_write(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        obj=org,
        details={**details, "format": fmt},
        ip_address=client_ip(request),
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f"attachment; filename=\"{filename}.{fmt}\"; filename*=UTF-8''{quote(_readable_filename(title, fmt))}"
    )
    return response


def _person(user) -> str:
    return user.display_name if user is not None else ""


def _report_labels(report: AnnualReport) -> tuple[str, str, str]:
    """What the report file says of its figures: frozen at submission, or the register's state today."""
    status = report.get_status_display()
    if report.is_frozen:
        variant = _("показатели, зафиксированные при сдаче %(date)s") % {
            "date": f"{timezone.localtime(report.submitted_at):%d.%m.%Y}"
        }
    else:
        variant = _("предварительные данные реестра на %(date)s, отчёт не сдан") % {
            "date": f"{timezone.localdate():%d.%m.%Y}"
        }
    accepted = ""
    if report.status == AnnualReport.Status.ACCEPTED and report.decided_at:
        accepted = f"{timezone.localtime(report.decided_at):%d.%m.%Y}, {_person(report.decided_by)}"
    return status, variant, accepted


@require_role(*STAFF)
def report_export(request, pk: int, fmt: str):
    """One annual report: who may open the report page may download it."""
    _check_format(fmt)
    report = selectors.get_report_for_user(request.user, pk)
    entered = report.entered or services.report_entered_defaults(report=report)
    figures, _check = services.report_preview(report=report, entered=entered)
    status, variant, accepted = _report_labels(report)
    org = report.organization
    writer = exports.report_xlsx if fmt == "xlsx" else exports.report_pdf
    content = writer(
        organization=org,
        year=report.year,
        rows=report_rows(figures),
        status_label=status,
        variant_label=variant,
        accepted=accepted,
    )
    return _download(
        request,
        content=content,
        fmt=fmt,
        filename=f"report-{report.year}-org{org.pk}",
        title=_("Отчёт %(year)s %(org)s") % {"year": report.year, "org": org.display_name},
        org=org,
        details={"what": "report", "year": report.year, "variant": "frozen" if report.is_frozen else "preview"},
    )


def _build_labels(build: RollupBuild, *, year: int, variant: str) -> tuple[str, str]:
    variant_label = str(RollupSnapshot.Variant(variant).label)
    if variant == RollupSnapshot.Variant.REGISTER and build.source.get("register_end"):
        period = Period(
            year=year,
            start=datetime.date(year, 1, 1),
            end=datetime.date.fromisoformat(build.source["register_end"]),
        )
        variant_label = _("%(variant)s на %(date)s") % {
            "variant": variant_label,
            "date": f"{period.end_label_date:%d.%m.%Y}",
        }
    finished = build.finished_at or build.started_at
    return _("сводка, расчёт от %(when)s") % {"when": f"{timezone.localtime(finished):%d.%m.%Y %H:%M}"}, variant_label


@require_role(*STAFF)
def org_report_export(request, pk: int, year: int, fmt: str):
    """The rollup of an organisation in scope, as the org report page shows it (from the snapshot)."""
    _check_format(fmt)
    org = get_org_for_user(request.user, pk)
    variant = request.GET.get("variant", RollupSnapshot.Variant.ACCEPTED)
    if variant not in RollupSnapshot.Variant.values:
        variant = RollupSnapshot.Variant.ACCEPTED
    snapshot = selectors.org_snapshot(org=org, year=year, variant=variant)
    if snapshot is None:
        raise Http404(
            _("Сводка за %(year)s год («%(variant)s») ещё не рассчитана: выгружать нечего.")
            % {"year": year, "variant": RollupSnapshot.Variant(variant).label}
        )
    figures, build = snapshot
    status, variant_label = _build_labels(build, year=year, variant=variant)
    writer = exports.report_xlsx if fmt == "xlsx" else exports.report_pdf
    content = writer(
        organization=org, year=year, rows=report_rows(figures), status_label=status, variant_label=variant_label
    )
    return _download(
        request,
        content=content,
        fmt=fmt,
        filename=f"rollup-{year}-{variant}-org{org.pk}",
        title=_("Сводный отчёт %(year)s %(org)s") % {"year": year, "org": org.display_name},
        org=org,
        details={"what": "rollup", "year": year, "variant": variant},
    )


def _table_file(table: StatTable, *, fmt: str, org: Organization, signatures: bool) -> bytes:
    if fmt == "xlsx":
        return exports.stat_table_xlsx(table)
    return exports.stat_table_pdf(table, organization_name=org.name, signatures=signatures)


def _year_and_variant(request, org: Organization) -> tuple[int, str]:
    """As the dashboard page reads them: an unknown variant is the register's; no year is the latest rolled up."""
    variant = request.GET.get("variant")
    if variant not in RollupSnapshot.Variant.values:
        variant = RollupSnapshot.Variant.REGISTER
    year = request.GET.get("year", "")
    if year.isdigit():
        return int(year), variant
    latest = selectors.snapshot_years(org=org, variant=variant)
    return (latest[0] if latest else timezone.localdate().year), variant


@require_role(*STAFF)
def dashboard_export(request, pk: int, fmt: str):
    """The dashboard's table of child organisations, with the year and variant the page shows."""
    from union_statistics.dashboards import dashboard_children_table

    _check_format(fmt)
    org = get_org_for_user(request.user, pk)
    year, variant = _year_and_variant(request, org)
    table = dashboard_children_table(user=request.user, org=org, year=year, variant=variant)
    return _download(
        request,
        content=_table_file(table, fmt=fmt, org=org, signatures=True),
        fmt=fmt,
        filename=f"dashboard-{year}-{variant}-org{org.pk}",
        title=table.title,
        org=org,
        details={"what": "dashboard", "year": year, "variant": variant},
    )


@require_role(*STAFF)
def progress_export(request, fmt: str):
    """The digitalisation progress of the user's organisation, or of one in scope (?org=)."""
    from union_statistics.dashboards import progress_table

    _check_format(fmt)
    org_id = request.GET.get("org", str(request.user.organization_id))
    if not org_id.isdigit():
        raise Http404
    org = get_org_for_user(request.user, int(org_id))
    table = progress_table(user=request.user, org=org)
    return _download(
        request,
        content=_table_file(table, fmt=fmt, org=org, signatures=False),
        fmt=fmt,
        filename=f"progress-{timezone.localdate():%Y%m%d}-org{org.pk}",
        title=table.title,
        org=org,
        details={"what": "progress", "year": timezone.localdate().year, "variant": "register"},
    )
