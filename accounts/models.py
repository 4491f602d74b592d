from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CENTRAL = "central", _("Центральный аппарат")
    REGIONAL = "regional", _("Региональная организация")
    LOCAL = "local", _("Местная организация")
    CHAIR = "chair", _("Председатель ППО")
    MEMBER = "member", _("Член Профсоюза")
    CASHIER = "cashier", _("Кассир партнёра")


# Roles that work inside the organisation tree and see a subtree of it.
ORG_STAFF_ROLES = frozenset({Role.CENTRAL, Role.REGIONAL, Role.LOCAL, Role.CHAIR})
# Roles that manage organisations below their own (regional and local apparatus, central office).
APPARATUS_ROLES = frozenset({Role.CENTRAL, Role.REGIONAL, Role.LOCAL})
# Roles that must pass a second sign-in step (a code from an authenticator app): they see and change the personal
# data of whole regions. Everyone else may turn it on in their profile.
SECOND_FACTOR_ROLES = frozenset({Role.CENTRAL, Role.REGIONAL})


class User(AbstractUser):
    """A person who logs in: union staff at some level of the tree, a member, or a partner's cashier."""

    role = models.CharField(_("роль"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("организация"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("Организация, в пределах поддерева которой работает сотрудник."),
    )
    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        constraints = [
            models.CheckConstraint(
                name="org_staff_has_organization",
                condition=~models.Q(role__in=["central", "regional", "local", "chair"])
                | models.Q(organization__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)
        return full or self.username

    @property
    def is_org_staff(self) -> bool:
        return self.role in ORG_STAFF_ROLES

    @property
    def is_apparatus(self) -> bool:
        return self.role in APPARATUS_ROLES

    @property
    def second_factor_required(self) -> bool:
        """Whether the account may not work without a confirmed authenticator app: central and regional staff, and
        whoever can open the admin site."""
        return self.role in SECOND_FACTOR_ROLES or self.is_staff or self.is_superuser


# What the log calls each kind of object, in the words of the people who read it.
ACCESS_LOG_OBJECT_TYPES = {
    "registry.organization": _("Организация"),
    "registry.chair": _("Председатель"),
    "membership.member": _("Член Профсоюза"),
    "accounts.user": _("Пользователь"),
    "cards.card": _("Профсоюзный билет"),
    "cards.cardpricelist": _("Прейскурант на билеты"),
    "cards.cardcharge": _("Начисление за билеты"),
    "cards.cardpayment": _("Оплата за билеты"),
    "cards.cardvendorinvoice": _("Счёт изготовителя билетов"),
    "cards.cardcostrecovery": _("Возмещение стоимости билетов"),
    "discounts.partner": _("Партнёр"),
    "discounts.partnertoken": _("Ключ API партнёра"),
    "discounts.payoutbatch": _("Реестр выплат кешбэка"),
}


class AccessLog(models.Model):
    """Журнал доступа к персональным данным (152-ФЗ): append-only, never edited or deleted by users."""

    class Action(models.TextChoices):
        VIEW = "view", _("Просмотр")
        CREATE = "create", _("Создание")
        CHANGE = "change", _("Изменение")
        DELETE = "delete", _("Удаление")
        EXPORT = "export", _("Выгрузка")
        LOGIN = "login", _("Вход")
        LOGIN_FAILED = "login_failed", _("Неудачный вход")
        LOGOUT = "logout", _("Выход")
        VERIFY = "verify", _("Проверка билета")
        PURCHASE = "purchase", _("Покупка по билету")
        REVERSAL = "reversal", _("Возврат покупки")
        SECOND_FACTOR_ON = "2fa_on", _("Включён вход в два шага")
        SECOND_FACTOR_OFF = "2fa_off", _("Отключён вход в два шага")
        RECOVERY_CODE_USED = "recovery_used", _("Вход по резервному коду")
        RECOVERY_CODES_ISSUED = "recovery_issued", _("Выпущены резервные коды")

    created_at = models.DateTimeField(_("время"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("пользователь"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # accesslog_user_time starts with the user: a second index of the column would only slow every write.
        db_index=False,
    )
    # Kept as text so the record survives renames and deletions of the user it names.
    username = models.CharField(_("логин"), max_length=150, blank=True)
    action = models.CharField(_("действие"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("тип объекта"), max_length=64, blank=True)
    object_id = models.CharField(_("объект"), max_length=64, blank=True)
    object_repr = models.CharField(_("описание объекта"), max_length=255, blank=True)
    # The organisation the object belongs to, so central office can filter by region or org.
    organization_path = models.CharField(_("путь организации"), max_length=255, blank=True, db_index=True)
    details = models.JSONField(_("подробности"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    class Meta:
        verbose_name = _("запись журнала доступа")
        verbose_name_plural = _("журнал доступа")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accesslog_user_time"),
            models.Index(fields=["object_type", "object_id"], name="accesslog_object"),
            models.Index(fields=["action", "-created_at"], name="accesslog_action_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.username} {self.get_action_display()} {self.object_repr}"

    @property
    def details_lines(self) -> list[str]:
        """The details as a person reads them: "телефон: было → стало" with the fields' own names."""
        lines = describe_changes(self.object_type, self.details.get("changes") or {})
        lines.extend(f"{key}: {value}" for key, value in self.details.items() if key not in ("changes", "members"))
        if "members" in self.details:
            lines.append(f"записей: {len(self.details['members'])}")
        return lines

    @property
    def object_type_label(self) -> str:
        return str(ACCESS_LOG_OBJECT_TYPES.get(self.object_type, self.object_type))


def describe_changes(model_label: str, changes: dict) -> list[str]:
    """{field: [old, new]} as lines a person reads: the field's verbose name, choice labels, related objects' names."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        model = None
    lines = []
    for name, (old, new) in changes.items():
        try:
            field = model._meta.get_field(name) if model else None
        except FieldDoesNotExist:
            field = None
        label = str(field.verbose_name) if field is not None else name
        lines.append(f"{label}: {_shown(field, old)} → {_shown(field, new)}")
    return lines


def _shown(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field is not None and field.is_relation:
        related = field.related_model.objects.filter(pk=value).first()
        return str(related) if related else f"№ {value}"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "да" if value else "нет"
    return str(value)
