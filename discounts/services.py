"""Every write of the discount programme: card checks, purchases and returns, the cashback ledger, API keys.

The cashback ledger is append-only (CashbackEntry); a member's CashbackAccount holds the running sums by bucket and
is changed only by `_ledger_post`, under the account row's lock, in the same transaction as the entries. So every
balance equals the sum of its entries, and two purchases of one member never race.
"""

import datetime
import hashlib
import hmac
import io
import logging
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from accounts.models import AccessLog, Role, User
from accounts.services import (
    AccountError,
    access_log_entry,
    access_log_write,
    changed_fields,
    invitation_send,
    invited_account_create,
)
from cards.models import Card
from cards.numbers import NUMBER_DIGITS, card_number_is_valid, card_number_masked
from cards.services import card_verification_key
from discounts.models import (
    CardCheck,
    CashbackAccount,
    CashbackEntry,
    Cashier,
    Partner,
    PartnerToken,
    PayoutBatch,
    PayoutLine,
    Purchase,
)
from discounts.money import cashback_for
from discounts.payouts import RegisterRow, register_csv
from discounts.selectors import user_manages_partner
from membership.models import Consent, Member
from membership.selectors import consent_valid
from registry.bulk import insert_without_waiting_for_the_disk
from registry.models import Organization
from registry.uploads import UploadRefused, image_opened


class DiscountError(Exception):
    """A refusal with the sentence the cashier or the partner's system reads, and a code the API returns."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# The largest single purchase the programme takes (10 million roubles): a typo of a cashier, not a purchase.
PURCHASE_AMOUNT_MAX = 1_000_000_000
RECEIPT_ID_PATTERN = re.compile(r"^[0-9A-Za-zА-Яа-яЁё._/#-]{1,64}$")


# --- which card was shown -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentedCard:
    """What the cashier or the partner's system read off a card: the plastic card's number or the QR's token."""

    card: Card | None
    masked: str  # what the logs may say about it


_DIGITS_ONLY = re.compile(r"[\s-]")
_TOKEN_IN_URL = re.compile(r"/v/([^/?#\s]+)/?(?:[?#].*)?$")


# What a till's answer needs of a card and its holder: a partner's call reads these columns of one row, not the
# member's forty.
_CARD_AT_THE_TILL = (
    "id", "number", "status", "member_id", "organization_id",
    "member__id", "member__first_name", "member__last_name", "member__status", "member__processing_blocked_on",
    "member__organization_id",
)  # fmt: skip


def _cards_at_the_till():
    """Cards with what the till needs of the holder, and whether the holder takes part in the partners' programme
    (a valid PARTNERS consent: 152-FZ, the partner learns the holder's name), folded into the same query."""
    return (
        Card.objects.select_related("member")
        .only(*_CARD_AT_THE_TILL)
        .annotate(partner_consent=consent_valid(Consent.Purpose.PARTNERS, member_field="member_id"))
    )


def card_by_number(number: str) -> Card | None:
    """The card with this number and what the till needs of its holder, in one indexed lookup."""
    try:
        # get() rather than first(): the number is unique, and first() would order by the card's default ordering.
        return _cards_at_the_till().get(number=number)
    except Card.DoesNotExist:
        return None


def card_by_verification_token(token: str) -> Card | None:
    """The card behind the virtual card's QR code, as card_by_number finds one by its number."""
    key = card_verification_key(token)
    if key is None:
        return None
    try:
        return _cards_at_the_till().get(verification_key=key)
    except Card.DoesNotExist:
        return None


def card_presented(text: str) -> PresentedCard:
    """Find the card behind what was scanned or typed: 16 digits (spaces and dashes allowed), the virtual card's QR
    (the verification address or its bare signed token). The Luhn digit is checked before any query, so a mistyped
    number never reaches the database."""
    text = (text or "").strip()
    if not text:
        raise DiscountError(_("Введите номер билета или отсканируйте его код."), code="card_missing")
    digits = _DIGITS_ONLY.sub("", text)
    if digits.isdigit():
        if len(digits) != NUMBER_DIGITS or not card_number_is_valid(digits):
            raise DiscountError(
                _("Номер билета набран с ошибкой: проверьте 16 цифр (контрольная цифра не сходится)."),
                code="card_number_invalid",
            )
        return PresentedCard(card=card_by_number(digits), masked=card_number_masked(digits))
    match = _TOKEN_IN_URL.search(text)
    token = match.group(1) if match else text
    card = card_by_verification_token(token)
    return PresentedCard(card=card, masked=card_number_masked(card.number) if card else "QR")


def card_state(card: Card | None) -> str:
    """valid / blocked / unknown, as the till sees it: a card is valid only while it is active and its holder is a
    member whose data may be processed and who consents to the partners' programme. Without that consent the
    partner gets the answer of a blocked card: why is none of its business (the member's cabinet says it)."""
    if card is None:
        return CardCheck.Result.UNKNOWN
    member = card.member
    if (
        card.is_active
        and member.status == Member.Status.ACTIVE
        and not member.processing_blocked_on
        and card.partner_consent
    ):
        return CardCheck.Result.VALID
    return CardCheck.Result.BLOCKED


def card_holder_shown(card: Card | None) -> str:
    """The only personal data a partner sees: the first name and the surname's initial."""
    if card is None:
        return ""
    member = card.member
    return f"{member.first_name} {member.last_name[:1]}." if member.last_name else member.first_name


@dataclass(frozen=True)
class CheckOutcome:
    state: str
    holder: str
    masked: str
    partner: Partner
    card_id: int | None = None  # the card found, for a purchase that follows (a page keeps the id, not the number)


def _partner_log(*, partner: Partner, by: User | None, token: PartnerToken | None, action: str, **details) -> None:
    """One access-log record per call of a cashier or a partner's system; card numbers only masked."""
    _partner_log_entry(partner=partner, by=by, token=token, action=action, **details).save(force_insert=True)


def _partner_log_entry(*, partner: Partner, by: User | None, token: PartnerToken | None, action: str, **details):
    if token is not None:
        details["token"] = token.prefix
    return access_log_entry(
        user=by,
        action=action,
        object_type="discounts.partner",
        object_id=str(partner.pk),
        object_repr=partner.name,
        details={"username": f"api:{token.prefix}" if token else "", **details},
    )


def _ensure_partner_active(partner: Partner, *, now: datetime.datetime) -> None:
    if not partner.is_active_on(timezone.localdate(now)):
        raise DiscountError(_("Партнёр сейчас не участвует в программе."), code="partner_inactive")


class _RefusalsLogged:
    """Write a refusal to the access log after the refused transaction has rolled back, so it stays there."""

    def __init__(self, *, partner: Partner, by: User | None, token: PartnerToken | None, action: str, **details):
        self.log = {"partner": partner, "by": by, "token": token, "action": action, **details}

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, DiscountError):
            _partner_log(**self.log, refused=error.code)
        return False


def card_check(
    *, partner: Partner, presented: str, by: User | None = None, token: PartnerToken | None = None, now=None
) -> CheckOutcome:
    """Answer "is this card valid here?" and record the check for anti-fraud and the access log."""
    with _RefusalsLogged(partner=partner, by=by, token=token, action=AccessLog.Action.VERIFY):
        return _card_check(partner=partner, presented=presented, by=by, token=token, now=now or timezone.now())


def _card_check(*, partner, presented, by, token, now) -> CheckOutcome:
    _ensure_partner_active(partner, now=now)
    shown = card_presented(presented)
    state = card_state(shown.card)
    # The check and its log line are written together, and without waiting for the disk: a verification is the
    # programme's most frequent call, and waiting for the flush would double its time (bench/partner_api.py).
    insert_without_waiting_for_the_disk(
        CardCheck(partner=partner, card=shown.card, result=state, checked_at=now),
        _partner_log_entry(
            partner=partner, by=by, token=token, action=AccessLog.Action.VERIFY, card=shown.masked, result=state
        ),
    )
    holder = card_holder_shown(shown.card) if state != CardCheck.Result.UNKNOWN else ""
    card_id = shown.card.pk if shown.card else None
    return CheckOutcome(state=state, holder=holder, masked=shown.masked, partner=partner, card_id=card_id)


# --- the ledger -----------------------------------------------------------------------------------------------------


def cashback_account_locked(member_id: int) -> CashbackAccount:
    """The member's account, created on first use, locked until the transaction ends."""
    CashbackAccount.objects.get_or_create(member_id=member_id)
    return CashbackAccount.objects.select_for_update().get(member_id=member_id)


def _ledger_post(
    account: CashbackAccount, *, kind: str, moves: dict[str, int], purchase=None, payout=None, now=None
) -> None:
    """Post entries (bucket → signed kopecks) to a locked account and move its sums by the same amounts."""
    now = now or timezone.now()
    entries = []
    for bucket, amount in moves.items():
        if amount == 0:
            continue
        setattr(account, bucket, getattr(account, bucket) + amount)
        entries.append(
            CashbackEntry(
                account=account, bucket=bucket, kind=kind, amount=amount, purchase=purchase, payout=payout,
                created_at=now,
            )
        )  # fmt: skip
    if entries:
        CashbackEntry.objects.bulk_create(entries)
        account.save(update_fields=list(moves))


# --- purchases ------------------------------------------------------------------------------------------------------


def purchase_fingerprint(*, card_id: int, amount: int) -> str:
    """What makes a retried call the same purchase: the same card and the same amount under one receipt id."""
    return hashlib.sha256(f"{card_id}:{amount}".encode()).hexdigest()


def _receipt_clean(receipt_id: str) -> str:
    receipt_id = (receipt_id or "").strip()
    if not RECEIPT_ID_PATTERN.match(receipt_id):
        raise DiscountError(
            _("Номер чека: от 1 до 64 знаков — цифры, буквы, точка, дефис, косая черта или #."), code="receipt_invalid"
        )
    return receipt_id


def _amount_clean(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise DiscountError(_("Сумма покупки указывается целым числом копеек."), code="amount_invalid")
    if amount <= 0:
        raise DiscountError(_("Сумма покупки должна быть больше нуля."), code="amount_invalid")
    if amount > PURCHASE_AMOUNT_MAX:
        raise DiscountError(_("Сумма покупки слишком велика: проверьте, не лишние ли цифры."), code="amount_invalid")
    return amount


def _ensure_within_daily_limits(*, partner: Partner, card: Card, amount: int, now: datetime.datetime) -> None:
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = Purchase.objects.filter(
        partner=partner, card=card, status=Purchase.Status.ACCEPTED, created_at__gte=day_start
    ).values_list("amount", flat=True)
    amounts = list(today)
    if partner.daily_purchases_per_card and len(amounts) >= partner.daily_purchases_per_card:
        raise DiscountError(
            _("По этому билету сегодня уже оформлено %(count)s покупок — это предел партнёра на день.")
            % {"count": len(amounts)},
            code="daily_count_limit",
        )
    if partner.daily_amount_per_card and sum(amounts) + amount > partner.daily_amount_per_card:
        raise DiscountError(
            _("Покупка превышает дневной предел суммы по одному билету у этого партнёра."), code="daily_amount_limit"
        )


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: Purchase
    created: bool  # False: the same receipt was recorded before, and this is its first result


def purchase_record(
    *,
    partner: Partner,
    presented: str,
    receipt_id: str,
    amount: int,
    channel: str,
    by: User | None = None,
    token: PartnerToken | None = None,
    now=None,
) -> PurchaseOutcome:
    """Record a purchase by a valid card and accrue its cashback as pending until the partner's hold ends.

    Idempotent by the partner's receipt id: the same receipt with the same card and amount gives back the first
    purchase (a retried call); the same receipt with anything else is refused as a duplicate."""
    refusals = _RefusalsLogged(
        partner=partner, by=by, token=token, action=AccessLog.Action.PURCHASE, receipt=str(receipt_id)[:64]
    )
    with refusals, transaction.atomic():
        outcome = _purchase_record(
            partner=partner, presented=presented, receipt_id=receipt_id, amount=amount, channel=channel, by=by,
            token=token, now=now or timezone.now(),
        )  # fmt: skip
        if not outcome.created:  # a retried call gets its own log line too
            _partner_log(
                partner=partner, by=by, token=token, action=AccessLog.Action.PURCHASE,
                receipt=outcome.purchase.receipt_id, purchase=outcome.purchase.pk, repeated=True,
            )  # fmt: skip
        return outcome


def _purchase_record(*, partner, presented, receipt_id, amount, channel, by, token, now) -> PurchaseOutcome:
    receipt_id = _receipt_clean(receipt_id)
    amount = _amount_clean(amount)
    _ensure_partner_active(partner, now=now)
    shown = card_presented(presented)
    card = shown.card
    if card is None:
        raise DiscountError(_("Билет с таким номером не найден."), code="card_unknown")
    account = cashback_account_locked(card.member_id)  # serialises this member's purchases: limits and ledger
    fingerprint = purchase_fingerprint(card_id=card.pk, amount=amount)
    earlier = Purchase.objects.filter(partner=partner, receipt_id=receipt_id).first()
    if earlier is not None:
        return _purchase_repeated(earlier, fingerprint=fingerprint, channel=channel)
    if card_state(card) != CardCheck.Result.VALID:
        raise _refusal_reason(card)
    _ensure_within_daily_limits(partner=partner, card=card, amount=amount, now=now)
    cashback = cashback_for(amount_kopecks=amount, rate_bp=partner.cashback_bp)
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                partner=partner, card=card, member_id=card.member_id, receipt_id=receipt_id, amount=amount,
                cashback_bp=partner.cashback_bp, cashback=cashback, channel=channel, recorded_by=by,
                created_at=now, hold_until=now + datetime.timedelta(days=partner.hold_days),
                request_fingerprint=fingerprint,
            )  # fmt: skip
    except IntegrityError:
        # Another card's purchase with this receipt id won the race (the same member's would have waited on the
        # account's lock): the receipt is taken.
        return _purchase_repeated(
            Purchase.objects.get(partner=partner, receipt_id=receipt_id), fingerprint=fingerprint, channel=channel
        )
    if cashback:
        _ledger_post(account, kind=CashbackEntry.Kind.ACCRUAL, moves={"pending": cashback}, purchase=purchase, now=now)
    _partner_log(
        partner=partner, by=by, token=token, action=AccessLog.Action.PURCHASE, card=shown.masked,
        receipt=receipt_id, purchase=purchase.pk, amount=amount,
    )  # fmt: skip
    return PurchaseOutcome(purchase=purchase, created=True)


def _purchase_repeated(earlier: Purchase, *, fingerprint: str, channel: str) -> PurchaseOutcome:
    if channel == Purchase.Channel.API and earlier.request_fingerprint == fingerprint:
        return PurchaseOutcome(purchase=earlier, created=False)
    raise DiscountError(
        _("Чек № %(receipt)s уже оформлен %(when)s.")
        % {"receipt": earlier.receipt_id, "when": timezone.localtime(earlier.created_at).strftime("%d.%m.%Y %H:%M")},
        code="duplicate_receipt",
    )


def _refusal_reason(card: Card) -> DiscountError:
    member = card.member
    if member.status != Member.Status.ACTIVE:
        return DiscountError(_("Владелец билета больше не состоит в Профсоюзе."), code="member_left")
    # A withdrawn consent (to processing or to the partners' programme) is the member's business, not the partner's:
    # word for word a blocked card's answer.
    return DiscountError(_("Билет заблокирован."), code="card_blocked")


def purchase_reverse(
    *, purchase: Purchase, by: User | None = None, token: PartnerToken | None = None, now=None
) -> Purchase:
    """A return: the partner takes the purchase back within the hold period and its pending cashback goes.
    Reversing a reversed purchase again gives it back unchanged (a retried call)."""
    refusals = _RefusalsLogged(
        partner=purchase.partner, by=by, token=token, action=AccessLog.Action.REVERSAL, receipt=purchase.receipt_id
    )
    with refusals, transaction.atomic():
        return _purchase_reverse(purchase=purchase, by=by, token=token, now=now or timezone.now())


def _purchase_reverse(*, purchase, by, token, now) -> Purchase:
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    if purchase.status == Purchase.Status.REVERSED:  # a retried call: its own log line, nothing else
        _partner_log(
            partner=purchase.partner, by=by, token=token, action=AccessLog.Action.REVERSAL,
            receipt=purchase.receipt_id, purchase=purchase.pk, repeated=True,
        )  # fmt: skip
        return purchase
    if purchase.confirmed_at is not None or now >= purchase.hold_until:
        raise DiscountError(
            _("Срок возврата истёк %(when)s: кешбэк по этой покупке уже подтверждён.")
            % {"when": timezone.localtime(purchase.hold_until).strftime("%d.%m.%Y %H:%M")},
            code="hold_expired",
        )
    account = cashback_account_locked(purchase.member_id)
    purchase.status = Purchase.Status.REVERSED
    purchase.reversed_at = now
    purchase.save(update_fields=["status", "reversed_at"])
    if purchase.cashback:
        _ledger_post(
            account, kind=CashbackEntry.Kind.REVERSAL, moves={"pending": -purchase.cashback}, purchase=purchase,
            now=now,
        )  # fmt: skip
    _partner_log(
        partner=purchase.partner, by=by, token=token, action=AccessLog.Action.REVERSAL,
        receipt=purchase.receipt_id, purchase=purchase.pk,
    )  # fmt: skip
    return purchase


CONFIRM_CHUNK = 1_000


def cashback_confirm_due(*, now=None) -> int:
    """Confirm the cashback of every purchase whose hold has ended (beat, hourly). Each chunk is its own
    transaction, so a crash leaves whole purchases confirmed or not, and a rerun goes on where it stopped."""
    now = now or timezone.now()
    confirmed = 0
    while True:
        with transaction.atomic():
            due = list(
                Purchase.objects.select_for_update(skip_locked=True)
                .filter(status=Purchase.Status.ACCEPTED, confirmed_at__isnull=True, hold_until__lte=now)
                .order_by("member_id", "id")[:CONFIRM_CHUNK]
            )
            if not due:
                return confirmed
            for purchase in due:
                if purchase.cashback:
                    account = cashback_account_locked(purchase.member_id)
                    _ledger_post(
                        account, kind=CashbackEntry.Kind.CONFIRMATION,
                        moves={"pending": -purchase.cashback, "confirmed": purchase.cashback},
                        purchase=purchase, now=now,
                    )  # fmt: skip
                purchase.confirmed_at = now
            Purchase.objects.bulk_update(due, ["confirmed_at"])
            confirmed += len(due)


# --- API keys -------------------------------------------------------------------------------------------------------

TOKEN_PREFIX_BYTES = 6


def _key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def partner_token_issue(*, partner: Partner, by: User, name: str = "") -> tuple[PartnerToken, str]:
    """A new API key for the partner. The key is returned once, to be shown once; only its hash is stored."""
    prefix = "pk_" + secrets.token_hex(TOKEN_PREFIX_BYTES)
    raw_key = f"{prefix}.{secrets.token_urlsafe(32)}"
    token = PartnerToken.objects.create(
        partner=partner, prefix=prefix, key_sha256=_key_digest(raw_key), name=name, created_by=by
    )
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=token, details={"partner": partner.pk})
    return token, raw_key


@transaction.atomic
def partner_token_revoke(*, token: PartnerToken, by: User) -> PartnerToken:
    token = PartnerToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        access_log_write(user=by, action=AccessLog.Action.DELETE, obj=token, details={"partner": token.partner_id})
        # Workers that hold the key in memory (partner_token_authenticate_remembered) see this mark on its next
        # call, in the same round trip as its rate limit, and ask the database again. Set before the commit: a
        # mark whose revocation rolls back costs those calls a query for a while, never a wrong answer.
        cache.set(partner_token_revoked_mark(token.pk), 1, timeout=API_KEY_MEMORY_SECONDS * 2)
    return token


@transaction.atomic
def partner_token_rotate(*, token: PartnerToken, by: User) -> tuple[PartnerToken, str]:
    """Replace a key: the new one works at once and the old one stops in the same transaction."""
    partner_token_revoke(token=token, by=by)
    return partner_token_issue(partner=token.partner, by=by, name=token.name)


# How long a worker keeps an accepted key (with its partner) in memory instead of reading it on every call. A
# revoked key stops at once (the mark above); an edit of the partner reaches verification within this time, while a
# purchase or a return reads the partner afresh.
API_KEY_MEMORY_SECONDS = 60
_keys_remembered: dict[str, tuple[float, PartnerToken]] = {}


def partner_token_revoked_mark(token_id: int) -> str:
    """The cache key that says a token was revoked."""
    return f"discounts:api-key-revoked:{token_id}"


def partner_token_authenticate_remembered(raw_key: str, *, now: float) -> PartnerToken | None:
    """partner_token_authenticate, remembered by this worker for API_KEY_MEMORY_SECONDS. The caller checks the
    revocation mark (partner_token_revoked_mark) and, when it is set, forgets the key and asks the database."""
    digest = _key_digest(raw_key or "")
    remembered = _keys_remembered.get(digest)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    token = partner_token_authenticate(raw_key)
    if token is not None:
        _keys_remembered[digest] = (now + API_KEY_MEMORY_SECONDS, token)
    else:
        _keys_remembered.pop(digest, None)
    return token


def partner_token_forget(token_id: int) -> None:
    for digest, (_until, token) in list(_keys_remembered.items()):
        if token.pk == token_id:
            _keys_remembered.pop(digest, None)


def partner_token_authenticate(raw_key: str) -> PartnerToken | None:
    """The active token whose key this is, with its partner; None for anything else (same answer either way)."""
    prefix, dot, _secret = (raw_key or "").partition(".")
    if not dot or not prefix.startswith("pk_") or len(prefix) > 16:
        return None
    try:
        # get(), not first(): the prefix is unique, and an ORDER BY would only cost the call its compiling.
        token = PartnerToken.objects.select_related("partner").get(prefix=prefix, revoked_at__isnull=True)
    except PartnerToken.DoesNotExist:
        return None
    if not hmac.compare_digest(token.key_sha256, _key_digest(raw_key)):
        return None
    return token


# --- monthly payouts ------------------------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
PAYOUT_PURPOSE = "Выплата кешбэка по дисконтной программе Профсоюза за {month:%m.%Y}. НДС не облагается"


def _ensure_central(by: User | None) -> None:
    """Payouts are central office's; `by=None` is the beat."""
    if by is not None and by.role != Role.CENTRAL:
        raise PermissionDenied


def _payout_log(*, by: User | None, batch: PayoutBatch, action: str, **details) -> None:
    access_log_write(user=by, action=action, obj=batch, details={"month": f"{batch.month:%Y-%m}", **details})


def payout_month_previous(*, today: datetime.date | None = None) -> datetime.date:
    """The first day of the month before `today`'s: the month the beat pays on the 1st."""
    first = (today or timezone.localdate()).replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def _ensure_month_unpaid(month: datetime.date) -> None:
    if PayoutBatch.objects.filter(month=month).exists():
        raise DiscountError(
            _("Реестр выплат за %(month)s уже сформирован.") % {"month": f"{month:%m.%Y}"}, code="payout_exists"
        )


@transaction.atomic
def payout_batch_form(*, month: datetime.date, by: User | None, now=None) -> PayoutBatch:
    """Сформировать реестр выплат за месяц: every account with at least CASHBACK_PAYOUT_MINIMUM confirmed and a
    payout phone gets a line for its whole confirmed balance, moved confirmed → paid in the ledger in this same
    transaction. Accounts without payout details are skipped (counted on the batch) and wait for the next month;
    so do members who withdrew their consent, whose names may not go to a bank. One batch a month. The register
    file is built afterwards by the `payout_batch_build` task."""
    _ensure_central(by)
    now = now or timezone.now()
    month = month.replace(day=1)
    if month > timezone.localdate(now).replace(day=1):
        raise DiscountError(_("Реестр за месяц, который ещё не начался, сформировать нельзя."), code="payout_future")
    _ensure_month_unpaid(month)
    due = CashbackAccount.objects.filter(
        confirmed__gte=max(settings.CASHBACK_PAYOUT_MINIMUM, 1), member__processing_blocked_on__isnull=True
    )
    skipped = due.filter(payout_phone="").count()
    # Locked in member order, as cashback_confirm_due locks them, so the two never wait on each other in a circle.
    accounts = list(due.exclude(payout_phone="").select_for_update(of=("self",)).order_by("member_id"))
    # A forming of the same month that held these locks has committed meanwhile: its batch is what we waited for.
    _ensure_month_unpaid(month)
    if not accounts:
        raise DiscountError(
            _("Выплачивать некому: ни у кого нет подтверждённого кешбэка от %(minimum)s ₽ с телефоном для выплат "
              "(без реквизитов: %(skipped)s).")
            % {"minimum": settings.CASHBACK_PAYOUT_MINIMUM // 100, "skipped": skipped},
            code="payout_nothing",
        )  # fmt: skip
    try:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(month=month, created_by=by, status_changed_at=now)
    except IntegrityError as error:  # another forming of the same month committed first
        raise DiscountError(
            _("Реестр выплат за %(month)s уже сформирован.") % {"month": f"{month:%m.%Y}"}, code="payout_exists"
        ) from error
    lines = PayoutLine.objects.bulk_create(
        PayoutLine(
            batch=batch, account=account, amount=account.confirmed, payout_phone=account.payout_phone,
            payout_bank=account.payout_bank,
        )
        for account in accounts
    )  # fmt: skip
    for account, line in zip(accounts, lines, strict=True):
        _ledger_post(
            account, kind=CashbackEntry.Kind.PAYOUT, moves={"confirmed": -line.amount, "paid": line.amount},
            payout=line, now=now,
        )  # fmt: skip
    batch.line_count, batch.total, batch.skipped_count = len(lines), sum(line.amount for line in lines), skipped
    batch.save(update_fields=["line_count", "total", "skipped_count"])
    _payout_log(
        by=by, batch=batch, action=AccessLog.Action.CREATE, lines=batch.line_count, total=batch.total,
        skipped=skipped,
    )  # fmt: skip
    return batch


def payout_monthly_form(*, today: datetime.date | None = None) -> PayoutBatch | None:
    """The beat's payout on the 1st: the previous month's batch, unless it is there already or nobody is due
    (then nothing happens, and a second run does nothing either)."""
    month = payout_month_previous(today=today)
    if PayoutBatch.objects.filter(month=month).exists():
        return None
    try:
        return payout_batch_form(month=month, by=None)
    except DiscountError as error:
        logger.info("Payout batch for %s not formed: %s", f"{month:%Y-%m}", error.code)
        return None


def _register_rows(batch: PayoutBatch):
    lines = (
        batch.lines.exclude(status=PayoutLine.Status.RETURNED)
        .order_by("id")
        .values_list(
            "id", "account__member__last_name", "account__member__first_name", "account__member__middle_name",
            "payout_phone", "payout_bank", "amount",
        )
    )  # fmt: skip
    for values in lines.iterator(chunk_size=2_000):
        yield RegisterRow(*values)


def payout_batch_build(*, batch_id: int) -> PayoutBatch:
    """Write the batch's register file to the default storage; building → ready, or failed with what went wrong.
    Safe to run again: a batch that is no longer building is left as it is."""
    batch = PayoutBatch.objects.get(pk=batch_id)
    if batch.status != PayoutBatch.Status.BUILDING:
        return batch
    try:
        content = register_csv(
            month=batch.month, rows=_register_rows(batch), purpose=PAYOUT_PURPOSE.format(month=batch.month)
        )
        with transaction.atomic():
            batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status != PayoutBatch.Status.BUILDING:
                return batch
            batch.register_file.save(f"reestr-vyplat-{batch.month:%Y-%m}.csv", ContentFile(content), save=False)
            batch.register_sha256 = hashlib.sha256(content).hexdigest()
            batch.status, batch.status_changed_at, batch.failure = PayoutBatch.Status.READY, timezone.now(), ""
            batch.save(update_fields=["register_file", "register_sha256", "status", "status_changed_at", "failure"])
    except Exception as error:
        # A job never ends in "building": the batch says what failed, the log keeps the traceback, and central
        # office can build the register again (the money moved at forming, not here).
        logger.exception("Payout register of batch %s failed", batch_id)
        return _payout_batch_failed(batch_id=batch_id, failure=f"{type(error).__name__}: {error}")
    return batch


@transaction.atomic
def _payout_batch_failed(*, batch_id: int, failure: str) -> PayoutBatch:
    batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status == PayoutBatch.Status.BUILDING:
        batch.status, batch.status_changed_at = PayoutBatch.Status.FAILED, timezone.now()
        batch.failure = _("Не удалось записать файл реестра: %(error)s") % {"error": failure[:500]}
        batch.save(update_fields=["status", "status_changed_at", "failure"])
    return batch


def payout_batch_build_unqueued(*, batch_id: int) -> None:
    """The register's build could not be queued (Redis down): the batch fails at once with the reason instead of
    waiting for a build that will never come; central office builds it again once the queue is back. The money
    moved at forming stays moved."""
    PayoutBatch.objects.filter(pk=batch_id, status=PayoutBatch.Status.BUILDING).update(
        status=PayoutBatch.Status.FAILED, status_changed_at=timezone.now(),
        failure=_("Файл реестра не записан: очередь фоновых задач была недоступна. Нажмите «Собрать реестр заново»."),
    )  # fmt: skip


@transaction.atomic
def payout_batch_rebuild(*, batch: PayoutBatch, by: User) -> PayoutBatch:
    """After a failed build: back to building, for the task to write the register again."""
    _ensure_central(by)
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != PayoutBatch.Status.FAILED:
        raise DiscountError(_("Собрать заново можно только реестр, при формировании которого был сбой."),
                            code="payout_not_failed")  # fmt: skip
    batch.status, batch.status_changed_at = PayoutBatch.Status.BUILDING, timezone.now()
    batch.save(update_fields=["status", "status_changed_at"])
    _payout_log(by=by, batch=batch, action=AccessLog.Action.CHANGE, status=batch.status)
    return batch


@transaction.atomic
def payout_batch_advance(*, batch: PayoutBatch, by: User) -> PayoutBatch:
    """Отметить: реестр отправлен в банк → исполнен банком. When the bank has paid, the lines not returned are
    paid."""
    _ensure_central(by)
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    next_status = PayoutBatch.NEXT_STATUS.get(batch.status)
    if next_status is None:
        raise DiscountError(
            _("Реестр в статусе «%(status)s»: следующего шага нет.") % {"status": batch.get_status_display()},
            code="payout_no_next_status",
        )
    batch.status, batch.status_changed_at = next_status, timezone.now()
    batch.save(update_fields=["status", "status_changed_at"])
    if next_status == PayoutBatch.Status.PAID:
        batch.lines.filter(status=PayoutLine.Status.INCLUDED).update(status=PayoutLine.Status.PAID)
    _payout_log(by=by, batch=batch, action=AccessLog.Action.CHANGE, status=next_status)
    return batch


@transaction.atomic
def payout_line_return(*, line: PayoutLine, by: User, now=None) -> PayoutLine:
    """The bank returned a payment (wrong phone, closed account): the money goes back paid → confirmed and waits
    for the next month's register."""
    _ensure_central(by)
    line = PayoutLine.objects.select_for_update(of=("self",)).select_related("batch").get(pk=line.pk)
    if line.batch.status not in (PayoutBatch.Status.SENT, PayoutBatch.Status.PAID):
        raise DiscountError(_("Вернуть можно только выплату из реестра, отправленного в банк."),
                            code="payout_not_sent")  # fmt: skip
    if line.status == PayoutLine.Status.RETURNED:
        raise DiscountError(_("Эта выплата уже отмечена как вернувшаяся."), code="payout_line_returned")
    account = CashbackAccount.objects.select_for_update().get(pk=line.account_id)
    line.status = PayoutLine.Status.RETURNED
    line.save(update_fields=["status"])
    _ledger_post(
        account, kind=CashbackEntry.Kind.PAYOUT_RETURNED, moves={"paid": -line.amount, "confirmed": line.amount},
        payout=line, now=now,
    )  # fmt: skip
    _payout_log(by=by, batch=line.batch, action=AccessLog.Action.CHANGE, returned_line=line.pk, amount=line.amount)
    return line


def payout_batch_download_log(*, batch: PayoutBatch, by: User) -> None:
    """The register holds members' names and phones: its every download is an export in the 152-FZ log."""
    _payout_log(by=by, batch=batch, action=AccessLog.Action.EXPORT, lines=batch.line_count)


# --- the cashier's page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CashierCheck:
    outcome: CheckOutcome
    card_id: int | None  # the valid card, for the purchase that follows; the page keeps the id, never the number


def cashier_card_check(*, partner: Partner, presented: str, by: User) -> CashierCheck:
    """A check from the cashier's page: card_check, and which card it was when it is valid here."""
    outcome = card_check(partner=partner, presented=presented, by=by)
    return CashierCheck(outcome=outcome, card_id=outcome.card_id if outcome.state == CardCheck.Result.VALID else None)


def cashier_purchase_record(
    *, partner: Partner, card_id: int, receipt_id: str, amount: int, by: User
) -> PurchaseOutcome:
    """A purchase from the cashier's page by the card checked before it (kept by id between the two pages)."""
    number = Card.objects.filter(pk=card_id).values_list("number", flat=True).first()
    if number is None:
        raise DiscountError(_("Билет не найден: проверьте его ещё раз."), code="card_unknown")
    return purchase_record(
        partner=partner, presented=number, receipt_id=receipt_id, amount=amount, channel=Purchase.Channel.CASHIER,
        by=by,
    )  # fmt: skip


# --- a member's payout details --------------------------------------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s()\-.\u00a0]")


def payout_phone_normalised(text: str) -> str:
    """A Russian mobile number as the Faster Payments System (СБП) takes it, +7XXXXXXXXXX, from the ways people
    write it: "8 (912) 345-67-89", "+7 912 345 67 89", "9123456789"."""
    digits = _PHONE_PUNCTUATION.sub("", text or "")
    if digits.startswith("+7"):
        digits = digits[2:]
    elif len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10 or not digits.isdigit() or digits[0] != "9":
        raise DiscountError(
            _("Укажите номер мобильного телефона, к которому привязан банк в СБП: +7 9XX XXX-XX-XX."),
            code="payout_phone_invalid",
        )
    return f"+7{digits}"


PAYOUT_BANK_MAX = 100


@transaction.atomic
def cashback_payout_details_update(*, member: Member, by: User, phone: str, bank: str) -> CashbackAccount:
    """The member sets where cashback is paid: a phone for СБП and the bank. Both empty stops the payouts."""
    if getattr(by, "member", None) != member:
        raise PermissionDenied
    if member.processing_blocked_on:
        raise DiscountError(_("Согласие на обработку данных отозвано: реквизиты не сохраняются."), code="blocked")
    phone, bank = (phone or "").strip(), " ".join((bank or "").split())
    if phone or bank:
        if not phone or not bank:
            raise DiscountError(_("Укажите и телефон, и банк — по ним придёт выплата."), code="payout_details_missing")
        phone = payout_phone_normalised(phone)
        if len(bank) > PAYOUT_BANK_MAX:
            raise DiscountError(_("Название банка — не длиннее 100 знаков."), code="payout_bank_invalid")
    account = cashback_account_locked(member.pk)
    changed = [
        name for name, value in (("payout_phone", phone), ("payout_bank", bank)) if getattr(account, name) != value
    ]
    if changed:
        account.payout_phone, account.payout_bank = phone, bank
        account.save(update_fields=changed)
        # The log says which details changed, not the phone itself.
        access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"cashback_payout": changed})
    return account


# --- the partner API's own log records ------------------------------------------------------------------------------

_API_KEY_HEAD = re.compile(r"^pk_[0-9a-f]{1,13}$")
_LONG_DIGITS = re.compile(r"\d{12,}")


def partner_api_read_log(*, token: PartnerToken, read: str, **details) -> None:
    """An API call that only reads the partner's own purchases, logged like its writes: by the key that made it."""
    _partner_log(partner=token.partner, by=None, token=token, action=AccessLog.Action.VIEW, read=read, **details)


def partner_api_call_refused_log(*, token: PartnerToken, action: str, code: str, **details) -> None:
    """A call of a valid key refused before any service took it (a body the schema rejects, a receipt id the partner
    does not have): logged as the services log their own refusals, so that every call leaves its line. The details
    are the caller's text: a run of digits as long as a card number's is masked like one."""
    details = {key: _long_digits_masked(value) if isinstance(value, str) else value for key, value in details.items()}
    _partner_log(partner=token.partner, by=None, token=token, action=action, refused=code, **details)


def _long_digits_masked(text: str) -> str:
    return _LONG_DIGITS.sub(lambda found: card_number_masked(found.group()), text)


def partner_api_key_refused_log(*, presented: str, path: str, ip_address: str | None = None) -> None:
    """A call with no key, a wrong one or a revoked one: a partner system's failed sign-in. Only the key's public
    head is kept, and only when it looks like one; never the secret."""
    head = presented.strip().rpartition(" ")[2].partition(".")[0]
    # A path is the caller's text too.
    path = _long_digits_masked(path)[:200]
    access_log_write(
        user=None,
        action=AccessLog.Action.LOGIN_FAILED,
        object_type="discounts.partnertoken",
        details={"username": f"api:{head}" if _API_KEY_HEAD.match(head) else "api", "path": path},
        ip_address=ip_address,
    )


# --- partners, their logos and cashiers (the staff's pages) ---------------------------------------------------------

# What a partner's card says, as the staff edit it; the places it is valid and who manages it are checked apart.
PARTNER_FIELDS = frozenset(
    {
        "name", "category", "description", "terms", "discount_bp", "cashback_bp", "promo_code", "online_url",
        "active_from", "active_until", "hold_days", "daily_purchases_per_card", "daily_amount_per_card",
    }
)  # fmt: skip
LOGO_MAX_BYTES = 5 * 1024 * 1024
# More pixels than this is no logo: a mistake, or a decompression bomb (a small file that unpacks to gigabytes).
LOGO_MAX_PIXELS = 4096 * 4096
LOGO_BOX = (400, 400)
# Only these decoders ever see an uploaded file: Pillow's rarer ones are not offered untrusted input.
LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


@dataclass(frozen=True)
class PreparedLogo:
    """A logo that passed partner_logo_prepare: decoded, fitted into LOGO_BOX and re-encoded as WebP."""

    content: bytes
    width: int
    height: int
    extension: str = "webp"


def partner_logo_prepare(upload) -> PreparedLogo:
    """Check an uploaded logo by what it contains, not by its name, and make the picture the site will serve: the
    first frame, turned upright by its EXIF, fitted into 400 × 400 keeping its proportions, re-encoded as WebP (so
    no metadata or anything hidden after the image survives)."""
    not_an_image = DiscountError(
        _("Файл не похож на изображение: загрузите логотип в формате PNG, JPEG, WebP или GIF."), code="logo_invalid"
    )
    too_large = DiscountError(
        _("Изображение слишком большое: не больше %(pixels)s мегапикселей (например, 4096 × 4096 точек).")
        % {"pixels": LOGO_MAX_PIXELS // 1_000_000},
        code="logo_too_large",
    )
    if getattr(upload, "size", 0) and upload.size > LOGO_MAX_BYTES:
        raise DiscountError(_("Файл логотипа больше 5 МБ."), code="logo_too_large")
    try:
        with image_opened(upload, formats=LOGO_FORMATS, max_pixels=LOGO_MAX_PIXELS) as image:
            picture = ImageOps.exif_transpose(image)
            has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
            picture = picture.convert("RGBA" if has_alpha else "RGB")
            picture.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
            encoded = io.BytesIO()
            picture.save(encoded, "WEBP", quality=90)
    except UploadRefused as refusal:
        raise (too_large if refusal.reason == "too_large" else not_an_image) from None
    return PreparedLogo(content=encoded.getvalue(), width=picture.width, height=picture.height)


def _partner_logo_store(partner: Partner, logo) -> None:
    """Put the prepared logo into storage under a fresh name (a new name also ends any cached copy)."""
    if not isinstance(logo, PreparedLogo):
        logo = partner_logo_prepare(logo)
    partner.logo.save(f"{secrets.token_hex(8)}.{logo.extension}", ContentFile(logo.content), save=False)


def _storage_delete_on_commit(field_file, name: str) -> None:
    if name:
        storage = field_file.storage
        transaction.on_commit(lambda: storage.delete(name))


def _ensure_manages_partner(by: User, partner: Partner) -> None:
    if not user_manages_partner(by, partner):
        raise DiscountError(_("Этим партнёром ведает другая организация."), code="forbidden")


def _partner_scope_check(*, by: User, managed_by: Organization | None, regions, is_union_wide: bool) -> None:
    """Who may manage a partner and where it may be valid: central office anything; a regional organisation's
    staff only partners it manages itself, valid in its own region only."""
    if by.role == Role.CENTRAL:
        if managed_by is not None and managed_by.level != Organization.Level.REGIONAL:
            raise DiscountError(_("Вести партнёра может только региональная организация."), code="partner_scope")
    elif not (by.role == Role.REGIONAL and managed_by is not None and managed_by.pk == by.organization_id):
        raise DiscountError(_("Этим партнёром ведает другая организация."), code="forbidden")
    if is_union_wide:
        if managed_by is not None:
            raise DiscountError(
                _("Партнёр во всех регионах — партнёр центрального аппарата; региональная организация ведёт только "
                  "партнёров своего региона."),
                code="partner_scope",
            )  # fmt: skip
        return
    if not regions:
        raise DiscountError(
            _("Укажите регионы, где действует партнёр, или отметьте «во всех регионах»."), code="partner_regions"
        )
    if managed_by is not None and any(region.pk != managed_by.region_id for region in regions):
        raise DiscountError(
            _("Партнёр региональной организации действует только в её регионе (%(region)s).")
            % {"region": managed_by.region or "—"},
            code="partner_scope",
        )


def _partner_values_check(partner: Partner) -> None:
    try:
        partner.full_clean(exclude=["logo", "managed_by"], validate_constraints=False)
    except ValidationError as error:
        raise DiscountError(" ".join(error.messages), code="partner_invalid") from None
    if partner.active_until is not None and partner.active_until < partner.active_from:
        raise DiscountError(_("Дата окончания участия раньше даты начала."), code="partner_period")
    if not partner.discount_bp and not partner.cashback_bp:
        raise DiscountError(_("Укажите скидку или кешбэк: без них партнёру нечего предложить."), code="partner_terms")


def _region_codes(regions) -> str:
    return ", ".join(sorted(region.code for region in regions)) or "—"


@transaction.atomic
def partner_create(
    *, by: User, managed_by: Organization | None, regions=(), is_union_wide: bool = False, logo=None, **fields
) -> Partner:
    """A new partner of the programme. `fields` are PARTNER_FIELDS; `logo` an upload or a PreparedLogo."""
    unknown = set(fields) - PARTNER_FIELDS
    if unknown:
        raise TypeError(f"not partner fields: {sorted(unknown)}")
    regions = [] if is_union_wide else list(regions)
    _partner_scope_check(by=by, managed_by=managed_by, regions=regions, is_union_wide=is_union_wide)
    partner = Partner(managed_by=managed_by, is_union_wide=is_union_wide, **fields)
    _partner_values_check(partner)
    if logo is not None:
        _partner_logo_store(partner, logo)
    partner.save()
    partner.regions.set(regions)
    access_log_write(
        user=by,
        action=AccessLog.Action.CREATE,
        obj=partner,
        details={"regions": "все" if is_union_wide else _region_codes(regions)},
    )
    return partner


@transaction.atomic
def partner_update(
    *,
    partner: Partner,
    by: User,
    managed_by: Organization | None,
    regions=(),
    is_union_wide: bool = False,
    logo=None,
    logo_clear: bool = False,
    **fields,
) -> Partner:
    """Change a partner's card. Regional staff keep their own partners theirs: `managed_by` must stay their org."""
    unknown = set(fields) - PARTNER_FIELDS
    if unknown:
        raise TypeError(f"not partner fields: {sorted(unknown)}")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    _ensure_manages_partner(by, partner)
    regions = [] if is_union_wide else list(regions)
    _partner_scope_check(by=by, managed_by=managed_by, regions=regions, is_union_wide=is_union_wide)
    changes = changed_fields(partner, {**fields, "managed_by": managed_by, "is_union_wide": is_union_wide})
    old_regions = "все" if partner.is_union_wide else _region_codes(partner.regions.all())
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.managed_by = managed_by
    partner.is_union_wide = is_union_wide
    _partner_values_check(partner)
    old_logo = partner.logo.name
    if logo is not None:
        _partner_logo_store(partner, logo)
    elif logo_clear:
        partner.logo = ""
    if partner.logo.name != old_logo:
        changes["logo"] = [old_logo, partner.logo.name]
        _storage_delete_on_commit(partner.logo, old_logo)
    partner.save()
    partner.regions.set(regions)
    details = {"changes": changes}
    new_regions = "все" if is_union_wide else _region_codes(regions)
    if new_regions != old_regions:
        details["regions"] = f"{old_regions} → {new_regions}"
    if changes or "regions" in details:
        access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=partner, details=details)
    return partner


@transaction.atomic
def partner_deactivate(*, partner: Partner, by: User, today: datetime.date | None = None) -> Partner:
    """End the partner's participation today: from now on its cashiers and its API are refused. Purchases made
    before stay, and their cashback is confirmed or returned as usual."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    _ensure_manages_partner(by, partner)
    last_day = (today or timezone.localdate()) - datetime.timedelta(days=1)
    if partner.active_until is not None and partner.active_until <= last_day:
        return partner
    if partner.active_from > last_day:
        raise DiscountError(
            _("Участие партнёра начинается %(day)s: чтобы его отменить, измените даты участия в карточке партнёра.")
            % {"day": partner.active_from.strftime("%d.%m.%Y")},
            code="partner_not_started",
        )
    changes = changed_fields(partner, {"active_until": last_day})
    partner.active_until = last_day
    partner.save(update_fields=["active_until", "updated_at"])
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=partner, details={"changes": changes})
    return partner


@transaction.atomic
def partner_cashier_create(
    *,
    partner: Partner,
    by: User,
    username: str,
    last_name: str,
    first_name: str,
    email: str,
    site_url: str,
    middle_name: str = "",
) -> Cashier:
    """Open a cashier's account for the partner and e-mail a one-time link to set a password: nobody but the
    cashier ever knows it, and Django's password rules apply when it is set."""
    _ensure_manages_partner(by, partner)
    try:
        user = invited_account_create(
            username=username, last_name=last_name, first_name=first_name, middle_name=middle_name, email=email,
            role=Role.CASHIER,
        )  # fmt: skip
    except AccountError as error:
        raise DiscountError(error.message, code="username_taken") from None
    except ValidationError as error:
        raise DiscountError(" ".join(error.messages), code="cashier_invalid") from None
    cashier = Cashier.objects.create(user=user, partner=partner)
    access_log_write(
        user=by, action=AccessLog.Action.CREATE, obj=user, details={"role": Role.CASHIER, "partner": partner.pk}
    )
    transaction.on_commit(lambda: partner_cashier_send_invitation(cashier=cashier, site_url=site_url))
    return cashier


def partner_cashier_send_invitation(*, cashier: Cashier, site_url: str) -> None:
    """E-mail the cashier a one-time link (the password-reset token) with which to set a password."""
    user = cashier.user
    if not user.is_active or user.has_usable_password():
        raise DiscountError(_("Кассир уже задал пароль или его доступ закрыт."), code="cashier_invited")
    invitation_send(
        user=user, site_url=site_url, subject=_("Приглашение: страница кассира партнёра Профсоюза образования"),
        template_name="discounts/partner_cashier_invitation.txt", context={"partner": cashier.partner},
    )  # fmt: skip


@transaction.atomic
def partner_cashier_set_active(*, cashier: Cashier, by: User, active: bool) -> Cashier:
    """Close a cashier's access (the person left the shop) or open it again; purchases they recorded stay theirs."""
    _ensure_manages_partner(by, cashier.partner)
    user = User.objects.select_for_update().get(pk=cashier.user_id)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        access_log_write(
            user=by,
            action=AccessLog.Action.CHANGE,
            obj=user,
            details={"changes": {"is_active": [not active, active]}, "partner": cashier.partner_id},
        )
    cashier.user = user
    return cashier
