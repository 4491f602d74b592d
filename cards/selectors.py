import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from cards.eligibility import card_request_batch_hold
from cards.models import Card, CardBatch, CardRequest
from membership.models import Consent, Member
from membership.selectors import consent_valid
from registry.models import PATH_SEGMENT_WIDTH, Organization, path_upper_bound
from registry.selectors import orgs_visible_to, scope_root_of


def member_cards(*, member: Member) -> QuerySet[Card]:
    return member.cards.select_related("replaces").order_by("-issued_at", "-id")


def member_active_card(*, member: Member) -> Card | None:
    return member.cards.filter(status=Card.Status.ACTIVE).first()


def member_card_to_show(*, member: Member) -> Card | None:
    """The card on the member's own page: the valid one, or else the latest one, blocked, so the phone that saved
    the card learns at its next check that it may no longer be shown."""
    return member_active_card(member=member) or member.cards.order_by("-issued_at", "-id").first()


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


def _card_requests_of_subtree(root: Organization | None) -> QuerySet[CardRequest]:
    """By the organisation kept on the request (it follows the member's transfers), joined on the subtree's range of
    paths: never a join with millions of members, nor a scan of every organisation."""
    if root is None:
        return CardRequest.objects.none()
    if root.depth == 1:
        return CardRequest.objects.all()
    return CardRequest.objects.filter(
        organization__path__gte=root.path, organization__path__lt=path_upper_bound(root.path)
    )


def card_requests_visible_to(*, user: User, status: str = "") -> QuerySet[CardRequest]:
    """Plastic-card requests of the members the user may see, oldest first (the order of the queue)."""
    qs = _card_requests_of_subtree(scope_root_of(user)).select_related(
        "member", "member__organization", "card", "requested_by"
    )
    if status == "open":
        qs = qs.filter(status__in=CardRequest.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("requested_at", "id")


def card_requests_held_back(*, user: User) -> QuerySet[CardRequest]:
    """Approved requests in no batch whose member's data may not go to the vendor now (left, withdrew the consent
    to processing, or has no valid consent to the vendor): the next batch leaves them out."""
    return (
        _card_requests_of_subtree(scope_root_of(user))
        .filter(status=CardRequest.Status.APPROVED, batch__isnull=True)
        .filter(
            ~Q(member__status=Member.Status.ACTIVE)
            | Q(member__processing_blocked_on__isnull=False)
            | ~consent_valid(Consent.Purpose.CARD_VENDOR, member_field="member_id")
        )
    )


def card_requests_batch_holds_mark(requests) -> list[CardRequest]:
    """Give each approved request of a page outside the batches its `batch_hold`: why the next batch leaves it out,
    or "" (one query for the page's members' vendor consents)."""
    requests = list(requests)
    waiting = [
        request for request in requests if request.status == CardRequest.Status.APPROVED and not request.batch_id
    ]
    consenting = set(
        Consent.objects.filter(
            member_id__in=[request.member_id for request in waiting],
            purpose=Consent.Purpose.CARD_VENDOR,
            withdrawn_on__isnull=True,
        ).values_list("member_id", flat=True)
    ) if waiting else set()  # fmt: skip
    for request in requests:
        request.batch_hold = ""
    for request in waiting:
        request.batch_hold = card_request_batch_hold(
            member_status=request.member.status, processing_blocked_on=request.member.processing_blocked_on,
            vendor_consent=request.member_id in consenting,
        ) or ""  # fmt: skip
    return requests


@dataclass(frozen=True)
class CardRequestFilters:
    """Which requests awaiting a decision a bulk approval takes: an organisation's subtree, the days they were made,
    and at most up to the last request the user was shown (one made after the confirmation is not approved)."""

    organization_id: int | None = None
    requested_from: datetime.date | None = None
    requested_to: datetime.date | None = None
    last_id: int | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def card_requests_awaiting_decision(*, user: User, filters: CardRequestFilters) -> QuerySet[CardRequest]:
    """Requests in the status «Запрошен» of the user's subtree (or of one organisation's subtree inside it)."""
    root = scope_root_of(user)
    if root is not None and filters.organization_id is not None:
        root = orgs_visible_to(user).filter(pk=filters.organization_id).only("path", "depth").first()
    qs = _card_requests_of_subtree(root).filter(status=CardRequest.Status.REQUESTED)
    if filters.requested_from:
        qs = qs.filter(requested_at__gte=_day_start(filters.requested_from))
    if filters.requested_to:
        qs = qs.filter(requested_at__lt=_day_start(filters.requested_to + datetime.timedelta(days=1)))
    if filters.last_id is not None:
        qs = qs.filter(pk__lte=filters.last_id)
    return qs


def card_request_queue(*, user: User, filters: CardRequestFilters) -> QuerySet[CardRequest]:
    """The queue page of regional staff: requests awaiting a decision, filtered, oldest first."""
    return (
        card_requests_awaiting_decision(user=user, filters=filters)
        .select_related("member", "member__organization", "requested_by")
        .order_by("requested_at", "id")
    )


@dataclass(frozen=True)
class ApprovalPreview:
    """What the confirmation of a bulk approval shows before anything is written."""

    count: int
    with_card: int  # members who already hold a valid card: they keep its number
    last_id: int | None
    organizations: list[tuple[str, int]]  # the organisations with the most requests, with their numbers
    more_organizations: int
    without_vendor_consent: int = 0  # refused for want of the consent to the vendor: they stay in the queue

    @property
    def new_numbers(self) -> int:
        return self.count - self.with_card


APPROVAL_PREVIEW_ORGANIZATIONS = 8


def card_requests_approval_preview(
    *, user: User, filters: CardRequestFilters, ids: list[int] | None = None
) -> ApprovalPreview:
    requests = card_requests_awaiting_decision(user=user, filters=filters)
    if ids is not None:
        requests = requests.filter(pk__in=ids)
    valid_card = Card.objects.filter(member=OuterRef("member_id"), status=Card.Status.ACTIVE)
    totals = requests.annotate(
        has_card=Exists(valid_card), vendor_consent=consent_valid(Consent.Purpose.CARD_VENDOR, member_field="member_id")
    ).aggregate(
        count=Count("id"), with_card=Count("id", filter=Q(has_card=True)), last_id=Max("id"),
        without_vendor_consent=Count("id", filter=Q(vendor_consent=False)),
    )  # fmt: skip
    per_org = list(
        requests.values_list("organization_id").annotate(waiting=Count("id")).order_by("-waiting", "organization_id")
    )  # fmt: skip
    top = per_org[:APPROVAL_PREVIEW_ORGANIZATIONS]
    names = Organization.objects.in_bulk([org_id for org_id, _waiting in top])
    return ApprovalPreview(
        count=totals["count"], with_card=totals["with_card"], last_id=totals["last_id"],
        organizations=[(names[org_id].display_name, waiting) for org_id, waiting in top],
        more_organizations=max(len(per_org) - APPROVAL_PREVIEW_ORGANIZATIONS, 0),
        without_vendor_consent=totals["without_vendor_consent"],
    )  # fmt: skip


# Past this many organisations the filter's list keeps only the upper levels of the tree (a region, its locals).
QUEUE_ORG_CHOICES_LIMIT = 500


@dataclass(frozen=True)
class QueueOrganization:
    organization: Organization
    indent: int  # levels below the user's own organisation
    waiting: int  # requests awaiting a decision in its subtree


@dataclass(frozen=True)
class RequestQueueOverview:
    organizations: list[QueueOrganization]
    waiting: int  # requests awaiting a decision in the user's whole subtree

    def count_for(self, filters: CardRequestFilters) -> int | None:
        """How many requests the filters take, when the organisations' counts already tell it (no period chosen):
        the queue page then needs no count query of its own."""
        if filters.requested_from or filters.requested_to or filters.last_id is not None:
            return None
        if filters.organization_id is None:
            return self.waiting
        chosen = [item.waiting for item in self.organizations if item.organization.pk == filters.organization_id]
        return chosen[0] if chosen else None


def card_request_queue_overview(*, user: User) -> RequestQueueOverview:
    """What the queue's organisation filter offers: every organisation of the user's subtree that has requests
    awaiting a decision, with the organisations between it and the user's own, in tree order, each with the number
    waiting in its subtree; and the number waiting in all. Two queries, whatever the size of the queue."""
    own = user.organization
    if own is None:
        return RequestQueueOverview([], 0)
    per_org = list(
        card_requests_awaiting_decision(user=user, filters=CardRequestFilters())
        .values_list("organization__path")
        .annotate(waiting=Count("id"))
    )
    waiting: dict[str, int] = {}
    for path, count in per_org:
        for end in range(len(own.path) + PATH_SEGMENT_WIDTH, len(path) + 1, PATH_SEGMENT_WIDTH):
            waiting[path[:end]] = waiting.get(path[:end], 0) + count
    lengths = sorted({len(path) for path in waiting})
    while len(lengths) > 1 and sum(1 for path in waiting if len(path) <= lengths[-1]) > QUEUE_ORG_CHOICES_LIMIT:
        lengths.pop()
    kept = [path for path in waiting if len(path) <= lengths[-1]] if lengths else []
    organizations = Organization.objects.filter(path__in=kept).only("id", "name", "short_name", "path", "level")
    return RequestQueueOverview(
        organizations=[
            QueueOrganization(org, (len(org.path) - len(own.path)) // PATH_SEGMENT_WIDTH - 1, waiting[org.path])
            for org in organizations.order_by("path")
        ],
        waiting=sum(count for _path, count in per_org),
    )


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


# A build none of whose parts has finished for this long is taken for dead (its workers were killed).
CARD_BATCH_STALLED_AFTER = datetime.timedelta(minutes=15)


def card_batch_can_rebuild(batch: CardBatch) -> bool:
    """«Собрать заново»: a failed build at once, a build still «in progress» once nothing has moved for a while."""
    if batch.status == CardBatch.Status.FAILED:
        return True
    if batch.status != CardBatch.Status.BUILDING:
        return False
    last_part = batch.chunks.aggregate(last=Max("rendered_at"))["last"]
    moved = max(moment for moment in (last_part, batch.status_changed_at, batch.created_at) if moment)
    return timezone.now() - moved > CARD_BATCH_STALLED_AFTER
