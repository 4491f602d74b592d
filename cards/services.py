import hashlib

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, Role, User
from accounts.services import access_log_write
from cards.models import Card, CardBatch, CardRequest, CardSerialCounter
from cards.numbers import card_number_compose
from cards.package import CardFace, vendor_package
from cards.selectors import batch_progress_key
from membership.models import Member
from membership.selectors import user_can_manage_members
from registry.models import Organization, Region
from registry.selectors import org_is_visible_to, orgs_visible_to

VERIFICATION_SALT = "cards.verification"


class CardError(DomainError):
    """A refusal about union cards."""


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
        number=card_number_allocate(region=member.organization.region),
        member=member,
        organization_id=member.organization_id,
        issued_by=by,
        replaces=replaces,
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


# Who decides on plastic cards: the regional organisation (and the central office over everyone).
CARD_DECIDING_ROLES = (Role.REGIONAL, Role.CENTRAL)


def _open_request_exists(member: Member) -> bool:
    return member.card_requests.filter(status__in=CardRequest.OPEN_STATUSES).exists()


@transaction.atomic
def card_request_create(*, member: Member, by: User) -> CardRequest:
    """The chair asks for a plastic card for one member."""
    if not user_can_manage_members(by, member.organization):
        raise PermissionDenied
    member = Member.objects.select_for_update(of=("self",)).select_related("organization").get(pk=member.pk)
    _ensure_can_issue(member)
    if _open_request_exists(member):
        raise CardError(_("Заявка на пластиковый билет для этого члена Профсоюза уже подана."))
    request = CardRequest.objects.create(member=member, requested_by=by)
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=member, details={"card_request": request.pk})
    return request


@transaction.atomic
def card_requests_for_members_without_card(*, organization: Organization, by: User) -> int:
    """One request for every current member of the organisation who has neither a plastic card nor a request."""
    if not user_can_manage_members(by, organization):
        raise PermissionDenied
    members = Member.objects.filter(
        organization__in=Organization.objects.subtree_of(organization).values("id"),
        status=Member.Status.ACTIVE,
        processing_blocked_on__isnull=True,
    ).exclude(card_requests__status__in=[*CardRequest.OPEN_STATUSES, CardRequest.Status.ISSUED])
    created = CardRequest.objects.bulk_create(CardRequest(member=member, requested_by=by) for member in members)
    if created:
        access_log_write(
            user=by, action=AccessLog.Action.CREATE, object_type="cards.cardrequest", organization_path=organization.path,
            object_repr=f"Заявки на билеты: {organization.display_name}", details={"count": len(created)},
        )  # fmt: skip
    return len(created)


def user_can_decide_card_request(user: User, request: CardRequest) -> bool:
    return user.role in CARD_DECIDING_ROLES and org_is_visible_to(user, request.member.organization)


def _locked_request(request: CardRequest, *, expected: str) -> CardRequest:
    request = (
        CardRequest.objects.select_for_update(of=("self",)).select_related("member__organization").get(pk=request.pk)
    )
    if request.status != expected:
        raise CardError(
            _("Заявка уже в статусе «%(status)s»: это действие к ней не применяется.")
            % {"status": request.get_status_display()}
        )
    return request


@transaction.atomic
def card_request_approve(*, request: CardRequest, by: User) -> CardRequest:
    """Regional staff approve: the member gets a card number now (if none yet), the request waits for a batch."""
    request = _locked_request(request, expected=CardRequest.Status.REQUESTED)
    if not user_can_decide_card_request(by, request):
        raise PermissionDenied
    member = request.member
    card = member.cards.filter(status=Card.Status.ACTIVE).first()
    if card is None:
        _ensure_can_issue(member)
        card = Card.objects.create(
            number=card_number_allocate(region=member.organization.region),
            member=member,
            organization_id=member.organization_id,
            issued_by=by,
        )
    request.status, request.card, request.decided_by, request.decided_at = (
        CardRequest.Status.APPROVED, card, by, timezone.now()
    )  # fmt: skip
    request.save(update_fields=["status", "card", "decided_by", "decided_at"])
    return request


@transaction.atomic
def card_request_reject(*, request: CardRequest, by: User, reason: str) -> CardRequest:
    request = _locked_request(request, expected=CardRequest.Status.REQUESTED)
    if not user_can_decide_card_request(by, request):
        raise PermissionDenied
    if not reason.strip():
        raise CardError(_("Укажите причину отказа: её увидит председатель."))
    request.status, request.reject_reason, request.decided_by, request.decided_at = (
        CardRequest.Status.REJECTED, reason.strip(), by, timezone.now()
    )  # fmt: skip
    request.save(update_fields=["status", "reject_reason", "decided_by", "decided_at"])
    return request


@transaction.atomic
def card_request_cancel(*, request: CardRequest, by: User) -> CardRequest:
    """The chair withdraws a request nobody has decided on yet."""
    request = _locked_request(request, expected=CardRequest.Status.REQUESTED)
    if not user_can_manage_members(by, request.member.organization):
        raise PermissionDenied
    request.status = CardRequest.Status.CANCELLED
    request.save(update_fields=["status"])
    return request


@transaction.atomic
def card_request_mark_issued(*, request: CardRequest, by: User) -> CardRequest:
    """The chair hands the delivered plastic card to the member."""
    request = _locked_request(request, expected=CardRequest.Status.DELIVERED)
    if not user_can_manage_members(by, request.member.organization):
        raise PermissionDenied
    request.status, request.issued_at = CardRequest.Status.ISSUED, timezone.now()
    request.save(update_fields=["status", "issued_at"])
    if request.card_id is not None:
        Card.objects.filter(pk=request.card_id).update(plastic_issued_at=request.issued_at)
    return request


def cards_follow_member(*, member: Member, by: User | None) -> None:
    """A transferred member's cards are now held in the new organisation (membership calls this on a transfer)."""
    Card.objects.filter(member=member).update(organization_id=member.organization_id)


@transaction.atomic
def card_batch_form(*, by: User) -> CardBatch:
    """Gather every approved request of the user's region that is in no batch yet into a new batch."""
    if by.role not in CARD_DECIDING_ROLES:
        raise PermissionDenied
    requests = CardRequest.objects.select_for_update(of=("self",)).filter(
        status=CardRequest.Status.APPROVED,
        batch__isnull=True,
        member__organization__in=orgs_visible_to(by).values("id"),
    )
    ids = list(requests.values_list("id", flat=True))
    if not ids:
        raise CardError(_("Одобренных заявок вне партий нет: формировать нечего."))
    batch = CardBatch.objects.create(organization=by.organization, created_by=by, card_count=len(ids))
    CardRequest.objects.filter(pk__in=ids).update(batch=batch)
    access_log_write(user=by, action=AccessLog.Action.CREATE, object_type="cards.cardbatch", object_id=str(batch.pk),
                     object_repr=str(batch), organization_path=by.organization.path, details={"count": len(ids)})  # fmt: skip
    return batch


def _batch_faces(batch: CardBatch) -> list[CardFace]:
    requests = batch.requests.select_related("card", "member", "member__organization__region").order_by("card__number")
    return [
        CardFace(
            number=request.card.number,
            last_name=request.member.last_name,
            first_name=request.member.first_name,
            middle_name=request.member.middle_name,
            organization=request.member.organization.name,
            region=request.member.organization.region.name if request.member.organization.region else "",
        )
        for request in requests
    ]


def card_batch_build(*, batch_id: int) -> CardBatch:
    """Build the vendor package. Safe to run again: numbers were fixed at approval, the rows come from the batch,
    so a retried task writes the same cards once; a finished package is left as it is."""
    batch = CardBatch.objects.get(pk=batch_id)
    if batch.status != CardBatch.Status.BUILDING:
        return batch

    def progress(percent: int) -> None:
        cache.set(batch_progress_key(batch_id), percent, timeout=3600)

    content = vendor_package(batch_id=batch.pk, faces=_batch_faces(batch), progress=progress)
    with transaction.atomic():
        batch = CardBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != CardBatch.Status.BUILDING:
            return batch
        batch.package.save(f"batch-{batch.pk}.zip", ContentFile(content), save=False)
        batch.package_sha256 = hashlib.sha256(content).hexdigest()
        batch.status, batch.status_changed_at = CardBatch.Status.READY, timezone.now()
        batch.save(update_fields=["package", "package_sha256", "status", "status_changed_at"])
    progress(100)
    return batch


@transaction.atomic
def card_batch_advance(*, batch: CardBatch, by: User) -> CardBatch:
    """Отметить: отправлена изготовителю → изготовлена → доставлена; the batch's requests follow."""
    batch = CardBatch.objects.select_for_update().get(pk=batch.pk)
    if by.role not in CARD_DECIDING_ROLES or not org_is_visible_to(by, batch.organization):
        raise PermissionDenied
    next_status = CardBatch.NEXT_STATUS.get(batch.status)
    if next_status is None:
        raise CardError(
            _("Партия в статусе «%(status)s»: следующего шага нет.") % {"status": batch.get_status_display()}
        )
    batch.status, batch.status_changed_at = next_status, timezone.now()
    batch.save(update_fields=["status", "status_changed_at"])
    batch.requests.exclude(status__in=[CardRequest.Status.ISSUED, CardRequest.Status.CANCELLED]).update(
        status={CardBatch.Status.SENT: CardRequest.Status.SENT, CardBatch.Status.PRODUCED: CardRequest.Status.PRODUCED,
                CardBatch.Status.DELIVERED: CardRequest.Status.DELIVERED}[next_status]
    )  # fmt: skip
    return batch


def card_batch_download_log(*, batch: CardBatch, by: User) -> None:
    """The package holds names of members: its every download is an export in the 152-FZ log."""
    access_log_write(user=by, action=AccessLog.Action.EXPORT, object_type="cards.cardbatch", object_id=str(batch.pk),
                     object_repr=str(batch), organization_path=batch.organization.path, details={"count": batch.card_count})  # fmt: skip
