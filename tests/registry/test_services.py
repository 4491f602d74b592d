"""Writes: opening, editing and closing organisations, the chairs' card index; each refusal in Russian."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.models import AccessLog, Role
from membership.models import Member
from registry import services
from registry.models import Chair, Organization
from tests.factories import ChairFactory, MemberFactory, UserFactory, org_create

Level = Organization.Level


def log_entries(action: str, obj) -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)))


# Path allocation


def test_new_child_continues_after_existing_children(union, users):
    existing = [union.primary_a1a.path, union.primary_a1b.path]

    child = services.organization_create(parent=union.local_a1, level=Level.PRIMARY, by=users.local, name="ППО № 3")

    assert child.path == union.local_a1.path + "00003"
    assert child.path not in existing
    assert child.depth == union.local_a1.depth + 1


def test_allocation_reads_the_largest_sibling_not_the_count(union, users):
    """A sibling added outside the service (an import, say) at …00007 makes the next one …00008."""
    Organization.objects.create(
        parent=union.local_a1, path=union.local_a1.path + "00007", depth=3, level=Level.PRIMARY, name="Импорт"
    )

    child = services.organization_create(parent=union.local_a1, level=Level.PRIMARY, by=users.local, name="ППО")

    assert child.path == union.local_a1.path + "00008"


def test_two_children_never_share_a_path(union, users):
    paths = [
        services.organization_create(parent=union.local_a1, level=Level.PRIMARY, by=users.local, name=f"ППО {n}").path
        for n in range(12)
    ]
    siblings = Organization.objects.filter(parent=union.local_a1).values_list("path", flat=True)

    assert len(set(siblings)) == len(siblings) == 14
    assert paths[-1] == union.local_a1.path + "00014"
    assert sorted(siblings) == sorted(siblings, key=lambda path: int(path[-5:]))


def test_the_database_refuses_a_duplicate_path(union):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(
            parent=union.local_a1, path=union.primary_a1a.path, depth=3, level=Level.PRIMARY, name="Двойник"
        )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_under_one_parent_get_distinct_paths():
    """Eight staff members open a ППО under the same local organisation at the same moment."""
    with transaction.atomic():  # the allocation locks the parent row, which needs a transaction
        central = org_create(parent=None, level=Level.CENTRAL, name="ЦС")
        region = org_create(parent=central, level=Level.REGIONAL, name="Регион")
        local = org_create(parent=region, level=Level.LOCAL, name="Местная")
        staff = UserFactory(username="local_staff", role=Role.LOCAL, organization=local)
    start = threading.Barrier(8)
    errors = []

    def open_primary(number: int) -> None:
        try:
            start.wait()
            services.organization_create(parent=local, level=Level.PRIMARY, by=staff, name=f"ППО {number}")
        except Exception as error:  # collected and asserted below, so a failure names its cause
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_primary, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    paths = sorted(Organization.objects.filter(parent=local).values_list("path", flat=True))
    assert paths == [f"{local.path}{number:05d}" for number in range(1, 9)]


# Opening organisations


def test_opening_writes_the_tree_fields_and_the_log(union, users):
    child = services.organization_create(
        parent=union.region_a, level=Level.LOCAL, by=users.regional, name="Районная организация А2", inn="7707083893"
    )

    assert child.parent == union.region_a
    assert child.region == union.region_a.region
    assert child.is_in_subtree_of(union.region_a)
    [entry] = log_entries(AccessLog.Action.CREATE, child)
    assert entry.user == users.regional
    assert entry.organization_path == child.path
    assert entry.details == {"parent": union.region_a.pk, "level": "local"}


@pytest.mark.parametrize(
    ("role", "parent", "level", "message"),
    [
        (
            "central",
            "central",
            Level.PRIMARY,
            "Организацию уровня «Первичная профсоюзная организация» нельзя создать в организации уровня "
            "«Центральный совет».",
        ),
        (
            "local",
            "local_a1",
            Level.REGIONAL,
            "Организацию уровня «Региональная организация» нельзя создать в организации уровня "
            "«Местная (территориальная) организация».",
        ),
        (
            "regional",
            "region_a",
            Level.UNIT,
            "Организацию уровня «Профбюро / профгруппа» нельзя создать в организации уровня "
            "«Региональная организация».",
        ),
        (
            "chair",
            "primary_a1a",
            Level.PRIMARY,
            "Организацию уровня «Первичная профсоюзная организация» нельзя создать в организации уровня "
            "«Первичная профсоюзная организация».",
        ),
    ],
)
def test_opening_refuses_a_level_not_allowed_under_the_parent(union, users, role, parent, level, message):
    count = Organization.objects.count()

    with pytest.raises(services.RegistryError) as refusal:
        services.organization_create(parent=getattr(union, parent), level=level, by=users.by_role(role), name="X")

    assert refusal.value.message == message
    assert Organization.objects.count() == count


@pytest.mark.parametrize(
    ("role", "parent", "level"),
    [
        ("local", "region_a", Level.LOCAL),  # the level is fine under a region, but not for a local user
        ("chair", "local_a1", Level.PRIMARY),
        ("regional", "region_b", Level.LOCAL),
        ("regional", "central", Level.REGIONAL),
        ("member", "primary_a1a", Level.UNIT),
        ("cashier", "primary_a1a", Level.UNIT),
    ],
)
def test_opening_refuses_roles_without_the_right(union, users, role, parent, level):
    count = Organization.objects.count()

    with pytest.raises(PermissionDenied):
        services.organization_create(parent=getattr(union, parent), level=level, by=users.by_role(role), name="X")

    assert Organization.objects.count() == count
    assert not AccessLog.objects.filter(action=AccessLog.Action.CREATE).exists()


# Passport


def test_passport_change_is_logged_field_by_field(union, users):
    org = union.primary_a1a

    services.organization_update_passport(
        org=org, by=users.chair, name=org.name, phone="+7 495 111-22-33", employees_count=84
    )

    org.refresh_from_db()
    assert (org.phone, org.employees_count) == ("+7 495 111-22-33", 84)
    [entry] = log_entries(AccessLog.Action.CHANGE, org)
    assert entry.user == users.chair
    assert entry.details == {"changes": {"phone": ["", "+7 495 111-22-33"], "employees_count": [None, 84]}}


def test_passport_saved_unchanged_leaves_no_log_entry(union, users):
    org = union.primary_a1a

    services.organization_update_passport(org=org, by=users.local, name=org.name, inn=org.inn, phone=org.phone)

    assert log_entries(AccessLog.Action.CHANGE, org) == []


def test_passport_of_an_org_outside_scope_is_refused(union, users):
    with pytest.raises(PermissionDenied):
        services.organization_update_passport(org=union.primary_b1a, by=users.regional, name="Захвачено")

    union.primary_b1a.refresh_from_db()
    assert union.primary_b1a.name == "ППО гимназии № 7"


def test_passport_with_invalid_inn_is_not_saved(union, users):
    with pytest.raises(ValidationError) as invalid:
        services.organization_update_passport(org=union.primary_a1a, by=users.local, inn="7707083890")

    assert "ИНН должен состоять из 10 цифр" in str(invalid.value.message_dict["inn"])
    assert log_entries(AccessLog.Action.CHANGE, union.primary_a1a) == []


# Closing and reopening


def test_closing_an_org_with_open_children_is_refused(union, users):
    with pytest.raises(services.RegistryError) as refusal:
        services.organization_set_active(org=union.local_a1, by=users.regional, active=False)

    assert refusal.value.message == "Сначала закройте все организации, входящие в эту."
    union.local_a1.refresh_from_db()
    assert union.local_a1.is_active


def test_closing_an_org_with_active_members_is_refused(union, users):
    MemberFactory(organization=union.primary_a1b)

    with pytest.raises(services.RegistryError) as refusal:
        services.organization_set_active(org=union.primary_a1b, by=users.local, active=False)

    assert refusal.value.message == (
        "В организации есть действующие члены Профсоюза: переведите их или оформите выбытие."
    )
    union.primary_a1b.refresh_from_db()
    assert union.primary_a1b.is_active


def test_members_who_left_do_not_block_closing(union, users):
    MemberFactory(
        organization=union.primary_a1b,
        status=Member.Status.LEFT,
        left_on=datetime.date(2024, 6, 30),
        leaving_reason=Member.LeavingReason.END_OF_WORK,
    )

    services.organization_set_active(org=union.primary_a1b, by=users.local, active=False)

    union.primary_a1b.refresh_from_db()
    assert not union.primary_a1b.is_active


def test_closing_a_leaf_and_reopening_it(union, users):
    leaf = union.unit_a1a

    services.organization_set_active(org=leaf, by=users.chair, active=False)
    leaf.refresh_from_db()
    assert not leaf.is_active

    services.organization_set_active(org=leaf, by=users.chair, active=True)
    leaf.refresh_from_db()
    assert leaf.is_active
    assert [entry.details for entry in reversed(log_entries(AccessLog.Action.CHANGE, leaf))] == [
        {"changes": {"is_active": [True, False]}},
        {"changes": {"is_active": [False, True]}},
    ]


def test_closed_children_let_the_parent_close(union, users):
    services.organization_set_active(org=union.unit_a1a, by=users.local, active=False)
    services.organization_set_active(org=union.primary_a1a, by=users.local, active=False)

    union.primary_a1a.refresh_from_db()
    assert not union.primary_a1a.is_active


def test_nobody_closes_their_own_organisation(union, users):
    with pytest.raises(PermissionDenied):
        services.organization_set_active(org=union.primary_a1a, by=users.chair, active=False)


# Chairs' card index


def chair_fields(**fields) -> dict:
    return {"last_name": "Новикова", "first_name": "Нина", "term_start": datetime.date(2024, 1, 15), **fields}


def test_overlapping_chair_term_is_refused_in_russian(union, users):
    ChairFactory(
        organization=union.primary_a1b,
        last_name="Прежняя",
        first_name="Ольга",
        middle_name="",
        term_start=datetime.date(2021, 9, 1),
        term_end=None,
    )

    with pytest.raises(services.RegistryError) as refusal:
        services.chair_create(org=union.primary_a1b, by=users.local, **chair_fields())

    assert refusal.value.message == (
        "Срок полномочий пересекается со сроком председателя Прежняя Ольга (с 01.09.2021). "
        "Сначала укажите дату окончания его полномочий."
    )
    assert union.primary_a1b.chairs.count() == 1


@pytest.mark.parametrize(
    ("new_start", "new_end", "overlaps"),
    [
        (datetime.date(2024, 3, 1), None, True),  # starts the day the previous term ends
        (datetime.date(2024, 3, 2), None, False),  # the next day
        (datetime.date(2020, 1, 1), datetime.date(2021, 8, 31), False),  # wholly before
        (datetime.date(2020, 1, 1), datetime.date(2021, 9, 1), True),  # ends the day the other starts
        (datetime.date(2022, 1, 1), datetime.date(2022, 12, 31), True),  # inside
    ],
)
def test_chair_term_boundaries(union, users, new_start, new_end, overlaps):
    ChairFactory(
        organization=union.primary_a1b, term_start=datetime.date(2021, 9, 1), term_end=datetime.date(2024, 3, 1)
    )

    if overlaps:
        with pytest.raises(services.RegistryError):
            services.chair_create(
                org=union.primary_a1b, by=users.local, **chair_fields(term_start=new_start, term_end=new_end)
            )
    else:
        services.chair_create(
            org=union.primary_a1b, by=users.local, **chair_fields(term_start=new_start, term_end=new_end)
        )
        assert union.primary_a1b.chairs.count() == 2


def test_moving_a_chair_term_onto_another_is_refused(union, users):
    earlier = ChairFactory(
        organization=union.primary_a1b, term_start=datetime.date(2018, 1, 1), term_end=datetime.date(2020, 12, 31)
    )
    ChairFactory(organization=union.primary_a1b, term_start=datetime.date(2021, 1, 1), term_end=None)

    with pytest.raises(services.RegistryError):
        services.chair_update(chair=earlier, by=users.local, term_end=datetime.date(2021, 6, 30))

    earlier.refresh_from_db()
    assert earlier.term_end == datetime.date(2020, 12, 31)


def test_chair_change_is_logged(union, users, chairs):
    services.chair_update(chair=chairs.a1a, by=users.local, phone="+7 900 000-00-00")

    [entry] = log_entries(AccessLog.Action.CHANGE, chairs.a1a)
    assert entry.details == {"changes": {"phone": ["", "+7 900 000-00-00"]}}
    assert entry.organization_path == union.primary_a1a.path


def test_chair_cannot_keep_the_card_index(union, users):
    with pytest.raises(PermissionDenied):
        services.chair_create(org=union.primary_a1a, by=users.chair, **chair_fields())

    assert not Chair.objects.exists()


def test_training_in_the_future_is_refused(chairs, users):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(services.RegistryError) as refusal:
        services.chair_training_add(chair=chairs.a1a, by=users.local, title="Школа профактива", completed_on=tomorrow)

    assert refusal.value.message == "Дата окончания обучения не может быть в будущем."
    assert not chairs.a1a.trainings.exists()


def test_training_is_recorded_and_logged(chairs, users):
    services.chair_training_add(
        chair=chairs.a1a, by=users.local, title="Школа профактива", completed_on=timezone.localdate()
    )

    assert chairs.a1a.trainings.get().title == "Школа профактива"
    [entry] = log_entries(AccessLog.Action.CHANGE, chairs.a1a)
    assert entry.details == {"training_added": "Школа профактива"}
