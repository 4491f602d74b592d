"""The menu each role gets (accounts.context_processors.navigation) and the profile page."""

import re

import pytest
from django.urls import reverse

ORGS = reverse("registry:org_tree")
CHAIRS = reverse("registry:chair_list")
ACCESS_LOG = reverse("accounts:access_log")


def menu_links(html: str) -> set[str]:
    return set(re.findall(r'class="nav-link[^"]*" href="([^"]+)"', html))


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        ("central", {ORGS, CHAIRS, ACCESS_LOG}, set()),
        ("regional", {ORGS, CHAIRS}, {ACCESS_LOG}),
        ("local", {ORGS, CHAIRS}, {ACCESS_LOG}),
        ("chair", {ORGS}, {CHAIRS, ACCESS_LOG}),
        ("member", set(), {ORGS, CHAIRS, ACCESS_LOG}),
        ("cashier", set(), {ORGS, CHAIRS, ACCESS_LOG}),
    ],
)
def test_menu_offers_only_what_the_role_may_open(client_for, users, role, present, absent):
    links = menu_links(client_for(users.by_role(role)).get(reverse("accounts:profile")).content.decode())

    assert present <= links
    assert not absent & links


def test_profile_shows_the_users_organisation_and_role(client_for, users, union):
    html = client_for(users.local).get(reverse("accounts:profile")).content.decode()

    assert "local_a1" in html
    assert "Местная организация" in html
    assert union.local_a1.name in html
