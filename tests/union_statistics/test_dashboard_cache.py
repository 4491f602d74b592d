"""The dashboard's children table: written in Python, cached per snapshot build, never shown to the wrong page.

The year 2025 of conftest.py rolled up from the register on 29.11.2026: region A has 6 members in local A1 and none
at its university, region B none (see test_dashboards.py).
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from membership.models import Member
from tests.factories import MemberFactory
from union_statistics import services
from union_statistics.tables import INTEGER, PERCENT, TEXT, Column, StatTable
from union_statistics.templatetags.stat_tables import format_value, stat_table_body

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)


@pytest.fixture
def rolled_up(union, year_2025):
    services.rollup_build(year=2025, variant="register", today=TODAY)
    return union


def _url(org) -> str:
    return reverse("statistics:dashboard", args=[org.pk]) + "?year=2025&variant=register"


def _table(html: str) -> str:
    """The children table's rows and totals line."""
    return html.split("<tbody>", 1)[1].split("</table>", 1)[0]


def _row_cells(html: str, name: str) -> list[str]:
    """The cells after the organisation's name in its row of the children table."""
    row = re.search(rf">{re.escape(name)}</a>.*?</tr>", html).group(0)
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def _reads_children_snapshots(queries) -> bool:
    return any("statistics_rollupsnapshot" in q["sql"] and '"parent_id"' in q["sql"] for q in queries)


def test_the_second_view_of_a_build_is_served_from_the_cache(rolled_up, users, client_for):
    client = client_for(users.regional)
    first = client.get(_url(rolled_up.region_a)).content.decode()

    with CaptureQueriesContext(connection) as queries:
        second = client.get(_url(rolled_up.region_a)).content.decode()

    assert not _reads_children_snapshots(queries)
    assert _table(second) == _table(first)
    assert _row_cells(second, rolled_up.local_a1.display_name)[0] == "6"


def test_a_new_rollup_build_shows_the_new_figures(rolled_up, users, client_for):
    client = client_for(users.regional)
    assert _row_cells(client.get(_url(rolled_up.region_a)).content.decode(), rolled_up.local_a1.display_name)[0] == "6"
    MemberFactory(
        organization=rolled_up.primary_a1a, sex=Member.Sex.MALE, birth_date=datetime.date(1980, 1, 1),
        union_joined_on=datetime.date(2010, 9, 1), org_joined_on=datetime.date(2010, 9, 1),
    )  # fmt: skip

    services.rollup_build(year=2025, variant="register", today=TODAY)

    html = client.get(_url(rolled_up.region_a)).content.decode()
    assert _row_cells(html, rolled_up.local_a1.display_name)[0] == "7"


def test_a_renamed_child_is_shown_under_its_new_name_without_a_new_build(rolled_up, users, client_for):
    client = client_for(users.regional)
    client.get(_url(rolled_up.region_a))
    rolled_up.local_a1.short_name = "Переименованная районная"
    rolled_up.local_a1.save()

    html = client.get(_url(rolled_up.region_a)).content.decode()

    assert _row_cells(html, "Переименованная районная")[0] == "6"


def test_another_organisation_never_gets_this_organisations_table(rolled_up, users, client_for):
    union = rolled_up
    central = client_for(users.central)
    page_a = _table(central.get(_url(union.region_a)).content.decode())

    page_b = _table(central.get(_url(union.region_b)).content.decode())
    page_a1 = _table(client_for(users.local).get(_url(union.local_a1)).content.decode())

    assert union.local_a1.display_name in page_a
    assert union.local_a1.display_name not in page_b and union.local_b1.display_name in page_b
    assert union.local_a1.display_name not in page_a1 and union.primary_a1a.display_name in page_a1
    assert _row_cells(page_a1, union.primary_a1a.display_name)[0] == "5"


def test_the_cached_table_is_not_served_outside_the_users_scope(rolled_up, users, client_for):
    assert client_for(users.regional).get(_url(rolled_up.region_a)).status_code == 200

    assert client_for(users.other_regional).get(_url(rolled_up.region_a)).status_code == 404
    assert client_for(users.chair).get(_url(rolled_up.region_a)).status_code in (403, 404)


def test_each_language_has_its_own_cached_table(rolled_up, users, client_for):
    client = client_for(users.central)
    url = reverse("statistics:dashboard", args=[rolled_up.central.pk])
    with translation.override("ru"):  # the locale middleware leaves its language active in this thread
        russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<td>Итого</td>" not in russian and ">Итого</th>" in russian
    assert ">Total</th>" in english and ">Итого</th>" not in english


VALUES = [
    (None, INTEGER),
    (0, INTEGER),
    (999, INTEGER),
    (1000, INTEGER),
    (1234567, INTEGER),
    (-12345, INTEGER),
    (None, PERCENT),
    (Decimal("0.0"), PERCENT),
    (Decimal("12.5"), PERCENT),
    (Decimal("100.0"), PERCENT),
    (Decimal("1234.5"), PERCENT),
    (Decimal("66.65"), PERCENT),
    ("<b>А & Б</b>", TEXT),
]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_value_is_written_as_the_value_template_writes_it(language):
    with translation.override(language):
        for value, kind in VALUES:
            expected = render_to_string("union_statistics/includes/value.html", {"value": value, "kind": kind})
            assert format_value(value, kind) == expected, (value, kind)


def test_the_rows_are_escaped_and_keep_what_the_sorting_needs():
    table = StatTable(
        title="t",
        columns=[
            Column("name", "Организация", TEXT),
            Column("region", "Субъект РФ", TEXT),
            Column("members", "Членов"),
        ],
        rows=[
            {"name": '<script>alert("x")</script>', "name_badges": ["закрыта"], "region": "A&B", "members": 1234},
            {"name": "Простая", "region": "", "members": None},
        ],
        totals={"name": "Итого", "members": 1234},
        links=['/statistics/org/1/?year=2025&variant=register"><b>'],
    )

    with translation.override("ru"):
        html = stat_table_body(table)

    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="/statistics/org/1/?year=2025&amp;variant=register&quot;&gt;&lt;b&gt;"' in html
    assert 'data-sort="&lt;script&gt;' in html  # a name with a badge says what it sorts by
    assert '<th scope="row" class="fw-normal text-start text-wrap">Простая</th>' in html
    assert '<td class="text-start text-wrap" data-sort="A&amp;B">A&amp;B</td>' in html
    assert 'data-sort="1234">1\u00a0234</td>' in html
    assert '<td data-sort=""><span class="text-muted">—</span></td>' in html  # empty cells sort last
    assert (
        '<tr class="stat-totals text-end text-nowrap"><th scope="row" class="text-start text-wrap">Итого</th>' in html
    )
