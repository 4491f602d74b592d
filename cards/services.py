from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, Role, User
from accounts.services import access_log_write
from cards.batch_build import card_batch_build as card_batch_build  # the whole build in one process
from cards.eligibility import (
    VENDOR_CONSENT_HOW_TO,
    VENDOR_CONSENT_MISSING,
    card_issue_refusal,
    card_request_batch_hold,
    plastic_card_refusal,
)
from cards.models import Card, CardBatch, CardRequest, CardSerialCounter
from cards.numbers import card_number_compose, card_number_grouped
from cards.selectors import CardRequestFilters, card_batch_can_rebuild, card_requests_awaiting_decision
from cards.settlement_services import batch_charges_post
from membership.models import Consent, Member
from membership.selectors import consent_valid, user_can_manage_members
from registry.models import Organization, Region
from registry.selectors import org_is_visible_to, orgs_visible_to

VERIFICATION_SALT = "cards.verification"


class CardError(DomainError):
    """A refusal about union cards."""


@transaction.atomic
def card_numbers_allocate(*, region: Region, count: int) -> list[str]:
    """The next `count` numbers of the region, taken as one block. The counter row stays locked until the caller's
    transaction ends, so two requests never get one number, and a rollback returns the serials: numbers have no
    gaps and are never reused."""
    counter, _created = CardSerialCounter.objects.get_or_create(region=region)
    CardSerialCounter.objects.filter(pk=counter.pk).update(last_serial=F("last_serial") + count)
    counter.refresh_from_db(fields=["last_serial"])
    first = counter.last_serial - count + 1
    return [card_number_compose(region_code=region.code, serial=serial) for serial in range(first, first + count)]


def card_number_allocate(*, region: Region) -> str:
    """The next number of the region (see card_numbers_allocate)."""
    return card_numbers_allocate(region=region, count=1)[0]


def _ensure_can_issue(member: Member) -> None:
    refusal = card_issue_refusal(
        status=member.status,
        consent_withdrawn=bool(member.processing_blocked_on),
        region_id=member.organization.region_id,
    )
    if refusal:
        raise CardError(refusal)


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
    """Leaving the union or withdrawing consent blocks the member's valid card and takes the plastic one out of a
    batch not yet sent to the vendor (registered in CardsConfig.ready)."""
    block_reason = {"left": Card.BlockReason.LEFT, "consent_withdrawn": Card.BlockReason.CONSENT_WITHDRAWN}[reason]
    for card in member.cards.filter(status=Card.Status.ACTIVE):
        card_block(card=card, by=None, reason=block_reason)
    _card_request_out_of_unsent_batch(member=member, by=by)


def card_verification_token(card: Card) -> str:
    return signing.Signer(salt=VERIFICATION_SALT).sign(card.verification_key.hex)


def card_verification_key(token: str) -> str | None:
    """The card's verification key behind the QR code's signed token, or None for a token we did not sign."""
    try:
        return signing.Signer(salt=VERIFICATION_SALT).unsign(token)
    except signing.BadSignature:
        return None


def card_from_verification_token(token: str) -> Card | None:
    key = card_verification_key(token)
    if key is None:
        return None
    return Card.objects.select_related("member").filter(verification_key=key).first()


# Who decides on plastic cards: the regional organisation (and the central office over everyone).
CARD_DECIDING_ROLES = (Role.REGIONAL, Role.CENTRAL)


def _open_request_exists(member: Member) -> bool:
    return member.card_requests.filter(status__in=CardRequest.OPEN_STATUSES).exists()


@transaction.atomic
def card_request_create(*, member: Member, by: User) -> CardRequest:
    """The chair asks for a plastic card for one member who has consented to the vendor having their data."""
    if not user_can_manage_members(by, member.organization):
        raise PermissionDenied
    member = (
        Member.objects.select_for_update(of=("self",))
        .select_related("organization")
        .annotate(vendor_consent=consent_valid(Consent.Purpose.CARD_VENDOR))
        .get(pk=member.pk)
    )
    _ensure_can_issue(member)
    if not member.vendor_consent:
        raise CardError(f"{VENDOR_CONSENT_MISSING} {VENDOR_CONSENT_HOW_TO}")
    if _open_request_exists(member):
        raise CardError(_("Заявка на пластиковый билет для этого члена Профсоюза уже подана."))
    request = CardRequest.objects.create(member=member, organization_id=member.organization_id, requested_by=by)
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=member, details={"card_request": request.pk})
    return request


@dataclass(frozen=True)
class MemberWithoutRequest:
    """A member a request for all left out, and why."""

    member_id: int
    member_name: str
    organization_name: str
    reason: str


@dataclass
class RequestsForAllResult:
    created: int = 0
    # Members without a consent to passing their data to the vendor: no request for them, by name.
    refusals: list[MemberWithoutRequest] = field(default_factory=list)


@transaction.atomic
def card_requests_for_members_without_card(*, organization: Organization, by: User) -> RequestsForAllResult:
    """One request for every current member of the organisation who has neither a plastic card nor a request, and a
    consent to the vendor having their data; those without the consent are listed instead."""
    if not user_can_manage_members(by, organization):
        raise PermissionDenied
    members = (
        Member.objects.filter(
            organization__in=Organization.objects.subtree_of(organization).values("id"),
            status=Member.Status.ACTIVE,
            processing_blocked_on__isnull=True,
        )
        .exclude(card_requests__status__in=[*CardRequest.OPEN_STATUSES, CardRequest.Status.ISSUED])
        .annotate(vendor_consent=consent_valid(Consent.Purpose.CARD_VENDOR))
        .order_by("search_name", "id")
        .values_list("pk", "organization_id", "vendor_consent", "last_name", "first_name", "middle_name",
                     "organization__name", "organization__short_name", named=True)
    )  # fmt: skip
    result = RequestsForAllResult()
    requests = []
    for member in members:
        if member.vendor_consent:
            requests.append(CardRequest(member_id=member.pk, organization_id=member.organization_id, requested_by=by))
            continue
        person = Member(last_name=member.last_name, first_name=member.first_name, middle_name=member.middle_name)
        organization_name = Organization(name=member.organization__name, short_name=member.organization__short_name)
        result.refusals.append(
            MemberWithoutRequest(
                member.pk, person.full_name, organization_name.display_name, str(VENDOR_CONSENT_MISSING)
            )
        )
    result.created = len(CardRequest.objects.bulk_create(requests))
    if result.created:
        access_log_write(
            user=by, action=AccessLog.Action.CREATE, object_type="cards.cardrequest", organization_path=organization.path,
            object_repr=f"Заявки на билеты: {organization.display_name}",
            details={"count": result.created, "without_vendor_consent": len(result.refusals)},
        )  # fmt: skip
    return result


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


@dataclass(frozen=True)
class CardRequestRefusal:
    """A request that an approval left in the queue, and the reason the chair and the region read."""

    request_id: int
    member_id: int
    member_name: str
    organization_name: str
    reason: str


@dataclass(frozen=True)
class CardNumberBlock:
    """The numbers one approval took from a region's counter, first to last without a gap."""

    region_code: str
    region_name: str
    first: str
    last: str
    count: int

    @property
    def first_grouped(self) -> str:
        return card_number_grouped(self.first)

    @property
    def last_grouped(self) -> str:
        return card_number_grouped(self.last)


@dataclass
class BulkApprovalResult:
    approved: int = 0
    new_cards: int = 0  # approved with a number taken now; the others kept the member's valid card
    refusals: list[CardRequestRefusal] = field(default_factory=list)
    number_blocks: list[CardNumberBlock] = field(default_factory=list)
    # Posted requests that were not there to approve: decided meanwhile, or outside the user's subtree.
    not_found: int = 0

    @property
    def kept_cards(self) -> int:
        return self.approved - self.new_cards


# Ids per statement where an approval lists them: well under SQLite's limit of bound variables (32,766).
APPROVAL_CHUNK = 5_000


def _card_requests_approve(requests: QuerySet[CardRequest], *, by: User) -> BulkApprovalResult:
    """Approve the requests awaiting a decision among `requests`, inside the caller's transaction.

    The requests are locked, then their members, whose valid cards and vendor consents are found in the same query
    (a member who leaves or withdraws a consent meanwhile waits for us, as those services lock the member row too).
    Nobody is approved without a consent to the vendor having the data; a member with a valid card keeps it; the
    rule refuses some of the others; the rest get numbers from one block per region, each counter locked once and
    in region order, so that two approvals never wait for each other crosswise. Then the
    cards are inserted and the requests marked approved in a few statements, whatever their number: rows are read
    as tuples, not models, for a region's ten thousand requests to take a second or two."""
    awaiting = requests.filter(status=CardRequest.Status.REQUESTED)
    locked = list(awaiting.select_for_update(of=("self",)).order_by("pk").values_list("pk", "member_id"))
    valid_card = Card.objects.filter(member=OuterRef("pk"), status=Card.Status.ACTIVE).order_by().values("id")[:1]
    member_ids = sorted(member_id for _request_id, member_id in locked)
    members = {}
    for start in range(0, len(member_ids), APPROVAL_CHUNK):
        # By their ids, which the database looks up one by one, rather than by a subquery it may answer by reading
        # the whole register; in id order, the order every approval locks them in.
        rows = (
            Member.objects.filter(pk__in=member_ids[start : start + APPROVAL_CHUNK])
            .select_for_update(of=("self",))
            .order_by("pk")
            .annotate(valid_card_id=Subquery(valid_card), vendor_consent=consent_valid(Consent.Purpose.CARD_VENDOR))
            .values_list("pk", "status", "processing_blocked_on", "organization_id", "organization__region_id",
                         "valid_card_id", "vendor_consent", "last_name", "first_name", "middle_name",
                         "organization__name", "organization__short_name", named=True)
        )  # fmt: skip
        members.update((member.pk, member) for member in rows)
    result = BulkApprovalResult()
    approved_ids: list[int] = []
    needing_numbers: dict[int, list] = {}  # region id: members, in the order of their requests
    for request_id, member_id in locked:
        member = members[member_id]
        if member.valid_card_id:  # the number is there: only the vendor's consent is still to be had
            refusal = None if member.vendor_consent else str(VENDOR_CONSENT_MISSING)
        else:
            refusal = plastic_card_refusal(
                status=member.status, consent_withdrawn=bool(member.processing_blocked_on),
                vendor_consent=member.vendor_consent, region_id=member.organization__region_id,
            )  # fmt: skip
        if refusal:
            result.refusals.append(_refusal(request_id, member, refusal))
            continue
        approved_ids.append(request_id)
        if not member.valid_card_id:
            needing_numbers.setdefault(member.organization__region_id, []).append(member)
    cards = []
    regions = Region.objects.in_bulk(list(needing_numbers))
    for region_id in sorted(needing_numbers):
        region, holders = regions[region_id], needing_numbers[region_id]
        numbers = card_numbers_allocate(region=region, count=len(holders))
        cards += [
            Card(number=number, member_id=holder.pk, organization_id=holder.organization_id, issued_by=by)
            for number, holder in zip(numbers, holders, strict=True)
        ]
        result.number_blocks.append(CardNumberBlock(region.code, region.name, numbers[0], numbers[-1], len(numbers)))
    Card.objects.bulk_create(cards)
    decided_at = timezone.now()
    request_card = Card.objects.filter(member=OuterRef("member_id"), status=Card.Status.ACTIVE).order_by()
    for start in range(0, len(approved_ids), APPROVAL_CHUNK):
        # Every approved member now holds exactly one valid card (the constraint says so): the request takes it.
        CardRequest.objects.filter(pk__in=approved_ids[start : start + APPROVAL_CHUNK]).update(
            status=CardRequest.Status.APPROVED, card_id=Subquery(request_card.values("id")[:1]), decided_by=by,
            decided_at=decided_at,
        )  # fmt: skip
    result.approved, result.new_cards = len(approved_ids), len(cards)
    result.refusals.sort(key=lambda refusal: (refusal.organization_name, refusal.member_name, refusal.request_id))
    return result


def _refusal(request_id: int, member, reason: str) -> CardRequestRefusal:
    """A refusal as the result page lists it, from a member row of the approval's query."""
    person = Member(last_name=member.last_name, first_name=member.first_name, middle_name=member.middle_name)
    organization = Organization(name=member.organization__name, short_name=member.organization__short_name)
    return CardRequestRefusal(request_id, member.pk, person.full_name, organization.display_name, reason)


@transaction.atomic
def card_request_approve(*, request: CardRequest, by: User) -> CardRequest:
    """Regional staff approve: the member gets a card number now (if none yet), the request waits for a batch."""
    request = _locked_request(request, expected=CardRequest.Status.REQUESTED)
    if not user_can_decide_card_request(by, request):
        raise PermissionDenied
    result = _card_requests_approve(CardRequest.objects.filter(pk=request.pk), by=by)
    if result.refusals:
        raise CardError(result.refusals[0].reason)
    request.refresh_from_db()
    return request


@transaction.atomic
def card_requests_approve(
    *, by: User, filters: CardRequestFilters, ids: Collection[int] | None = None
) -> BulkApprovalResult:
    """Approve many requests in one action: those awaiting a decision in the user's subtree that match the filters
    and, when `ids` are given, are among them (a posted id of another region's request is never approved). Those
    the rule refuses stay in the queue and are listed; one access-log entry records the action."""
    if by.role not in CARD_DECIDING_ROLES:
        raise PermissionDenied
    requests = card_requests_awaiting_decision(user=by, filters=filters)
    if ids is not None:
        ids = set(ids)
        requests = requests.filter(pk__in=ids)
    result = _card_requests_approve(requests, by=by)
    if ids is not None:
        result.not_found = len(ids) - result.approved - len(result.refusals)
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, object_type="cards.cardrequest",
        object_repr=_("Одобрение заявок на пластиковые билеты: %(count)s") % {"count": result.approved},
        organization_path=by.organization.path,
        details={
            "approved": result.approved, "new_cards": result.new_cards, "refused": len(result.refusals),
            "filter": {"organization": filters.organization_id, "last_request": filters.last_id,
                       "from": str(filters.requested_from or ""), "to": str(filters.requested_to or ""),
                       "selected": len(ids) if ids is not None else None},
            "numbers": [[block.first, block.last] for block in result.number_blocks],
        },
    )  # fmt: skip
    return result


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
    CardRequest.objects.filter(member=member).update(organization_id=member.organization_id)


@transaction.atomic
def card_batch_form(*, by: User) -> CardBatch:
    """Gather every approved request of the user's region that is in no batch yet into a new batch, but for those
    whose member's data may not go to the vendor (card_request_batch_hold): the list of approved requests shows
    them with the reason."""
    if by.role not in CARD_DECIDING_ROLES:
        raise PermissionDenied
    requests = CardRequest.objects.select_for_update(of=("self",)).filter(
        status=CardRequest.Status.APPROVED,
        batch__isnull=True,
        member__organization__in=orgs_visible_to(by).values("id"),
    )
    rows = requests.annotate(vendor_consent=consent_valid(Consent.Purpose.CARD_VENDOR, member_field="member_id"))
    ids, held = [], 0
    for request_id, member_status, processing_blocked_on, vendor_consent in rows.values_list(
        "id", "member__status", "member__processing_blocked_on", "vendor_consent"
    ):
        if card_request_batch_hold(
            member_status=member_status, processing_blocked_on=processing_blocked_on, vendor_consent=vendor_consent
        ):
            held += 1
        else:
            ids.append(request_id)
    if not ids and held:
        raise CardError(
            _("В партию нечего включить. Одобренные заявки вне партий (%(count)s) ждут согласия члена Профсоюза на "
              "передачу данных изготовителю билета или относятся к выбывшим: причина указана у каждой в списке "
              "одобренных.") % {"count": held}
        )  # fmt: skip
    if not ids:
        raise CardError(_("Одобренных заявок вне партий нет: формировать нечего."))
    batch = CardBatch.objects.create(organization=by.organization, created_by=by, card_count=len(ids))
    for start in range(0, len(ids), APPROVAL_CHUNK):
        CardRequest.objects.filter(pk__in=ids[start : start + APPROVAL_CHUNK]).update(batch=batch)
    access_log_write(user=by, action=AccessLog.Action.CREATE, object_type="cards.cardbatch", object_id=str(batch.pk),
                     object_repr=str(batch), organization_path=by.organization.path,
                     details={"count": len(ids), "held_back": held})  # fmt: skip
    # The regions' charge for the batch is fixed now, in this transaction, at the price in force today.
    batch_charges_post(batch=batch, by=by)
    return batch


# A batch whose package has not been marked as sent to the vendor: a request can still be taken out of it.
BATCH_STATUSES_BEFORE_VENDOR = (CardBatch.Status.BUILDING, CardBatch.Status.FAILED, CardBatch.Status.READY)


def _card_request_out_of_unsent_batch(*, member: Member, by: User | None) -> None:
    """Take the member's request out of a batch not yet sent to the vendor, in the caller's transaction: the member
    may no longer be in the vendor's files (card_request_batch_hold says why). The request stays approved outside
    the batches, as one the forming held back; the batch's parts and package are dropped, and the batch waits,
    failed with the reason, for «Собрать заново», which plans it anew without the request. Nothing once the batch
    has gone to the vendor: what was sent cannot be called back."""
    waiting = CardRequest.objects.filter(
        member=member, status=CardRequest.Status.APPROVED, batch__status__in=BATCH_STATUSES_BEFORE_VENDOR
    )
    batch_id = waiting.values_list("batch_id", flat=True).first()
    if batch_id is None:
        return
    # The batch first, then its requests, as card_batch_advance takes them.
    batch = CardBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status not in BATCH_STATUSES_BEFORE_VENDOR:
        return
    taken_out = CardRequest.objects.filter(
        pk__in=list(waiting.filter(batch=batch).values_list("pk", flat=True))
    ).update(batch=None)
    if not taken_out:
        return
    storage, package = batch.package.storage, batch.package.name
    if package:
        transaction.on_commit(partial(storage.delete, package))
    batch.chunks.all().delete()  # the parts' files go with the folder's leftovers when a package is next ready
    batch.card_count -= taken_out
    batch.package, batch.package_sha256 = "", ""
    batch.status, batch.status_changed_at = CardBatch.Status.FAILED, timezone.now()
    batch.failure = _(
        "Из партии исключена заявка члена Профсоюза, чьи данные больше нельзя передавать изготовителю (отозвано "
        "согласие или оформлено выбытие); заявка осталась среди одобренных. Пакет прежнего состава удалён: "
        "нажмите «Собрать заново», чтобы собрать его без этого билета."
    ) if batch.card_count else _(
        "Из партии исключена заявка члена Профсоюза, чьи данные больше нельзя передавать изготовителю (отозвано "
        "согласие или оформлено выбытие); других билетов в партии нет, передавать изготовителю нечего."
    )  # fmt: skip
    batch.save(update_fields=["card_count", "package", "package_sha256", "status", "status_changed_at", "failure"])
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, object_type="cards.cardbatch", object_id=str(batch.pk),
        object_repr=str(batch), organization_path=batch.organization.path, details={"taken_out_member": member.pk},
    )  # fmt: skip


def card_requests_follow_consent_withdrawal(*, member: Member, by: User | None, purpose: str) -> None:
    """A withdrawn consent to the vendor having the data takes the member out of a batch not yet sent (registered
    in CardsConfig.ready on membership's list; the consent to processing goes through the deactivation list)."""
    if purpose == Consent.Purpose.CARD_VENDOR:
        _card_request_out_of_unsent_batch(member=member, by=by)


@transaction.atomic
def card_batch_rebuild(*, batch: CardBatch, by: User) -> CardBatch:
    """«Собрать заново»: a failed build, or one that stalled (its workers died), starts again; the parts already
    rendered are kept, so only the missing ones are rendered (the caller sends cards.tasks.card_batch_build)."""
    batch = CardBatch.objects.select_for_update().get(pk=batch.pk)
    if by.role not in CARD_DECIDING_ROLES or not org_is_visible_to(by, batch.organization):
        raise PermissionDenied
    if not card_batch_can_rebuild(batch):
        raise CardError(_("Пакет этой партии собирается или уже собран: собирать заново нечего."))
    if not batch.card_count:
        raise CardError(_("В партии не осталось билетов: собирать нечего."))
    batch.status, batch.failure, batch.status_changed_at = CardBatch.Status.BUILDING, "", timezone.now()
    batch.build_queued_at = None  # until the caller has queued the build
    batch.save(update_fields=["status", "failure", "status_changed_at", "build_queued_at"])
    access_log_write(user=by, action=AccessLog.Action.CHANGE, object_type="cards.cardbatch", object_id=str(batch.pk),
                     object_repr=str(batch), organization_path=batch.organization.path, details={"rebuild": True})  # fmt: skip
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
