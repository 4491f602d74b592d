"""Every role's main pages in Chromium under the Content-Security-Policy (accounts/security_headers.py): the browser
reports no refused script, style, picture or connection and no script error, and what used to be inline behaviour
still works from static/js/app.js (print, confirmation, the language switch, progress bars).
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cards.models import CardBatch
from cards.services import card_verification_token
from discounts.models import PayoutBatch
from membership.models import MemberImport
from tests.factories import TEST_PASSWORD
from union_statistics.models import AnnualReport
from union_statistics.services import campaign_open, rollup_build

pytestmark = pytest.mark.browser


@pytest.fixture
def watched(page):
    """The page, recording what the policy refused (Chromium's console) and every uncaught script error."""
    problems = []
    page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)  # fmt: skip
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    # Printing would open the browser's dialog: the call is recorded instead.
    page.add_init_script("window.print = () => { window.printed = true; };")
    page.problems = problems
    return page


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    assert "script-src 'self';" in response.headers.get("content-security-policy", ""), f"{path}: no policy"
    page.wait_for_load_state("load")
    assert page.problems == [], f"{path}: {page.problems}"


@pytest.fixture
def busy_union(union, users, programme, year_2025):
    """Something on every page: a year's report campaign and rollups, imports, a batch and a payout register
    being built."""
    campaign_open(year=2025, deadline=datetime.date.today() + datetime.timedelta(days=30), by=users.central)
    AnnualReport.objects.filter(organization=union.primary_a1a).update(
        status=AnnualReport.Status.ACCEPTED, submitted_at=timezone.now(), decided_at=timezone.now()
    )
    rollup_build(year=2025, variant="register", today=datetime.date(2026, 11, 29))
    running = MemberImport.objects.create(
        organization=union.primary_a1a, uploaded_by=users.chair, file="imports/running.csv",
        original_name="running.csv", status=MemberImport.Status.VALIDATING, total_rows=200,
    )  # fmt: skip
    invalid = MemberImport.objects.create(
        organization=union.primary_a1a, uploaded_by=users.chair, file="imports/invalid.csv",
        original_name="invalid.csv", status=MemberImport.Status.INVALID, total_rows=3, valid_rows=1, error_count=2,
        errors=[{"row": 2, "column": "Фамилия", "message": "пусто"}], duplicate_count=1,
        duplicates=[{"row": 3, "name": "тестова анна", "where": "ППО школы № 1"}],
    )  # fmt: skip
    batch = CardBatch.objects.create(organization=union.region_a, created_by=users.regional, card_count=10)
    payout = PayoutBatch.objects.create(month=datetime.date(2026, 1, 1), created_by=users.central)
    return {"running": running, "invalid": invalid, "batch": batch, "payout": payout}


def test_visitors_pages_and_the_api_docs(watched, users, programme):
    for path in (
        "/accounts/login/",
        "/accounts/password/reset/",
        "/members/activate/",
        f"/cards/v/{card_verification_token(programme.card_a)}/",
    ):
        visit(watched, path)

    visit(watched, "/api/v1/docs/")
    expect(watched.locator(".swagger-ui .info .title")).to_contain_text("API партнёров")
    watched.get_by_text("/api/v1/cards/verify").click()  # an operation opens with its example, highlighted
    watched.get_by_role("button", name="Try it out").click()
    expect(watched.locator(".body-param textarea")).to_contain_text('"card"')
    assert watched.problems == []


def test_chairs_pages(watched, users, union, programme, busy_union, log_in):
    log_in(watched, users.chair.username, TEST_PASSWORD)
    holder = programme.holder_a
    for path in (
        "/statistics/",
        "/statistics/reports/",
        f"/members/?org={union.primary_a1a.pk}",
        f"/members/{holder.pk}/",
        f"/members/{holder.pk}/transfer/?q=ППО",
        f"/members/import/job/{busy_union['invalid'].pk}/",
        "/cards/requests/",
    ):
        visit(watched, path)

    visit(watched, f"/members/import/job/{busy_union['running'].pk}/")
    assert watched.locator(".progress-bar").evaluate("bar => bar.style.width") == "0%"

    visit(watched, f"/cards/member/{holder.pk}/")
    watched.get_by_role("button", name="Печать").click()
    assert watched.evaluate("window.printed") is True

    visit(watched, f"/members/{holder.pk}/")
    with watched.expect_navigation():
        watched.get_by_role("button", name="Новый код входа").click()
    watched.get_by_role("button", name="Печать").click()
    assert watched.evaluate("window.printed") is True
    assert watched.problems == []


def test_regional_staffs_pages(watched, users, union, programme, busy_union, log_in):
    log_in(watched, users.regional.username, TEST_PASSWORD)
    for path in (
        f"/statistics/org/{union.region_a.pk}/?year=2025&variant=register",
        "/statistics/progress/",
        "/registry/chairs/",
        "/registry/staff/",
        "/cards/requests/?status=requested",
        f"/cards/batches/{busy_union['batch'].pk}/",
        f"/cards/settlement/regions/{union.region_a.pk}/",
        f"/cards/settlement/primaries/{union.primary_a1a.pk}/",
        f"/discounts/partners/{programme.partner_a.pk}/",
        f"/discounts/partners/{programme.partner_a.pk}/edit/",
    ):
        visit(watched, path)

    # The confirmation before closing an organisation: cancelled, nothing happens; accepted, it is closed.
    visit(watched, f"/registry/orgs/{union.university_a.pk}/")
    close = watched.get_by_role("button", name="Закрыть организацию")
    watched.once("dialog", lambda dialog: dialog.dismiss())
    close.click()
    watched.wait_for_timeout(300)
    union.university_a.refresh_from_db()
    assert union.university_a.is_active
    watched.once("dialog", lambda dialog: dialog.accept())
    with watched.expect_navigation():
        close.click()
    union.university_a.refresh_from_db()
    assert not union.university_a.is_active
    assert watched.problems == []


def test_central_offices_pages(watched, users, union, programme, busy_union, log_in):
    log_in(watched, users.central.username, TEST_PASSWORD)
    for path in (
        "/accounts/access-log/",
        "/statistics/campaigns/",
        "/discounts/partners/",
        "/discounts/fraud/",
        "/discounts/payouts/",
        f"/discounts/payouts/{busy_union['payout'].pk}/",
        "/cards/settlement/regions/",
        "/cards/settlement/prices/",
        "/cards/batches/",
    ):
        visit(watched, path)

    visit(watched, f"/statistics/campaigns/2025/?org={union.central.pk}")
    widths = watched.locator("td .progress-bar").evaluate_all("bars => bars.map(bar => bar.style.width)")
    percents = watched.locator("td .progress-bar").evaluate_all("bars => bars.map(bar => bar.dataset.progress)")
    assert widths == [f"{percent}%" for percent in percents]
    assert "33%" in widths  # region A: one report of its three accepted

    # The language switch submits itself.
    with watched.expect_navigation():
        watched.get_by_label("Язык").select_option("en")
    assert watched.locator("html").get_attribute("lang") == "en"
    assert watched.problems == []


def test_members_and_cashiers_pages(watched, open_page, users, programme, log_in):
    log_in(watched, users.member.username, TEST_PASSWORD)
    for path in (
        "/members/me/",
        "/cards/my/",
        "/discounts/catalogue/",
        f"/discounts/catalogue/{programme.partner_a.pk}/",
        "/discounts/cashback/",
    ):
        visit(watched, path)

    watched.context.clear_cookies()
    log_in(watched, users.cashier.username, TEST_PASSWORD)
    visit(watched, "/discounts/cashier/")
    watched.get_by_label("Номер билета").fill(programme.card_a.number)
    with watched.expect_navigation():
        watched.get_by_role("button", name="Проверить").click()
    expect(watched.get_by_text("Ольга С.")).to_be_visible()
    assert watched.problems == []
