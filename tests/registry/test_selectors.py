"""Reads: the materialised-path tree queries and the scoping every page relies on."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from registry import selectors
from registry.models import PATH_SEGMENT_WIDTH, Organization, path_upper_bound
from tests.factories import ChairFactory, RegionFactory, org_create

Level = Organization.Level


@pytest.fixture
def deep_tree(db):
    """central → region → local → 12 primaries (paths …00001 to …00012), each with a unit; primary 10 has a
    unit inside its unit. Twelve siblings put the decimal carry (00009 → 00010) inside the tested range."""
    central = org_create(parent=None, level=Level.CENTRAL, name="ЦС")
    region = org_create(parent=central, level=Level.REGIONAL, name="Регион", region=RegionFactory(code="50"))
    other_region = org_create(parent=central, level=Level.REGIONAL, name="Другой регион")
    local = org_create(parent=region, level=Level.LOCAL, name="Местная")
    primaries, units = [], []
    for number in range(1, 13):
        primary = org_create(parent=local, level=Level.PRIMARY, name=f"ППО {number}")
        primaries.append(primary)
        units.append(org_create(parent=primary, level=Level.UNIT, name=f"Профбюро {number}"))
    nested_unit = org_create(parent=units[9], level=Level.UNIT, name="Профгруппа внутри профбюро 10")
    return {
        "central": central,
        "region": region,
        "other_region": other_region,
        "local": local,
        "primaries": primaries,
        "units": units,
        "nested_unit": nested_unit,
    }


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_paths_are_fixed_width_decimal_segments(deep_tree):
    primaries = deep_tree["primaries"]

    assert primaries[8].path.endswith("00009")
    assert primaries[9].path.endswith("00010")
    assert deep_tree["nested_unit"].depth == 6
    assert len(deep_tree["nested_unit"].path) == 6 * PATH_SEGMENT_WIDTH


def test_subtree_of_a_primary_holds_its_units_only(deep_tree):
    primaries, units = deep_tree["primaries"], deep_tree["units"]

    ninth = names(Organization.objects.subtree_of(primaries[8]))
    tenth = names(Organization.objects.subtree_of(primaries[9]))

    assert ninth == {"ППО 9", "Профбюро 9"}
    assert tenth == {"ППО 10", "Профбюро 10", "Профгруппа внутри профбюро 10"}
    assert names(Organization.objects.subtree_of(units[9], include_self=False)) == {"Профгруппа внутри профбюро 10"}


def test_subtree_of_the_first_primary_does_not_reach_the_tenth(deep_tree):
    """ "…00001" is a string prefix of nothing else here, but "…0000" + "1" must not match "…00010"."""
    first = deep_tree["primaries"][0]

    assert names(Organization.objects.subtree_of(first)) == {"ППО 1", "Профбюро 1"}


def test_subtree_of_a_region_stops_at_the_next_region(deep_tree):
    subtree = Organization.objects.subtree_of(deep_tree["region"], include_self=False)

    assert subtree.count() == 1 + 12 + 12 + 1
    assert "Другой регион" not in names(subtree)
    assert "ЦС" not in names(subtree)


def test_path_upper_bound_is_the_next_sibling():
    assert path_upper_bound("0000100009") == "0000100010"
    assert path_upper_bound("00001") == "00002"


def test_ancestors_of_are_ordered_from_the_top_and_exclude_the_org(deep_tree):
    ancestors = Organization.objects.ancestors_of(deep_tree["nested_unit"])

    assert [org.name for org in ancestors] == ["ЦС", "Регион", "Местная", "ППО 10", "Профбюро 10"]
    assert list(Organization.objects.ancestors_of(deep_tree["central"])) == []


# Scoping


def test_orgs_visible_to_is_the_users_subtree(union, users):
    assert names(selectors.orgs_visible_to(users.local)) == {
        "Районная организация А1",
        "ППО школы № 1",
        "Профгруппа начальной школы",
        "ППО детского сада № 5",
    }
    assert "ППО гимназии № 7" not in names(selectors.orgs_visible_to(users.regional))
    assert selectors.orgs_visible_to(users.central).count() == Organization.objects.count()


@pytest.mark.parametrize("role", ["member", "cashier"])
def test_members_and_cashiers_see_no_organisation(union, users, role):
    assert not selectors.orgs_visible_to(users.by_role(role)).exists()


def test_search_within_an_org_outside_scope_finds_nothing(union, users):
    found = selectors.org_search(user=users.regional, query="ППО", within=union.region_b)

    assert list(found) == []


def test_breadcrumbs_of_an_org_outside_scope_are_empty(union, users):
    assert selectors.org_ancestors_for_user(users.regional, union.primary_b1a) == []


@pytest.mark.parametrize(
    ("role", "parent", "levels"),
    [
        ("central", "central", ["regional"]),
        ("central", "region_b", ["local", "primary"]),
        ("regional", "region_a", ["local", "primary"]),
        ("regional", "region_b", []),
        ("local", "local_a1", ["primary"]),
        ("local", "region_a", []),
        ("chair", "primary_a1a", ["unit"]),
        ("chair", "unit_a1a", ["unit"]),
        ("chair", "local_a1", []),
        ("member", "primary_a1a", []),
    ],
)
def test_child_levels_user_may_create(union, users, role, parent, levels):
    assert selectors.child_levels_user_may_create(users.by_role(role), getattr(union, parent)) == levels


@pytest.mark.parametrize(
    ("role", "org", "can_edit", "can_manage_chairs"),
    [
        ("central", "primary_b1a", True, True),
        ("regional", "region_a", True, True),
        ("regional", "primary_b1a", False, False),
        ("local", "primary_a1a", True, True),
        ("chair", "primary_a1a", True, False),
        ("chair", "unit_a1a", True, False),
        ("chair", "local_a1", False, False),
        ("member", "primary_a1a", False, False),
    ],
)
def test_edit_and_chair_rights(union, users, role, org, can_edit, can_manage_chairs):
    user, target = users.by_role(role), getattr(union, org)

    assert selectors.user_can_edit_org(user, target) is can_edit
    assert selectors.user_can_manage_chairs(user, target) is can_manage_chairs


def test_current_chair_is_the_one_in_office_today(union):
    today = timezone.localdate()
    ChairFactory(
        organization=union.primary_a1b,
        last_name="Прежняя",
        term_start=today - datetime.timedelta(days=2000),
        term_end=today - datetime.timedelta(days=1),
    )
    current = ChairFactory(organization=union.primary_a1b, last_name="Нынешняя", term_start=today, term_end=None)

    assert selectors.org_current_chair(org=union.primary_a1b) == current


def test_training_due_lists_current_chairs_without_recent_training(users, chairs):
    today = timezone.localdate()
    chairs.local_a1.trainings.create(title="Школа председателя", completed_on=today - datetime.timedelta(days=100))
    chairs.a1a.trainings.create(title="Давнее обучение", completed_on=today - datetime.timedelta(days=4 * 365))

    due = selectors.chair_list(user=users.regional, filters=selectors.ChairFilters(training="due"))

    assert list(due) == [chairs.a1a]


# PostgreSQL: the subtree is an index range scan


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's; this run is on SQLite")
def test_region_subtree_is_an_index_range_scan_on_postgresql(db):
    """40 regions of 100 local organisations each: one region's subtree must come from the path index."""
    central = org_create(parent=None, level=Level.CENTRAL, name="ЦС")
    regions = Organization.objects.bulk_create(
        Organization(
            parent=central, path=f"{central.path}{number:05d}", depth=2, level=Level.REGIONAL, name=f"Р{number}"
        )
        for number in range(1, 41)
    )
    Organization.objects.bulk_create(
        (
            Organization(
                parent=region, path=f"{region.path}{number:05d}", depth=3, level=Level.LOCAL, name=f"М{number}"
            )
            for region in regions
            for number in range(1, 101)
        ),
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_organization")
    region = regions[16]

    plan = Organization.objects.subtree_of(region).explain()

    assert Organization.objects.subtree_of(region).count() == 101
    assert any(scan in plan for scan in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")), plan
    assert _path_index_name() in plan, plan


def _path_index_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'registry_organization' AND indexdef LIKE %s",
            ["%(path)%"],
        )
        return cursor.fetchone()[0]
