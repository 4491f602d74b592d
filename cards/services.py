from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessLog, User
from accounts.services import access_log_write
from cards.models import Card, CardSerialCounter
from cards.numbers import card_number_compose
from membership.models import Member
from membership.selectors import user_can_manage_members
from registry.models import Region

VERIFICATION_SALT = "cards.verification"


class CardError(Exception):
    """A refusal whose message is the Russian sentence shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@transaction.atomic
def card_number_allocate(*, region: Region) -> str:
    """The next number of the region. The counter row stays locked until the caller's transaction ends, so two
    requests never get one number, and a rollback returns the serial: numbers have no gaps and are never reused."""
    counter, _created = CardSerialCounter.objects.get_or_create(region=region)
    CardSerialCounter.objects.select_for_update().filter(pk=counter.pk).update(last_serial=F("last_serial") + 1)
    counter.refresh_from_db(fields=["last_serial"])
    return card_number_compose(region_code=region.code, serial=counter.last_serial)


def _ensure_can_issue(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise CardError(_("Билет выпускают только действующему члену Профсоюза."))
    if member.processing_blocked_on:
        raise CardError(_("Член Профсоюза отозвал согласие на обработку данных: билет выпустить нельзя."))
    if member.organization.region_id is None:
        raise CardError(_("У организации не указан субъект РФ: номер билета не из чего составить."))


@transaction.atomic
def card_issue(*, member: Member, by: User, replaces: Card | None = None) -> Card:
    """Выпустить электронный профсоюзный билет (номер, виртуальная карта; пластик заказывают отдельно)."""
    if not user_can_manage_members(by, member.organization):
        raise PermissionDenied
    member = Member.objects.select_for_update(of=("self",)).select_related("organization__region").get(pk=member.pk)
    _ensure_can_issue(member)
    if member.cards.filter(status=Card.Status.ACTIVE).exists():
        raise CardError(_("У члена Профсоюза уже есть действующий билет."))
    card = Card.objects.create(
        number=card_number_allocate(region=member.organization.region), member=member, issued_by=by, replaces=replaces
    )
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=member, details={"card": card.number})
    return card


@transaction.atomic
def card_block(*, card: Card, by: User | None, reason: str) -> Card:
    """Заблокировать билет: утерян, перевыпущен, выбытие, отзыв согласия."""
    if by is not None and not user_can_manage_members(by, card.member.organization):
        raise PermissionDenied
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status == Card.Status.BLOCKED:
        raise CardError(_("Билет уже заблокирован."))
    if reason not in Card.BlockReason.values:
        raise CardError(_("Укажите причину блокировки."))
    card.status, card.blocked_at, card.block_reason = Card.Status.BLOCKED, timezone.now(), reason
    card.save(update_fields=["status", "blocked_at", "block_reason"])
    access_log_write(
        user=by,
        action=AccessLog.Action.CHANGE,
        obj=card.member,
        details={"card_blocked": card.number, "reason": reason},
    )
    return card


@transaction.atomic
def card_reissue(*, card: Card, by: User, reason: str = Card.BlockReason.LOST) -> Card:
    """Перевыпуск: the old number is blocked for good and the member gets a new one."""
    blocked = card_block(card=card, by=by, reason=reason)
    return card_issue(member=card.member, by=by, replaces=blocked)


def cards_block_for_member(*, member: Member, by: User | None, reason: str) -> None:
    """Leaving the union or withdrawing consent blocks the member's valid card (registered in CardsConfig.ready)."""
    block_reason = {"left": Card.BlockReason.LEFT, "consent_withdrawn": Card.BlockReason.CONSENT_WITHDRAWN}[reason]
    for card in member.cards.filter(status=Card.Status.ACTIVE):
        card_block(card=card, by=None, reason=block_reason)


def card_verification_token(card: Card) -> str:
    return signing.Signer(salt=VERIFICATION_SALT).sign(card.verification_key.hex)


def card_from_verification_token(token: str) -> Card | None:
    try:
        key = signing.Signer(salt=VERIFICATION_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return Card.objects.select_related("member").filter(verification_key=key).first()
