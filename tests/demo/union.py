"""What the demo tests compare between two seedings, and how they empty the register for the next one."""

import hashlib

from accounts.models import User
from cards.models import (
    Card,
    CardBatch,
    CardCharge,
    CardChargeLine,
    CardCostRecovery,
    CardLedgerEntry,
    CardPayment,
    CardPriceList,
    CardRequest,
    CardSerialCounter,
    CardVendorInvoice,
)
from demo.seed import DEMO_USERNAMES
from discounts.models import CashbackAccount, CashbackEntry, Cashier, Partner, PayoutBatch, PayoutLine, Purchase
from membership.models import Consent, Member
from registry.models import Chair, Organization
from union_statistics.models import AnnualReport, ReportCampaign, ReportEvent, RollupBuild, RollupSnapshot


def _digest_of(rows) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def cards_digest() -> str:
    """The demo's cards and plastic-card requests as a person sees them, without database ids."""
    cards = Card.objects.order_by("id").values_list(
        "member__last_name", "member__birth_date", "organization__path", "number", "status", "block_reason",
        "issued_at", "blocked_at", "replaces__number", "issued_by__username", "plastic_issued_at",
    )  # fmt: skip
    requests = CardRequest.objects.order_by("id").values_list(
        "member__last_name", "member__birth_date", "card__number", "status", "requested_by__username",
        "requested_at", "decided_by__username", "decided_at", "reject_reason", "issued_at",
    )  # fmt: skip
    counters = CardSerialCounter.objects.order_by("region__code").values_list("region__code", "last_serial")
    return _digest_of([*cards, *requests, *counters])


def union_digest() -> str:
    """Everything a person would see of the demo, without database ids (which depend on what came before)."""
    organizations = Organization.objects.order_by("path").values_list("path", "level", "name", "short_name", "inn")
    chairs = Chair.objects.order_by("organization__path", "term_start").values_list(
        "organization__path", "last_name", "first_name", "middle_name", "term_start", "term_end"
    )
    members = Member.objects.order_by("id").values_list(
        "organization__path", "last_name", "first_name", "middle_name", "birth_date", "category", "status", "email"
    )
    reports = AnnualReport.objects.order_by("organization__path", "year").values_list(
        "organization__path", "year", "status", "entered", "figures", "submitted_at", "return_comment"
    )
    return _digest_of([*organizations, *chairs, *members, cards_digest(), *reports])


def union_wipe() -> None:
    CashbackEntry.objects.all().delete()
    PayoutLine.objects.all().delete()
    PayoutBatch.objects.all().delete()
    CashbackAccount.objects.all().delete()
    Purchase.objects.all().delete()
    Cashier.objects.all().delete()
    Partner.objects.all().delete()
    RollupSnapshot.objects.all().delete()
    RollupBuild.objects.all().delete()
    ReportEvent.objects.all().delete()
    AnnualReport.objects.all().delete()
    ReportCampaign.objects.all().delete()
    for model in (CardLedgerEntry, CardPayment, CardChargeLine, CardCharge, CardVendorInvoice, CardCostRecovery,
                  CardPriceList):  # fmt: skip
        model.objects.all().delete()
    CardRequest.objects.all().delete()
    CardBatch.objects.all().delete()
    Card.objects.update(replaces=None)
    Card.objects.all().delete()
    CardSerialCounter.objects.all().delete()
    Consent.objects.all().delete()  # recorded by the demo chairs
    User.objects.filter(username__in=DEMO_USERNAMES).delete()
    Member.objects.all().delete()
    for depth in sorted(set(Organization.objects.values_list("depth", flat=True)), reverse=True):
        Organization.objects.filter(depth=depth).delete()
