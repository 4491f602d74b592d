"""A member's own cabinet: opened by the chair with a one-time code, contacts corrected, own data downloaded."""

import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from membership.models import MemberEvent
from tests.factories import MemberFactory

NEW_PASSWORD = "Moi-parol-2026!"


@pytest.fixture
def member(union):
    return MemberFactory(
        organization=union.primary_a1a, last_name="Зайцева", first_name="Нина", email="zaitseva@example.org",
        search_name="зайцева нина ивановна",
    )  # fmt: skip


def open_cabinet(client, member, capture):
    with capture(execute=True):
        slip = client.post(reverse("membership:member_account_invite", args=[member.pk]))
    html = slip.content.decode()
    code = re.search(r'data-testid="code">(\d{8})<', html).group(1)
    member.refresh_from_db()
    return member.user.username, code


def activate(client, username, code, birth_date="1985-05-17", password=NEW_PASSWORD):
    return client.post(
        reverse("membership:account_activate"),
        {"username": username, "code": code, "birth_date": birth_date, "password1": password, "password2": password},
    )


def test_chair_opens_the_cabinet_and_the_member_sets_a_password_with_the_code(
    client_for, users, member, client, django_capture_on_commit_callbacks
):
    username, code = open_cabinet(client_for(users.chair), member, django_capture_on_commit_callbacks)
    assert member.user.role == Role.MEMBER and not member.user.has_usable_password()
    assert mail.outbox[0].to == ["zaitseva@example.org"] and code in mail.outbox[0].body
    assert member.events.filter(kind=MemberEvent.Kind.ACCOUNT_INVITED).exists()

    client.logout()
    response = activate(client, username, code)
    assert response.status_code == 302 and response.url == reverse("membership:my_cabinet")
    cabinet = client.get(reverse("membership:my_cabinet")).content.decode()
    assert "Зайцева Нина" in cabinet

    client.logout()
    assert activate(client, username, code).status_code == 200  # a code works once
    assert client.post(reverse("accounts:login"), {"username": username, "password": NEW_PASSWORD}).status_code == 302


def test_wrong_birth_date_and_guessing_are_refused(
    client_for, users, member, client, django_capture_on_commit_callbacks
):
    username, code = open_cabinet(client_for(users.chair), member, django_capture_on_commit_callbacks)
    client.logout()
    refused = activate(client, username, code, birth_date="1990-01-01")
    assert "Логин, код или дата рождения не подходят" in refused.content.decode()
    for _attempt in range(5):
        activate(client, username, "00000000")
    assert activate(client, username, code).status_code == 200  # locked after five wrong guesses
    member.user.refresh_from_db()
    assert not member.user.has_usable_password()


def test_a_new_code_cancels_the_old_one(client_for, users, member, client, django_capture_on_commit_callbacks):
    chair = client_for(users.chair)
    username, old_code = open_cabinet(chair, member, django_capture_on_commit_callbacks)
    _, new_code = open_cabinet(chair, member, django_capture_on_commit_callbacks)
    client.logout()
    assert activate(client, username, old_code).status_code == 200
    assert activate(client, username, new_code).status_code == 302


@pytest.fixture
def member_client(client, member, users):
    member.user = users.member
    member.save()
    client.force_login(users.member)
    return client


def test_member_corrects_contacts_and_the_chair_sees_it_in_history(member_client, member):
    response = member_client.post(
        reverse("membership:my_contacts"), {"phone": "+7 902 555-44-33", "email": "nina@example.org"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == "+7 902 555-44-33"
    event = member.events.get(kind=MemberEvent.Kind.SELF_SERVICE)
    assert event.changes["email"] == ["zaitseva@example.org", "nina@example.org"]


def test_member_cannot_change_anything_but_contacts(member_client, member):
    member_client.post(
        reverse("membership:my_contacts"), {"phone": "1", "email": "", "last_name": "Хакер", "status": "left"}
    )
    member.refresh_from_db()
    assert member.last_name == "Зайцева" and member.status == "active"


def test_member_downloads_own_data_and_sees_nobody_elses(member_client, member, union):
    data = json.loads(member_client.get(reverse("membership:my_data", args=["json"])).content)
    assert data["member"]["ФИО"].startswith("Зайцева Нина")
    someone = MemberFactory(organization=union.primary_a1a)
    assert member_client.get(reverse("membership:member_detail", args=[someone.pk])).status_code == 403
    assert member_client.get(reverse("membership:member_list")).status_code == 403


def test_home_takes_a_member_to_the_cabinet(member_client):
    assert member_client.get(reverse("home")).url == reverse("membership:my_cabinet")


@pytest.mark.parametrize("role", ["chair", "regional", "cashier"])
def test_cabinet_is_for_members_only(client_for, users, role):
    assert client_for(users.by_role(role)).get(reverse("membership:my_cabinet")).status_code == 403
