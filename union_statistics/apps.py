from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatisticsConfig(AppConfig):
    # The package is not called `statistics`: a top-level folder of that name would shadow the standard-library
    # module, which Django's SQLite backend imports. The app label keeps the short name.
    name = "union_statistics"
    label = "statistics"
    verbose_name = _("Статистика")
