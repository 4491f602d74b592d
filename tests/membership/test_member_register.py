"""The chair's member register: admit, edit, leave, restore, transfer, and who may see what."""

import datetime
import re

import pytest
from django.urls import reverse

from accounts.models import AccessLog
from membership.models import Member, MemberEvent, MemberTransfer
from membership.services import member_admit, member_transfer_request
from tests.factories import MemberFactory

ADMISSION = {
    "last_name": "Соколова",
    "first_name": "Дарья",
    "middle_name": "Игоревна",
    "birth_date": "1991-04-12",
    "sex": "f",
    "phone": "+7 900 123-45-67",
    "email": "sokolova@example.org",
    "category": "working",
    "position": "учитель химии",
    "is_teaching_staff": "on",
    "union_joined_on": "2015-09-01",
    "org_joined_on": "2020-09-01",
    "dues_application": "on",
}


def admit_url(org):
    return reverse("membership:member_admit", args=[org.pk])


def member_in(org, **fields):
    member = MemberFactory(organization=org, **fields)
    member.search_name = " ".join(
        p.lower().replace("ё", "е") for p in (member.last_name, member.first_name, member.middle_name) if p
    )
    member.save()
    return member


class TestAdmission:
    def test_chair_admits_a_member_with_history_and_access_log(self, client_for, users, union):
        response = client_for(users.chair).post(admit_url(union.primary_a1a), ADMISSION)

        member = Member.objects.get(last_name="Соколова")
        assert response.status_code == 302 and response.url == member.get_absolute_url()
        assert member.organization == union.primary_a1a and member.status == Member.Status.ACTIVE
        assert member.search_name == "соколова дарья игоревна"
        assert list(member.events.values_list("kind", flat=True)) == [MemberEvent.Kind.ADMITTED]
        assert AccessLog.objects.filter(user=users.chair, action="create", object_id=str(member.pk)).exists()

    def test_same_name_and_birth_date_elsewhere_is_shown_with_its_organisation(self, client_for, users, union):
        member_in(union.primary_b1a, last_name="Соколова", first_name="Дарья", middle_name="Игоревна",
                  birth_date=datetime.date(1991, 4, 12))  # fmt: skip
        client = client_for(users.chair)

        warned = client.post(admit_url(union.primary_a1a), {**ADMISSION, "last_name": "СОКОЛОВА "})
        html = warned.content.decode()
        assert "Возможный дубликат" in html
        assert union.primary_b1a.display_name in html and "Санкт-Петербург" in html
        assert Member.objects.filter(organization=union.primary_a1a).count() == 0

        confirmed = client.post(admit_url(union.primary_a1a), {**ADMISSION, "duplicate_confirmed": "on"})
        assert confirmed.status_code == 302
        assert Member.objects.filter(search_name="соколова дарья игоревна").count() == 2

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"birth_date": "2090-01-01"}, "Дата рождения должна быть в прошлом."),
            ({"org_joined_on": "2010-01-01"}, "не может быть раньше вступления в Профсоюз"),
            ({"union_joined_on": "1995-01-01", "org_joined_on": "1995-01-01"}, "В Профсоюз вступают с 14 лет"),
            ({"category": "astronaut"}, "Выберите корректный вариант"),
            ({"last_name": "  "}, "Обязательное поле"),
        ],
    )
    def test_bad_input_is_refused_with_a_russian_message_and_nothing_saved(
        self, client_for, users, union, change, message
    ):
        response = client_for(users.chair).post(admit_url(union.primary_a1a), {**ADMISSION, **change})
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Member.objects.exists()

    def test_members_are_admitted_only_in_primary_organisations(self, client_for, users, union):
        assert client_for(users.regional).get(admit_url(union.local_a1)).status_code == 403


ROLE_MATRIX = [
    # (role, whose member, expected status of the member page)
    ("chair", "own", 200),
    ("chair", "neighbour_school", 404),
    ("chair", "other_region", 404),
    ("local", "own", 200),
    ("local", "other_region", 404),
    ("regional", "own", 200),
    ("regional", "university", 200),
    ("regional", "other_region", 404),
    ("central", "own", 200),
    ("central", "other_region", 200),
    ("other_chair", "own", 404),
    ("member", "own", 403),
    ("cashier", "own", 403),
]


@pytest.fixture
def members(union):
    return {
        "own": member_in(union.primary_a1a, last_name="Своя"),
        "neighbour_school": member_in(union.primary_a1b, last_name="Соседская"),
        "university": member_in(union.university_a, last_name="Студентка", category="student"),
        "other_region": member_in(union.primary_b1a, last_name="Чужая"),
    }


@pytest.mark.parametrize(("role", "whose", "expected"), ROLE_MATRIX)
@pytest.mark.parametrize("page", ["member_detail", "member_edit", "member_leave", "member_transfer"])
def test_member_pages_role_matrix(client_for, users, members, role, whose, expected, page):
    response = client_for(users.by_role(role)).get(reverse(f"membership:{page}", args=[members[whose].pk]))
    assert response.status_code == expected


@pytest.mark.parametrize("page", ["member_list", "transfer_inbox"])
def test_anonymous_is_sent_to_login(client, page):
    response = client.get(reverse(f"membership:{page}"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("chair", {"Своя"}, {"Соседская", "Студентка", "Чужая"}),
        ("local", {"Своя", "Соседская"}, {"Студентка", "Чужая"}),
        ("regional", {"Своя", "Соседская", "Студентка"}, {"Чужая"}),
        ("central", {"Своя", "Соседская", "Студентка", "Чужая"}, set()),
    ],
)
def test_member_list_shows_the_subtree_only(client_for, users, members, role, visible, hidden):
    html = client_for(users.by_role(role)).get(reverse("membership:member_list")).content.decode()
    for name in visible:
        assert name in html
    for name in hidden:
        assert name not in html


def test_search_and_org_filter_never_leak_another_region(client_for, users, members, union):
    client = client_for(users.regional)
    assert "Чужая" not in client.get(reverse("membership:member_list"), {"q": "Чуж"}).content.decode()
    assert client.get(reverse("membership:member_list"), {"org": union.primary_b1a.pk}).status_code == 404
    found = client.get(reverse("membership:member_list"), {"q": "соседск"}).content.decode()
    assert "Соседская" in found and "Своя" not in found


def test_list_page_is_logged_with_the_members_shown(client_for, users, members):
    client_for(users.chair).get(reverse("membership:member_list"))
    entry = AccessLog.objects.get(user=users.chair, action="view", object_type="membership.member")
    assert entry.details["members"] == [members["own"].pk]


def test_member_list_query_count_does_not_grow_with_rows(client_for, users, union, django_assert_max_num_queries):
    for number in range(30):
        member_in(union.primary_a1a, last_name=f"Фамилия{number:02d}")
    client = client_for(users.regional)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("membership:member_list")).status_code == 200


@pytest.mark.parametrize("ordering", ["name", "-joined", "birth"])
def test_keyset_pages_cover_every_member_once_both_ways(client_for, users, union, ordering):
    for number in range(120):
        member_in(
            union.primary_a1a,
            last_name=f"Фамилия{number % 7}",
            birth_date=datetime.date(1970 + number % 5, 1, 1),
            org_joined_on=datetime.date(2015 + number % 3, 9, 1),
        )
    client = client_for(users.chair)
    seen, pages, params = [], [], {"sort": ordering}
    while True:
        response = client.get(reverse("membership:member_list"), params)
        rows = [member.pk for member in response.context["page"].rows]
        seen.extend(rows)
        pages.append((dict(params), rows))
        if not response.context["page"].next_cursor:
            break
        params = {"sort": ordering, "after": response.context["page"].next_cursor}
    assert sorted(seen) == sorted(Member.objects.values_list("pk", flat=True)) and len(seen) == 120
    assert len(pages) == 3

    last_page = client.get(reverse("membership:member_list"), pages[-1][0])
    back = client.get(
        reverse("membership:member_list"), {"sort": ordering, "before": last_page.context["page"].previous_cursor}
    )
    assert [member.pk for member in back.context["page"].rows] == pages[-2][1]


class TestChangesAndHistory:
    def test_edit_keeps_old_and_new_values_in_history(self, client_for, users, union):
        member = member_in(union.primary_a1a, last_name="Правкина", phone="")
        form = {**ADMISSION, "last_name": member.last_name, "first_name": member.first_name,
                "middle_name": member.middle_name, "birth_date": "1985-05-17", "union_joined_on": "2010-09-01",
                "org_joined_on": "2015-09-01", "phone": "+7 999 000-00-00"}  # fmt: skip
        client = client_for(users.chair)
        assert client.post(reverse("membership:member_edit", args=[member.pk]), form).status_code == 302

        event = member.events.get(kind=MemberEvent.Kind.CHANGED)
        assert event.changes["phone"] == ["", "+7 999 000-00-00"] and event.by == users.chair
        page = client.get(member.get_absolute_url()).content.decode()
        assert "телефон: — → +7 999 000-00-00" in page

    def test_leaving_and_restoring(self, client_for, users, union):
        member = member_in(union.primary_a1a)
        client = client_for(users.chair)
        url = reverse("membership:member_leave", args=[member.pk])

        future = client.post(url, {"left_on": "2099-01-01", "reason": "voluntary"})
        assert "Дата выбытия не может быть в будущем." in future.content.decode()
        assert client.post(url, {"left_on": "2025-12-31", "reason": "transfer"}).status_code == 200

        assert client.post(url, {"left_on": "2025-12-31", "reason": "voluntary"}).status_code == 302
        member.refresh_from_db()
        assert (member.status, member.left_on, member.leaving_reason) == (
            "left",
            datetime.date(2025, 12, 31),
            "voluntary",
        )
        assert "Своя" not in client.get(reverse("membership:member_list")).content.decode()

        assert client.post(reverse("membership:member_restore", args=[member.pk]), {"note": ""}).status_code == 302
        member.refresh_from_db()
        assert member.status == "active" and member.left_on is None
        assert [e.kind for e in member.events.order_by("id")] == ["left", "restored"]


class TestTransfer:
    def test_transfer_between_regions_waits_for_the_receiving_chair(self, client_for, users, union, client):
        member = member_in(union.primary_a1a, last_name="Переводимая")
        chair_a = client_for(users.chair)
        search = chair_a.get(reverse("membership:member_transfer", args=[member.pk]), {"q": "гимназии"})
        assert union.primary_b1a.name in search.content.decode()

        chair_a.post(reverse("membership:member_transfer", args=[member.pk]),
                     {"q": "гимназии", "to_organization": union.primary_b1a.pk, "note": "Переезд"})  # fmt: skip
        transfer = MemberTransfer.objects.get(member=member)
        member.refresh_from_db()
        assert transfer.status == "pending" and member.organization == union.primary_a1a

        chair_b = client_for(users.other_chair)
        assert "Переводимая" in chair_b.get(reverse("membership:transfer_inbox")).content.decode()
        assert chair_b.post(reverse("membership:transfer_accept", args=[transfer.pk])).status_code == 302

        member.refresh_from_db()
        assert member.organization == union.primary_b1a
        assert client_for(users.chair).get(member.get_absolute_url()).status_code == 404
        assert client_for(users.other_chair).get(member.get_absolute_url()).status_code == 200
        kinds = list(member.events.order_by("id").values_list("kind", flat=True))
        assert kinds == ["transfer_requested", "transferred"]

    def test_receiver_rejects_only_with_a_reason(self, client_for, users, union):
        member = member_in(union.primary_a1a)
        transfer = MemberTransfer.objects.create(
            member=member, from_organization=union.primary_a1a, to_organization=union.primary_b1a,
            requested_by=users.chair,
        )  # fmt: skip
        chair_b = client_for(users.other_chair)
        chair_b.post(reverse("membership:transfer_reject", args=[transfer.pk]), {"note": ""})
        transfer.refresh_from_db()
        assert transfer.status == "pending"
        chair_b.post(reverse("membership:transfer_reject", args=[transfer.pk]), {"note": "Не работает у нас"})
        transfer.refresh_from_db()
        assert transfer.status == "rejected" and transfer.note == "Не работает у нас"

    def test_only_the_receiving_side_accepts(self, client_for, users, union):
        member = member_in(union.primary_a1a)
        transfer = MemberTransfer.objects.create(
            member=member, from_organization=union.primary_a1a, to_organization=union.primary_b1a,
            requested_by=users.chair,
        )  # fmt: skip
        for role in ("chair", "regional", "local"):
            assert (
                client_for(users.by_role(role))
                .post(reverse("membership:transfer_accept", args=[transfer.pk]))
                .status_code
                == 404
            )
        member.refresh_from_db()
        assert member.organization == union.primary_a1a

    def test_local_staff_moving_between_own_schools_takes_effect_at_once(self, users, union):
        member = member_admit(
            by=users.local, organization=union.primary_a1a, last_name="Быстрова", first_name="Ия", middle_name="",
            birth_date=datetime.date(1990, 1, 1), sex="f", category="working", union_joined_on=datetime.date(2012, 1, 1),
            org_joined_on=datetime.date(2012, 1, 1),
        )  # fmt: skip
        transfer = member_transfer_request(by=users.local, member=member, to_organization=union.primary_a1b)
        member.refresh_from_db()
        assert transfer.status == "accepted" and member.organization == union.primary_a1b


def test_history_lines_name_organisations_not_ids(client_for, users, union):
    member = member_in(union.primary_a1a)
    MemberEvent.objects.create(member=member, by=users.local, kind="transferred", organization=union.primary_a1a,
                               changes={"organization": [union.primary_a1b.pk, union.primary_a1a.pk]})  # fmt: skip
    html = client_for(users.chair).get(member.get_absolute_url()).content.decode()
    assert re.search(r"первичная организация: ППО детского сада № 5 → ППО школы № 1", html)
