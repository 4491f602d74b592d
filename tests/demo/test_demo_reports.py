"""The demo's statistics: accepted reports of past years, a campaign in progress and the rollups the first page reads."""

import pytest

from demo.reports import ACCEPTED_YEARS, CAMPAIGN_YEAR
from demo.seed import DEMO_REFERENCE_DATE, demo_seed
from registry.models import Organization
from union_statistics.indicators import END
from union_statistics.models import AnnualReport, ReportCampaign, RollupSnapshot
from union_statistics.selectors import org_snapshot
from union_statistics.services import last_accepted_report, report_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    return demo_seed(members=3000, seed=1)


def test_past_years_are_accepted_and_the_campaign_year_is_in_progress(seeded):
    primaries = Organization.objects.filter(level=Organization.Level.PRIMARY).count()
    campaign = ReportCampaign.objects.get()

    assert campaign.year == CAMPAIGN_YEAR and campaign.is_open
    assert seeded.reports == AnnualReport.objects.count()
    statuses = set(AnnualReport.objects.filter(year=CAMPAIGN_YEAR).values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "returned", "accepted"}
    assert AnnualReport.objects.filter(year=CAMPAIGN_YEAR).count() == primaries
    for year in ACCEPTED_YEARS:
        accepted = AnnualReport.objects.filter(year=year, status="accepted").count()
        assert 0.8 * primaries <= accepted < primaries  # a few never reported
    assert not AnnualReport.objects.filter(status="returned", return_comment="").exists()


def test_every_frozen_report_passes_the_check_a_chair_would_meet(seeded):
    for report in AnnualReport.objects.filter(status__in=["submitted", "accepted"]).select_related("organization"):
        previous = last_accepted_report(organization=report.organization, before_year=report.year)
        assert report_check(figures=report.figures, previous=previous).errors == [], report.organization


def test_the_demo_users_have_work_waiting(seeded):
    from django.contrib.auth import get_user_model

    chair = get_user_model().objects.get(username="chair")
    local = get_user_model().objects.get(username="local")

    assert AnnualReport.objects.get(organization=chair.organization, year=CAMPAIGN_YEAR).status == "draft"
    neighbours = (
        Organization.objects.subtree_of(local.organization).filter(level="primary").exclude(pk=chair.organization_id)
    )
    waiting = AnnualReport.objects.filter(year=CAMPAIGN_YEAR, status="submitted", organization__in=neighbours)
    assert waiting.count() == min(3, neighbours.count())


def test_the_first_page_has_figures_to_show(seeded):
    central = Organization.objects.get(level=Organization.Level.CENTRAL)

    register_now, _build = org_snapshot(org=central, year=DEMO_REFERENCE_DATE.year, variant="register")
    accepted, _build = org_snapshot(org=central, year=ACCEPTED_YEARS[-1], variant="accepted")

    assert register_now["members"][END] > 0
    assert register_now["cards_valid"][END] > 0
    assert 0 < accepted["members"][END] <= register_now["members"][END] * 1.2
    assert accepted["reports_accepted"][END] > 0
    assert RollupSnapshot.objects.filter(variant="accepted").values("year").distinct().count() == 3
