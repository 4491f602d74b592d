from dataclasses import dataclass

from django.db.models import QuerySet

from cards.models import Card
from membership.models import Member


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
