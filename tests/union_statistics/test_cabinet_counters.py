"""The member's home page shows the live counters of the member's primary organisation, read from the snapshot."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MemberFactory
from union_statistics.services import rollup_build

pytestmark = pytest.mark.django_db


def test_the_cabinet_shows_the_organisations_counters_without_counting_members(client_for, users, union, year_2025):
    MemberFactory(organization=union.unit_a1a, user=users.member, last_name="Кабинетова")
    rollup_build(year=datetime.date.today().year, variant="register")
    client = client_for(users.member)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("membership:my_cabinet"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f"{union.primary_a1a.display_name} сегодня" in html
    # Анна, Борис, Вера, Елена, Иван (the year 2025 ends with them), Лидия (joined in 2026) and the member herself.
    assert '<div class="value">7</div><div class="label">членов Профсоюза сейчас' in html
    counters = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not any("membership_member" in sql for sql in counters)


def test_without_a_snapshot_the_cabinet_shows_no_counters(client_for, users, union):
    MemberFactory(organization=union.primary_a1a, user=users.member)

    page = client_for(users.member).get(reverse("membership:my_cabinet"))

    assert page.status_code == 200
    assert "членов Профсоюза сейчас" not in page.content.decode()
