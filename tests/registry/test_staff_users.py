"""Staff accounts opened by the apparatus within its subtree, with an e-mailed invitation."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AccessLog, Role, User
from tests.factories import TEST_PASSWORD

NEW_CHAIR = {
    "role": Role.CHAIR,
    "last_name": "Кузнецова",
    "first_name": "Ирина",
    "middle_name": "Олеговна",
    "email": "kuznetsova@example.org",
    "username": "kuznetsova",
}


def signs_in(client, username, password) -> bool:
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return response.status_code == 302


def create_url(org):
    return reverse("registry:staff_user_create", args=[org.pk])


def test_regional_opens_chair_account_and_invitation_sets_password(
    client_for, users, union, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users.regional).post(create_url(union.primary_a1b), NEW_CHAIR)

    assert response.status_code == 302
    created = User.objects.get(username="kuznetsova")
    assert (created.role, created.organization) == (Role.CHAIR, union.primary_a1b)
    assert not created.has_usable_password()
    assert AccessLog.objects.filter(action=AccessLog.Action.CREATE, object_id=str(created.pk)).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kuznetsova@example.org"]
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)

    client.logout()
    set_password_page = client.get(link, follow=True)
    assert set_password_page.context["validlink"]
    client.post(
        set_password_page.redirect_chain[-1][0],
        {"new_password1": "Novyi-parol-2026!", "new_password2": "Novyi-parol-2026!"},
    )
    assert signs_in(client, "kuznetsova", "Novyi-parol-2026!")


def test_role_must_match_the_level_of_the_organisation(client_for, users, union):
    page = client_for(users.regional).get(create_url(union.local_a1))
    assert [value for value, _ in page.context["form"].fields["role"].choices] == [Role.LOCAL]

    response = client_for(users.regional).post(create_url(union.local_a1), NEW_CHAIR)
    assert response.status_code == 200
    assert not User.objects.filter(username="kuznetsova").exists()


@pytest.mark.parametrize(
    ("role", "org_name", "expected"),
    [
        ("regional", "primary_b1a", 404),  # another region
        ("local", "region_a", 404),  # the level above is outside the subtree
        ("chair", "unit_a1a", 403),  # chairs open member accounts, not staff ones
        ("member", "primary_a1a", 403),
        ("cashier", "primary_a1a", 403),
    ],
)
def test_staff_account_refused_outside_scope_or_role(client_for, users, union, role, org_name, expected):
    org = getattr(union, org_name)
    client = client_for(users.by_role(role))
    assert client.get(create_url(org)).status_code == expected
    assert client.post(create_url(org), NEW_CHAIR).status_code == expected
    assert not User.objects.filter(username="kuznetsova").exists()


def test_taken_login_is_refused_in_russian(client_for, users, union, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users.regional).post(
            create_url(union.primary_a1b), {**NEW_CHAIR, "username": "CHAIR_A1A"}
        )
    assert "Логин «CHAIR_A1A» уже занят" in response.content.decode()
    assert len(mail.outbox) == 0


def test_staff_list_shows_own_subtree_only(client_for, users):
    html = client_for(users.regional).get(reverse("registry:staff_user_list")).content.decode()
    assert "local_a1" in html and "chair_a1a" in html
    assert "chair_b1a" not in html and "regional_b" not in html
    assert "central" not in html.split("<tbody>")[1]


@pytest.mark.parametrize("role", ["chair", "member", "cashier"])
def test_staff_list_refused_to_non_apparatus(client_for, users, role):
    assert client_for(users.by_role(role)).get(reverse("registry:staff_user_list")).status_code == 403


def test_blocked_account_cannot_sign_in_and_can_be_restored(client_for, users, client):
    url = reverse("registry:staff_user_set_active", args=[users.chair.pk])
    client_for(users.local).post(url, {"active": "0"})
    assert not signs_in(client, "chair_a1a", TEST_PASSWORD)

    client_for(users.local).post(url, {"active": "1"})
    assert signs_in(client, "chair_a1a", TEST_PASSWORD)


def test_nobody_blocks_themselves_or_another_region(client_for, users):
    client = client_for(users.regional)
    assert client.post(reverse("registry:staff_user_set_active", args=[users.regional.pk])).status_code == 403
    assert client.post(reverse("registry:staff_user_set_active", args=[users.other_chair.pk])).status_code == 404
    users.other_chair.refresh_from_db()
    assert users.other_chair.is_active
