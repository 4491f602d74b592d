from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import APPARATUS_ROLES, ORG_STAFF_ROLES, Role


def navigation(request):
    """Menu items of the signed-in user's role, so the base template needs no role logic."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    if user.role in ORG_STAFF_ROLES and user.organization_id:
        items.append((_("Статистика"), reverse("statistics:home"), "bi-bar-chart-line", "statistics:"))
        items.append((_("Организации"), reverse("registry:org_tree"), "bi-diagram-3", "registry:org"))
        items.append((_("Члены Профсоюза"), reverse("membership:member_list"), "bi-people", "membership:"))
        items.append((_("Билеты"), reverse("cards:card_requests"), "bi-credit-card-2-front", "cards:"))
    if user.role in APPARATUS_ROLES:
        items.append((_("Председатели"), reverse("registry:chair_list"), "bi-person-badge", "registry:chair"))
        items.append((_("Сотрудники"), reverse("registry:staff_user_list"), "bi-person-gear", "registry:staff"))
    if user.role == Role.MEMBER:
        items.append((_("Мой кабинет"), reverse("membership:my_cabinet"), "bi-person-vcard", "membership:my_"))
    if user.role == Role.CENTRAL:
        items.append((_("Журнал доступа"), reverse("accounts:access_log"), "bi-journal-text", "accounts:access_log"))
    current = request.resolver_match.view_name if request.resolver_match else ""
    return {
        "nav_items": [
            {"title": title, "url": url, "icon": icon, "active": current.startswith(prefix)}
            for title, url, icon, prefix in items
        ]
    }
