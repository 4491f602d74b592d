"""The partner cashier's page, made for a phone at the till: check a card (camera or typed number), record the
purchase, take a return within the hold period.

The card number never appears in a URL: every form that carries it is a POST, and after a check the page
redirects without it, keeping the checked card in the session by its id only. Checks and purchases count towards the
cashier's rate limit (settings.CASHIER_RATE_LIMIT).
"""

import datetime
from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import require_role
from accounts.models import Role
from accounts.rate_limits import rate_limited
from cards.numbers import card_number_masked
from discounts import selectors, services
from discounts.models import CardCheck, Cashier, Purchase
from discounts.money import kopecks_from_text
from discounts.views.member import with_roubles

CHECKED_CARD_KEY = "discounts_cashier_checked_card"
RECORDED_PURCHASE_KEY = "discounts_cashier_recorded_purchase"
# A check answers for the customer at the till now: a purchase long after it needs a new check.
CHECK_FRESH_FOR = datetime.timedelta(minutes=10)
TODAY_LIST_LIMIT = 50


def _cashier_user(request) -> str:
    return str(request.user.pk)


# Checks and purchases of one cashier: a till serves one customer at a time, and a stolen cashier's session must not
# run through card numbers to learn whose cards are valid.
cashier_rate_limited = rate_limited("cashier", limit="CASHIER_RATE_LIMIT", subject=_cashier_user)


def cashier_required(view):
    """The cashier role and a partner to work for: a cashier account central office has not yet tied to a partner
    gets 403 with the reason, not an empty page."""

    @require_role(Role.CASHIER)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        cashier = selectors.cashier_of_user(request.user)
        if cashier is None:
            return render(request, "discounts/cashier_unassigned.html", status=403)
        return view(request, cashier, *args, **kwargs)

    return wrapped


def _checked_card(request, cashier: Cashier) -> dict | None:
    """The last check on this page, while it is fresh and was made for this cashier's partner."""
    checked = request.session.get(CHECKED_CARD_KEY)
    if not checked or checked.get("partner") != cashier.partner_id:
        return None
    if timezone.now() - datetime.datetime.fromisoformat(checked["at"]) > CHECK_FRESH_FOR:
        request.session.pop(CHECKED_CARD_KEY, None)
        return None
    return checked


def _reversible(purchase: Purchase, now: datetime.datetime) -> bool:
    return purchase.status == Purchase.Status.ACCEPTED and purchase.confirmed_at is None and now < purchase.hold_until


def _page(request, cashier: Cashier, *, status: int = 200, **context):
    now = timezone.now()
    today = list(selectors.cashier_purchases_today(cashier=cashier, now=now)[:TODAY_LIST_LIMIT])
    receipt = request.GET.get("receipt", "").strip()[:64]
    found = selectors.cashier_purchase_by_receipt(cashier=cashier, receipt_id=receipt) if receipt else None
    recorded_pk = request.session.pop(RECORDED_PURCHASE_KEY, None)
    recorded = selectors.cashier_purchases(cashier=cashier).filter(pk=recorded_pk).first() if recorded_pk else None
    for purchase in [*today, *filter(None, [found, recorded])]:
        with_roubles(purchase, "amount", "cashback")
        purchase.card_masked = card_number_masked(purchase.card.number)
        purchase.reversible = _reversible(purchase, now)
    partner = cashier.partner
    return render(request, "discounts/cashier.html", {
        "cashier": cashier, "partner": partner, "partner_active": partner.is_active_on(timezone.localdate(now)),
        "checked": _checked_card(request, cashier), "today": today, "receipt": receipt, "found": found,
        "recorded": recorded, "card_text": "", "purchase_form": {}, **context,
    }, status=status)  # fmt: skip


@cashier_required
def cashier_home(request, cashier):
    return _page(request, cashier)


@require_POST
@cashier_required
@cashier_rate_limited
def cashier_check(request, cashier):
    card_text = request.POST.get("card", "")[:300]
    try:
        checked = services.cashier_card_check(partner=cashier.partner, presented=card_text, by=request.user)
    except services.DiscountError as refusal:
        request.session.pop(CHECKED_CARD_KEY, None)
        return _page(request, cashier, card_text=card_text, check_error=refusal.message)
    outcome = checked.outcome
    request.session[CHECKED_CARD_KEY] = {
        "partner": cashier.partner_id, "card": checked.card_id, "state": outcome.state, "holder": outcome.holder,
        "masked": outcome.masked, "at": timezone.now().isoformat(),
    }  # fmt: skip
    return redirect("discounts:cashier")


@require_POST
@cashier_required
@cashier_rate_limited
def cashier_purchase(request, cashier):
    checked = _checked_card(request, cashier)
    if checked is None or checked["state"] != CardCheck.Result.VALID or not checked["card"]:
        messages.error(request, _("Сначала проверьте билет покупателя: проверка действует 10 минут."))
        return redirect("discounts:cashier")
    form = {"amount": request.POST.get("amount", "")[:32], "receipt": request.POST.get("receipt", "")[:64]}
    try:
        amount = kopecks_from_text(form["amount"])
    except ValueError:
        return _page(request, cashier, purchase_form=form, purchase_error=_("Сумма в рублях, например: 1 234,50."))
    try:
        outcome = services.cashier_purchase_record(
            partner=cashier.partner, card_id=checked["card"], receipt_id=form["receipt"], amount=amount, by=request.user
        )
    except services.DiscountError as refusal:
        return _page(request, cashier, purchase_form=form, purchase_error=refusal.message)
    request.session.pop(CHECKED_CARD_KEY, None)
    request.session[RECORDED_PURCHASE_KEY] = outcome.purchase.pk
    return redirect("discounts:cashier")


@require_POST
@cashier_required
def cashier_next_customer(request, cashier):
    request.session.pop(CHECKED_CARD_KEY, None)
    return redirect("discounts:cashier")


@require_POST
@cashier_required
def cashier_reverse(request, cashier, pk):
    purchase = selectors.get_purchase_for_cashier(cashier=cashier, pk=pk)
    try:
        services.purchase_reverse(purchase=purchase, by=request.user)
    except services.DiscountError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("Возврат по чеку № %(receipt)s оформлен, кешбэк покупателя отменён.") % {"receipt": purchase.receipt_id},
        )
    return redirect("discounts:cashier")


urlpatterns = [
    path("cashier/", cashier_home, name="cashier"),
    path("cashier/check/", cashier_check, name="cashier_check"),
    path("cashier/purchase/", cashier_purchase, name="cashier_purchase"),
    path("cashier/next/", cashier_next_customer, name="cashier_next_customer"),
    path("cashier/purchases/<int:pk>/reverse/", cashier_reverse, name="cashier_reverse"),
]
