"""Plastic-card requests: the chair asks, the region approves (a number is given) or refuses, the chair hands out."""

import pytest
from django.urls import reverse

from cards.models import Card, CardRequest
from cards.services import card_request_create
from tests.factories import MemberFactory


@pytest.fixture
def members(union):
    return [
        MemberFactory(
            organization=union.primary_a1a,
            last_name=f"Заявкина{number}",
            search_name=f"заявкина{number} мария",
            card_consents=True,
        )
        for number in range(3)
    ]


def action(client, card_request, name, **data):
    return client.post(reverse("cards:card_request_action", args=[card_request.pk, name]), data)


def test_chair_requests_once_per_member(client_for, users, members):
    client = client_for(users.chair)
    client.post(reverse("cards:card_request_create", args=[members[0].pk]))
    second = client.post(reverse("cards:card_request_create", args=[members[0].pk]), follow=True)
    assert "уже подана" in second.content.decode()
    assert CardRequest.objects.filter(member=members[0], status="requested").count() == 1


def test_requests_for_everybody_without_a_card_skip_open_ones_and_repeat_safely(client_for, users, members):
    card_request_create(member=members[0], by=users.chair)
    client = client_for(users.chair)
    client.post(reverse("cards:card_requests_for_all"))
    assert CardRequest.objects.filter(status="requested").count() == 3
    client.post(reverse("cards:card_requests_for_all"))
    assert CardRequest.objects.count() == 3


def test_region_approves_and_the_member_gets_a_number(client_for, users, members):
    card_request = card_request_create(member=members[0], by=users.chair)
    action(client_for(users.regional), card_request, "approve")
    card_request.refresh_from_db()
    assert card_request.status == "approved" and card_request.card.number.startswith("77")
    assert Card.objects.get(member=members[0], status="active") == card_request.card


@pytest.mark.parametrize(
    ("role", "expected"), [("chair", 403), ("local", 403), ("other_regional", 404), ("member", 403)]
)
def test_only_the_region_or_central_office_decides(client_for, users, members, role, expected):
    card_request = card_request_create(member=members[0], by=users.chair)
    assert action(client_for(users.by_role(role)), card_request, "approve").status_code == expected
    card_request.refresh_from_db()
    assert card_request.status == "requested"


def test_a_refusal_needs_a_reason_that_the_chair_sees(client_for, users, members):
    card_request = card_request_create(member=members[0], by=users.chair)
    regional = client_for(users.regional)
    refused = regional.post(
        reverse("cards:card_request_action", args=[card_request.pk, "reject"]), {"reason": " "}, follow=True
    )
    assert "Укажите причину отказа: её увидит председатель." in refused.content.decode()
    action(regional, card_request, "reject", reason="Нет согласия на передачу данных изготовителю")
    card_request.refresh_from_db()
    assert card_request.status == "rejected"
    page = client_for(users.chair).get(reverse("cards:card_requests"), {"status": "rejected"}).content.decode()
    assert "Нет согласия на передачу данных изготовителю" in page


def test_chair_cancels_only_undecided_requests_and_hands_out_delivered_cards(client_for, users, members):
    chair = client_for(users.chair)
    first, second = (card_request_create(member=member, by=users.chair) for member in members[:2])
    action(chair, first, "cancel")
    first.refresh_from_db()
    assert first.status == "cancelled"

    action(client_for(users.regional), second, "approve")
    action(chair, second, "cancel")
    second.refresh_from_db()
    assert second.status == "approved"  # decided: no longer the chair's to cancel
    action(chair, second, "issued")
    second.refresh_from_db()
    assert second.status == "approved"  # not delivered yet

    CardRequest.objects.filter(pk=second.pk).update(status="delivered")
    action(chair, second, "issued")
    second.refresh_from_db()
    assert second.status == "issued" and second.issued_at is not None


def test_request_lists_stay_inside_the_subtree(client_for, users, union, members):
    card_request_create(member=members[0], by=users.chair)
    other = MemberFactory(
        organization=union.primary_b1a, last_name="Чужаковa", search_name="чужакова", card_consents=True
    )
    card_request_create(member=other, by=users.other_chair)
    regional_page = client_for(users.regional).get(reverse("cards:card_requests")).content.decode()
    assert "Заявкина0" in regional_page and "Чужаков" not in regional_page
    assert "Заявкина0" not in client_for(users.other_chair).get(reverse("cards:card_requests")).content.decode()
    assert client_for(users.cashier).get(reverse("cards:card_requests")).status_code == 403
