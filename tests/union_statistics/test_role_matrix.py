"""The statistics role matrix: every page of /statistics/, for every role, with the answer the product rules give.

Rules the expectations come from:
- statistics pages are for staff (central, regional, local, chair); members and cashiers get 403;
- an organisation outside the user's subtree does not exist for the user (404), checked after the role;
- anonymous visitors are sent to the login page.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.urls import reverse

from union_statistics.models import AnnualReport, ReportCampaign
from union_statistics.services import rollup_build

ROLES = ("central", "regional", "local", "chair", "member", "cashier", "anonymous")


@dataclass(frozen=True)
class Redirect:
    """A 302 to: login, or own_dashboard (the dashboard of the user's organisation)."""

    to: str


OK = 200
DENY = 403
HIDDEN = 404  # outside the user's subtree
LOGIN = Redirect("login")
TO_OWN_DASHBOARD = Redirect("own_dashboard")
TO_REPORT = Redirect("report")  # the report in the URL, or the chair's own report of YEAR
TO_CAMPAIGN = Redirect("campaign")
POST_ONLY = 405
# The year of the reports and rollups that the statistics_data fixture makes.
YEAR = "2025"

# fmt: off
# url name, object (org:<union attr> as the URL's argument, ?org:<union attr> as the ?org= query, or None), method,
#   then the expected answer for: central, regional (A), local (A1), chair (A1a), member, cashier, anonymous
MATRIX = [
    # Dashboards
    ("statistics:home",               None,                "get", TO_OWN_DASHBOARD, TO_OWN_DASHBOARD, TO_OWN_DASHBOARD, TO_OWN_DASHBOARD, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:central",       "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:region_a",      "get", OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:local_a1",      "get", OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:primary_a1a",   "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:unit_a1a",      "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:primary_a1b",   "get", OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:university_a",  "get", OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:region_b",      "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard",          "org:primary_b1a",   "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress",           None,                "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:progress",           "?org:region_a",     "get", OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress",           "?org:local_a1",     "get", OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress",           "?org:primary_a1b",  "get", OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress",           "?org:region_b",     "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    # Exports (views/exports.py): the role and scope of the page each file exports. "report:<union attr>" is the
    # organisation's report of YEAR; what follows "/" are further URL arguments (year, format).
    ("statistics:report_export",      "report:primary_a1a/xlsx",  "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:report_export",      "report:primary_a1a/pdf",   "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:report_export",      "report:primary_b1a/pdf",   "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:org_report_export",  f"org:local_a1/{YEAR}/xlsx", "get", OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:org_report_export",  f"org:primary_a1a/{YEAR}/pdf", "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:org_report_export",  f"org:region_b/{YEAR}/pdf", "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard_export",   "org:region_a/xlsx",        "get", OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:dashboard_export",   "org:primary_a1a/pdf",      "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:dashboard_export",   "org:primary_b1a/xlsx",     "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress_export",    ("pdf",),                   "get", OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:progress_export",    "?org:region_a/xlsx",       "get", OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:progress_export",    "?org:region_b/xlsx",       "get", OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    # Reports, campaigns, rollups (views/reports.py). The chair fills the report; the apparatus above decides.
    ("statistics:report_list",        None,                       "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:report_open",        (YEAR,),                    "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("statistics:report_open",        (YEAR,),                    "post", DENY, DENY, DENY, TO_REPORT, DENY, DENY, LOGIN),
    ("statistics:report_detail",      "report:primary_a1a",       "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:report_detail",      "report:primary_b1a",       "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    # The staff may look at a report but not write into it: only its chair does.
    ("statistics:report_detail",      "report:primary_a1a",       "post", DENY, DENY, DENY, OK, DENY, DENY, LOGIN),
    # A draft cannot be decided: allowed users are sent back to the report with a message.
    ("statistics:report_decide",      "report:primary_a1a",       "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("statistics:report_decide",      "report:primary_a1a",       "post", TO_REPORT, TO_REPORT, TO_REPORT, DENY, DENY, DENY, LOGIN),
    ("statistics:report_decide",      "report:primary_b1a",       "post", TO_REPORT, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("statistics:org_report",         f"org:central/{YEAR}",      "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:org_report",         f"org:region_a/{YEAR}",     "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:org_report",         f"org:local_a1/{YEAR}",     "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:org_report",         f"org:primary_a1a/{YEAR}",  "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("statistics:org_report",         f"org:primary_b1a/{YEAR}",  "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("statistics:campaign_list",      None,                       "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    # Opening a campaign with an empty form: central office sees the form's errors, nobody else may post.
    ("statistics:campaign_list",      None,                       "post", OK, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("statistics:campaign_detail",    (YEAR,),                    "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("statistics:campaign_detail",    f"?org:region_a/{YEAR}",    "get",  OK, OK, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("statistics:campaign_detail",    f"?org:region_b/{YEAR}",    "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("statistics:campaign_close",     (YEAR,),                    "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("statistics:campaign_close",     (YEAR,),                    "post", TO_CAMPAIGN, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("statistics:rollup_list",        None,                       "get",  OK, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("statistics:rollup_list",        None,                       "post", OK, DENY, DENY, DENY, DENY, DENY, LOGIN),
]
# fmt: on

CASES = [
    pytest.param(url_name, target, method, role, expected, id=f"{url_name}-{target}-{method}-{role}")
    for url_name, target, method, *expected_by_role in MATRIX
    for role, expected in zip(ROLES, expected_by_role, strict=True)
]


def _url(url_name: str, target, union) -> str:
    if target is None:
        return reverse(url_name)
    if isinstance(target, tuple):
        return reverse(url_name, args=target)
    target, *extra_args = target.split("/")
    kind, name = target.split(":")
    pk = getattr(union, name).pk
    if kind == "report":
        pk = AnnualReport.objects.get(organization_id=pk, year=int(YEAR)).pk
    if kind == "?org":
        return f"{reverse(url_name, args=extra_args)}?org={pk}"
    return reverse(url_name, args=[pk, *extra_args])


@pytest.fixture
def statistics_data(union, users):
    """A campaign of YEAR with draft reports on both sides of the regional border, and the year's rollup of
    accepted reports."""
    campaign = ReportCampaign.objects.create(
        year=int(YEAR), deadline=datetime.date(2026, 12, 31), opened_by=users.central
    )
    for org in (union.primary_a1a, union.primary_b1a):
        AnnualReport.objects.create(organization=org, year=int(YEAR), campaign=campaign)
    rollup_build(year=int(YEAR), variant="accepted")


@pytest.mark.parametrize(("url_name", "target", "method", "role", "expected"), CASES)
def test_role_matrix(client, union, users, statistics_data, url_name, target, method, role, expected):
    url = _url(url_name, target, union)
    user = None if role == "anonymous" else users.by_role(role)
    if user is not None:
        client.force_login(user)

    response = getattr(client, method)(url)

    if isinstance(expected, Redirect):
        assert response.status_code == 302, response.content[:500]
        if expected is LOGIN:
            assert response.url == f"{reverse('accounts:login')}?next={quote(url)}"
        elif expected is TO_REPORT:
            # report_open sends the chair to the report it opened; a decision goes back to the report decided on.
            org_id = user.organization_id if target == (YEAR,) else getattr(union, target.split(":")[1]).pk
            assert response.url == AnnualReport.objects.get(organization_id=org_id, year=int(YEAR)).get_absolute_url()
        elif expected is TO_CAMPAIGN:
            assert response.url == reverse("statistics:campaign_detail", args=[int(YEAR)])
        else:
            assert response.url == reverse("statistics:dashboard", args=[user.organization_id])
    else:
        assert response.status_code == expected


def test_every_view_is_in_the_matrix():
    """A new page without rows in the matrix would go unchecked: the matrix must name every URL."""
    from union_statistics.urls import urlpatterns

    url_names = {f"statistics:{pattern.name}" for pattern in urlpatterns}
    assert url_names - {row[0] for row in MATRIX} == set()
