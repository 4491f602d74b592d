"""Rollups: every level is the sum of its leaves, percentages come from the sums, a rerun gives the same snapshot."""

import datetime
from decimal import Decimal

import pytest

from union_statistics import services
from union_statistics.indicators import END, START, figures_derive, percent
from union_statistics.models import AnnualReport, RollupBuild, RollupSnapshot
from union_statistics.selectors import org_snapshot

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)


def _accepted(org, figures, year=2025):
    return AnnualReport.objects.create(
        organization=org, year=year, status=AnnualReport.Status.ACCEPTED, figures=figures,
        submitted_at=datetime.datetime(2026, 1, 20, tzinfo=datetime.UTC),
    )  # fmt: skip


@pytest.fixture
def accepted_reports(union):
    """Three leaves of region A and one of region B, with coverages 90 %, 10 % and 50 %."""
    leaves = {
        union.primary_a1a: {"working": [10, 10, 8], "working_members": [9, 9, 7], "members": [9, 9, 7], "youth": [2, 3, 2]},
        union.primary_a1b: {"working": [100, 100, 90], "working_members": [10, 10, 9], "members": [10, 10, 9], "youth": [1, 1, 1]},
        union.university_a: {"working": [40, 40, 30], "students": [60, 60, 40], "working_members": [20, 20, 15], "student_members": [30, 30, 20], "members": [50, 50, 35], "joined": [None, 12, 8]},
        union.primary_b1a: {"working": [20, 20, 18], "working_members": [10, 10, 9], "members": [10, 10, 9]},
    }  # fmt: skip
    for org, figures in leaves.items():
        _accepted(org, figures)
    return leaves


def test_each_level_of_the_accepted_rollup_is_the_sum_of_its_leaves(union, accepted_reports):
    services.rollup_build(year=2025, variant="accepted")

    local, _build = org_snapshot(org=union.local_a1, year=2025, variant="accepted")
    region, _build = org_snapshot(org=union.region_a, year=2025, variant="accepted")
    central, _build = org_snapshot(org=union.central, year=2025, variant="accepted")

    assert local["members"] == [19, 19, 16]
    assert local["working"] == [110, 110, 98]
    assert region["members"] == [69, 69, 51]
    assert region["joined"][END] == 12
    assert region["joined"][START] is None
    assert central["members"] == [79, 79, 60]
    assert central["reports_accepted"][END] == 4


def test_percentages_are_recomputed_from_the_sums_never_averaged(union, accepted_reports):
    services.rollup_build(year=2025, variant="accepted")

    local, _build = org_snapshot(org=union.local_a1, year=2025, variant="accepted")
    coverage = figures_derive(local)["coverage"][END]

    assert coverage == percent(19, 110) == Decimal("17.3")
    assert coverage != (percent(9, 10) + percent(10, 100)) / 2  # 50.0: the average of the leaves' percentages


def test_the_register_rollup_counts_members_once_across_organisations(union, year_2025):
    services.rollup_build(year=2025, variant="register", today=TODAY)

    a1a, _b = org_snapshot(org=union.primary_a1a, year=2025, variant="register")
    local, _b = org_snapshot(org=union.local_a1, year=2025, variant="register")
    central, build = org_snapshot(org=union.central, year=2025, variant="register")

    assert a1a["members"] == [6, 5, 3]
    assert local["members"] == [7, 6, 4]  # A1a + A1b: Елена and Зоя counted once on each date
    assert central["members"] == local["members"]
    assert local["arrived"][END] == local["transferred_out"][END] == 2
    assert build.source["register_end"] == "2026-01-01"


def test_a_rerun_gives_the_same_snapshot(union, year_2025, accepted_reports):
    first = services.rollup_build(year=2025, variant="register", today=TODAY)
    rows_first = dict(
        RollupSnapshot.objects.filter(year=2025, variant="register").values_list("organization_id", "figures")
    )

    second = services.rollup_build(year=2025, variant="register", today=TODAY)
    rows_second = dict(
        RollupSnapshot.objects.filter(year=2025, variant="register").values_list("organization_id", "figures")
    )

    assert first.digest == second.digest != ""
    assert rows_first == rows_second
    assert RollupSnapshot.objects.filter(year=2025, variant="register").count() == len(rows_first)
    # Nothing changed, so nothing was rewritten; the figures are still shown as counted by the second build.
    assert first.source["rows_rewritten"] == len(rows_first)
    assert second.source["rows_rewritten"] == 0
    assert org_snapshot(org=union.central, year=2025, variant="register")[1] == second


def test_a_rebuild_rewrites_only_the_organisations_whose_figures_changed(union, accepted_reports):
    """One leaf's accepted report changes: that leaf and its ancestors are rewritten, every other row is kept, and
    every page shows the new build's time."""
    first = services.rollup_build(year=2025, variant="accepted")
    report = AnnualReport.objects.get(organization=union.primary_a1a, year=2025)
    report.figures = {**report.figures, "members": [9, 11, 7]}
    report.save()

    second = services.rollup_build(year=2025, variant="accepted")

    snapshots = RollupSnapshot.objects.filter(year=2025, variant="accepted")
    rewritten = set(snapshots.filter(build=second).values_list("organization_id", flat=True))
    assert rewritten == {union.primary_a1a.pk, union.local_a1.pk, union.region_a.pk, union.central.pk}
    assert second.source["rows_rewritten"] == len(rewritten)
    assert snapshots.filter(build=first).exists()
    assert org_snapshot(org=union.primary_b1a, year=2025, variant="accepted")[1] == second
    assert org_snapshot(org=union.central, year=2025, variant="accepted")[0]["members"][END] == 11 + 10 + 50 + 10


def test_a_snapshot_records_when_and_from_what(union, users, accepted_reports):
    build = services.rollup_build(year=2025, variant="accepted", by=users.central)

    assert build.status == RollupBuild.Status.DONE
    assert build.finished_at >= build.started_at
    assert build.requested_by == users.central
    assert build.source["accepted_reports"] == 4
    assert build.organizations == 10


def test_a_failed_rollup_ends_failed_and_keeps_the_old_snapshot(union, accepted_reports, monkeypatch):
    services.rollup_build(year=2025, variant="accepted")
    before = RollupSnapshot.objects.filter(year=2025, variant="accepted").count()

    def broken(*args, **kwargs):
        raise RuntimeError("диск заполнен")

    monkeypatch.setattr(services, "write_rows", broken)
    with pytest.raises(RuntimeError):
        services.rollup_build(year=2025, variant="accepted")

    failed = RollupBuild.objects.order_by("-id").first()
    assert failed.status == RollupBuild.Status.FAILED
    assert "диск заполнен" in failed.failure
    assert RollupSnapshot.objects.filter(year=2025, variant="accepted").count() == before


def test_the_nightly_plan_covers_the_current_year_and_open_campaigns(users):
    services.campaign_open(year=2025, deadline=datetime.date.today(), by=users.central)

    due = services.rollups_due_tonight(today=TODAY)

    assert due == [(2026, "register"), (2025, "register"), (2025, "accepted")]


def test_the_nightly_task_builds_through_celery(union, year_2025):
    from union_statistics.tasks import rollup_nightly

    result = rollup_nightly.delay()

    assert len(result.get()) == 1
    assert RollupSnapshot.objects.filter(variant="register").exists()


def test_a_year_without_accepted_reports_offers_no_accepted_figures(union, accepted_reports):
    from union_statistics.selectors import snapshot_years

    services.rollup_build(year=2025, variant="accepted")
    services.rollup_build(year=2026, variant="accepted")  # nobody has reported for 2026

    assert snapshot_years(org=union.central, variant="accepted") == [2025]


def test_the_register_rollup_takes_each_organisations_last_accepted_members_line(union):
    """The progress table compares the register with the members line of each organisation's last accepted report:
    a later report replaces an earlier one, a report not yet accepted counts for nothing."""
    _accepted(union.primary_a1a, {"members": [30, 30, 20]}, year=2024)
    _accepted(union.primary_a1a, {"members": [30, 12, 8]}, year=2025)
    _accepted(union.primary_b1a, {"members": [7, 7, 5]}, year=2024)
    AnnualReport.objects.create(
        organization=union.primary_b1a, year=2025, status=AnnualReport.Status.SUBMITTED, figures={"members": [7, 99, 5]},
        submitted_at=datetime.datetime(2026, 1, 20, tzinfo=datetime.UTC),
    )  # fmt: skip

    services.rollup_build(year=2026, variant="register", today=TODAY)

    def reported(org):
        return org_snapshot(org=org, year=2026, variant="register")[0]["reported_members"][END]

    assert reported(union.primary_a1a) == 12
    assert reported(union.primary_b1a) == 7
    assert reported(union.central) == 19
