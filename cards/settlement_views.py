"""Расчёты за пластиковые билеты: central office's balance of every region, price list and vendor's invoices; a
region's statement with its breakdown by ППО and its "recover from ППО" setting; a ППО's own statement."""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import require_role
from accounts.models import Role
from cards import settlement_exports as exports
from cards import settlement_selectors as selectors
from cards import settlement_services as services
from cards.models import CardLedgerEntry, SettlementLedger
from cards.settlement_forms import (
    TIER_ROWS,
    PaymentCancelForm,
    PaymentForm,
    PeriodForm,
    PriceListForm,
    VendorInvoiceForm,
    roubles_input,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _period(request) -> tuple[PeriodForm, selectors.Period]:
    form = PeriodForm(request.GET or None)
    return form, form.period()


def _period_query(period: selectors.Period) -> str:
    params = {key: value.isoformat() for key, value in (("start", period.start), ("end", period.end)) if value}
    return urlencode(params)


def _period_presets() -> list[tuple[str, str]]:
    """Quick periods over the form: this year, last year, all time."""
    year = timezone.localdate().year
    return [
        (str(year), urlencode({"start": f"{year}-01-01", "end": f"{year}-12-31"})),
        (str(year - 1), urlencode({"start": f"{year - 1}-01-01", "end": f"{year - 1}-12-31"})),
        (_("всё время"), ""),
    ]


def _file(content: bytes, *, content_type: str, filename: str, readable: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(readable)}"
    return response


@require_role(*selectors.SETTLEMENT_ROLES)
def settlement_home(request):
    """The menu's one address: central office's balance, the region's statement, the ППО chair's own."""
    user = request.user
    if user.role == Role.CENTRAL:
        return redirect("cards:settlement_balance")
    if user.role == Role.REGIONAL:
        return redirect(
            "cards:settlement_region", pk=selectors.get_region_for_settlement(user, user.organization_id).pk
        )
    if selectors.chair_sees_statement(user):
        return redirect("cards:settlement_primary", pk=user.organization_id)
    raise Http404


# --- central office: every region -----------------------------------------------------------------------------------


@require_role(Role.CENTRAL)
def settlement_balance(request):
    form, period = _period(request)
    balances = selectors.region_balances(period=period)
    show_all = request.GET.get("all") == "1"
    shown = [b for b in balances if show_all or b.opening or b.charged or b.paid or b.closing]
    return render(request, "cards/settlement/balance.html", {
        "form": form, "period": period, "period_query": _period_query(period), "presets": _period_presets(),
        "balances": shown, "show_all": show_all, "region_count": len(balances),
        "totals": {key: sum(getattr(b, key) for b in balances) for key in ("opening", "cards", "charged", "paid", "closing")},
        "in_debt": sum(1 for b in balances if b.closing > 0),
        "uncharged": selectors.uncharged_batches().count(),
    })  # fmt: skip


@require_role(Role.CENTRAL)
def settlement_balance_export(request, fmt):
    _form, period = _period(request)
    stamp = f"{timezone.localdate():%Y-%m-%d}"
    if fmt == "xlsx":
        content = exports.balances_xlsx(balances=selectors.region_balances(period=period), period=period)
        response = _file(content, content_type=XLSX, filename=f"raschety-regionov-{stamp}.xlsx",
                         readable=f"Расчёты регионов за билеты {stamp}.xlsx")  # fmt: skip
    elif fmt == "csv":
        entries = selectors.region_ledger_entries(period=period)
        content = exports.ledger_1c_csv(entries=entries, central=selectors.central_org())
        response = _file(content, content_type=CSV, filename=f"raschety-regionov-1c-{stamp}.csv",
                         readable=f"Расчёты регионов за билеты для 1С {stamp}.csv")  # fmt: skip
    else:
        raise Http404
    services.settlement_export_log(
        by=request.user, org=request.user.organization, what="balance", fmt=fmt, period=period.slug
    )
    return response


# --- a region -------------------------------------------------------------------------------------------------------


@require_role(Role.CENTRAL, Role.REGIONAL)
def settlement_region(request, pk):
    region = selectors.get_region_for_settlement(request.user, pk)
    form, period = _period(request)
    statement = selectors.statement(ledger=SettlementLedger.REGION, account=region, period=period)
    primaries = selectors.region_primaries(region=region, period=period)
    recovers = selectors.region_recovers(region)
    is_own = request.user.role == Role.REGIONAL
    last_payment = next(
        (row for row in reversed(statement.rows) if row.entry.kind == CardLedgerEntry.Kind.PAYMENT), None
    )
    return render(request, "cards/settlement/region.html", {
        "region": region, "form": form, "period": period, "period_query": _period_query(period),
        "presets": _period_presets(), "statement": statement, "primaries": primaries, "recovers": recovers,
        "charges": selectors.region_charges(region=region, period=period), "is_own": is_own,
        "can_record_payment": request.user.role == Role.CENTRAL, "can_cancel": request.user.role == Role.CENTRAL,
        "last_payment": last_payment,
        "primary_totals": {key: sum(getattr(p, key) for p in primaries)
                           for key in ("cards", "amount", "passed_on", "paid", "balance")},
    })  # fmt: skip


@require_role(Role.CENTRAL, Role.REGIONAL)
def settlement_region_export(request, pk, fmt):
    region = selectors.get_region_for_settlement(request.user, pk)
    _form, period = _period(request)
    code = region.region.code if region.region else str(region.pk)
    if fmt == "xlsx":
        content = exports.statement_xlsx(
            statement=selectors.statement(ledger=SettlementLedger.REGION, account=region, period=period),
            heading=["Выписка по расчётам за пластиковые билеты",
                     f"{region.name} — расчёты с центральным советом Профсоюза"],
            primaries=selectors.region_primaries(region=region, period=period),
            lines=selectors.region_charge_lines(region=region, period=period),
        )  # fmt: skip
        response = _file(content, content_type=XLSX, filename=f"vypiska-bilety-{code}-{period.slug}.xlsx",
                         readable=f"Выписка за билеты {region.display_name}.xlsx")  # fmt: skip
    elif fmt == "csv":
        entries = sorted(
            [*selectors.region_ledger_entries(period=period, region=region),
             *selectors.primary_ledger_entries(region=region, period=period)],
            key=lambda entry: (entry.occurred_on, entry.pk),
        )  # fmt: skip
        content = exports.ledger_1c_csv(entries=entries, central=selectors.central_org())
        response = _file(content, content_type=CSV, filename=f"bilety-1c-{code}-{period.slug}.csv",
                         readable=f"Расчёты за билеты для 1С {region.display_name}.csv")  # fmt: skip
    else:
        raise Http404
    services.settlement_export_log(by=request.user, org=region, what="region", fmt=fmt, period=period.slug)
    return response


def _payment_page(request, *, payer, back_url: str, record, heading: str, balance: int):
    form = PaymentForm(request.POST or None, initial={"paid_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            payment = record(
                amount=form.cleaned_data["amount"], paid_on=form.cleaned_data["paid_on"],
                document=form.cleaned_data["document"], note=form.cleaned_data["note"],
            )  # fmt: skip
        except services.SettlementError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Оплата %(amount)s от %(org)s внесена.")
                             % {"amount": services.amount_text(payment.amount), "org": payer.display_name})  # fmt: skip
            return redirect(back_url)
    return render(request, "cards/settlement/payment_form.html", {
        "form": form, "payer": payer, "back_url": back_url, "heading": heading, "balance": balance,
    })  # fmt: skip


@require_role(Role.CENTRAL)
def settlement_region_payment(request, pk):
    region = selectors.get_region_for_settlement(request.user, pk)
    return _payment_page(
        request, payer=region, back_url=reverse("cards:settlement_region", args=[region.pk]),
        heading=_("Оплата региона центральному совету"),
        balance=selectors.account_balance(ledger=SettlementLedger.REGION, account=region),
        record=lambda **data: services.region_payment_record(region=region, by=request.user, **data),
    )  # fmt: skip


@require_POST
@require_role(Role.REGIONAL)
def settlement_region_recovery(request, pk):
    region = selectors.get_region_for_settlement(request.user, pk)
    from_primaries = request.POST.get("from_primaries") == "1"
    services.cost_recovery_set(region=region, from_primaries=from_primaries, by=request.user)
    if from_primaries:
        messages.success(request, _("Стоимость билетов возмещают первичные организации: новые партии начисляются "
                                    "им, каждая ППО видит свою выписку."))  # fmt: skip
    else:
        messages.success(request, _("Стоимость билетов несёт регион: новые партии первичным организациям не "
                                    "начисляются."))  # fmt: skip
    return redirect("cards:settlement_region", pk=region.pk)


@require_POST
@require_role(Role.REGIONAL)
def settlement_charge_pass_on(request, pk):
    charge = selectors.get_charge_for_region_staff(request.user, pk)
    try:
        charge = services.charge_pass_on(charge=charge, by=request.user)
    except services.SettlementError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Партия № %(batch)s предъявлена первичным организациям: %(amount)s.")
                         % {"batch": charge.batch_id, "amount": services.amount_text(charge.amount)})  # fmt: skip
    return redirect("cards:settlement_region", pk=charge.region_id)


# --- a primary organisation -----------------------------------------------------------------------------------------


@require_role(*selectors.SETTLEMENT_ROLES)
def settlement_primary(request, pk):
    primary = selectors.get_primary_for_settlement(request.user, pk)
    form, period = _period(request)
    statement = selectors.statement(ledger=SettlementLedger.PRIMARY, account=primary, period=period)
    region = selectors.regional_orgs().filter(path=services.region_of(primary)).first()
    is_region_staff = request.user.role == Role.REGIONAL
    return render(request, "cards/settlement/primary.html", {
        "primary": primary, "form": form, "period": period, "period_query": _period_query(period),
        "presets": _period_presets(), "statement": statement,
        "lines": selectors.primary_charge_lines(primary=primary, period=period),
        "region": region, "recovers": region is not None and selectors.region_recovers(region),
        "can_record_payment": is_region_staff, "can_cancel": is_region_staff,
    })  # fmt: skip


@require_role(*selectors.SETTLEMENT_ROLES)
def settlement_primary_export(request, pk):
    primary = selectors.get_primary_for_settlement(request.user, pk)
    _form, period = _period(request)
    region = selectors.regional_orgs().filter(path=services.region_of(primary)).first()
    content = exports.statement_xlsx(
        statement=selectors.statement(ledger=SettlementLedger.PRIMARY, account=primary, period=period),
        heading=["Выписка по расчётам за пластиковые билеты",
                 f"{primary.name} — расчёты с {region.name if region else 'региональной организацией'}"],
        lines=selectors.primary_charge_lines(primary=primary, period=period).select_related("organization"),
    )  # fmt: skip
    services.settlement_export_log(by=request.user, org=primary, what="primary", fmt="xlsx", period=period.slug)
    return _file(content, content_type=XLSX, filename=f"vypiska-bilety-ppo-{primary.pk}-{period.slug}.xlsx",
                 readable=f"Выписка за билеты {primary.display_name}.xlsx")  # fmt: skip


@require_role(Role.REGIONAL)
def settlement_primary_payment(request, pk):
    primary = selectors.get_primary_for_settlement(request.user, pk)
    return _payment_page(
        request, payer=primary, back_url=reverse("cards:settlement_primary", args=[primary.pk]),
        heading=_("Оплата первичной организации региону"),
        balance=selectors.account_balance(ledger=SettlementLedger.PRIMARY, account=primary),
        record=lambda **data: services.primary_payment_record(primary=primary, by=request.user, **data),
    )  # fmt: skip


@require_role(Role.CENTRAL, Role.REGIONAL)
def settlement_payment_cancel(request, pk):
    payment = selectors.get_payment_for_user(request.user, pk)
    if payment.ledger == SettlementLedger.REGION:
        back_url = reverse("cards:settlement_region", args=[payment.payer_id])
    else:
        back_url = reverse("cards:settlement_primary", args=[payment.payer_id])
    form = PaymentCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_cancel(payment=payment, reason=form.cleaned_data["reason"], by=request.user)
        except services.SettlementError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Оплата отменена: в выписке она осталась со строкой отмены."))
            return redirect(back_url)
    return render(request, "cards/settlement/payment_cancel.html", {
        "form": form, "payment": payment, "back_url": back_url,
    })  # fmt: skip


# --- the vendor side: prices and invoices (central office) ----------------------------------------------------------


@require_role(Role.CENTRAL, Role.REGIONAL)
def settlement_prices(request):
    price_lists = list(selectors.price_lists())
    today = timezone.localdate()
    in_force = next((price_list for price_list in price_lists if price_list.valid_from <= today), None)
    return render(request, "cards/settlement/prices.html", {
        "price_lists": price_lists, "in_force": in_force, "today": today,
        "can_edit": request.user.role == Role.CENTRAL,
    })  # fmt: skip


@require_role(Role.CENTRAL)
def settlement_price_list_create(request):
    form = PriceListForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.price_list_create(
                valid_from=form.cleaned_data["valid_from"], tiers=form.cleaned_data["tiers"], by=request.user,
                vendor=form.cleaned_data["vendor"], note=form.cleaned_data["note"],
            )  # fmt: skip
        except services.SettlementError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Прейскурант с %(day)s внесён.")
                             % {"day": f"{form.cleaned_data['valid_from']:%d.%m.%Y}"})  # fmt: skip
            return redirect("cards:settlement_prices")
    return render(request, "cards/settlement/price_list_form.html", {"form": form, "tier_rows": TIER_ROWS})


@require_POST
@require_role(Role.CENTRAL)
def settlement_price_list_delete(request, pk):
    price_list = selectors.get_price_list(pk)
    try:
        services.price_list_delete(price_list=price_list, by=request.user)
    except services.SettlementError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Прейскурант удалён."))
    return redirect("cards:settlement_prices")


@require_role(Role.CENTRAL)
def settlement_batches(request):
    batches = list(selectors.batches_with_settlement()[:300])
    for batch in batches:
        invoice = getattr(batch, "vendor_invoice", None)
        batch.invoice = invoice
        batch.difference = invoice.amount - batch.charged if invoice and batch.regions else None
        batch.can_charge = not batch.regions and services.price_in_force(
            cards=batch.card_count or 1, on=timezone.localdate(batch.created_at)
        ) is not None  # fmt: skip
    return render(request, "cards/settlement/batches.html", {"batches": batches})


@require_POST
@require_role(Role.CENTRAL)
def settlement_batch_charge(request, pk):
    batch = selectors.get_batch_for_settlement(pk)
    charges = services.batch_charges_post(batch=batch, by=request.user)
    if charges:
        messages.success(request, _("Партия № %(batch)s начислена регионам: %(amount)s.")
                         % {"batch": batch.pk, "amount": services.amount_text(sum(c.amount for c in charges))})  # fmt: skip
    else:
        messages.error(request, _("На дату формирования партии прейскуранта нет: начислить не по чему."))
    return redirect("cards:settlement_batches")


@require_role(Role.CENTRAL)
def settlement_batch_invoice(request, pk):
    batch = selectors.get_batch_for_settlement(pk)
    invoice = getattr(batch, "vendor_invoice", None)
    initial = {"issued_on": timezone.localdate()}
    if invoice is not None:
        initial = {"number": invoice.number, "issued_on": invoice.issued_on, "amount": roubles_input(invoice.amount)}
    elif batch.charged:
        initial["amount"] = roubles_input(batch.charged)
    form = VendorInvoiceForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.vendor_invoice_save(
                batch=batch, number=form.cleaned_data["number"], issued_on=form.cleaned_data["issued_on"],
                amount=form.cleaned_data["amount"], upload=form.cleaned_data["file"], by=request.user,
            )  # fmt: skip
        except services.SettlementError as error:
            form.add_error("file" if "PDF" in error.message or "МБ" in error.message else None, error.message)
        else:
            messages.success(request, _("Счёт изготовителя за партию № %(batch)s внесён.") % {"batch": batch.pk})
            return redirect("cards:settlement_batches")
    return render(request, "cards/settlement/invoice_form.html", {"form": form, "batch": batch, "invoice": invoice})


@require_role(Role.CENTRAL)
def settlement_batch_invoice_file(request, pk):
    batch = selectors.get_batch_for_settlement(pk)
    invoice = getattr(batch, "vendor_invoice", None)
    if invoice is None or not invoice.file:
        raise Http404
    return FileResponse(invoice.file.open("rb"), as_attachment=False, filename=f"schet-partiya-{batch.pk}.pdf",
                        content_type="application/pdf")  # fmt: skip


urlpatterns = [
    path("settlement/", settlement_home, name="settlement_home"),
    path("settlement/regions/", settlement_balance, name="settlement_balance"),
    path("settlement/regions/export.<slug:fmt>", settlement_balance_export, name="settlement_balance_export"),
    path("settlement/regions/<int:pk>/", settlement_region, name="settlement_region"),
    path("settlement/regions/<int:pk>/export.<slug:fmt>", settlement_region_export, name="settlement_region_export"),
    path("settlement/regions/<int:pk>/payment/", settlement_region_payment, name="settlement_region_payment"),
    path("settlement/regions/<int:pk>/recovery/", settlement_region_recovery, name="settlement_region_recovery"),
    path("settlement/charges/<int:pk>/pass-on/", settlement_charge_pass_on, name="settlement_charge_pass_on"),
    path("settlement/primaries/<int:pk>/", settlement_primary, name="settlement_primary"),
    path("settlement/primaries/<int:pk>/export.xlsx", settlement_primary_export, name="settlement_primary_export"),
    path("settlement/primaries/<int:pk>/payment/", settlement_primary_payment, name="settlement_primary_payment"),
    path("settlement/payments/<int:pk>/cancel/", settlement_payment_cancel, name="settlement_payment_cancel"),
    path("settlement/prices/", settlement_prices, name="settlement_prices"),
    path("settlement/prices/new/", settlement_price_list_create, name="settlement_price_list_create"),
    path("settlement/prices/<int:pk>/delete/", settlement_price_list_delete, name="settlement_price_list_delete"),
    path("settlement/batches/", settlement_batches, name="settlement_batches"),
    path("settlement/batches/<int:pk>/charge/", settlement_batch_charge, name="settlement_batch_charge"),
    path("settlement/batches/<int:pk>/invoice/", settlement_batch_invoice, name="settlement_batch_invoice"),
    path(
        "settlement/batches/<int:pk>/invoice.pdf", settlement_batch_invoice_file, name="settlement_batch_invoice_file"
    ),
]
