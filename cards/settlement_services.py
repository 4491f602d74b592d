"""Расчёты за пластиковые билеты: the vendor's price list, the batch's charge to its region, payments, the
region's recovery of the cost from its primary organisations, and the vendor's invoices.

Money is integer kopecks. The ledger (CardLedgerEntry) is append-only and holds no stored balance: a balance is
the sum of an account's entries, computed by the selectors, so there is nothing that could drift from them.
A batch's charge is written in the transaction that forms the batch, from the price list in force on that day,
and keeps its card count, unit price and amount: later price lists never move it.
"""

import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, Role, User
from accounts.services import access_log_write
from cards.models import (
    CardBatch,
    CardCharge,
    CardChargeLine,
    CardCostRecovery,
    CardLedgerEntry,
    CardPayment,
    CardPriceList,
    CardPriceTier,
    CardRequest,
    CardVendorInvoice,
    SettlementLedger,
)
from registry.models import PATH_SEGMENT_WIDTH, REGIONAL_DEPTH, Organization
from registry.money import roubles_text

REGION_PATH_LENGTH = PATH_SEGMENT_WIDTH * REGIONAL_DEPTH
# Above this a typed amount is a typo: a hundred million roubles for plastic cards.
AMOUNT_MAX = 10_000_000_000
# The tiers a price list version may have.
TIERS_MAX = 20
PAYMENT_EARLIEST = datetime.date(2000, 1, 1)


class SettlementError(DomainError):
    """A refusal about the cost of cards and payments for them."""


def region_of(org: Organization) -> str:
    """The path of the regional organisation above `org` (regions are the council's children)."""
    return org.path[:REGION_PATH_LENGTH]


def region_recovers_from_primaries(region: Organization) -> bool:
    return CardCostRecovery.objects.filter(region=region, from_primaries=True).exists()


def _ensure_central(by: User) -> None:
    if by.role != Role.CENTRAL:
        raise PermissionDenied


def _ensure_regional_of(by: User, region: Organization) -> None:
    if by.role != Role.REGIONAL or by.organization_id != region.pk:
        raise PermissionDenied


def _ensure_regional_org(org: Organization) -> None:
    if org.level != Organization.Level.REGIONAL:
        raise SettlementError(_("Расчёты за билеты ведутся с региональными организациями."))


# --- the price list -------------------------------------------------------------------------------------------------


def price_in_force(*, cards: int, on: datetime.date) -> tuple[CardPriceList, CardPriceTier] | None:
    """The version valid on `on` and its tier for a batch of `cards` cards; None if no version was valid yet."""
    price_list = CardPriceList.objects.filter(valid_from__lte=on).order_by("-valid_from").first()
    if price_list is None:
        return None
    tier = price_list.tiers.filter(min_cards__lte=cards).order_by("-min_cards").first()
    return (price_list, tier) if tier is not None else None


@transaction.atomic
def price_list_create(
    *, valid_from: datetime.date, tiers: list[tuple[int, int]], by: User, vendor: str = "", note: str = ""
) -> CardPriceList:
    """A new version of the vendor's prices: (from N cards, price per card in kopecks), the first from one card."""
    _ensure_central(by)
    tiers = sorted(tiers)
    if not tiers:
        raise SettlementError(_("Укажите хотя бы одну ступень: от скольких билетов и цену билета."))
    if len(tiers) > TIERS_MAX:
        raise SettlementError(_("Ступеней не может быть больше %(max)s.") % {"max": TIERS_MAX})
    if tiers[0][0] != 1:
        raise SettlementError(_("Первая ступень — «от 1 билета»: цена нужна для партии любого размера."))
    if len({min_cards for min_cards, _price in tiers}) != len(tiers):
        raise SettlementError(_("Две ступени начинаются с одного числа билетов."))
    if any(price <= 0 or price > AMOUNT_MAX for _min, price in tiers):
        raise SettlementError(_("Цена билета — больше нуля."))
    if CardPriceList.objects.filter(valid_from=valid_from).exists():
        raise SettlementError(
            _("Прейскурант с %(day)s уже есть: новая цена — новая версия с другой датой.")
            % {"day": f"{valid_from:%d.%m.%Y}"}
        )
    # A version slipped in before a charge that an older version priced would make that charge look wrong.
    overtaken = CardCharge.objects.filter(charged_on__gte=valid_from, price_list__valid_from__lt=valid_from)
    if overtaken.exists():
        raise SettlementError(
            _("С %(day)s партии уже начислены по прежнему прейскуранту: задним числом цену не изменить. "
              "Укажите более позднюю дату.") % {"day": f"{valid_from:%d.%m.%Y}"}
        )  # fmt: skip
    price_list = CardPriceList.objects.create(
        valid_from=valid_from, vendor=vendor.strip(), note=note.strip(), created_by=by
    )
    CardPriceTier.objects.bulk_create(
        CardPriceTier(price_list=price_list, min_cards=min_cards, unit_price=price) for min_cards, price in tiers
    )
    access_log_write(
        user=by, action=AccessLog.Action.CREATE, obj=price_list, organization_path=by.organization.path,
        details={"valid_from": valid_from.isoformat(), "tiers": [list(tier) for tier in tiers]},
    )  # fmt: skip
    return price_list


@transaction.atomic
def price_list_delete(*, price_list: CardPriceList, by: User) -> None:
    """A version entered by mistake goes away only while no batch was charged by it."""
    _ensure_central(by)
    if price_list.charges.exists():
        raise SettlementError(_("По этому прейскуранту уже начислены партии: его нельзя удалить."))
    access_log_write(
        user=by, action=AccessLog.Action.DELETE, obj=price_list, organization_path=by.organization.path,
        details={"valid_from": price_list.valid_from.isoformat()},
    )  # fmt: skip
    price_list.delete()


# --- charges --------------------------------------------------------------------------------------------------------


def _cards_by_region_and_primary(batch: CardBatch) -> dict[str, dict[int, int]]:
    """{regional path: {primary organisation id: cards}}: each request of the batch is one card, counted for the
    member's primary organisation (a профбюро's member for the ППО above it) as the member stands at forming."""
    rows = list(
        CardRequest.objects.filter(batch=batch)
        .values_list("member__organization_id", "member__organization__path", "member__organization__level")
        .annotate(cards=Count("id"))
        .order_by()
    )
    # Units hang under their ППО: the deepest primary organisation above a unit is the one that pays for it.
    prefixes = {
        path[:end] for _id, path, level, _n in rows if level != Organization.Level.PRIMARY
        for end in range(PATH_SEGMENT_WIDTH, len(path), PATH_SEGMENT_WIDTH)
    }  # fmt: skip
    primaries = dict(
        Organization.objects.filter(path__in=prefixes, level=Organization.Level.PRIMARY).values_list("path", "id")
    )
    result: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for org_id, path, level, cards in rows:
        payer = org_id
        if level != Organization.Level.PRIMARY:
            above = [prefix for prefix in primaries if path.startswith(prefix)]
            payer = primaries[max(above, key=len)] if above else org_id
        result[path[:REGION_PATH_LENGTH]][payer] += cards
    return result


def _lines_pass_on(charge: CardCharge, *, by: User, now: datetime.datetime) -> None:
    """Charge each primary organisation its line of the region's charge."""
    CardLedgerEntry.objects.bulk_create(
        CardLedgerEntry(
            ledger=SettlementLedger.PRIMARY, account_id=line.organization_id, region_id=charge.region_id,
            kind=CardLedgerEntry.Kind.CHARGE, amount=line.amount, occurred_on=charge.charged_on, charge=charge,
            charge_line=line, created_by=by,
        )
        for line in charge.lines.all()
    )  # fmt: skip
    charge.passed_on_at = now
    charge.save(update_fields=["passed_on_at"])


@transaction.atomic
def batch_charges_post(*, batch: CardBatch, by: User) -> list[CardCharge]:
    """Charge the batch's regions for its cards at the price in force on the forming day: one charge for every
    region whose members' cards are in the batch, with a line for each primary organisation.

    Called by card_batch_form in the same transaction; if no price list was in force that day, nothing is
    charged and central office charges the batch once the price list is entered. A batch is charged once.
    """
    if by.role not in (Role.CENTRAL, Role.REGIONAL) or not batch.organization.is_in_subtree_of(by.organization):
        raise PermissionDenied
    batch = CardBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
    if batch.charges.exists():
        return list(batch.charges.all())
    charges = batch_charges_write(batch=batch, by=by)
    if charges:
        access_log_write(
            user=by, action=AccessLog.Action.CREATE, object_type="cards.cardcharge", object_id=str(batch.pk),
            object_repr=f"Начисление за партию № {batch.pk}", organization_path=batch.organization.path,
            details={"charges": {str(charge.region_id): charge.amount for charge in charges},
                     "unit_price": charges[0].unit_price, "price_list": charges[0].price_list_id},
        )  # fmt: skip
    return charges


def batch_charges_write(*, batch: CardBatch, by: User) -> list[CardCharge]:
    """The writing part of batch_charges_post, for a batch that is locked and not charged yet (the demo seeding
    charges its backdated batches with it): charges, their lines and ledger entries, ППО entries where the region
    recovers the cost. Nothing if no price list was in force on the batch's day."""
    groups = _cards_by_region_and_primary(batch)
    batch_cards = sum(sum(by_primary.values()) for by_primary in groups.values())
    charged_on = timezone.localdate(batch.created_at)
    price = price_in_force(cards=batch_cards, on=charged_on)
    if price is None or batch_cards == 0:
        return []
    price_list, tier = price
    regions = dict(Organization.objects.filter(path__in=groups, depth=REGIONAL_DEPTH).values_list("path", "id"))
    recovering = set(
        CardCostRecovery.objects.filter(region_id__in=regions.values(), from_primaries=True).values_list(
            "region_id", flat=True
        )
    )
    now = timezone.now()
    charges = []
    for region_path, by_primary in sorted(groups.items()):
        if region_path not in regions:
            raise SettlementError(_("У членов Профсоюза в партии нет региональной организации: начислить некому."))
        cards = sum(by_primary.values())
        charge = CardCharge.objects.create(
            batch=batch, region_id=regions[region_path], price_list=price_list, batch_cards=batch_cards,
            tier_min_cards=tier.min_cards, cards=cards, unit_price=tier.unit_price, amount=cards * tier.unit_price,
            charged_on=charged_on, created_by=by,
        )  # fmt: skip
        CardChargeLine.objects.bulk_create(
            CardChargeLine(
                charge=charge, organization_id=org_id, cards=org_cards, unit_price=tier.unit_price,
                amount=org_cards * tier.unit_price,
            )
            for org_id, org_cards in sorted(by_primary.items())
        )  # fmt: skip
        CardLedgerEntry.objects.create(
            ledger=SettlementLedger.REGION, account_id=charge.region_id, region_id=charge.region_id,
            kind=CardLedgerEntry.Kind.CHARGE, amount=charge.amount, occurred_on=charged_on, charge=charge,
            created_by=by,
        )  # fmt: skip
        if charge.region_id in recovering:
            _lines_pass_on(charge, by=by, now=now)
        charges.append(charge)
    return charges


@transaction.atomic
def charge_pass_on(*, charge: CardCharge, by: User) -> CardCharge:
    """The region charges its primary organisations a batch that was formed before it began to recover the cost."""
    charge = CardCharge.objects.select_for_update().select_related("region").get(pk=charge.pk)
    _ensure_regional_of(by, charge.region)
    if charge.passed_on_at is not None:
        raise SettlementError(_("Это начисление уже предъявлено первичным организациям."))
    if not region_recovers_from_primaries(charge.region):
        raise SettlementError(_("Сначала включите возмещение стоимости билетов первичными организациями."))
    _lines_pass_on(charge, by=by, now=timezone.now())
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, obj=charge, organization_path=charge.region.path,
        details={"passed_on": charge.amount, "batch": charge.batch_id},
    )  # fmt: skip
    return charge


@transaction.atomic
def cost_recovery_set(*, region: Organization, from_primaries: bool, by: User) -> CardCostRecovery:
    """The region decides whether its primary organisations pay for their members' cards. It applies to batches
    formed from now on; earlier ones may be passed on one by one."""
    _ensure_regional_of(by, region)
    setting, _created = CardCostRecovery.objects.select_for_update().get_or_create(
        region=region, defaults={"changed_by": by, "from_primaries": from_primaries}
    )
    if not _created and setting.from_primaries != from_primaries:
        setting.from_primaries, setting.changed_by = from_primaries, by
        setting.save(update_fields=["from_primaries", "changed_by", "changed_at"])
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, obj=setting, organization_path=region.path,
        details={"from_primaries": from_primaries},
    )  # fmt: skip
    return setting


# --- payments -------------------------------------------------------------------------------------------------------


def _payment_clean(*, amount: int, paid_on: datetime.date, document: str, note: str) -> tuple[str, str]:
    if amount <= 0:
        raise SettlementError(_("Сумма оплаты — больше нуля."))
    if amount > AMOUNT_MAX:
        raise SettlementError(_("Слишком большая сумма: проверьте, не лишние ли цифры."))
    if paid_on > timezone.localdate():
        raise SettlementError(_("Дата оплаты ещё не наступила."))
    if paid_on < PAYMENT_EARLIEST:
        raise SettlementError(_("Проверьте дату оплаты."))
    return document.strip()[:64], note.strip()[:300]


def _payment_post(
    *, ledger: str, payer: Organization, region: Organization, amount: int, paid_on: datetime.date,
    document: str, note: str, by: User,
) -> CardPayment:  # fmt: skip
    document, note = _payment_clean(amount=amount, paid_on=paid_on, document=document, note=note)
    payment = CardPayment.objects.create(
        ledger=ledger, payer=payer, region=region, amount=amount, paid_on=paid_on, document=document, note=note,
        recorded_by=by,
    )  # fmt: skip
    CardLedgerEntry.objects.create(
        ledger=ledger, account=payer, region=region, kind=CardLedgerEntry.Kind.PAYMENT, amount=-amount,
        occurred_on=paid_on, payment=payment, created_by=by,
    )  # fmt: skip
    access_log_write(
        user=by, action=AccessLog.Action.CREATE, obj=payment, organization_path=payer.path,
        details={"amount": amount, "paid_on": paid_on.isoformat(), "document": document},
    )  # fmt: skip
    return payment


@transaction.atomic
def region_payment_record(
    *, region: Organization, amount: int, paid_on: datetime.date, by: User, document: str = "", note: str = ""
) -> CardPayment:
    """Central office records what a region paid the central council for its cards."""
    _ensure_central(by)
    _ensure_regional_org(region)
    return _payment_post(
        ledger=SettlementLedger.REGION, payer=region, region=region, amount=amount, paid_on=paid_on,
        document=document, note=note, by=by,
    )  # fmt: skip


@transaction.atomic
def primary_payment_record(
    *, primary: Organization, amount: int, paid_on: datetime.date, by: User, document: str = "", note: str = ""
) -> CardPayment:
    """Regional staff record what one of their primary organisations paid the region for its members' cards."""
    if by.role != Role.REGIONAL or not primary.is_in_subtree_of(by.organization):
        raise PermissionDenied
    if primary.level != Organization.Level.PRIMARY:
        raise SettlementError(_("Оплату за билеты вносят первичные организации."))
    region = by.organization
    has_account = CardLedgerEntry.objects.filter(ledger=SettlementLedger.PRIMARY, account=primary).exists()
    if not has_account and not region_recovers_from_primaries(region):
        raise SettlementError(_("Регион не возмещает стоимость билетов за счёт первичных организаций."))
    return _payment_post(
        ledger=SettlementLedger.PRIMARY, payer=primary, region=region, amount=amount, paid_on=paid_on,
        document=document, note=note, by=by,
    )  # fmt: skip


def user_can_record_payment(user: User, payment: CardPayment) -> bool:
    """Who records a payment also cancels it: central office the regions', the region its ППО's."""
    if payment.ledger == SettlementLedger.REGION:
        return user.role == Role.CENTRAL
    return user.role == Role.REGIONAL and user.organization_id == payment.region_id


@transaction.atomic
def payment_cancel(*, payment: CardPayment, reason: str, by: User) -> CardPayment:
    """A payment entered by mistake is reversed by an entry of its own; the ledger keeps both."""
    payment = CardPayment.objects.select_for_update().select_related("payer").get(pk=payment.pk)
    if not user_can_record_payment(by, payment):
        raise PermissionDenied
    if payment.is_cancelled:
        raise SettlementError(_("Эта оплата уже отменена."))
    reason = reason.strip()
    if not reason:
        raise SettlementError(_("Укажите причину отмены: её увидят в выписке."))
    payment.cancelled_at, payment.cancelled_by, payment.cancel_reason = timezone.now(), by, reason[:300]
    payment.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
    try:
        CardLedgerEntry.objects.create(
            ledger=payment.ledger, account_id=payment.payer_id, region_id=payment.region_id,
            kind=CardLedgerEntry.Kind.PAYMENT_CANCELLED, amount=payment.amount,
            occurred_on=timezone.localdate(payment.cancelled_at), payment=payment, created_by=by,
        )  # fmt: skip
    except IntegrityError:
        raise SettlementError(_("Эта оплата уже отменена.")) from None
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, obj=payment, organization_path=payment.payer.path,
        details={"cancelled": payment.amount, "reason": payment.cancel_reason},
    )  # fmt: skip
    return payment


# --- the vendor's invoices ------------------------------------------------------------------------------------------

INVOICE_MAX_BYTES = 10 * 1024 * 1024


def invoice_file_check(upload) -> None:
    """A vendor's invoice is a PDF of at most 10 MB, told by its first bytes, not by its name alone."""
    if upload.size > INVOICE_MAX_BYTES:
        raise SettlementError(_("Файл счёта больше 10 МБ."))
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head != b"%PDF-" or not upload.name.lower().endswith(".pdf"):
        raise SettlementError(_("Счёт прикладывается файлом PDF."))


@transaction.atomic
def vendor_invoice_save(
    *, batch: CardBatch, number: str, issued_on: datetime.date, amount: int, by: User, upload=None
) -> CardVendorInvoice:
    """Central office records (or corrects) the vendor's invoice for a batch it prepaid."""
    _ensure_central(by)
    number = number.strip()
    if not number:
        raise SettlementError(_("Укажите номер счёта."))
    if amount <= 0 or amount > AMOUNT_MAX:
        raise SettlementError(_("Сумма счёта — больше нуля."))
    if issued_on > timezone.localdate():
        raise SettlementError(_("Дата счёта ещё не наступила."))
    if upload is not None:
        invoice_file_check(upload)
    invoice = CardVendorInvoice.objects.select_for_update().filter(batch=batch).first()
    created = invoice is None
    if created:
        invoice = CardVendorInvoice(batch=batch)
    invoice.number, invoice.issued_on, invoice.amount, invoice.recorded_by = number[:64], issued_on, amount, by
    if upload is not None:
        old = invoice.file.name if invoice.file else ""
        invoice.file.save(f"batch-{batch.pk}-invoice.pdf", upload, save=False)
        if old:
            transaction.on_commit(lambda: invoice.file.storage.delete(old))
    invoice.save()
    access_log_write(
        user=by, action=AccessLog.Action.CREATE if created else AccessLog.Action.CHANGE, obj=invoice,
        organization_path=batch.organization.path,
        details={"batch": batch.pk, "number": invoice.number, "amount": amount, "file": bool(upload)},
    )  # fmt: skip
    return invoice


def settlement_export_log(*, by: User, org: Organization, what: str, fmt: str, period: str) -> None:
    """A statement or balance leaving the portal is an export in the access log, as every other download."""
    access_log_write(
        user=by, action=AccessLog.Action.EXPORT, obj=org, details={"settlement": what, "format": fmt, "period": period}
    )


def amount_text(kopecks: int) -> str:
    """For messages: "1 234,50 ₽"."""
    return f"{roubles_text(kopecks)} ₽"
