"""The member's side of the programme: the catalogue of the region's partners, a partner's page, the cashback
balance and history with the payout details, and the panel on the member's cabinet."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.access import require_role
from accounts.models import ORG_STAFF_ROLES, Role, User
from discounts import selectors, services
from discounts.models import Partner
from discounts.money import roubles_text
from membership.models import Member
from membership.selectors import member_of_user

# Staff browse the catalogue their members see (central office: every region's partners).
CATALOGUE_ROLES = (Role.MEMBER, *ORG_STAFF_ROLES)
HISTORY_PAGE_SIZE = 30
CATEGORY_ICONS = {
    Partner.Category.FOOD: "bi-basket",
    Partner.Category.CLOTHES: "bi-bag",
    Partner.Category.HEALTH: "bi-heart-pulse",
    Partner.Category.EDUCATION: "bi-book",
    Partner.Category.TRAVEL: "bi-airplane",
    Partner.Category.CULTURE: "bi-ticket-perforated",
    Partner.Category.SPORT: "bi-bicycle",
    Partner.Category.HOME: "bi-house",
    Partner.Category.SERVICES: "bi-tools",
    Partner.Category.AUTO: "bi-car-front",
    Partner.Category.ONLINE: "bi-globe",
}


@require_role(*CATALOGUE_ROLES)
def catalogue(request):
    scope = selectors.catalogue_scope_for_user(request.user)
    search = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "")
    if category not in Partner.Category.values:
        category = ""
    page = selectors.catalogue_page(scope=scope, search=search, category=category)
    for partner in page.partners:
        partner.icon = CATEGORY_ICONS.get(partner.category, "bi-shop")
    return render(request, "discounts/catalogue.html", {
        "catalogue": page, "search": search, "category": category, "scope": scope,
    })  # fmt: skip


@require_role(*CATALOGUE_ROLES)
def partner_page(request, pk):
    scope = selectors.catalogue_scope_for_user(request.user)
    partner = selectors.get_catalogue_partner(scope=scope, pk=pk)
    return render(request, "discounts/partner_page.html", {
        "partner": partner, "icon": CATEGORY_ICONS.get(partner.category, "bi-shop"), "scope": scope,
    })  # fmt: skip


def with_roubles(obj, *fields: str):
    """Give each kopeck field of `obj` a `<field>_text` in roubles ("1 234,56") for the template."""
    for name in fields:
        setattr(obj, f"{name}_text", roubles_text(getattr(obj, name)))
    return obj


def _own_member(user: User) -> Member:
    member = member_of_user(user)
    if member is None:
        raise Http404
    return member


@require_role(Role.MEMBER)
def cashback(request):
    member = _own_member(request.user)
    account = selectors.cashback_account_of(member)
    details = {"phone": account.payout_phone, "bank": account.payout_bank}
    error = ""
    if request.method == "POST":
        details = {"phone": request.POST.get("phone", "")[:40], "bank": request.POST.get("bank", "")[:200]}
        try:
            services.cashback_payout_details_update(member=member, by=request.user, **details)
        except services.DiscountError as refusal:
            error = refusal.message
        else:
            messages.success(request, _("Реквизиты для выплат сохранены."))
            return redirect("discounts:cashback")
    history = Paginator(selectors.cashback_history(member=member), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    purchases = [with_roubles(purchase, "amount", "cashback") for purchase in history]
    return render(request, "discounts/cashback.html", {
        "member": member, "account": with_roubles(account, "pending", "confirmed", "paid"), "details": details,
        "partner_consent": selectors.partner_consent_state(member),
        "error": error, "history": history, "purchases": selectors.cashback_states_mark(purchases, account=account),
        "payouts": [with_roubles(line, "amount") for line in selectors.cashback_payouts(account=account)[:12]],
        "payout_minimum": roubles_text(settings.CASHBACK_PAYOUT_MINIMUM),
    })  # fmt: skip


def member_cabinet_panel(user: User, member: Member) -> tuple[str, dict] | None:
    """The member's cabinet shows the cashback balance and the way to the catalogue, and why partners do not accept
    the card while there is no consent to the programme, with how to give it."""
    account = with_roubles(selectors.cashback_account_of(member), "pending", "confirmed", "paid")
    return "discounts/cashback_panel.html", {
        "account": account, "member": member, "partner_consent": selectors.partner_consent_state(member),
    }  # fmt: skip


urlpatterns = [
    path("catalogue/", catalogue, name="catalogue"),
    path("catalogue/<int:pk>/", partner_page, name="catalogue_partner"),
    path("cashback/", cashback, name="cashback"),
]
