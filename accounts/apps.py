from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Пользователи и журнал доступа")

    def ready(self):
        # Sign-in events belong in the 152-FZ access log; Django reports them only through these signals.
        from accounts import receivers  # noqa: F401
