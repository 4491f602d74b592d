"""Reads of reports, campaigns and snapshots, already scoped to the user who asks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, Substr
from django.http import Http404

from accounts.models import APPARATUS_ROLES, Role, User
from registry.models import PATH_SEGMENT_WIDTH, Organization
from registry.selectors import orgs_visible_to
from union_statistics.indicators import Figures, vector_to_figures
from union_statistics.models import AnnualReport, ReportCampaign, RollupBuild, RollupSnapshot


def reports_visible_to(user: User) -> QuerySet[AnnualReport]:
    """The chair's own organisation's reports; the apparatus's subtree; nothing for anyone else."""
    if user.role == Role.CHAIR and user.organization_id:
        return AnnualReport.objects.filter(organization_id=user.organization_id)
    if user.role in APPARATUS_ROLES and user.organization_id:
        return AnnualReport.objects.filter(organization__in=orgs_visible_to(user).values("id"))
    return AnnualReport.objects.none()


def get_report_for_user(user: User, pk: int) -> AnnualReport:
    try:
        return reports_visible_to(user).select_related("organization", "organization__parent", "campaign").get(pk=pk)
    except AnnualReport.DoesNotExist:
        raise Http404 from None


def report_events(report: AnnualReport):
    return report.events.select_related("by").order_by("-created_at", "-id")


@dataclass(frozen=True)
class ReportFilters:
    year: int | None = None
    status: str = ""


def report_list(*, user: User, filters: ReportFilters) -> QuerySet[AnnualReport]:
    qs = reports_visible_to(user).select_related("organization", "organization__parent")
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("-year", "organization__path")


def report_years(user: User) -> list[int]:
    return list(reports_visible_to(user).order_by("-year").values_list("year", flat=True).distinct())


def open_campaigns() -> QuerySet[ReportCampaign]:
    return ReportCampaign.objects.filter(closed_at__isnull=True).order_by("-year")


def campaigns() -> QuerySet[ReportCampaign]:
    return ReportCampaign.objects.select_related("opened_by").order_by("-year")


def get_campaign(year: int) -> ReportCampaign:
    try:
        return ReportCampaign.objects.get(year=year)
    except ReportCampaign.DoesNotExist:
        raise Http404 from None


@dataclass
class CampaignRow:
    organization: Organization
    expected: int = 0
    submitted: int = 0
    accepted: int = 0
    returned: int = 0

    @property
    def owed(self) -> int:
        return self.expected - self.submitted - self.accepted

    @property
    def done_percent(self) -> int:
        return round(100 * self.accepted / self.expected) if self.expected else 0


def campaign_progress(*, campaign: ReportCampaign, org: Organization) -> tuple[CampaignRow, list[CampaignRow]]:
    """The campaign within `org`'s subtree, in total and by child organisation (one grouped scan of the reports)."""
    child_path_length = len(org.path) + PATH_SEGMENT_WIDTH
    reports = AnnualReport.objects.filter(
        campaign=campaign, organization__in=Organization.objects.subtree_of(org).values("id")
    )
    rows = (
        reports.order_by()
        .annotate(child_path=Substr("organization__path", 1, child_path_length))
        .values("child_path")
        .annotate(
            expected=Count("id"),
            submitted=Count("id", filter=Q(status=AnnualReport.Status.SUBMITTED)),
            accepted=Count("id", filter=Q(status=AnnualReport.Status.ACCEPTED)),
            returned=Count("id", filter=Q(status=AnnualReport.Status.RETURNED)),
        )
    )
    by_path = {row["child_path"]: row for row in rows}
    children = Organization.objects.filter(path__in=[path for path in by_path if len(path) == child_path_length])
    total = CampaignRow(organization=org)
    by_child = []
    for child in children.order_by("name"):
        row = by_path[child.path]
        by_child.append(CampaignRow(child, row["expected"], row["submitted"], row["accepted"], row["returned"]))
    for row in by_path.values():
        total.expected += row["expected"]
        total.submitted += row["submitted"]
        total.accepted += row["accepted"]
        total.returned += row["returned"]
    return total, by_child


def campaign_owed_reports(*, campaign: ReportCampaign, org: Organization, status: str = "") -> QuerySet[AnnualReport]:
    statuses = [status] if status in AnnualReport.OWED_STATUSES else list(AnnualReport.OWED_STATUSES)
    return (
        AnnualReport.objects.filter(
            campaign=campaign,
            status__in=statuses,
            organization__in=Organization.objects.subtree_of(org).values("id"),
        )
        .select_related("organization", "organization__parent")
        .order_by("organization__path")
    )


def rollup_builds_current(*, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], RollupBuild]:
    """The latest finished build of each (year, variant) asked for: the one that last counted the year's figures,
    whichever earlier build wrote a row that has not changed since (a build rewrites only the changed rows)."""
    keys = set(keys)
    if not keys:
        return {}
    latest_first = Window(
        RowNumber(), partition_by=[F("year"), F("variant")], order_by=[F("finished_at").desc(), F("id").desc()]
    )
    builds = (
        RollupBuild.objects.filter(status=RollupBuild.Status.DONE, year__in={year for year, _variant in keys})
        .annotate(place=latest_first)
        .filter(place=1)
    )
    return {(build.year, build.variant): build for build in builds if (build.year, build.variant) in keys}


def snapshots_with_current_build(snapshots: Iterable[RollupSnapshot]) -> list[RollupSnapshot]:
    """The snapshots, each shown with the latest build of its year and variant (rollup_builds_current): when the
    figures were last counted and from what, even for a row an earlier build wrote."""
    snapshots = list(snapshots)
    builds = rollup_builds_current(keys={(snapshot.year, snapshot.variant) for snapshot in snapshots})
    for snapshot in snapshots:
        build = builds.get((snapshot.year, snapshot.variant))
        if build is not None:
            snapshot.build = build
    return snapshots


def _has_accepted_reports(build: RollupBuild | None) -> bool:
    return build is None or (build.source or {}).get("accepted_reports") != 0


def org_snapshot(*, org: Organization, year: int, variant: str) -> tuple[Figures, RollupBuild] | None:
    """The organisation's rollup of a year: its figures and the build that last counted them."""
    snapshot = RollupSnapshot.objects.filter(organization=org, year=year, variant=variant).first()
    if snapshot is None:
        return None
    [snapshot] = snapshots_with_current_build([snapshot])
    return vector_to_figures(snapshot.vector), snapshot.build


def snapshot_years(*, org: Organization, variant: str) -> list[int]:
    """Years with figures, latest first. A rollup of accepted reports for a year in which no report was accepted
    is all zeros, not figures: it is left out, as the dashboard leaves it out."""
    years = list(
        RollupSnapshot.objects.filter(organization=org, variant=variant)
        .order_by("-year")
        .values_list("year", flat=True)
    )
    if variant == RollupSnapshot.Variant.ACCEPTED:
        builds = rollup_builds_current(keys={(year, variant) for year in years})
        years = [year for year in years if _has_accepted_reports(builds.get((year, variant)))]
    return years


def rollup_builds(limit: int = 50) -> list[RollupBuild]:
    return list(RollupBuild.objects.select_related("requested_by").order_by("-started_at", "-id")[:limit])


def report_of_org(*, org: Organization, year: int) -> AnnualReport | None:
    return AnnualReport.objects.filter(organization=org, year=year).first()
