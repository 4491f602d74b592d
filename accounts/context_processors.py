from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import APPARATUS_ROLES, ORG_STAFF_ROLES, Role

# Higher apps add entries under "Билеты" that depend on their own data (cards: the settlement pages, a ППО chair's
# statement only while the region recovers the cost), from their AppConfig.ready: provider(user) -> [(title, url,
# icon, view-name prefix), ...].
CARDS_MENU_PROVIDERS: list = []


def navigation(request):
    """Menu items of the signed-in user's role, so the base template needs no role logic."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items, cards_children = [], []
    if user.role in ORG_STAFF_ROLES and user.organization_id:
        items.append((_("Статистика"), reverse("statistics:home"), "bi-bar-chart-line", "statistics:"))
        items.append((_("Организации"), reverse("registry:org_tree"), "bi-diagram-3", "registry:org"))
        items.append((_("Члены Профсоюза"), reverse("membership:member_list"), "bi-people", "membership:"))
        items.append((_("Билеты"), reverse("cards:card_requests"), "bi-credit-card-2-front", "cards:"))
        cards_children.extend(item for provider in CARDS_MENU_PROVIDERS for item in provider(user))
    if user.role in APPARATUS_ROLES:
        items.append((_("Председатели"), reverse("registry:chair_list"), "bi-person-badge", "registry:chair"))
        items.append((_("Сотрудники"), reverse("registry:staff_user_list"), "bi-person-gear", "registry:staff"))
    programme = []
    if user.role in (Role.CENTRAL, Role.REGIONAL):
        programme.append((_("Партнёры"), reverse("discounts:partner_list"), "bi-shop-window", "discounts:partner_"))
    if user.role == Role.MEMBER:
        items.append((_("Мой кабинет"), reverse("membership:my_cabinet"), "bi-person-vcard", "membership:my_"))
        items.append((_("Скидки"), reverse("discounts:catalogue"), "bi-shop", "discounts:catalogue"))
        items.append((_("Мой кешбэк"), reverse("discounts:cashback"), "bi-wallet2", "discounts:cashback"))
    if user.role == Role.CASHIER:
        items.append((_("Касса"), reverse("discounts:cashier"), "bi-upc-scan", "discounts:cashier"))
    if user.role == Role.CENTRAL:
        payouts = reverse("discounts:payout_batches")
        programme.append((_("Выплаты кешбэка"), payouts, "bi-cash-stack", "discounts:payout"))
        fraud_report = reverse("discounts:fraud_report")
        programme.append((_("Подозрительные операции"), fraud_report, "bi-shield-exclamation", "discounts:fraud"))
    current = request.resolver_match.view_name if request.resolver_match else ""
    entries = [_nav_entry(item, current) for item in items]
    if cards_children:
        requests_url = reverse("cards:card_requests")
        requests = (_("Заявки на билеты"), requests_url, "bi-credit-card-2-front", "cards:card_request")
        children = [_nav_entry(item, current) for item in (requests, *cards_children)]
        cards_entry = next(entry for entry in entries if entry["url"] == requests_url)
        cards_entry.update(children=children, active=current.startswith("cards:"))
    # The programme's pages share one menu entry when there are several, so the bar fits a laptop's width.
    if len(programme) > 1:
        children = [_nav_entry(item, current) for item in programme]
        entries.append({
            "title": _("Дисконтная программа"), "icon": "bi-shop-window", "children": children,
            "active": any(child["active"] for child in children),
        })  # fmt: skip
    else:
        entries.extend(_nav_entry(item, current) for item in programme)
    if user.role == Role.CENTRAL:
        access_log = (_("Журнал доступа"), reverse("accounts:access_log"), "bi-journal-text", "accounts:access_log")
        entries.append(_nav_entry(access_log, current))
    return {"nav_items": entries}


def _nav_entry(item: tuple[str, str, str, str], current: str) -> dict:
    title, url, icon, prefix = item
    return {"title": title, "url": url, "icon": icon, "active": current.startswith(prefix)}
