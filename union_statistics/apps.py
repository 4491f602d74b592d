from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatisticsConfig(AppConfig):
    # The package is not called `statistics`: a top-level folder of that name would shadow the standard-library
    # module, which Django's SQLite backend imports. The app label keeps the short name.
    name = "union_statistics"
    label = "statistics"
    verbose_name = _("Статистика")

    def ready(self):
        # accounts and registry sit below statistics and cannot import it: statistics puts itself on their lists.
        from accounts.models import ORG_STAFF_ROLES
        from accounts.views import HOME_URL_NAMES
        from membership.panels import MY_CABINET_PANELS
        from registry.panels import ORG_DETAIL_PANELS
        from union_statistics.dashboards import member_cabinet_panel, org_passport_panel

        for role in ORG_STAFF_ROLES:
            HOME_URL_NAMES.setdefault(role, "statistics:home")
        if org_passport_panel not in ORG_DETAIL_PANELS:
            ORG_DETAIL_PANELS.append(org_passport_panel)
        if member_cabinet_panel not in MY_CABINET_PANELS:
            MY_CABINET_PANELS.append(member_cabinet_panel)
