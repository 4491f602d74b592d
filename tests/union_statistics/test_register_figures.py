"""Figures counted from the register equal the figures counted by hand (see conftest.py for the year)."""

import datetime
from decimal import Decimal

import pytest

from union_statistics.indicators import END, START, WOMEN, Period, figures_derive, percent
from union_statistics.services import organization_register_figures

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)


def test_primary_organisation_figures_equal_the_hand_count(union, year_2025):
    figures = organization_register_figures(organization=union.primary_a1a, year=2025, today=TODAY)

    assert figures["members"] == [6, 5, 3]  # start: А Б Г Д З И; end: А Б В Е И; women at the end: А В Е
    assert figures["working_members"] == [4, 3, 2]  # start: А Б Д З; end: А Б Е
    assert figures["student_members"] == [0, 1, 1]
    assert figures["pensioners"] == [1, 0, 0]
    assert figures["unemployed"] == [1, 1, 0]  # Иван, in the unit of the primary organisation
    assert figures["youth"] == [3, 3, 2]  # start: А З И (Дмитрий is 35); end: А В И
    assert figures["teaching"] == [1, 1, 1]
    assert figures["committee"] == [1, 1, 1]
    assert figures["joined"][END:] == [1, 1]
    assert figures["arrived"][END:] == [1, 1]
    assert figures["left_voluntary"][END:] == [1, 1]
    assert figures["excluded"][END:] == [1, 0]
    assert figures["left_other"][END:] == [0, 0]
    assert figures["transferred_out"][END:] == [1, 1]
    assert figures["joined"][START] is None
    assert figures["chairs"] == [1, 1, 1]
    assert figures["chairs_full_time"] == [1, 1, 1]


def test_the_other_side_of_the_transfers(union, year_2025):
    figures = organization_register_figures(organization=union.primary_a1b, year=2025, today=TODAY)

    assert figures["members"] == [1, 1, 1]  # Елена at the start, Зоя at the end
    assert figures["arrived"][END] == 1
    assert figures["transferred_out"][END] == 1


def test_members_who_moved_in_the_year_are_counted_once_for_the_union(union, year_2025):
    figures = organization_register_figures(organization=union.central, year=2025, today=TODAY)

    assert figures["members"][START] == 7
    assert figures["members"][END] == 6
    start, end = figures["members"][START], figures["members"][END]
    came = figures["joined"][END] + figures["arrived"][END]
    went = sum(figures[key][END] for key in ("left_voluntary", "excluded", "left_other", "transferred_out"))
    assert start + came - went == end


def test_next_years_start_is_this_years_end(union, year_2025):
    this_year = organization_register_figures(organization=union.primary_a1a, year=2025, today=TODAY)
    next_year = organization_register_figures(organization=union.primary_a1a, year=2026, today=TODAY)

    for key in ("members", "working_members", "youth", "pensioners"):
        assert next_year[key][START] == this_year[key][END]
    assert next_year["members"][END] == 6  # Лидия joined in 2026


def test_the_current_year_ends_today():
    period = Period.of_year(2026, today=TODAY)

    assert period.end == datetime.date(2026, 11, 30)
    assert not period.is_complete
    assert Period.of_year(2025, today=TODAY).end == datetime.date(2026, 1, 1)


def test_coverage_is_members_over_employees_and_students():
    figures = {
        "working": [10, 12, 9],
        "working_members": [6, 9, 7],
        "students": [0, 3, 1],
        "student_members": [0, 1, 1],
    }

    derived = figures_derive(figures)

    assert derived["total"] == [10, 15, 10]
    assert derived["total_members"] == [6, 10, 8]
    assert derived["coverage"][END] == percent(10, 15) == Decimal("66.7")
    assert derived["coverage"][WOMEN] == 80


def test_percent_rounds_half_up_and_refuses_an_empty_whole():
    assert str(percent(1, 8)) == "12.5"
    assert str(percent(1, 3)) == "33.3"
    assert str(percent(2, 3)) == "66.7"
    assert percent(5, 0) is None
    assert percent(None, 10) is None


def test_the_union_wide_pass_gives_each_primary_the_figures_of_its_own_report(union, year_2025):
    from union_statistics.services import primaries_register_figures

    all_at_once = primaries_register_figures(year=2025, today=TODAY)

    for org in (union.primary_a1a, union.primary_a1b, union.primary_b1a):
        one = organization_register_figures(organization=org, year=2025, today=TODAY)
        assert {key: all_at_once[org.pk][key] for key in ("members", "youth", "joined", "arrived", "chairs")} == {
            key: one[key] for key in ("members", "youth", "joined", "arrived", "chairs")
        }
    assert union.unit_a1a.pk not in all_at_once
