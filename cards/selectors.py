from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from cards.models import Card, CardBatch, CardRequest
from membership.models import Member
from membership.selectors import members_visible_to
from registry.selectors import orgs_visible_to


def member_cards(*, member: Member) -> QuerySet[Card]:
    return member.cards.select_related("replaces").order_by("-issued_at", "-id")


def member_active_card(*, member: Member) -> Card | None:
    return member.cards.filter(status=Card.Status.ACTIVE).first()


@dataclass(frozen=True)
class VerificationResult:
    """What anyone scanning the QR code may learn: valid, blocked or unknown, and a first name with an initial."""

    state: str  # "valid", "blocked", "unknown"
    holder: str = ""


def card_verification_result(card: Card | None) -> VerificationResult:
    if card is None:
        return VerificationResult("unknown")
    member = card.member
    holder = f"{member.first_name} {member.last_name[:1]}." if member.last_name else member.first_name
    valid = card.is_active and member.status == Member.Status.ACTIVE and not member.processing_blocked_on
    return VerificationResult("valid" if valid else "blocked", holder)


def card_requests_visible_to(*, user: User, status: str = "") -> QuerySet[CardRequest]:
    """Plastic-card requests of the members the user may see, oldest first (the order of the queue)."""
    qs = CardRequest.objects.filter(member__in=members_visible_to(user)).select_related(
        "member", "member__organization", "card", "requested_by"
    )
    if status == "open":
        qs = qs.filter(status__in=CardRequest.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("requested_at", "id")


def get_card_request_for_user(user: User, pk: int) -> CardRequest:
    try:
        return card_requests_visible_to(user=user).get(pk=pk)
    except CardRequest.DoesNotExist:
        raise Http404 from None


def card_batches_visible_to(*, user: User) -> QuerySet[CardBatch]:
    return CardBatch.objects.filter(organization__in=orgs_visible_to(user).values("id")).select_related(
        "organization", "created_by"
    )


def get_card_batch_for_user(user: User, pk: int) -> CardBatch:
    try:
        return card_batches_visible_to(user=user).get(pk=pk)
    except CardBatch.DoesNotExist:
        raise Http404 from None


def batch_progress_key(batch_id: int) -> str:
    """Progress of a package build lives in the cache: the build's own writes are invisible until it commits."""
    return f"card-batch-progress-{batch_id}"


def card_batch_progress(batch: CardBatch) -> int:
    return cache.get(batch_progress_key(batch.pk), 0) if batch.is_building else 100
