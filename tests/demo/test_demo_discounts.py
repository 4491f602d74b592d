"""The demo's discount programme: partners across the union, cashiers who can sign in and check a card, purchases
whose ledger adds up, a paid payout register, and a demo member with cashback in every state."""

import datetime
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cards.models import Card
from demo import seed as demo_seed_module
from demo.discounts import BUYERS_MAX, CASHIER_USERNAMES, PARTNERS, PURCHASES_PER_BUYER, discounts_seed
from demo.seed import DEMO_PASSWORD, DEMO_STEPS, demo_logins, demo_seed
from discounts.models import CashbackAccount, CashbackEntry, Cashier, Partner, PayoutBatch, PayoutLine, Purchase
from discounts.services import card_check, payout_month_previous
from membership.models import Member
from tests.discounts.test_cashback import assert_ledger_consistent

pytestmark = pytest.mark.django_db
MEMBERS = 3000


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return demo_seed(members=MEMBERS, seed=11)


def test_every_balance_is_the_sum_of_its_ledger_after_seeding(seeded):
    assert seeded.purchases == Purchase.objects.count() > 100
    assert_ledger_consistent()
    # Purchases in every state, as the programme's own services would have left them.
    states = {
        "pending": Purchase.objects.filter(status="accepted", confirmed_at__isnull=True).count(),
        "confirmed": Purchase.objects.filter(confirmed_at__isnull=False).count(),
        "reversed": Purchase.objects.filter(status="reversed").count(),
    }
    assert all(states.values()), states
    assert not Purchase.objects.filter(status="reversed", reversed_at__gt=datetime.datetime.now(datetime.UTC)).exists()
    for purchase in Purchase.objects.select_related("partner", "card")[:300]:
        assert purchase.card.member_id == purchase.member_id
        assert purchase.hold_until == purchase.created_at + datetime.timedelta(days=purchase.partner.hold_days)
        assert (
            purchase.partner.is_union_wide
            or purchase.partner.regions.filter(pk=purchase.card.organization.region_id).exists()
        )


def test_partners_span_the_union_and_a_few_regions(seeded):
    assert seeded.partners == Partner.objects.count() == len(PARTNERS) >= 30
    union_wide = Partner.objects.filter(is_union_wide=True)
    assert union_wide.count() >= 8 and not union_wide.exclude(managed_by=None).exists()
    regional = Partner.objects.filter(is_union_wide=False).exclude(managed_by=None)
    assert set(regional.values_list("regions__code", flat=True)) >= {"77", "78", "16", "66", "54", "23"}
    for partner in regional.prefetch_related("regions"):
        assert [region.pk for region in partner.regions.all()] == [partner.managed_by.region_id]
    assert Partner.objects.exclude(promo_code="").count() >= 4
    assert set(Partner.objects.values_list("category", flat=True)) == set(Partner.Category.values)
    assert Partner.objects.filter(active_until__lt=datetime.date.today()).count() == 1


@pytest.mark.parametrize("username", CASHIER_USERNAMES)
def test_a_demo_cashier_signs_in_at_the_till_of_a_partner(seeded, client, username):
    response = client.post(reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    user = User.objects.get(username=username)
    assert user.role == Role.CASHIER
    assert Cashier.objects.get(user=user).partner.is_active
    assert client.get(reverse("home")).url == reverse("discounts:cashier")


def test_the_moscow_cashier_finds_the_demo_members_card_valid(seeded):
    cashier = Cashier.objects.select_related("partner").get(user__username="cashier")
    card = Card.objects.get(member__user__username="member", status=Card.Status.ACTIVE)

    outcome = card_check(partner=cashier.partner, presented=card.number, by=cashier.user)

    assert outcome.state == "valid"
    assert outcome.holder == f"{card.member.first_name} {card.member.last_name[0]}."


def test_demo_logins_name_each_cashiers_partner(seeded):
    where = {login: place for _role, login, place in demo_logins()}

    for username in CASHIER_USERNAMES:
        partner = Cashier.objects.get(user__username=username).partner
        assert where[username] == partner.name


def test_the_demo_member_has_cashback_paid_confirmed_and_pending(seeded):
    account = CashbackAccount.objects.get(member__user__username="member")

    assert account.pending > 0 and account.confirmed > 0 and account.paid > 0
    assert account.payout_phone
    assert Purchase.objects.filter(member=account.member, status="reversed").exists()


def test_the_month_before_last_was_paid_by_the_bank(seeded):
    batch = PayoutBatch.objects.get()
    assert batch.month == payout_month_previous(today=payout_month_previous())
    assert batch.status == PayoutBatch.Status.PAID
    lines = batch.lines.all()
    assert batch.line_count == lines.count() > 0
    assert batch.total == lines.aggregate(total=Sum("amount"))["total"]
    assert not lines.filter(amount__lt=10_000).exists()
    assert lines.filter(status=PayoutLine.Status.RETURNED).count() <= 1
    assert not lines.filter(status=PayoutLine.Status.INCLUDED).exists()
    assert default_storage.exists(batch.register_file.name)
    with default_storage.open(batch.register_file.name) as handle:
        assert handle.read().decode("utf-8").count("\r\n") == batch.line_count + 1
    # Every payout entry hangs on a line of the register, and the register's lines on accounts with a phone.
    assert CashbackEntry.objects.filter(kind="payout", payout__isnull=True).count() == 0
    assert not lines.filter(account__payout_phone="").exists()
    # Last month's register is left for central office to form.
    assert not PayoutBatch.objects.filter(month=payout_month_previous()).exists()


def test_the_step_costs_a_few_dozen_queries_whatever_the_size_of_the_union(settings, tmp_path, monkeypatch):
    """At four million members the step stays a few thousand purchases: buyers are drawn by card id in a few
    indexed lookups, and the rows go in bulk (COPY on PostgreSQL), never member by member."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(demo_seed_module, "DEMO_STEPS", tuple(step for step in DEMO_STEPS if step[0] != "discounts"))
    report = demo_seed(members=MEMBERS, seed=12)
    report.members = 4_000_000  # as many buyers as the four-million demo draws

    with CaptureQueriesContext(connection) as queries:
        discounts_seed(plan=SimpleNamespace(seed=12), report=report, now=timezone.now(), say=lambda message: None)

    statements = [query["sql"] for query in queries.captured_queries]
    inserts = [sql for sql in statements if sql.startswith("INSERT")]
    assert len(statements) - len(inserts) <= 40
    # Rows go in bulk: COPY on PostgreSQL, multi-row INSERTs on SQLite (as many rows as its variables allow).
    rows = report.purchases + CashbackEntry.objects.count() + CashbackAccount.objects.count()
    assert len(inserts) <= 10 + rows / 40

    assert Member.objects.filter(purchases__isnull=False).distinct().count() <= min(
        BUYERS_MAX + 1, Card.objects.count()
    )
    assert report.purchases <= (BUYERS_MAX + 1) * PURCHASES_PER_BUYER[1]
    assert_ledger_consistent()
