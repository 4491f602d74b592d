"""Central office drills down its dashboard after a rollup; a chair fills in and submits the annual report."""

import datetime

import pytest

from tests.factories import TEST_PASSWORD
from union_statistics.models import AnnualReport
from union_statistics.services import campaign_open, rollup_build

pytestmark = pytest.mark.browser


def test_central_office_drills_down_from_the_union_to_a_primary_organisation(page, users, union, year_2025, log_in):
    rollup_build(year=2025, variant="register", today=datetime.date(2026, 11, 29))

    log_in(page, users.central.username, TEST_PASSWORD)
    page.goto(f"/statistics/org/{union.central.pk}/?year=2025&variant=register")
    assert page.locator("h1").first.inner_text().strip() == union.central.display_name

    for org in (union.region_a, union.local_a1, union.primary_a1a):
        with page.expect_navigation():
            page.locator("table").get_by_role("link", name=org.display_name, exact=True).first.click()
        assert f"/statistics/org/{org.pk}/" in page.url
        assert page.locator("h1").first.inner_text().strip() == org.display_name
    assert union.primary_b1a.display_name not in page.content()


def test_chair_fills_in_and_submits_the_report(page, users, union, year_2025, log_in, screenshot):
    campaign_open(year=2025, deadline=datetime.date.today() + datetime.timedelta(days=30), by=users.central)
    log_in(page, users.chair.username, TEST_PASSWORD)
    page.goto("/statistics/reports/")
    with page.expect_navigation():
        page.get_by_role("link", name="Заполнить отчёт").click()

    assert page.get_by_text("Всего членов Профсоюза").is_visible()
    for name, value in {"working_start": 10, "working_end": 12, "working_women": 9,
                        "students_start": 0, "students_end": 3, "students_women": 1}.items():  # fmt: skip
        page.locator(f"input[name={name}]").fill(str(value))
    screenshot(page, "statistics-report-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Сдать отчёт").click()

    assert page.get_by_test_id("report-status").inner_text() == "Сдан, ждёт проверки"
    report = AnnualReport.objects.get(organization=union.primary_a1a, year=2025)
    assert report.status == AnnualReport.Status.SUBMITTED
    assert report.figures["members"] == [6, 5, 3]
    assert report.figures["working"] == [10, 12, 9]
