from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscountsConfig(AppConfig):
    name = "discounts"
    verbose_name = _("Дисконтная программа")

    def ready(self):
        # accounts sits below discounts and cannot import it: a cashier's home page is put on its list from here.
        from accounts.models import Role
        from accounts.views import HOME_URL_NAMES

        HOME_URL_NAMES.setdefault(Role.CASHIER, "discounts:cashier")

        # membership sits below discounts too: the member's cabinet shows the cashback balance through its panel list.
        from discounts.views.member import member_cabinet_panel
        from membership.panels import MY_CABINET_PANELS

        if member_cabinet_panel not in MY_CABINET_PANELS:
            MY_CABINET_PANELS.append(member_cabinet_panel)
