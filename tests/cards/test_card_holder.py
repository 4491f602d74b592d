"""A card knows where its holder is registered, follows the holder's transfers and remembers its plastic's hand-over."""

import pytest

from cards.models import Card, CardRequest
from cards.services import card_issue, card_request_approve, card_request_create, card_request_mark_issued
from membership.services import member_transfer_accept, member_transfer_request
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_a_card_is_held_in_the_members_organisation_and_follows_a_transfer(users, union):
    member = MemberFactory(organization=union.primary_a1a, card_consents=True)
    card = card_issue(member=member, by=users.chair)
    assert card.organization == union.primary_a1a

    transfer = member_transfer_request(by=users.chair, member=member, to_organization=union.primary_b1a)
    member_transfer_accept(by=users.other_chair, transfer=transfer)

    card.refresh_from_db()
    assert card.organization == union.primary_b1a


def test_handing_out_the_plastic_card_is_kept_on_the_card(users, union):
    member = MemberFactory(organization=union.primary_a1a, card_consents=True)
    request = card_request_approve(request=card_request_create(member=member, by=users.chair), by=users.regional)
    assert request.card.organization == union.primary_a1a
    CardRequest.objects.filter(pk=request.pk).update(status=CardRequest.Status.DELIVERED)

    issued = card_request_mark_issued(request=request, by=users.chair)

    assert Card.objects.get(pk=request.card_id).plastic_issued_at == issued.issued_at
