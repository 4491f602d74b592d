"""Card numbers, issuing, blocking, reissuing, the virtual card and the public verification page."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from cards.models import Card, CardSerialCounter
from cards.numbers import card_number_compose, card_number_grouped, card_number_is_valid, luhn_check_digit
from cards.services import CardError, card_issue, card_number_allocate, card_reissue, card_verification_token
from membership.models import Member
from tests.factories import MemberFactory


@pytest.mark.parametrize(("body", "digit"), [("7992739871", "3"), ("453957876362148", "6"), ("000000000000000", "0")])
def test_luhn_check_digit_matches_known_numbers(body, digit):
    assert luhn_check_digit(body) == digit


def test_card_number_is_region_serial_and_check_digit():
    number = card_number_compose(region_code="77", serial=42)
    assert len(number) == 16 and number.startswith("770000000000042") and card_number_is_valid(number)
    assert card_number_grouped(number) == f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    for position in range(16):  # any single mistyped digit is caught
        wrong = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
        assert not card_number_is_valid(wrong)


def test_numbers_follow_each_other_per_region_and_a_rollback_leaves_no_gap(union):
    moscow, petersburg = union.region_a.region, union.region_b.region
    first, second = card_number_allocate(region=moscow), card_number_allocate(region=moscow)
    assert (first[2:15], second[2:15]) == ("0000000000001", "0000000000002")
    assert card_number_allocate(region=petersburg).startswith("780000000000001")
    with pytest.raises(RuntimeError), transaction.atomic():
        card_number_allocate(region=moscow)
        raise RuntimeError("the request failed after taking a number")
    assert card_number_allocate(region=moscow)[2:15] == "0000000000003"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_allocation_gives_every_number_once_without_gaps(union):
    region = union.region_a.region
    numbers, errors = [], []

    def take(count):
        try:
            for _ in range(count):
                numbers.append(card_number_allocate(region=region))
        except Exception as error:  # a failure in a thread must fail the test, not vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(numbers)) == 200
    assert sorted(int(number[2:15]) for number in numbers) == list(range(1, 201))
    assert CardSerialCounter.objects.get(region=region).last_serial == 200


@pytest.fixture
def member(union):
    return MemberFactory(
        organization=union.primary_a1a,
        first_name="Мария",
        last_name="Черкасова",
        search_name="черкасова мария",
        card_consents=True,
    )


def test_chair_issues_one_card_and_a_second_is_refused(users, member):
    card = card_issue(member=member, by=users.chair)
    assert card.number.startswith("77") and card.is_active
    with pytest.raises(CardError, match="уже есть действующий билет"):
        card_issue(member=member, by=users.chair)


def test_no_card_for_a_member_who_left(users, member):
    Member.objects.filter(pk=member.pk).update(status="left", left_on="2025-01-01", leaving_reason="voluntary")
    member.refresh_from_db()
    with pytest.raises(CardError, match="только действующему члену"):
        card_issue(member=member, by=users.chair)


def test_reissue_blocks_the_old_number_for_good_and_gives_a_new_one(client_for, users, member):
    old = card_issue(member=member, by=users.chair)
    client_for(users.chair).post(reverse("cards:card_action", args=[member.pk, "reissue"]))
    old.refresh_from_db()
    new = Card.objects.get(member=member, status="active")
    assert (old.status, old.block_reason) == ("blocked", "reissued")
    assert new.number != old.number and new.replaces == old


@pytest.mark.parametrize(
    ("role", "expected"), [("chair", 200), ("local", 200), ("regional", 200), ("central", 200), ("other_chair", 404),
                           ("other_regional", 404), ("member", 403), ("cashier", 403)],
)  # fmt: skip
def test_card_page_role_matrix(client_for, users, member, role, expected):
    assert client_for(users.by_role(role)).get(reverse("cards:member_card", args=[member.pk])).status_code == expected


def test_another_regions_staff_cannot_issue_or_block(client_for, users, member):
    client = client_for(users.other_regional)
    assert client.post(reverse("cards:card_action", args=[member.pk, "issue"])).status_code == 404
    assert not Card.objects.exists()


def test_virtual_card_shows_the_grouped_number_barcode_and_a_qr_of_the_signed_address(client_for, users, member):
    card = card_issue(member=member, by=users.chair)
    html = client_for(users.chair).get(reverse("cards:member_card", args=[member.pk])).content.decode()
    assert card.grouped_number in html and html.count("<svg") >= 2
    assert card.number not in re.sub(r"\s", "", html.split('data-testid="card-number"')[0])  # only the grouped form


def test_public_verification_says_valid_blocked_or_unknown_and_nothing_more(client, users, member):
    card = card_issue(member=member, by=users.chair)
    url = reverse("cards:verify", args=[card_verification_token(card)])
    assert card.number not in url

    page = client.get(url).content.decode()
    assert "Билет действителен" in page and "Мария Ч." in page
    assert "Черкасова" not in page and card.number not in page and card.grouped_number not in page
    assert "1985" not in page and "ППО" not in page

    card_reissue(card=card, by=users.chair)
    assert "Билет недействителен" in client.get(url).content.decode()

    tampered = client.get(reverse("cards:verify", args=[card_verification_token(card)[:-2] + "xx"]))
    assert tampered.status_code == 404 and "Билет не найден" in tampered.content.decode()


def test_member_sees_own_card(client, users, member):
    member.user = users.member
    member.save()
    card = card_issue(member=member, by=users.chair)
    client.force_login(users.member)
    assert card.grouped_number in client.get(reverse("cards:my_card")).content.decode()


def _raster(svg: str, *, scale: int = 4):
    """Draw the barcode SVG's own rectangles into a picture, as a screen or a printer would."""
    from PIL import Image, ImageDraw

    width, height = (int(value) for value in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, bar_width in re.findall(r'<rect x="(\d+)" y="0" width="(\d+)"', svg):
        draw.rectangle([int(x) * scale, 0, (int(x) + int(bar_width)) * scale - 1, height * scale], fill=0)
    return image


def test_barcode_on_the_virtual_card_decodes_to_the_card_number():
    import zxingcpp

    from cards.documents import barcode_svg

    number = card_number_compose(region_code="50", serial=1234567)
    results = zxingcpp.read_barcodes(_raster(barcode_svg(number)))
    assert [(result.text, result.format.name) for result in results] == [(number, "Code128")]


def test_leaving_the_union_blocks_the_card(client_for, users, member):
    card = card_issue(member=member, by=users.chair)
    client_for(users.chair).post(
        reverse("membership:member_leave", args=[member.pk]), {"left_on": "2025-12-31", "reason": "voluntary"}
    )
    card.refresh_from_db()
    assert (card.status, card.block_reason) == ("blocked", "left")


def test_withdrawing_consent_blocks_the_card(users, member):
    import datetime

    from membership.services import consent_record, consent_withdraw

    card = card_issue(member=member, by=users.chair)
    consent = consent_record(
        by=users.chair, member=member, purpose="processing", given_on=datetime.date(2025, 10, 1), method="signed_form"
    )
    consent_withdraw(by=users.chair, consent=consent, withdrawn_on=datetime.date(2026, 1, 10))
    card.refresh_from_db()
    assert (card.status, card.block_reason) == ("blocked", "consent_withdrawn")


def test_member_list_filters_by_valid_card(client_for, users, union, member):
    without = MemberFactory(
        organization=union.primary_a1a, last_name="Бескартная", search_name="бескартная мария", card_consents=True
    )
    card_issue(member=member, by=users.chair)
    client = client_for(users.chair)
    with_card = client.get(reverse("membership:member_list"), {"card": "valid"}).content.decode()
    no_card = client.get(reverse("membership:member_list"), {"card": "none"}).content.decode()
    assert "Черкасова" in with_card and without.last_name not in with_card
    assert without.last_name in no_card and "Черкасова" not in no_card
