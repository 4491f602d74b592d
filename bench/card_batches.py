"""Benchmark of issue 4, run by bench/run.py last: a 10,000-card batch package built by the Celery task's service.

The requests are approved in one action through the real bulk service, as regional staff do on the queue page (the
members are ones the demo gave no card, so every one takes a number: one block under the region's counter lock),
then the batch is formed and its package built; time, cards per second and the process's resident-memory growth are
reported.
"""

import time

from members import PeakResidentMemory

BATCH_CARDS = 10_000
APPROVAL_TARGET_SECONDS = 5.0
BATCH_TARGET_SECONDS = 30.0
BATCH_MEMORY_TARGET_MB = 500.0


def card_vendor_consents_give(member_ids: list[int], *, recorded_by) -> None:
    """The chair has these members' signed forms for the card vendor: a plastic card is ordered only with one (a
    member who has one already keeps it)."""
    from django.utils import timezone

    from membership.consent_texts import CURRENT_CONSENT_TEXT_VERSION
    from membership.models import Consent

    today = timezone.localdate()
    Consent.objects.bulk_create(
        (
            Consent(member_id=member_id, purpose=Consent.Purpose.CARD_VENDOR, text_version=CURRENT_CONSENT_TEXT_VERSION,
                    given_on=today, method=Consent.Method.SIGNED_FORM, recorded_by=recorded_by)
            for member_id in member_ids
        ),
        batch_size=1000,
        ignore_conflicts=True,
    )  # fmt: skip


def measure_card_batch() -> tuple[float, float, float, float, int]:
    """(seconds to approve the requests, seconds to build the package, cards/s, memory growth MB, package bytes)."""
    from accounts.models import User
    from cards.models import Card, CardBatch, CardRequest
    from cards.selectors import CardRequestFilters
    from cards.services import card_batch_build, card_batch_form, card_requests_approve
    from membership.models import Member
    from registry.models import Organization

    regional = User.objects.get(username="regional")
    region_orgs = Organization.objects.subtree_of(regional.organization).values("id")
    # The demo's own approved requests of the region already wait for a batch: they go into one of their own
    # first, so that the measured batch holds exactly the requests approved here.
    waiting = CardRequest.objects.filter(
        status=CardRequest.Status.APPROVED, batch=None, member__organization__in=region_orgs
    )
    if waiting.exists():
        card_batch_form(by=regional)
    # Members with neither a valid card nor an open request: every approval takes a new number, as it is timed for.
    members = (
        Member.objects.filter(organization__in=region_orgs, status="active", processing_blocked_on__isnull=True)
        .exclude(cards__status=Card.Status.ACTIVE)
        .exclude(card_requests__status__in=CardRequest.OPEN_STATUSES)
    )
    chosen = list(members.order_by("id").values_list("id", "organization_id")[:BATCH_CARDS])
    card_vendor_consents_give([member_id for member_id, _org_id in chosen], recorded_by=regional)
    requests = CardRequest.objects.bulk_create(
        CardRequest(member_id=member_id, organization_id=org_id, requested_by=regional) for member_id, org_id in chosen
    )
    started = time.perf_counter()
    approval = card_requests_approve(
        by=regional, filters=CardRequestFilters(), ids=[request.pk for request in requests]
    )
    approving = time.perf_counter() - started
    if approval.approved != len(requests) or approval.new_cards != len(requests):
        raise SystemExit(f"bulk approval: {approval.approved} approved, {len(approval.refusals)} refused")
    batch = card_batch_form(by=regional)
    with PeakResidentMemory() as memory:
        started = time.perf_counter()
        batch = card_batch_build(batch_id=batch.pk)
        building = time.perf_counter() - started
    if batch.status != CardBatch.Status.READY or batch.card_count != len(requests):
        raise SystemExit(f"batch {batch.pk}: {batch.status}, {batch.card_count} cards")
    return approving, building, batch.card_count / building, memory.peak_mb - memory.start_mb, batch.package.size
