"""Pages of the annual report, the report campaigns and the rollup runs."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import log_page_view, require_role
from accounts.models import APPARATUS_ROLES, ORG_STAFF_ROLES, Role
from registry.models import Organization
from registry.selectors import get_org_for_user, org_ancestors_for_user
from registry.task_queue import TaskQueueUnavailable, task_send
from union_statistics import selectors, services, tasks
from union_statistics.forms import CampaignOpenForm, ReportDecisionForm, ReportEntryForm, RollupRequestForm
from union_statistics.indicators import report_rows
from union_statistics.models import AnnualReport, RollupSnapshot
from union_statistics.services import StatisticsError

STAFF = tuple(ORG_STAFF_ROLES)
APPARATUS = tuple(APPARATUS_ROLES)
REPORTS_PAGE_SIZE = 50


@require_role(*STAFF)
def report_list(request):
    """The chair: the organisation's reports by year. The apparatus: reports of its subtree, submitted first."""
    user = request.user
    year = request.GET.get("year", "")
    default_status = "" if user.role == Role.CHAIR else AnnualReport.Status.SUBMITTED
    status = request.GET.get("status", default_status)
    if status not in AnnualReport.Status.values:
        status = ""
    filters = selectors.ReportFilters(year=int(year) if year.isdigit() else None, status=status)
    page = Paginator(selectors.report_list(user=user, filters=filters), REPORTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    owed_reports = []
    if user.role == Role.CHAIR and user.organization.is_primary:
        reports_by_year = {report.year: report for report in selectors.reports_visible_to(user)}
        for campaign in selectors.open_campaigns():
            report = reports_by_year.get(campaign.year)
            if report is None or report.status in AnnualReport.OWED_STATUSES:
                owed_reports.append((campaign, report))
    return render(
        request,
        "union_statistics/report_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": AnnualReport.Status.choices,
            "years": selectors.report_years(user),
            "owed_reports": owed_reports,
            "previous_year": timezone.localdate().year - 1,
            "query_string": urlencode({"year": filters.year or "", "status": filters.status}),
        },
    )


@require_POST
@require_role(Role.CHAIR)
def report_open_view(request, year: int):
    try:
        report = services.report_open(organization=request.user.organization, year=year, by=request.user)
    except StatisticsError as error:
        messages.error(request, error.message)
        return redirect("statistics:report_list")
    return redirect(report)


@require_role(*STAFF)
def report_detail(request, pk: int):
    report = selectors.get_report_for_user(request.user, pk)
    can_fill = services.user_can_fill_report(request.user, report.organization) and report.is_editable
    entered = report.entered if report.entered else services.report_entered_defaults(report=report)
    form = ReportEntryForm(request.POST or None, entered=entered, initial={"explanation": report.explanation})
    if request.method == "POST":
        if not can_fill:
            raise PermissionDenied
        if form.is_valid():
            submitting = "submit" in request.POST
            save = services.report_submit if submitting else services.report_save
            try:
                save(
                    report=report,
                    by=request.user,
                    entered=form.entered(),
                    explanation=form.cleaned_data["explanation"],
                )
                messages.success(
                    request,
                    _("Отчёт сдан. Его проверит вышестоящая организация.")
                    if submitting
                    else _("Введённые данные сохранены. Отчёт ещё не сдан."),
                )
            except StatisticsError as error:
                form.add_error(None, error.message)
            else:
                return redirect(report)
        entered = form.entered() if form.is_valid() else entered
    # A fresh draft is not yet wrong for its empty lines; once saved or posted, every line is checked.
    complete = request.method == "POST" or bool(report.entered)
    figures, check = services.report_preview(report=report, entered=entered, complete=complete)
    log_page_view(request, report.organization, report=report.year)
    return render(
        request,
        "union_statistics/report_detail.html",
        {
            "report": report,
            "org": report.organization,
            "breadcrumbs": org_ancestors_for_user(request.user, report.organization),
            "rows": report_rows(figures),
            "check": check,
            "form": form,
            "can_fill": can_fill,
            "can_decide": services.user_can_decide_report(request.user, report.organization)
            and report.status == AnnualReport.Status.SUBMITTED,
            "decision_form": ReportDecisionForm(),
            "events": selectors.report_events(report),
        },
    )


@require_POST
@require_role(*APPARATUS)
def report_decide(request, pk: int):
    report = selectors.get_report_for_user(request.user, pk)
    form = ReportDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Выберите решение: принять или вернуть."))
        return redirect(report)
    try:
        if form.cleaned_data["action"] == "accept":
            services.report_accept(report=report, by=request.user, comment=form.cleaned_data["comment"])
            messages.success(request, _("Отчёт принят."))
        else:
            services.report_return(report=report, by=request.user, comment=form.cleaned_data["comment"])
            messages.success(request, _("Отчёт возвращён председателю с замечаниями."))
    except StatisticsError as error:
        messages.error(request, error.message)
    return redirect(report)


@require_role(*STAFF)
def org_report(request, pk: int, year: int):
    """The report of any organisation in scope: a primary's own report, or the rollup of a higher level."""
    org = get_org_for_user(request.user, pk)
    variant = request.GET.get("variant", RollupSnapshot.Variant.ACCEPTED)
    if variant not in RollupSnapshot.Variant.values:
        variant = RollupSnapshot.Variant.ACCEPTED
    snapshot = selectors.org_snapshot(org=org, year=year, variant=variant)
    return render(
        request,
        "union_statistics/org_report.html",
        {
            "org": org,
            "year": year,
            "variant": variant,
            "variants": RollupSnapshot.Variant.choices,
            "breadcrumbs": org_ancestors_for_user(request.user, org),
            "rows": report_rows(snapshot[0]) if snapshot else None,
            "figures": snapshot[0] if snapshot else None,
            "build": snapshot[1] if snapshot else None,
            "own_report": selectors.report_of_org(org=org, year=year)
            if org.level == Organization.Level.PRIMARY
            else None,
        },
    )


@require_role(*STAFF)
def campaign_list(request):
    form = CampaignOpenForm(request.POST or None)
    if request.method == "POST":
        if request.user.role != Role.CENTRAL:
            raise PermissionDenied
        if form.is_valid():
            try:
                campaign = services.campaign_open(
                    year=form.cleaned_data["year"], deadline=form.cleaned_data["deadline"], by=request.user
                )
            except StatisticsError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("Кампания открыта: отчёты ждут от %(count)s ППО.") % {"count": campaign.reports.count()}
                )
                return redirect(campaign)
    return render(
        request,
        "union_statistics/campaign_list.html",
        {"campaigns": selectors.campaigns(), "form": form, "can_open": request.user.role == Role.CENTRAL},
    )


@require_role(*APPARATUS)
def campaign_detail(request, year: int):
    campaign = selectors.get_campaign(year)
    org = request.user.organization
    if request.GET.get("org", "").isdigit():
        org = get_org_for_user(request.user, int(request.GET["org"]))
    total, by_child = selectors.campaign_progress(campaign=campaign, org=org)
    status = request.GET.get("status", "")
    owed = Paginator(selectors.campaign_owed_reports(campaign=campaign, org=org, status=status), REPORTS_PAGE_SIZE)
    return render(
        request,
        "union_statistics/campaign_detail.html",
        {
            "campaign": campaign,
            "org": org,
            "breadcrumbs": org_ancestors_for_user(request.user, org),
            "total": total,
            "by_child": by_child,
            "campaign_columns": (_("ждут"), _("приняты"), _("на проверке"), _("возвращены"), _("не сданы")),
            "owed": owed.get_page(request.GET.get("page")),
            "status": status,
            "owed_query": urlencode({"org": org.pk, "status": status}),
            "today": timezone.localdate(),
            "can_close": request.user.role == Role.CENTRAL and campaign.is_open,
        },
    )


@require_POST
@require_role(Role.CENTRAL)
def campaign_close_view(request, year: int):
    campaign = selectors.get_campaign(year)
    try:
        services.campaign_close(campaign=campaign, by=request.user)
    except StatisticsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Кампания закрыта."))
    return redirect(campaign)


@require_role(Role.CENTRAL)
def rollup_list(request):
    """Runs of the rollup, and a new one on request (in the background)."""
    form = RollupRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        year, variant = form.cleaned_data["year"], form.cleaned_data["variant"]
        try:
            task_send(tasks.rollup_build, year, variant, "on_demand", request.user.pk)
        except TaskQueueUnavailable as refusal:
            messages.error(request, _("%(reason)s Расчёт не запущен: повторите через несколько минут.")
                           % {"reason": refusal.message})  # fmt: skip
        else:
            messages.success(
                request,
                _("Расчёт за %(year)s год запущен; обновите страницу, чтобы увидеть его статус.") % {"year": year},
            )
        return redirect("statistics:rollup_list")
    return render(request, "union_statistics/rollup_list.html", {"builds": selectors.rollup_builds(), "form": form})
