"""The demo seeder: the union it writes must look like the real one and behave like data the registry wrote."""

from base64 import b32decode
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_otp.oath import totp

from accounts.models import Role, User
from cards.models import Card, CardRequest
from demo.people import MEMBER_AGES
from demo.plan import SHARE_STUDENTS, SHARE_WORKING
from demo.seed import (
    DEMO_PASSWORD,
    DEMO_REFERENCE_DATE,
    DEMO_TOTP_SECRET,
    DEMO_USERNAMES,
    demo_exists,
    demo_logins,
    demo_second_factor_logins,
    demo_seed,
)
from membership.models import Member, search_name_of
from registry.models import PATH_SEGMENT_WIDTH, Chair, ChairTraining, Organization
from registry.services import organization_create
from tests.demo.union import union_digest, union_wipe
from tests.factories import MemberFactory

Level = Organization.Level
Category = Member.Category

MEMBERS = 1000

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY path: PostgreSQL only")


@pytest.fixture
def seeded():
    return demo_seed(members=MEMBERS, seed=7)


def test_seed_writes_exactly_the_members_asked_for_in_the_unions_proportions(seeded):
    categories = Counter(Member.objects.values_list("category", flat=True))
    assert sum(categories.values()) == MEMBERS
    assert categories[Category.WORKING] + categories[Category.UNEMPLOYED] == round(MEMBERS * SHARE_WORKING)
    assert categories[Category.STUDENT] == round(MEMBERS * SHARE_STUDENTS)
    assert categories[Category.PENSIONER] == MEMBERS - round(MEMBERS * SHARE_WORKING) - round(MEMBERS * SHARE_STUDENTS)
    assert 0 < categories[Category.UNEMPLOYED] < categories[Category.WORKING] / 20
    women = Member.objects.filter(sex=Member.Sex.FEMALE).count() / MEMBERS
    assert 0.75 <= women <= 0.85
    left = Member.objects.filter(status=Member.Status.LEFT).count() / MEMBERS
    assert 0.015 <= left <= 0.045


def test_students_belong_to_colleges_and_universities(seeded):
    kinds = set(
        Member.objects.filter(category=Category.STUDENT).values_list("organization__institution_type", flat=True)
    )
    assert kinds <= {Organization.InstitutionType.COLLEGE, Organization.InstitutionType.UNIVERSITY}


def test_most_working_members_of_schools_and_kindergartens_are_teaching_staff(seeded):
    working = Member.objects.filter(
        category=Category.WORKING, organization__institution_type__in=["school", "kindergarten"]
    )
    assert working.filter(is_teaching_staff=True).count() / working.count() > 0.6
    assert not Member.objects.exclude(category=Category.WORKING).filter(is_teaching_staff=True).exists()


def test_every_path_continues_its_parents_and_level_region_and_depth_agree(seeded):
    orgs = {org.pk: org for org in Organization.objects.all()}
    for org in orgs.values():
        assert org.depth == len(org.path) // PATH_SEGMENT_WIDTH
        if org.parent_id is None:
            assert org.level == Level.CENTRAL
            continue
        parent = orgs[org.parent_id]
        assert org.path.startswith(parent.path)
        assert len(org.path) == len(parent.path) + PATH_SEGMENT_WIDTH
        assert parent.level in Organization.ALLOWED_PARENT_LEVELS[org.level], org.name
        if org.level != Level.REGIONAL:
            assert org.region_id == parent.region_id is not None, org.name


def test_primaries_hang_under_a_region_or_a_local_and_members_only_under_primaries(seeded):
    parent_levels = set(Organization.objects.filter(level=Level.PRIMARY).values_list("parent__level", flat=True))
    assert parent_levels == {Level.REGIONAL, Level.LOCAL}
    assert set(Member.objects.values_list("organization__level", flat=True)) == {Level.PRIMARY}
    universities = Organization.objects.filter(institution_type=Organization.InstitutionType.UNIVERSITY)
    assert universities.exists()
    # ППО "with territorial rights": directly under the regional organisation.
    assert set(universities.values_list("parent__level", flat=True)) == {Level.REGIONAL}
    assert Organization.objects.filter(level=Level.UNIT).exists()


def test_some_regions_have_no_local_level(seeded):
    regions_with_locals = set(Organization.objects.filter(level=Level.LOCAL).values_list("parent_id", flat=True))
    regions = set(Organization.objects.filter(level=Level.REGIONAL).values_list("id", flat=True))
    assert len(regions) == 85
    assert 0 < len(regions - regions_with_locals) < 10


def test_children_are_numbered_without_gaps_and_the_registry_goes_on_after_them(seeded):
    segments: dict[int, list[int]] = {}
    for parent_id, path in Organization.objects.exclude(parent=None).values_list("parent_id", "path"):
        segments.setdefault(parent_id, []).append(int(path[-PATH_SEGMENT_WIDTH:]))
    for numbers in segments.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    central_user = User.objects.get(username="central")
    local = Organization.objects.filter(level=Level.LOCAL).order_by("path").last()
    count_before = local.children.count()

    school = organization_create(parent=local, level=Level.PRIMARY, by=central_user, name="Новая школа № 1")

    assert school.path == f"{local.path}{count_before + 1:0{PATH_SEGMENT_WIDTH}d}"
    assert school.pk > max(pk for pk in Organization.objects.exclude(pk=school.pk).values_list("pk", flat=True))


def test_a_member_added_after_seeding_gets_a_fresh_id(seeded):
    school = Organization.objects.filter(level=Level.PRIMARY).first()
    last_id = Member.objects.order_by("-id").values_list("id", flat=True).first()
    assert MemberFactory(organization=school).pk > last_id


def test_same_seed_gives_the_same_union_and_another_seed_another(db):
    demo_seed(members=600, seed=3)
    first = union_digest()
    union_wipe()
    demo_seed(members=600, seed=3)
    assert union_digest() == first
    union_wipe()
    demo_seed(members=600, seed=4)
    assert union_digest() != first


def test_members_satisfy_the_models_own_validation(seeded):
    for member in Member.objects.order_by("?")[:200]:
        member.full_clean(exclude=["user"])
    for member in Member.objects.only("last_name", "first_name", "middle_name", "search_name"):
        assert member.search_name == search_name_of(member.last_name, member.first_name, member.middle_name)


def test_no_member_breaks_the_rules_of_leaving_and_the_dates_are_in_order(seeded):
    assert not Member.objects.filter(status=Member.Status.LEFT, left_on=None).exists()
    assert not Member.objects.filter(status=Member.Status.LEFT, leaving_reason="").exists()
    assert not Member.objects.filter(status=Member.Status.ACTIVE).exclude(left_on=None).exists()
    for member in Member.objects.all():
        assert member.birth_date < member.union_joined_on <= member.org_joined_on <= DEMO_REFERENCE_DATE
        if member.left_on:
            assert member.org_joined_on <= member.left_on <= DEMO_REFERENCE_DATE
        youngest, oldest = MEMBER_AGES[member.category]
        assert youngest <= member.age_on(DEMO_REFERENCE_DATE) <= oldest, member.category


def test_chairs_card_index_has_current_expired_and_missing_chairs(seeded):
    on = DEMO_REFERENCE_DATE
    chaired = Organization.objects.filter(level__in=[Level.REGIONAL, Level.LOCAL, Level.PRIMARY])
    assert not chaired.filter(level=Level.REGIONAL, chairs=None).exists()
    assert chaired.filter(chairs=None).exists()
    assert Chair.objects.filter(term_end__lt=on).exists()
    assert Chair.objects.filter(term_start__lte=on, term_end__gte=on).count() > chaired.count() / 2
    assert not Chair.objects.filter(organization__level=Level.UNIT).exists()
    assert ChairTraining.objects.filter(completed_on__lte=on).count() == ChairTraining.objects.count() > 0


def test_if_empty_leaves_a_seeded_register_alone(seeded, capsys):
    before = (Member.objects.count(), Organization.objects.count(), Chair.objects.count())

    call_command("seed_demo", members=500, seed=1, if_empty=True)

    assert (Member.objects.count(), Organization.objects.count(), Chair.objects.count()) == before
    assert "уже есть" in capsys.readouterr().out


def test_without_if_empty_a_register_with_members_is_refused(seeded):
    with pytest.raises(CommandError, match="уже есть члены Профсоюза"):
        call_command("seed_demo", members=500, seed=1)


def test_the_command_seeds_an_empty_register(db, capsys):
    assert not demo_exists()

    call_command("seed_demo", members=300, seed=1, if_empty=True)

    assert Member.objects.count() == 300
    out = capsys.readouterr().out
    assert "заполнен" in out
    assert f"билетов {Card.objects.count()} (заявок на пластиковые {CardRequest.objects.count()})" in out


def test_demo_users_have_their_roles_and_places(seeded):
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == set(DEMO_USERNAMES)
    assert users["central"].role == Role.CENTRAL and users["central"].organization.level == Level.CENTRAL
    assert users["regional"].role == Role.REGIONAL and users["regional"].organization.region.code == "77"
    assert users["regional2"].role == Role.REGIONAL and users["regional2"].organization.region.code == "78"
    local, chair = users["local"], users["chair"]
    assert local.role == Role.LOCAL and local.organization.level == Level.LOCAL
    assert local.organization.parent == users["regional"].organization
    assert chair.role == Role.CHAIR and chair.organization.parent == local.organization
    assert chair.organization.institution_type == Organization.InstitutionType.SCHOOL
    assert chair.organization.chairs.filter(last_name=chair.last_name, first_name=chair.first_name).exists()
    member = users["member"]
    assert member.role == Role.MEMBER and member.organization is None
    assert member.member.organization == chair.organization and member.member.last_name == member.last_name
    assert users["cashier"].role == Role.CASHIER and users["cashier"].organization is None


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_demo_users_sign_in_with_the_demo_password(seeded, client, username):
    response = client.post(reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == User.objects.get(username=username).pk


@pytest.mark.parametrize("username", ["central", "regional", "regional2"])
def test_demo_staff_pass_the_second_step_with_the_printed_key_or_a_printed_recovery_code(seeded, client, username):
    """A visitor adds the printed key to an authenticator app, or types a printed recovery code."""
    key = b32decode(DEMO_TOTP_SECRET)
    login = {"username": username, "password": DEMO_PASSWORD}
    client.post(reverse("accounts:login"), login)
    assert client.get(reverse("home")).url.startswith(reverse("accounts:two_factor_verify"))

    assert client.post(reverse("accounts:two_factor_verify"), {"code": f"{totp(key):06d}"}).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200

    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), login)
    printed = dict(demo_second_factor_logins())[username]
    assert len(printed) == 3
    assert client.post(reverse("accounts:two_factor_verify"), {"code": printed[0]}).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert printed[0] not in dict(demo_second_factor_logins())[username]


def test_demo_logins_names_each_user_and_where_they_work(seeded, capsys):
    rows = demo_logins()

    assert [login for _role, login, _where in rows] == list(DEMO_USERNAMES)
    where = dict((login, place) for _role, login, place in rows)
    assert where["chair"] == User.objects.get(username="chair").organization.display_name
    assert where["member"] == where["chair"]
    call_command("demo_logins")
    printed = capsys.readouterr().out
    assert DEMO_PASSWORD in printed
    assert "DEMO REES TRDE MORE ESTR DEMO REES TR23" in printed
    assert all(code in printed for _login, codes in demo_second_factor_logins() for code in codes)


def test_every_email_is_in_the_demo_domain(seeded):
    emails = [
        *Member.objects.exclude(email="").values_list("email", flat=True),
        *Organization.objects.exclude(email="").values_list("email", flat=True),
        *Chair.objects.exclude(email="").values_list("email", flat=True),
    ]
    assert emails
    assert all(email.endswith("@demo.eseur.ru") for email in emails)


@on_postgresql
@pytest.mark.postgres
def test_copy_with_index_rebuild_leaves_the_large_tables_as_the_migrations_made_them(db):
    tables = ("membership_member", "cards_card", "cards_cardrequest")

    def table_shape(table):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass UNION ALL "
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
                [table, table],
            )
            return [row[0] for row in cursor.fetchall()]

    before = {table: table_shape(table) for table in tables}

    report = demo_seed(members=800, seed=2, rebuild_indexes=True)

    assert report.indexes_rebuilt
    assert {table: table_shape(table) for table in tables} == before
    assert Member.objects.count() == 800
    assert Card.objects.count() == report.cards > 0
    with connection.cursor() as cursor:
        for model in (Member, Card):
            cursor.execute(
                "SELECT last_value FROM pg_sequences WHERE sequencename = %s", [f"{model._meta.db_table}_id_seq"]
            )
            (last_value,) = cursor.fetchone()
            assert last_value >= model.objects.order_by("-id").values_list("id", flat=True).first()
