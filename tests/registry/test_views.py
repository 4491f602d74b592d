"""Registry pages: what each user sees (and never sees) and what the forms refuse, read from the HTML."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from registry.models import Chair, ChairTraining, Organization
from tests.factories import ChairFactory, org_create

REGION_B_NAMES = ("Санкт-Петербургская организация", "Районная организация Б1", "ППО гимназии № 7")
REGION_A_BELOW_REGION = ("Районная организация А1", "ППО школы № 1", "ППО детского сада № 5", "ППО университета")
CENTRAL_NAME = "Общероссийский Профсоюз образования"


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def breadcrumbs_of(html: str) -> str:
    match = re.search(r'<ol class="breadcrumb[^"]*">(.*?)</ol>', html, re.S)
    assert match, "the page has no breadcrumbs"
    return match.group(1)


def passport_data(org: Organization, **changes) -> dict:
    data = {
        "name": org.name,
        "short_name": org.short_name,
        "institution_type": org.institution_type,
        "inn": org.inn,
        "address": org.address,
        "phone": org.phone,
        "email": org.email,
        "website": org.website,
        "employees_count": org.employees_count if org.employees_count is not None else "",
        "students_count": org.students_count if org.students_count is not None else "",
    }
    data.update(changes)
    return data


# The tree page's list of member organisations


def test_central_office_sees_both_regions_in_the_tree(client_for, users, union):
    html = html_of(client_for(users.central).get(reverse("registry:org_detail", args=[union.central.pk])))

    assert union.region_a.name in html
    assert union.region_b.name in html


@pytest.mark.parametrize("role", ["regional", "local", "chair"])
def test_tree_of_region_a_staff_never_shows_region_b(client_for, users, role):
    html = html_of(client_for(users.by_role(role)).get(reverse("registry:org_tree"), follow=True))

    for name in REGION_B_NAMES:
        assert name not in html


def test_regional_tree_lists_own_members_only(client_for, users, union):
    html = html_of(client_for(users.regional).get(reverse("registry:org_tree"), follow=True))

    assert union.local_a1.name in html
    assert union.university_a.name in html
    # Grandchildren are reached by opening the local organisation, not listed at the top.
    assert union.primary_a1a.name not in html


def test_region_b_staff_never_see_region_a(client_for, users, union):
    html = html_of(client_for(users.other_regional).get(reverse("registry:org_tree"), follow=True))

    assert union.local_b1.name in html
    for name in (union.region_a.name, *REGION_A_BELOW_REGION):
        assert name not in html


# Search inside the tree (?q= on the organisation page)


def search(client, org: Organization, query: str) -> str:
    return html_of(client.get(reverse("registry:org_detail", args=[org.pk]), {"q": query}))


def test_central_search_finds_primaries_of_both_regions(client_for, users, union):
    html = search(client_for(users.central), union.central, "ППО")

    assert "ППО школы № 1" in html
    assert "ППО гимназии № 7" in html


def test_regional_search_finds_only_own_region(client_for, users, union):
    html = search(client_for(users.regional), union.region_a, "ППО")

    assert "ППО школы № 1" in html
    assert "ППО университета" in html
    assert "ППО гимназии № 7" not in html


def test_search_for_another_regions_org_by_name_finds_nothing(client_for, users, union):
    html = search(client_for(users.regional), union.region_a, "гимназии")

    assert "Ничего не найдено." in html
    assert "ППО гимназии № 7" not in html


def test_search_by_inn_prefix_stays_in_scope(client_for, users, union):
    Organization.objects.filter(pk=union.primary_a1a.pk).update(inn="7707083893")
    Organization.objects.filter(pk=union.primary_b1a.pk).update(inn="7707049388")

    regional_html = search(client_for(users.regional), union.region_a, "7707")
    central_html = search(client_for(users.central), union.central, "7707")

    assert "7707083893" in regional_html
    assert "7707049388" not in regional_html
    assert "ППО гимназии № 7" not in regional_html
    assert "7707083893" in central_html
    assert "7707049388" in central_html


def test_local_search_does_not_reach_sibling_under_region(client_for, users, union):
    html = search(client_for(users.local), union.local_a1, "ППО")

    assert "ППО школы № 1" in html
    assert "ППО университета" not in html


# Chairs' card index


def chair_list_html(client, **params) -> str:
    return html_of(client.get(reverse("registry:chair_list"), params))


def test_central_card_index_shows_chairs_of_both_regions(client_for, users, chairs):
    html = chair_list_html(client_for(users.central))

    for chair in (chairs.a1a, chairs.local_a1, chairs.b1a):
        assert chair.full_name in html


@pytest.mark.parametrize("role", ["regional", "local"])
def test_region_a_card_index_never_shows_region_b_chairs(client_for, users, chairs, role):
    html = chair_list_html(client_for(users.by_role(role)))

    assert chairs.a1a.full_name in html
    assert chairs.local_a1.full_name in html
    assert chairs.b1a.full_name not in html
    assert "ППО гимназии № 7" not in html


def test_card_index_search_for_other_regions_chair_finds_nothing(client_for, users, chairs):
    html = chair_list_html(client_for(users.regional), q="Васильева")

    assert chairs.b1a.full_name not in html
    assert "По заданным условиям карточек нет." in html


def test_region_b_card_index_shows_only_region_b(client_for, users, chairs):
    html = chair_list_html(client_for(users.other_regional))

    assert chairs.b1a.full_name in html
    assert chairs.a1a.full_name not in html
    assert chairs.local_a1.full_name not in html


def test_card_index_term_filter(client_for, users, union, chairs):
    today = timezone.localdate()
    ChairFactory(
        organization=union.primary_a1b,
        last_name="Истёкшая",
        term_start=today - datetime.timedelta(days=2000),
        term_end=today - datetime.timedelta(days=10),
    )
    ChairFactory(
        organization=union.university_a,
        last_name="Истекающий",
        term_start=today - datetime.timedelta(days=1000),
        term_end=today + datetime.timedelta(days=30),
    )
    client = client_for(users.regional)

    expiring = chair_list_html(client, term="expiring")
    expired = chair_list_html(client, term="expired")

    assert "Истекающий" in expiring
    assert "Истёкшая" not in expiring
    assert chairs.a1a.full_name not in expiring  # four more years to go
    assert "Истёкшая" in expired
    assert "Истекающий" not in expired


# Breadcrumbs


def test_regional_breadcrumbs_start_at_the_region(client_for, users, union):
    html = html_of(client_for(users.regional).get(reverse("registry:org_detail", args=[union.unit_a1a.pk])))
    crumbs = breadcrumbs_of(html)

    assert union.region_a.name in crumbs
    assert union.local_a1.name in crumbs
    assert union.primary_a1a.name in crumbs
    assert CENTRAL_NAME not in crumbs
    assert f'href="{union.central.get_absolute_url()}"' not in html


def test_regional_breadcrumbs_on_a_chair_card_start_at_the_region(client_for, users, chairs, union):
    html = html_of(client_for(users.regional).get(reverse("registry:chair_detail", args=[chairs.a1a.pk])))
    crumbs = breadcrumbs_of(html)

    assert union.region_a.name in crumbs
    assert CENTRAL_NAME not in crumbs
    assert f'href="{union.central.get_absolute_url()}"' not in html


def test_chair_breadcrumbs_start_at_own_primary(client_for, users, union):
    html = html_of(client_for(users.chair).get(reverse("registry:org_detail", args=[union.unit_a1a.pk])))
    crumbs = breadcrumbs_of(html)

    assert union.primary_a1a.name in crumbs
    assert union.local_a1.name not in crumbs
    assert f'href="{union.local_a1.get_absolute_url()}"' not in html


def test_central_breadcrumbs_start_at_the_central_council(client_for, users, union):
    html = html_of(client_for(users.central).get(reverse("registry:org_detail", args=[union.primary_a1a.pk])))
    crumbs = breadcrumbs_of(html)

    assert CENTRAL_NAME in crumbs
    assert f'href="{union.local_a1.get_absolute_url()}"' in crumbs


# Passport form


@pytest.mark.parametrize("inn", ["7707083893", "500100732259", ""])
def test_passport_accepts_valid_inn(client_for, users, union, inn):
    org = union.primary_a1a
    response = client_for(users.local).post(reverse("registry:org_edit", args=[org.pk]), passport_data(org, inn=inn))

    assert response.status_code == 302
    assert response.url == org.get_absolute_url()


@pytest.mark.parametrize(
    "inn",
    [
        "7707083890",  # 10 digits, wrong check digit
        "500100732250",  # 12 digits, wrong second check digit
        "500100732269",  # 12 digits, wrong first check digit
        "77070838931",  # 11 digits
        "77О7083893",  # a Cyrillic О among the digits
    ],
)
def test_passport_refuses_invalid_inn_with_russian_message(client_for, users, union, inn):
    org = union.primary_a1a
    response = client_for(users.local).post(
        reverse("registry:org_edit", args=[org.pk]), passport_data(org, inn=inn, phone="+7 495 111-22-33")
    )

    html = html_of(response)
    assert "ИНН должен состоять из 10 цифр (организация) или 12 цифр (физическое лицо)" in html
    org.refresh_from_db()
    assert org.inn == ""
    assert org.phone == ""
    assert not AccessLog.objects.filter(action=AccessLog.Action.CHANGE).exists()


def test_passport_edit_on_the_page_is_saved_and_logged(client_for, users, union):
    org = union.primary_a1a
    response = client_for(users.local).post(
        reverse("registry:org_edit", args=[org.pk]), passport_data(org, inn="7707083893", phone="+7 495 111-22-33")
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.inn, org.phone) == ("7707083893", "+7 495 111-22-33")
    entry = AccessLog.objects.get(action=AccessLog.Action.CHANGE, object_id=str(org.pk))
    assert entry.details == {"changes": {"inn": ["", "7707083893"], "phone": ["", "+7 495 111-22-33"]}}


# Opening organisations


@pytest.mark.parametrize(
    ("role", "parent", "level"),
    [
        ("local", "local_a1", "regional"),  # a local organisation's staff opening a regional organisation
        ("local", "local_a1", "local"),
        ("regional", "region_a", "regional"),
        ("chair", "primary_a1a", "primary"),
    ],
)
def test_add_child_form_refuses_levels_the_user_may_not_open(client_for, users, union, role, parent, level):
    parent_org = getattr(union, parent)
    count = Organization.objects.count()

    response = client_for(users.by_role(role)).post(
        reverse("registry:org_add_child", args=[parent_org.pk]), {"level": level, "name": "Новая организация"}
    )

    html = html_of(response)
    assert "Выберите корректный вариант" in html
    assert Organization.objects.count() == count


def test_add_child_form_offers_only_allowed_levels(client_for, users, union):
    html = html_of(client_for(users.regional).get(reverse("registry:org_add_child", args=[union.region_a.pk])))

    assert 'value="local"' in html
    assert 'value="primary"' in html
    assert 'value="regional"' not in html
    assert 'value="unit"' not in html


def test_local_staff_open_a_primary_org(client_for, users, union):
    response = client_for(users.local).post(
        reverse("registry:org_add_child", args=[union.local_a1.pk]),
        {"level": "primary", "name": "ППО лицея № 2", "institution_type": "school", "inn": "7707083893"},
    )

    created = Organization.objects.get(name="ППО лицея № 2")
    assert response.status_code == 302
    assert response.url == created.get_absolute_url()
    assert created.parent == union.local_a1
    assert created.region == union.region_a.region
    assert AccessLog.objects.filter(action=AccessLog.Action.CREATE, object_id=str(created.pk)).exists()


# Closing organisations through the page


def test_closing_an_org_with_open_children_shows_the_reason(client_for, users, union):
    client = client_for(users.regional)

    response = client.post(reverse("registry:org_set_active", args=[union.local_a1.pk]), {"active": "0"}, follow=True)

    assert "Сначала закройте все организации, входящие в эту." in html_of(response)
    union.local_a1.refresh_from_db()
    assert union.local_a1.is_active


def test_closing_and_reopening_a_leaf_through_the_page(client_for, users, union):
    client = client_for(users.local)
    url = reverse("registry:org_set_active", args=[union.primary_a1b.pk])

    closed = html_of(client.post(url, {"active": "0"}, follow=True))
    union.primary_a1b.refresh_from_db()
    assert "Организация закрыта." in closed
    assert not union.primary_a1b.is_active

    reopened = html_of(client.post(url, {"active": "1"}, follow=True))
    union.primary_a1b.refresh_from_db()
    assert "Организация снова действует." in reopened
    assert union.primary_a1b.is_active


# Chairs' forms


def chair_form_data(**fields) -> dict:
    data = {"last_name": "Новикова", "first_name": "Нина", "middle_name": "", "phone": "", "email": ""}
    data.update({"term_end": "", "is_full_time": "", "elected_protocol": "", "notes": ""})
    data.update(fields)
    return data


def test_new_chair_overlapping_the_current_one_is_refused_on_the_page(client_for, users, chairs):
    org = chairs.a1a.organization
    response = client_for(users.local).post(
        reverse("registry:chair_create", args=[org.pk]),
        chair_form_data(term_start=timezone.localdate().isoformat()),
    )

    html = html_of(response)
    assert "Срок полномочий пересекается со сроком председателя Алексеева Анна Петровна" in html
    assert "Сначала укажите дату окончания его полномочий." in html
    assert list(Chair.objects.filter(organization=org)) == [chairs.a1a]


def test_new_chair_after_the_previous_term_is_saved(client_for, users, chairs):
    org = chairs.a1a.organization
    start = chairs.a1a.term_end + datetime.timedelta(days=1)

    response = client_for(users.local).post(
        reverse("registry:chair_create", args=[org.pk]), chair_form_data(term_start=start.isoformat())
    )

    new_chair = Chair.objects.get(organization=org, last_name="Новикова")
    assert response.status_code == 302
    assert response.url == new_chair.get_absolute_url()


def test_chair_term_ending_before_it_starts_is_refused(client_for, users, union):
    response = client_for(users.local).post(
        reverse("registry:chair_create", args=[union.primary_a1b.pk]),
        chair_form_data(term_start="2024-05-01", term_end="2024-04-30"),
    )

    assert "Окончание полномочий не может быть раньше их начала." in html_of(response)
    assert not Chair.objects.filter(organization=union.primary_a1b).exists()


def test_training_in_the_future_is_refused_on_the_page(client_for, users, chairs):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client_for(users.local).post(
        reverse("registry:chair_training_add", args=[chairs.a1a.pk]),
        {"title": "Школа профактива", "completed_on": tomorrow.isoformat()},
    )

    assert "Дата окончания обучения не может быть в будущем." in html_of(response)
    assert not ChairTraining.objects.exists()


def test_training_finished_today_is_recorded(client_for, users, chairs):
    response = client_for(users.local).post(
        reverse("registry:chair_training_add", args=[chairs.a1a.pk]),
        {"title": "Школа профактива", "completed_on": timezone.localdate().isoformat(), "hours": "16"},
    )

    assert response.status_code == 302
    assert chairs.a1a.trainings.get().title == "Школа профактива"


# Query counts: the pages stay flat however many rows they show


@pytest.fixture
def crowded_local(union):
    """Forty primaries under local A1, each with a chair and a unit, so that an N+1 would show."""
    for number in range(40):
        primary = org_create(
            parent=union.local_a1, level=Organization.Level.PRIMARY, name=f"ППО школы № {100 + number}"
        )
        org_create(parent=primary, level=Organization.Level.UNIT, name=f"Профгруппа {number}")
        ChairFactory(organization=primary)
    return union.local_a1


def test_org_detail_query_ceiling(client_for, users, crowded_local, django_assert_max_num_queries):
    client = client_for(users.regional)

    # 13 with the device that passed the regional user's second sign-in step (django-otp reads it on each request).
    with django_assert_max_num_queries(13):
        html = html_of(client.get(reverse("registry:org_detail", args=[crowded_local.pk])))
    assert "ППО школы № 139" in html

    with django_assert_max_num_queries(13):
        html = html_of(client.get(reverse("registry:org_detail", args=[crowded_local.pk]), {"q": "ППО"}))
    assert "ППО школы № 139" in html


def test_chair_list_query_ceiling(client_for, users, crowded_local, django_assert_max_num_queries):
    client = client_for(users.regional)

    with django_assert_max_num_queries(7):
        html = html_of(client.get(reverse("registry:chair_list")))
    assert html.count("Председателев") == 40
