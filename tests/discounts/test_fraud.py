"""Central office's report of suspicious activity, on data built here: which cards it flags and which it leaves,
the drill-down to one card and to one partner's refusals, and (on PostgreSQL) that every query of the report is
served by an index over its time window. Who may open the pages: tests/discounts/test_partners.py (role matrix)."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from cards.models import Card
from cards.numbers import card_number_masked
from cards.services import card_block
from discounts import selectors, services
from discounts.models import CardCheck, Purchase
from discounts.services import DiscountError
from tests.discounts.conftest import partner_create

NOW = timezone.now().replace(microsecond=0)
# Purchases are laid out on one local day, well inside it, so that "the same day" never depends on when tests run.
NOON = timezone.localtime(NOW).replace(hour=12, minute=0, second=0) - datetime.timedelta(days=1)


@pytest.fixture
def fourth_partner(union):
    return partner_create(name="Музей «Школа»", regions=[union.region_a.region], cashback_bp=100)


def check_at(partner, card, at, users):
    return services.card_check(partner=partner, presented=card.number, by=users.cashier, now=at)


def buy(partner, card, amount, receipt, at, users):
    return services.purchase_record(
        partner=partner, presented=card.number, receipt_id=receipt, amount=amount, channel=Purchase.Channel.CASHIER,
        by=users.cashier, now=at,
    ).purchase  # fmt: skip


def since(days=7):
    return selectors.fraud_window_start(days=days, now=NOW)


# --- many partners within an hour -------------------------------------------------------------------------------------


def test_a_card_checked_at_three_partners_within_an_hour_is_flagged(users, programme):
    start = NOW - datetime.timedelta(hours=5)
    for minutes, partner in ((0, programme.partner_a), (20, programme.partner_union), (50, programme.partner_b)):
        check_at(partner, programme.card_a, start + datetime.timedelta(minutes=minutes), users)

    bursts = selectors.fraud_card_bursts(since=since(), min_partners=3)

    assert [(burst.card, burst.partners) for burst in bursts] == [(programme.card_a, 3)]
    assert bursts[0].started_at == start
    assert bursts[0].ended_at == start + datetime.timedelta(minutes=50)
    assert bursts[0].partner_names == sorted(["Книжный дом «Азбука»", "Санаторий «Учитель»", "Аптека «Невская»"])
    assert bursts[0].masked == card_number_masked(programme.card_a.number)


def test_a_card_checked_at_two_partners_is_not_flagged_however_often(users, programme):
    start = NOW - datetime.timedelta(hours=5)
    for minute in range(0, 50, 5):
        partner = programme.partner_a if minute % 10 else programme.partner_union
        check_at(partner, programme.card_a, start + datetime.timedelta(minutes=minute), users)

    assert selectors.fraud_card_bursts(since=since(), min_partners=3) == []
    assert [burst.partners for burst in selectors.fraud_card_bursts(since=since(), min_partners=2)] == [2]


def test_three_partners_spread_over_more_than_an_hour_are_not_flagged(users, programme):
    start = NOW - datetime.timedelta(hours=5)
    for minutes, partner in ((0, programme.partner_a), (40, programme.partner_union), (101, programme.partner_b)):
        check_at(partner, programme.card_a, start + datetime.timedelta(minutes=minutes), users)

    assert selectors.fraud_card_bursts(since=since(), min_partners=3) == []


def test_an_hour_across_a_clock_boundary_counts(users, programme, fourth_partner):
    ten_forty = timezone.localtime(NOW).replace(hour=10, minute=40, second=0) - datetime.timedelta(days=1)
    for minutes, partner in ((0, programme.partner_a), (30, programme.partner_union), (55, fourth_partner)):
        check_at(partner, programme.card_a, ten_forty + datetime.timedelta(minutes=minutes), users)

    assert [burst.partners for burst in selectors.fraud_card_bursts(since=since(), min_partners=3)] == [3]


def test_checks_before_the_window_are_not_looked_at(users, programme):
    long_ago = NOW - datetime.timedelta(days=10)
    for minutes, partner in ((0, programme.partner_a), (10, programme.partner_union), (20, programme.partner_b)):
        check_at(partner, programme.card_a, long_ago + datetime.timedelta(minutes=minutes), users)

    assert selectors.fraud_card_bursts(since=since(days=7), min_partners=3) == []
    assert len(selectors.fraud_card_bursts(since=since(days=14), min_partners=3)) == 1


def test_the_busiest_hour_is_found_by_a_sliding_window():
    t = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
    minutes = datetime.timedelta(minutes=1)
    events = [(t, 1), (t + 30 * minutes, 2), (t + 70 * minutes, 3), (t + 80 * minutes, 4), (t + 95 * minutes, 2)]

    partners, started, ended, which = selectors.busiest_hour(events)

    assert (partners, started, ended, which) == (3, t + 30 * minutes, t + 80 * minutes, {2, 3, 4})


# --- amounts just under the daily limit ---------------------------------------------------------------------------


def test_one_purchase_just_under_the_daily_limit_is_flagged(users, programme):
    # partner A: 50 000 ₽ a day per card (the model's default)
    buy(programme.partner_a, programme.card_a, 4_800_000, "A-1", NOON, users)  # 48 000 ₽: 96 %
    buy(programme.partner_union, programme.card_a, 4_000_000, "U-1", NOON, users)  # 40 000 ₽: 80 %, not flagged

    rows = selectors.fraud_near_limit(since=since())

    assert [(row.card, row.partner, row.total, row.purchases) for row in rows] == [
        (programme.card_a, programme.partner_a, 4_800_000, 1)
    ]
    assert rows[0].share_percent == 96
    assert rows[0].total_text == "48\u202f000,00"


def test_several_purchases_of_one_day_together_just_under_the_limit_are_flagged(users, programme):
    buy(programme.partner_a, programme.card_a, 3_000_000, "A-1", NOON, users)
    buy(programme.partner_a, programme.card_a, 1_850_000, "A-2", NOON + datetime.timedelta(hours=2), users)
    # the next day's purchase is another day: it does not add up with these
    buy(programme.partner_a, programme.card_a, 100_000, "A-3", NOON + datetime.timedelta(days=1), users)

    rows = selectors.fraud_near_limit(since=since())

    assert [(row.total, row.purchases, row.day) for row in rows] == [(4_850_000, 2, timezone.localdate(NOON))]


def test_a_returned_purchase_does_not_count(users, programme):
    purchase = buy(programme.partner_a, programme.card_a, 4_900_000, "A-1", NOW - datetime.timedelta(hours=1), users)
    services.purchase_reverse(purchase=purchase, by=users.cashier)

    assert selectors.fraud_near_limit(since=since()) == []


def test_the_share_under_the_limit_is_a_parameter(users, programme):
    buy(programme.partner_a, programme.card_a, 4_600_000, "A-1", NOON, users)  # 92 %

    assert selectors.fraud_near_limit(since=since(), near_limit_bp=500) == []
    assert len(selectors.fraud_near_limit(since=since(), near_limit_bp=1000)) == 1


# --- refusals by partner --------------------------------------------------------------------------------------------


def test_refusals_are_counted_per_partner_by_kind(users, programme):
    buy(programme.partner_a, programme.card_a, 1_000, "A-1", NOW, users)
    with pytest.raises(DiscountError):
        buy(programme.partner_a, programme.card_a, 1_000, "A-1", NOW, users)  # the same receipt again
    with pytest.raises(DiscountError):
        buy(programme.partner_a, programme.card_a, 5_000_000, "A-2", NOW, users)  # over the daily amount
    card_block(card=programme.card_b, by=users.other_chair, reason=Card.BlockReason.LOST)
    check_at(programme.partner_b, programme.card_b, NOW, users)  # "not valid" answered, not a refusal

    rows = {row.partner: row for row in selectors.fraud_refusals_by_partner(since=since())}

    assert (rows[programme.partner_a].duplicates, rows[programme.partner_a].limits) == (1, 1)
    assert rows[programme.partner_a].refusals == 2
    assert rows[programme.partner_b].checks_blocked == 1
    assert rows[programme.partner_b].refusals == 0
    assert programme.partner_union not in rows


# --- the pages ------------------------------------------------------------------------------------------------------


@pytest.fixture
def suspicious(users, programme):
    start = timezone.now() - datetime.timedelta(hours=2)
    for minutes, partner in ((0, programme.partner_a), (15, programme.partner_union), (30, programme.partner_b)):
        check_at(partner, programme.card_a, start + datetime.timedelta(minutes=minutes), users)
    buy(programme.partner_a, programme.card_a, 4_900_000, "A-77", start + datetime.timedelta(minutes=5), users)
    with pytest.raises(DiscountError):
        buy(programme.partner_a, programme.card_a, 500, "A-77", start + datetime.timedelta(minutes=6), users)


def test_the_report_shows_the_card_masked_with_its_holders_organisation(
    client_for, users, programme, suspicious, django_assert_max_num_queries
):
    client = client_for(users.central)

    with django_assert_max_num_queries(16):
        response = client.get(reverse("discounts:fraud_report"))

    html = response.content.decode()
    assert card_number_masked(programme.card_a.number) in html
    assert programme.card_a.number not in html
    assert programme.card_a.organization.display_name in html
    assert reverse("discounts:fraud_card", args=[programme.card_a.pk]) in html
    assert reverse("discounts:fraud_partner", args=[programme.partner_a.pk]) in html


def test_the_card_drill_down_shows_its_events_at_every_partner(client_for, users, programme, suspicious):
    response = client_for(users.central).get(reverse("discounts:fraud_card", args=[programme.card_a.pk]))

    html = response.content.decode()
    events = response.context["events"]
    assert {event.partner for event in events} == {programme.partner_a, programme.partner_union, programme.partner_b}
    assert sum(1 for event in events if event.purchase) == 1
    assert card_number_masked(programme.card_a.number) in html
    assert programme.card_a.number not in html
    assert programme.holder_a.get_absolute_url() in html  # central office may open the member
    assert AccessLog.objects.filter(
        action=AccessLog.Action.VIEW, object_type="cards.card", object_id=str(programme.card_a.pk)
    ).exists()


def test_the_partner_drill_down_lists_its_refusals(client_for, users, programme, suspicious):
    response = client_for(users.central).get(reverse("discounts:fraud_partner", args=[programme.partner_a.pk]))

    assert [entry.refusal_label for entry in response.context["refusals"]] == ["повторный чек"]
    assert "A-77" in response.content.decode()


def test_the_report_parameters_come_from_the_form(client_for, users, programme, suspicious):
    client = client_for(users.central)

    strict = client.get(reverse("discounts:fraud_report"), {"partners": "4", "days": "1"})
    wrong = client.get(reverse("discounts:fraud_report"), {"partners": "1", "days": "100"})

    assert strict.context["bursts"] == []
    assert strict.context["values"]["days"] == 1
    assert wrong.context["values"] == {"days": 7, "partners": 3, "near_limit_percent": 5, "near_limit_bp": 500}
    assert len(wrong.context["bursts"]) == 1


# --- PostgreSQL: every query of the report is served by an index over its window ------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's; this run is on SQLite")
def test_the_report_reads_through_indexes_not_whole_tables(users, programme, suspicious):
    """With sequential scans switched off, a query that still plans one has no index to use."""
    window = since()
    querysets = {
        "checks": CardCheck.objects.filter(checked_at__gte=window, card__isnull=False).values("card_id"),
        "purchases": Purchase.objects.filter(created_at__gte=window, partner__daily_amount_per_card__gt=0),
        "refusals": selectors._refusals_logged(window),
        "card checks": CardCheck.objects.filter(card=programme.card_a, checked_at__gte=window),
        "card purchases": Purchase.objects.filter(card=programme.card_a, created_at__gte=window),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for name, queryset in querysets.items():
        plan = queryset.explain()
        for table in ("discounts_cardcheck", "discounts_purchase", "accounts_accesslog"):
            assert f"Seq Scan on {table}" not in plan, (name, plan)
