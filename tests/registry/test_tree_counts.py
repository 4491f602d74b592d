"""The organisation counts on the tree page are cached, and opening or closing an organisation refreshes them."""

from django.urls import reverse

from registry.models import Organization
from registry.services import organization_create, organization_set_active


def primaries_on_page(client, org) -> int:
    return client.get(reverse("registry:org_detail", args=[org.pk])).context["subtree_counts"].get("primary", 0)


def test_counts_follow_new_and_closed_organisations(client_for, users, union, django_capture_on_commit_callbacks):
    client = client_for(users.central)
    assert primaries_on_page(client, union.central) == 4
    assert primaries_on_page(client, union.region_a) == 3

    with django_capture_on_commit_callbacks(execute=True):
        school = organization_create(
            parent=union.local_a1, level=Organization.Level.PRIMARY, by=users.local, name="ППО лицея № 2"
        )
    assert primaries_on_page(client, union.central) == 5
    assert primaries_on_page(client, union.region_a) == 4
    assert primaries_on_page(client, union.region_b) == 1

    with django_capture_on_commit_callbacks(execute=True):
        organization_set_active(org=school, by=users.local, active=False)
    assert primaries_on_page(client, union.central) == 4


def test_university_under_its_region_has_territorial_rights(client_for, users, union):
    assert union.university_a.has_territorial_rights
    assert not union.primary_a1a.has_territorial_rights
    page = client_for(users.regional).get(reverse("registry:org_detail", args=[union.university_a.pk]))
    assert "с правами территориальной" in page.content.decode()
