"""The demo's consents to passing data on: every member whose data the demo passes to the card vendor or to a
partner has consented to it, and nobody else has a consent written for them (four million members must not bring
millions of rows)."""

import pytest
from django.db.models import Min

from accounts.models import User
from cards.models import Card, CardRequest
from cards.services import card_batch_form
from demo.seed import demo_seed
from discounts.models import Purchase
from discounts.services import card_by_number, card_state
from membership.models import Consent

pytestmark = pytest.mark.django_db
MEMBERS = 3000


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return demo_seed(members=MEMBERS, seed=11)


def valid_consents(purpose: str) -> dict[int, object]:
    return dict(Consent.objects.filter(purpose=purpose, withdrawn_on__isnull=True).values_list("member_id", "given_on"))


def test_every_member_with_a_plastic_card_request_consented_to_the_vendor_and_the_partners(seeded):
    first_requests = dict(
        CardRequest.objects.values("member_id").annotate(first=Min("requested_at")).values_list("member_id", "first")
    )
    assert len(first_requests) > 100
    for purpose in (Consent.Purpose.CARD_VENDOR, Consent.Purpose.PARTNERS):
        given = valid_consents(purpose)
        assert set(first_requests) <= set(given)
        assert all(given[member] <= first.date() for member, first in first_requests.items())
    assert set(valid_consents(Consent.Purpose.CARD_VENDOR)) == set(first_requests)
    # Signed forms, recorded by the chair who asked for the card, in the text in force.
    vendor = Consent.objects.filter(purpose=Consent.Purpose.CARD_VENDOR)
    assert set(vendor.values_list("method", flat=True)) == {Consent.Method.SIGNED_FORM}
    assert not vendor.filter(recorded_by=None).exists()


def test_every_buyer_consented_to_the_partners_before_the_first_purchase_and_the_till_accepts_the_card(seeded):
    first_purchases = dict(
        Purchase.objects.values("member_id").annotate(first=Min("created_at")).values_list("member_id", "first")
    )
    given = valid_consents(Consent.Purpose.PARTNERS)
    assert first_purchases and set(first_purchases) <= set(given)
    assert all(given[member] <= first.date() for member, first in first_purchases.items())
    demo_member = User.objects.get(username="member").member
    assert demo_member.pk in first_purchases
    card = Card.objects.get(member=demo_member, status=Card.Status.ACTIVE)
    assert card_state(card_by_number(card.number)) == "valid"


def test_only_the_members_whose_data_go_out_have_consents_and_the_report_counts_them(seeded):
    requesters = set(CardRequest.objects.values_list("member_id", flat=True))
    buyers = set(Purchase.objects.values_list("member_id", flat=True))
    assert set(Consent.objects.values_list("member_id", flat=True)) == requesters | buyers
    assert seeded.consents == Consent.objects.count() == 2 * len(requesters) + len(buyers - requesters)


def test_a_batch_formed_from_the_demos_approved_requests_holds_back_none_of_them(seeded):
    regional = User.objects.get(username="regional")
    waiting = CardRequest.objects.filter(
        status=CardRequest.Status.APPROVED, batch=None, organization__path__startswith=regional.organization.path
    ).count()
    assert waiting > 0
    assert card_batch_form(by=regional).card_count == waiting
