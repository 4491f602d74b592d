"""The staff's side of the programme: partners (central office all of them, regional staff their own region's),
their cashiers' accounts and API keys, and central office's report of suspicious activity."""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import log_page_view, require_role
from accounts.models import Role
from cards.numbers import card_number_masked
from discounts import selectors, services
from discounts.forms import CashierForm, FraudReportForm, PartnerFilterForm, PartnerForm, TokenIssueForm
from discounts.money import roubles_text

PARTNER_STAFF = (Role.CENTRAL, Role.REGIONAL)
PARTNER_PAGE_SIZE = 50
# What each refusal code of discounts.services means, in the words of the report.
REFUSAL_LABELS = {
    "duplicate_receipt": gettext_lazy("повторный чек"),
    "daily_count_limit": gettext_lazy("предел покупок за день"),
    "daily_amount_limit": gettext_lazy("предел суммы за день"),
    "card_blocked": gettext_lazy("билет не действует"),
    "member_left": gettext_lazy("владелец выбыл из Профсоюза"),
    "card_unknown": gettext_lazy("билет не найден"),
    "card_number_invalid": gettext_lazy("номер набран с ошибкой"),
    "card_missing": gettext_lazy("номер не введён"),
    "partner_inactive": gettext_lazy("партнёр не участвует"),
    "receipt_invalid": gettext_lazy("неверный номер чека"),
    "amount_invalid": gettext_lazy("неверная сумма"),
    "hold_expired": gettext_lazy("срок возврата истёк"),
}


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- partners -------------------------------------------------------------------------------------------------------


@require_role(*PARTNER_STAFF)
def partner_list(request):
    form = PartnerFilterForm(request.GET or None, user=request.user)
    partners = selectors.partner_list(user=request.user, filters=form.to_filters())
    return render(
        request,
        "discounts/partner_list.html",
        {
            "form": form,
            "page": Paginator(partners, PARTNER_PAGE_SIZE).get_page(request.GET.get("page")),
            "query_string": _query_without_page(request),
            "today": timezone.localdate(),
        },
    )


@require_role(*PARTNER_STAFF)
def partner_create(request):
    form = PartnerForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_create(by=request.user, **form.service_arguments())
        except services.DiscountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Партнёр «%(name)s» добавлен.") % {"name": partner.name})
            return redirect("discounts:partner_detail", partner.pk)
    return render(request, "discounts/partner_form.html", {"form": form, "title": _("Новый партнёр")})


@require_role(*PARTNER_STAFF)
def partner_edit(request, pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    form = PartnerForm(request.POST or None, request.FILES or None, user=request.user, partner=partner)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_update(partner=partner, by=request.user, **form.service_arguments())
        except services.DiscountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Изменения сохранены."))
            return redirect("discounts:partner_detail", partner.pk)
    return render(
        request, "discounts/partner_form.html", {"form": form, "partner": partner, "title": _("Карточка партнёра")}
    )


@require_role(*PARTNER_STAFF)
def partner_detail(request, pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    can_manage_keys = request.user.role == Role.CENTRAL
    return render(
        request,
        "discounts/partner_detail.html",
        {
            "partner": partner,
            "cashiers": selectors.partner_cashiers(partner=partner),
            "tokens": selectors.partner_tokens(partner=partner) if can_manage_keys else None,
            "token_form": TokenIssueForm() if can_manage_keys else None,
            "daily_amount_text": roubles_text(partner.daily_amount_per_card),
            "today": timezone.localdate(),
        },
    )


@require_POST
@require_role(*PARTNER_STAFF)
def partner_deactivate(request, pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    try:
        partner = services.partner_deactivate(partner=partner, by=request.user)
    except services.DiscountError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Участие партнёра прекращено: последний день — %(day)s.")
            % {"day": partner.active_until.strftime("%d.%m.%Y")},
        )
    return redirect("discounts:partner_detail", partner.pk)


@login_required
def partner_logo(request, pk):
    """The partner's logo from the storage, for any signed-in page (the catalogue, the cashier's, the staff's)."""
    logo = selectors.get_partner_logo(pk)
    content_type = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    response = FileResponse(logo.open("rb"), content_type=content_type)
    # The address carries ?v=<last change>, so a new logo is a new address and this one may be kept for long.
    response["Cache-Control"] = "private, max-age=604800"
    return response


# --- cashiers -------------------------------------------------------------------------------------------------------


@require_role(*PARTNER_STAFF)
def partner_cashier_create(request, pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    form = CashierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cashier = services.partner_cashier_create(
                partner=partner, by=request.user, site_url=request.build_absolute_uri("/"), **form.cleaned_data
            )
        except services.DiscountError as error:
            form.add_error("username" if error.code == "username_taken" else None, error.message)
        else:
            messages.success(
                request,
                _("Доступ кассира открыт, приглашение отправлено на %(email)s.") % {"email": cashier.user.email},
            )
            return redirect("discounts:partner_detail", partner.pk)
    return render(request, "discounts/partner_cashier_form.html", {"form": form, "partner": partner})


@require_POST
@require_role(*PARTNER_STAFF)
def partner_cashier_set_active(request, pk, cashier_pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    cashier = selectors.get_partner_cashier(partner=partner, pk=cashier_pk)
    active = request.POST.get("active") == "1"
    services.partner_cashier_set_active(cashier=cashier, by=request.user, active=active)
    name = cashier.user.display_name
    if active:
        messages.success(request, _("Доступ кассира %(name)s восстановлен.") % {"name": name})
    else:
        messages.success(request, _("Доступ кассира %(name)s закрыт.") % {"name": name})
    return redirect("discounts:partner_detail", partner.pk)


@require_POST
@require_role(*PARTNER_STAFF)
def partner_cashier_invite(request, pk, cashier_pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    cashier = selectors.get_partner_cashier(partner=partner, pk=cashier_pk)
    try:
        services.partner_cashier_send_invitation(cashier=cashier, site_url=request.build_absolute_uri("/"))
    except services.DiscountError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Приглашение отправлено повторно на %(email)s.") % {"email": cashier.user.email})
    return redirect("discounts:partner_detail", partner.pk)


# --- API keys (central office) --------------------------------------------------------------------------------------


def _key_shown_once(request, partner, token, raw_key):
    """The only page that ever shows the key: rendered in answer to the POST, never cached, never stored."""
    response = render(
        request, "discounts/partner_token_issued.html", {"partner": partner, "token": token, "raw_key": raw_key}
    )
    add_never_cache_headers(response)
    return response


@require_POST
@require_role(Role.CENTRAL)
def partner_token_issue(request, pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    form = TokenIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
        return redirect("discounts:partner_detail", partner.pk)
    token, raw_key = services.partner_token_issue(partner=partner, by=request.user, name=form.cleaned_data["name"])
    return _key_shown_once(request, partner, token, raw_key)


@require_POST
@require_role(Role.CENTRAL)
def partner_token_rotate(request, pk, token_pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    token = selectors.get_partner_token(partner=partner, pk=token_pk)
    if not token.is_active:
        messages.error(request, _("Ключ %(prefix)s уже отозван: выпустите новый.") % {"prefix": token.prefix})
        return redirect("discounts:partner_detail", partner.pk)
    new_token, raw_key = services.partner_token_rotate(token=token, by=request.user)
    return _key_shown_once(request, partner, new_token, raw_key)


@require_POST
@require_role(Role.CENTRAL)
def partner_token_revoke(request, pk, token_pk):
    partner = selectors.get_partner_for_user(request.user, pk)
    token = selectors.get_partner_token(partner=partner, pk=token_pk)
    services.partner_token_revoke(token=token, by=request.user)
    messages.success(
        request, _("Ключ %(prefix)s отозван: запросы с ним больше не принимаются.") % {"prefix": token.prefix}
    )
    return redirect("discounts:partner_detail", partner.pk)


# --- the anti-fraud report (central office) -------------------------------------------------------------------------


@require_role(Role.CENTRAL)
def fraud_report(request):
    form = FraudReportForm(request.GET or None)
    values = form.values()
    since = selectors.fraud_window_start(days=values["days"])
    return render(
        request,
        "discounts/fraud_report.html",
        {
            "form": form,
            "values": values,
            "since": since,
            "bursts": selectors.fraud_card_bursts(since=since, min_partners=values["partners"]),
            "near_limit": selectors.fraud_near_limit(since=since, near_limit_bp=values["near_limit_bp"]),
            "refusals": selectors.fraud_refusals_by_partner(since=since),
            "rows_max": selectors.FRAUD_ROWS_MAX,
        },
    )


def _report_days(request) -> int:
    form = FraudReportForm(request.GET or None)
    return form.values()["days"]


@require_role(Role.CENTRAL)
def fraud_card(request, card_pk):
    card = selectors.get_card_for_fraud_report(request.user, card_pk)
    days = _report_days(request)
    since = selectors.fraud_window_start(days=days)
    log_page_view(request, card, report="fraud")
    return render(
        request,
        "discounts/fraud_card.html",
        {
            "card": card,
            "masked": card_number_masked(card.number),
            "events": selectors.fraud_card_events(card=card, since=since),
            "days": days,
            "since": since,
        },
    )


@require_role(Role.CENTRAL)
def fraud_partner(request, pk):
    partner = selectors.get_partner_for_fraud_report(request.user, pk)
    days = _report_days(request)
    since = selectors.fraud_window_start(days=days)
    refusals = selectors.fraud_partner_refusals(partner=partner, since=since)
    for entry in refusals:
        code = entry.details.get("refused", "")
        entry.refusal_label = REFUSAL_LABELS.get(code, code)
    return render(
        request,
        "discounts/fraud_partner.html",
        {
            "partner": partner,
            "refusals": refusals,
            "days": days,
            "since": since,
            "rows_max": selectors.FRAUD_EVENTS_MAX,
        },
    )


urlpatterns = [
    path("partners/", partner_list, name="partner_list"),
    path("partners/new/", partner_create, name="partner_create"),
    path("partners/<int:pk>/", partner_detail, name="partner_detail"),
    path("partners/<int:pk>/edit/", partner_edit, name="partner_edit"),
    path("partners/<int:pk>/deactivate/", partner_deactivate, name="partner_deactivate"),
    path("partners/<int:pk>/logo/", partner_logo, name="partner_logo"),
    path("partners/<int:pk>/cashiers/new/", partner_cashier_create, name="partner_cashier_create"),
    path(
        "partners/<int:pk>/cashiers/<int:cashier_pk>/active/",
        partner_cashier_set_active,
        name="partner_cashier_set_active",
    ),
    path("partners/<int:pk>/cashiers/<int:cashier_pk>/invite/", partner_cashier_invite, name="partner_cashier_invite"),
    path("partners/<int:pk>/keys/new/", partner_token_issue, name="partner_token_issue"),
    path("partners/<int:pk>/keys/<int:token_pk>/rotate/", partner_token_rotate, name="partner_token_rotate"),
    path("partners/<int:pk>/keys/<int:token_pk>/revoke/", partner_token_revoke, name="partner_token_revoke"),
    path("fraud/", fraud_report, name="fraud_report"),
    path("fraud/cards/<int:card_pk>/", fraud_card, name="fraud_card"),
    path("fraud/partners/<int:pk>/", fraud_partner, name="fraud_partner"),
]
