"""The demo's union cards: real numbers from the regions' counters, dates that make sense, requests at every stage."""

import datetime
import zoneinfo
from collections import Counter

import pytest
from django.db.models import Count, F, Max, Q

from accounts.models import User
from cards.models import Card, CardRequest, CardSerialCounter
from cards.numbers import card_number_compose, card_number_is_valid
from cards.services import card_issue
from demo.cards import CARDS_SINCE
from demo.seed import DEMO_REFERENCE_DATE, demo_seed
from membership.models import Member
from tests.demo.union import cards_digest, union_wipe

MEMBERS = 1500
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
REFERENCE_MOMENT = datetime.datetime.combine(DEMO_REFERENCE_DATE, datetime.time(), tzinfo=MOSCOW)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    return demo_seed(members=MEMBERS, seed=11)


def serial_of(number: str) -> int:
    return int(number[2:-1])


def test_about_sixty_percent_of_active_members_hold_a_valid_card(seeded):
    active = Member.objects.filter(status=Member.Status.ACTIVE)
    holders = active.filter(cards__status=Card.Status.ACTIVE).distinct().count()

    assert 0.5 <= holders / active.count() <= 0.7
    assert seeded.cards == Card.objects.count() > holders
    assert seeded.card_requests == CardRequest.objects.count() > 0
    # The regions differ, so that coverage by region shows something on the dashboards.
    coverage = [
        row["valid"] / row["members"]
        for row in active.values("organization__region")
        .annotate(members=Count("id"), valid=Count("cards", filter=Q(cards__status=Card.Status.ACTIVE)))
        .filter(members__gte=20)
    ]
    assert max(coverage) - min(coverage) > 0.15


def test_numbers_are_real_card_numbers_of_the_members_region(seeded):
    cards = Card.objects.values_list("number", "member__organization__region__code")
    assert cards
    for number, region_code in cards:
        assert card_number_is_valid(number), number
        assert number == card_number_compose(region_code=region_code, serial=serial_of(number))


def test_no_member_holds_two_valid_cards_and_a_replaced_card_was_blocked_first(seeded):
    per_member = Counter(Card.objects.filter(status=Card.Status.ACTIVE).values_list("member_id", flat=True))
    assert max(per_member.values()) == 1
    reissued = Card.objects.exclude(replaces=None).select_related("replaces")
    assert reissued.exists()
    for card in reissued:
        old = card.replaces
        assert old.member_id == card.member_id
        assert old.status == Card.Status.BLOCKED and old.block_reason in {"lost", "damaged"}
        assert old.blocked_at < card.issued_at and serial_of(old.number) < serial_of(card.number)
    assert Card.objects.filter(status=Card.Status.BLOCKED, block_reason="lost", replaced_by=None).exists()


def test_cards_are_held_in_the_members_organisation_and_record_the_plastic_handed_out(seeded):
    assert not Card.objects.exclude(organization=F("member__organization")).exists()
    handed_out = dict(CardRequest.objects.filter(status=CardRequest.Status.ISSUED).values_list("card_id", "issued_at"))
    assert handed_out
    assert dict(Card.objects.exclude(plastic_issued_at=None).values_list("id", "plastic_issued_at")) == handed_out


def test_counters_stand_at_each_regions_last_serial_and_the_registry_goes_on_from_there(seeded):
    last_serials: dict[str, int] = {}
    for number, code in Card.objects.values_list("number", "member__organization__region__code"):
        last_serials[code] = max(last_serials.get(code, 0), serial_of(number))
    counters = dict(CardSerialCounter.objects.values_list("region__code", "last_serial"))
    assert counters == last_serials
    # Serials have no gaps: each region's cards are numbered 1..last.
    for code, last in last_serials.items():
        assert Card.objects.filter(number__startswith=code).count() == last
    member = Member.objects.filter(status=Member.Status.ACTIVE, cards=None).select_related("organization__region")[0]
    code = member.organization.region.code

    card = card_issue(member=member, by=User.objects.get(username="central"))

    assert card.number == card_number_compose(region_code=code, serial=last_serials.get(code, 0) + 1)


def test_members_who_left_have_no_valid_card_and_their_card_was_blocked_on_leaving(seeded):
    left = Member.objects.filter(status=Member.Status.LEFT)
    assert not Card.objects.filter(member__in=left, status=Card.Status.ACTIVE).exists()
    cards = Card.objects.filter(member__in=left).select_related("member")
    assert cards.exists()
    for card in cards:
        assert card.block_reason == Card.BlockReason.LEFT
        assert card.blocked_at.astimezone(MOSCOW).date() == card.member.left_on
        assert card.issued_at < card.blocked_at


def test_cards_are_issued_after_joining_from_2019_on_more_every_year(seeded):
    by_year = Counter()
    for card in Card.objects.select_related("member"):
        issued = card.issued_at.astimezone(MOSCOW)
        assert issued.date() >= max(card.member.union_joined_on, CARDS_SINCE)
        assert issued < REFERENCE_MOMENT
        if card.blocked_at:
            assert card.issued_at < card.blocked_at < REFERENCE_MOMENT
        by_year[issued.year] += 1
    assert sorted(by_year) == list(range(2019, 2026))
    assert by_year[2019] < by_year[2022] < by_year[2025]


def test_plastic_card_requests_are_at_every_stage_and_their_dates_follow_each_other(seeded):
    statuses = Counter(CardRequest.objects.values_list("status", flat=True))
    assert statuses.most_common(1)[0][0] == CardRequest.Status.ISSUED
    assert {"requested", "approved", "produced", "delivered", "rejected"} <= set(statuses)
    for request in CardRequest.objects.select_related("card", "member", "requested_by", "decided_by"):
        assert request.requested_by.organization is not None
        valid_card = request.member.cards.get(status=Card.Status.ACTIVE)
        assert valid_card.issued_at <= request.requested_at < REFERENCE_MOMENT
        if request.status == CardRequest.Status.REQUESTED:
            assert request.card is None and request.decided_at is None
            continue
        assert request.requested_at < request.decided_at < REFERENCE_MOMENT
        assert request.decided_by.role in {"regional", "central"}
        if request.status == CardRequest.Status.REJECTED:
            assert request.card is None and request.reject_reason
            continue
        assert request.card == valid_card and not request.reject_reason
        if request.status == CardRequest.Status.ISSUED:
            assert request.decided_at < request.issued_at < REFERENCE_MOMENT
        else:
            assert request.issued_at is None


def test_the_demo_member_user_has_a_valid_card_and_the_chair_sees_requests(seeded):
    member = Member.objects.get(user__username="member")
    assert member.cards.filter(status=Card.Status.ACTIVE).exists()
    chair = User.objects.get(username="chair")
    assert CardRequest.objects.filter(requested_by=chair, member__organization=chair.organization).exists()


def test_same_seed_gives_the_same_cards_and_another_seed_other_cards(db):
    demo_seed(members=600, seed=5)
    first = cards_digest()
    union_wipe()
    demo_seed(members=600, seed=5)
    assert cards_digest() == first
    union_wipe()
    demo_seed(members=600, seed=6)
    assert cards_digest() != first


def test_a_card_issued_after_seeding_gets_a_fresh_id(seeded):
    last_card = Card.objects.aggregate(last=Max("id"))["last"]
    member = Member.objects.filter(status=Member.Status.ACTIVE, cards=None)[0]

    card = card_issue(member=member, by=User.objects.get(username="central"))

    assert card.pk > last_card
