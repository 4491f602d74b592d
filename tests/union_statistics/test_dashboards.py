"""Dashboards, digitalisation progress and the passport's analysis: figures from the snapshots, counted by hand.

The year 2025 of conftest.py, rolled up from the register on 29.11.2026. At the end of 2025 primary A1a (its unit
included) has 5 members (3 women), A1b has 1 (Зоя, a woman); local A1 has 6 members (4 women). Two men are added to
the university of region A, so that region A's women share is 4 / 8 = 50 % while the average of its two rows'
shares (66.7 % and 0 %) would be 33.3 %.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from membership.models import Member
from tests.factories import MemberFactory
from union_statistics import dashboards, services
from union_statistics.indicators import END, SNAPSHOT_KEYS, percent
from union_statistics.models import RollupSnapshot

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)
D = datetime.date


@pytest.fixture
def rolled_up(union, users, year_2025):
    for born in (D(1960, 1, 1), D(1965, 1, 1)):
        MemberFactory(
            organization=union.university_a, sex=Member.Sex.MALE, birth_date=born,
            union_joined_on=D(2010, 9, 1), org_joined_on=D(2010, 9, 1),
        )  # fmt: skip
    union.region_a.region.pilot_2018 = True
    union.region_a.region.save(update_fields=["pilot_2018"])
    services.rollup_build(year=2025, variant="register", today=TODAY)
    return union


def _row(table, name):
    return next(row for row in table.rows if row["name"] == name)


def test_a_region_is_the_sum_of_its_primary_organisations(rolled_up, users):
    union = rolled_up
    table = dashboards.dashboard_children_table(user=users.central, org=union.central, year=2025, variant="register")

    region_a = _row(table, union.region_a.display_name)
    a1a = dashboards.dashboard_children_table(user=users.central, org=union.local_a1, year=2025, variant="register")
    assert _row(a1a, union.primary_a1a.display_name)["members"] == 5
    assert _row(a1a, union.primary_a1b.display_name)["members"] == 1
    assert region_a["members"] == 5 + 1 + 2
    assert region_a["women_share"] == Decimal("50.0")  # А, В, Е, Зоя of 8
    assert region_a["joined"] == 1  # Вера
    assert region_a["left"] == 2  # Галина (voluntarily), Дмитрий (excluded); transfers are not leaving
    assert region_a["region"] == "Москва"
    assert region_a["region_badges"] == ["пилот 2018"]
    assert _row(table, union.region_b.display_name)["members"] == 0


def test_the_totals_line_sums_the_rows_and_takes_percentages_of_the_sums(rolled_up, users):
    union = rolled_up
    table = dashboards.dashboard_children_table(user=users.regional, org=union.region_a, year=2025, variant="register")

    local, university = _row(table, union.local_a1.display_name), _row(table, union.university_a.display_name)
    assert (local["members"], local["women_share"]) == (6, Decimal("66.7"))
    assert (university["members"], university["women_share"]) == (2, Decimal("0.0"))
    assert table.totals["members"] == 8
    assert table.totals["women_share"] == Decimal("50.0")
    assert table.totals["women_share"] != (local["women_share"] + university["women_share"]) / 2
    assert table.totals["youth_share"] == Decimal("50.0")  # А, В, Иван, Зоя of 8
    assert table.note.startswith("рассчитано ")
    assert "по данным реестра на 30.11.2026" not in table.note  # 2025 is complete: as of 1 January
    assert "01.01.2026" in table.note


def test_the_dashboard_page_shows_the_regions_figures_and_reads_no_member(rolled_up, users, client_for):
    union = rolled_up
    client = client_for(users.regional)
    url = reverse("statistics:dashboard", args=[union.region_a.pk]) + "?year=2025&variant=register"

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert not [query["sql"] for query in queries if "membership_member" in query["sql"]]
    assert len(queries) <= 11  # with the device of the regional user's second sign-in step (django-otp)
    html = response.content.decode()
    assert union.local_a1.display_name in html
    assert union.university_a.display_name in html
    for name in (union.region_b.display_name, union.local_b1.display_name, union.primary_b1a.display_name):
        assert name not in html
    board = response.context["board"]
    assert board.year == 2025
    assert board.kpis[0].value == 8
    assert board.children.totals["members"] == 8
    assert "рассчитано" in board.provenance


def test_the_central_dashboard_marks_the_pilot_regions_and_links_down(rolled_up, users, client_for):
    union = rolled_up
    response = client_for(users.central).get(reverse("statistics:dashboard", args=[union.central.pk]))

    html = response.content.decode()
    assert response.context["board"].year == 2025  # the latest year with a snapshot
    assert "пилот 2018" in html
    assert reverse("statistics:dashboard", args=[union.region_a.pk]) + "?year=2025&amp;variant=register" in html


def test_the_query_count_does_not_grow_with_the_tree(rolled_up, users, client_for, django_assert_max_num_queries):
    client = client_for(users.central)
    with django_assert_max_num_queries(10):
        client.get(reverse("statistics:dashboard", args=[rolled_up.central.pk]))


def test_without_a_snapshot_the_page_says_so_and_central_office_may_ask_for_one(union, users, client_for):
    response = client_for(users.central).get(reverse("statistics:dashboard", args=[union.central.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "ещё не рассчитаны" in html
    assert "Рассчитать сейчас" in html or "К расчётам сводных показателей" in html

    response = client_for(users.regional).get(reverse("statistics:dashboard", args=[union.region_a.pk]))
    html = response.content.decode()
    assert "ещё не рассчитаны" in html
    assert "Рассчитать сейчас" not in html and "К расчётам сводных показателей" not in html


def test_the_accepted_variant_reads_its_own_snapshot(rolled_up, users, client_for):
    response = client_for(users.central).get(
        reverse("statistics:dashboard", args=[rolled_up.central.pk]) + "?variant=accepted"
    )

    assert response.context["board"].variant == "accepted"
    assert response.context["board"].snapshot is None


def test_trends_cover_every_year_with_a_snapshot(rolled_up, users):
    services.rollup_build(year=2024, variant="register", today=TODAY)

    board = dashboards.dashboard(user=users.central, org=rolled_up.central, year=None, variant="register")

    assert board.years[:2] == [2025, 2024]
    members = board.charts["trend"]["datasets"][0]["data"]
    assert board.charts["trend"]["labels"][-2:] == ["2024", "2025"]
    assert members[-1] == 8


def test_live_counters_come_from_this_years_register_snapshot(rolled_up, users):
    this_year = timezone.localdate().year
    services.rollup_build(year=this_year, variant="register")

    board = dashboards.dashboard(user=users.local, org=rolled_up.local_a1, year=2025, variant="register")

    snapshot = RollupSnapshot.objects.get(organization=rolled_up.local_a1, year=this_year, variant="register")
    figures = dashboards.snapshot_figures(snapshot)
    assert board.counters.members == figures["members"][1]
    assert board.counters.cards_valid == figures["cards_valid"][1]
    assert board.counters.joined_month == figures["joined_month"][1]


def test_progress_ranks_the_children_by_register_completeness(rolled_up, users, client_for):
    union = rolled_up
    this_year = timezone.localdate().year
    services.rollup_build(year=this_year, variant="register")
    snapshot = RollupSnapshot.objects.get(organization=union.central, year=this_year, variant="register")
    # Region A's last reports counted 16 members, region B's 10: A has half of them in the register, B none.
    for org, reported in ((union.region_a, 16), (union.region_b, 10)):
        row = RollupSnapshot.objects.get(organization=org, year=this_year, variant="register")
        figures = row.vector
        index = SNAPSHOT_KEYS.index("reported_members") * 3 + END
        figures[index] = reported
        row.vector = figures
        row.save(update_fields=["figures"])
    members_a = dashboards.snapshot_figures(
        RollupSnapshot.objects.get(organization=union.region_a, year=this_year, variant="register")
    )["members"][1]

    table = dashboards.progress_table(user=users.central, org=union.central)

    assert [row["name"] for row in table.rows] == [union.region_a.display_name, union.region_b.display_name]
    assert [row["rank"] for row in table.rows] == [1, 2]
    assert table.rows[0]["register_share"] == percent(members_a, 16)
    assert table.rows[1]["register_share"] == Decimal("0.0")
    assert table.totals["reported_members"] == 26
    assert snapshot.year == this_year

    response = client_for(users.central).get(reverse("statistics:progress"))
    assert response.status_code == 200
    assert reverse("statistics:progress") + f"?org={union.region_a.pk}" in response.content.decode()


def test_progress_of_an_organisation_outside_the_scope_is_not_found(rolled_up, users, client_for):
    response = client_for(users.regional).get(reverse("statistics:progress") + f"?org={rolled_up.region_b.pk}")
    assert response.status_code == 404
    response = client_for(users.regional).get(reverse("statistics:progress") + "?org=x")
    assert response.status_code == 404


def test_the_passport_page_shows_the_members_analysis_from_the_snapshot(rolled_up, users, client_for):
    union = rolled_up
    this_year = timezone.localdate().year
    services.rollup_build(year=this_year, variant="register")
    client = client_for(users.chair)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("registry:org_detail", args=[union.primary_a1a.pk]))

    html = response.content.decode()
    assert "Анализ членов Профсоюза" in html
    assert "passport-age" in html and "passport-tenure" in html
    panel = next(p for p in response.context["panels"] if p["template_name"].endswith("passport_panel.html"))
    labels = [kpi.label for kpi in panel["context"]["kpis"]]
    assert labels == ["Членов Профсоюза", "Педагогические работники", "Молодёжь до 35 лет", "Женщины"]
    assert not [q["sql"] for q in queries if "membership_member" in q["sql"]]


def test_the_passport_panel_says_when_there_is_no_snapshot(union, users, client_for):
    response = client_for(users.chair).get(reverse("registry:org_detail", args=[union.primary_a1a.pk]))

    assert "ещё не рассчитаны" in response.content.decode()


def test_the_selectors_refuse_an_organisation_outside_the_scope(rolled_up, users):
    from django.http import Http404

    with pytest.raises(Http404):
        dashboards.dashboard_children_table(user=users.regional, org=rolled_up.region_b, year=2025, variant="register")
    with pytest.raises(Http404):
        dashboards.progress_table(user=users.chair, org=rolled_up.primary_a1b)
    assert dashboards.org_passport_panel(users.other_chair, rolled_up.primary_a1a) is None


def test_staff_start_on_their_dashboard(union, users, client_for):
    response = client_for(users.local).get(reverse("home"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("statistics:dashboard", args=[union.local_a1.pk])
    assert re.search(r'href="/statistics/"[^>]*>\s*<i class="bi bi-bar-chart-line', response.content.decode())


def test_a_share_over_a_hundred_percent_ranks_as_a_complete_register():
    """More members in the register than in the reports means missing reports, not a better region."""
    rows = [
        {"name": "Б", "register_share": Decimal("140.0"), "cards_share": Decimal("10.0")},
        {"name": "А", "register_share": Decimal("100.0"), "cards_share": Decimal("60.0")},
        {"name": "В", "register_share": Decimal("95.0"), "cards_share": Decimal("99.0")},
        {"name": "Г", "register_share": None, "cards_share": Decimal("100.0")},
    ]

    ranked = sorted(rows, key=dashboards._progress_rank_key)

    assert [row["name"] for row in ranked] == ["А", "Б", "В", "Г"]


def test_a_rollup_of_accepted_reports_without_any_report_is_not_shown_as_zeros(rolled_up, users, client_for):
    services.rollup_build(year=2025, variant="accepted")

    response = client_for(users.central).get(
        reverse("statistics:dashboard", args=[rolled_up.central.pk]) + "?variant=accepted"
    )

    assert response.context["board"].snapshot is None
    assert response.context["board"].years == []
    assert "ещё нет" in response.content.decode()


def test_the_accepted_variant_shows_the_sums_of_the_accepted_reports(union, users):
    from union_statistics.models import AnnualReport

    AnnualReport.objects.create(
        organization=union.primary_a1a, year=2025, status=AnnualReport.Status.ACCEPTED,
        figures={"members": [9, 9, 7], "working": [10, 10, 8], "working_members": [9, 9, 7]},
        submitted_at=timezone.now(),
    )  # fmt: skip
    services.rollup_build(year=2025, variant="accepted")

    board = dashboards.dashboard(user=users.local, org=union.local_a1, year=None, variant="accepted")

    assert board.year == 2025
    assert _row(board.children, union.primary_a1a.display_name)["coverage"] == Decimal("90.0")
    assert board.children.totals["members"] == 9
    assert board.kpis[0].value == 9
    assert "по принятым отчётам (1)" in board.provenance


def test_coverage_says_the_headcount_is_missing_rather_than_counting_members_out_of_zero(rolled_up, users):
    union = rolled_up
    figures = _snapshot_figures(union.region_a)
    with_headcount = dashboards.dashboard_kpis({**figures, "total": [40] * len(figures["total"])})[1]
    assert str(with_headcount.detail) == "7 из 40 работающих и обучающихся"  # the members at work
    coverage = dashboards.dashboard_kpis({**figures, "total": [0] * len(figures["total"])})[1]
    assert str(coverage.detail) == "численность работающих и обучающихся не указана в паспортах организаций"
    assert "из 0" not in str(coverage.detail)


def _snapshot_figures(org):
    return dashboards.snapshot_figures(RollupSnapshot.objects.get(organization=org, year=2025, variant="register"))
