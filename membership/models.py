import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import describe_changes

YOUTH_AGE_LIMIT = 35


def search_name_of(last_name: str, first_name: str, middle_name: str = "") -> str:
    """The form in which names are searched and compared for duplicates: lower case, ё as е, single spaces."""
    full = " ".join(part.strip() for part in (last_name, first_name, middle_name) if part and part.strip())
    return " ".join(full.lower().replace("ё", "е").split())


class Member(models.Model):
    """Учётная запись члена Профсоюза в реестре."""

    class Sex(models.TextChoices):
        FEMALE = "f", _("женский")
        MALE = "m", _("мужской")

    class Category(models.TextChoices):
        WORKING = "working", _("Работающий")
        STUDENT = "student", _("Обучающийся")
        PENSIONER = "pensioner", _("Неработающий пенсионер")
        UNEMPLOYED = "unemployed", _("Временно неработающий")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Член Профсоюза")
        LEFT = "left", _("Выбыл")

    class LeavingReason(models.TextChoices):
        VOLUNTARY = "voluntary", _("Добровольный выход")
        EXCLUDED = "excluded", _("Исключение")
        TRANSFER = "transfer", _("Перевод в другую организацию")
        DEATH = "death", _("Смерть")
        END_OF_WORK = "end_of_work", _("Окончание работы или учёбы")

    # No index of its own: the composite member indexes below all start with organization_id.
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("первичная организация"),
        on_delete=models.PROTECT,
        related_name="members",
        db_index=False,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("учётная запись"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
    )
    last_name = models.CharField(_("фамилия"), max_length=150)
    first_name = models.CharField(_("имя"), max_length=150)
    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)
    # Derived from the three names by search_name_of(); kept in the row so a prefix search is one index range.
    search_name = models.CharField(_("ФИО для поиска"), max_length=460, editable=False, db_default="")
    birth_date = models.DateField(_("дата рождения"))
    sex = models.CharField(_("пол"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    category = models.CharField(_("категория"), max_length=16, choices=Category.choices)
    position = models.CharField(_("должность / учебная группа"), max_length=255, blank=True)
    is_teaching_staff = models.BooleanField(_("педагогический работник"), default=False)
    union_joined_on = models.DateField(_("дата вступления в Профсоюз"))
    org_joined_on = models.DateField(_("дата постановки на учёт в организации"))
    dues_application = models.BooleanField(_("заявление об удержании взносов (1 %)"), default=False)
    status = models.CharField(_("статус"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    left_on = models.DateField(_("дата выбытия"), null=True, blank=True)
    leaving_reason = models.CharField(_("причина выбытия"), max_length=16, choices=LeavingReason.choices, blank=True)
    is_committee_member = models.BooleanField(_("член профкома"), default=False)
    is_audit_member = models.BooleanField(_("член ревизионной комиссии"), default=False)
    is_group_organiser = models.BooleanField(_("профгрупорг"), default=False)
    is_safety_rep = models.BooleanField(_("уполномоченный по охране труда"), default=False)
    # Set when the member withdraws consent to processing: the record is frozen and the card blocked.
    processing_blocked_on = models.DateField(_("обработка прекращена"), null=True, blank=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    class Meta:
        verbose_name = _("член Профсоюза")
        verbose_name_plural = _("члены Профсоюза")
        ordering = ["last_name", "first_name", "middle_name", "id"]
        indexes = [
            # Prefix search by name and the duplicate check (same name + date of birth anywhere in the union).
            # On PostgreSQL search_name has the "C" collation (migration 0007), so one plain B-tree serves both
            # LIKE 'prefix%' and ORDER BY search_name; SQLite compares bytes anyway.
            models.Index(fields=["search_name", "birth_date"], name="member_search_name"),
            # An organisation's list in name order, page after page (keyset on search_name, id).
            models.Index(fields=["organization", "search_name", "id"], name="member_org_search_name"),
            models.Index(fields=["organization", "status", "category"], name="member_org_status_cat"),
        ]
        constraints = [
            models.CheckConstraint(
                name="member_left_has_date_and_reason",
                condition=models.Q(status="active", left_on__isnull=True)
                | models.Q(status="left", left_on__isnull=False) & ~models.Q(leaving_reason=""),
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("membership:member_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def age_on(self, day: datetime.date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def is_youth_on(self, day: datetime.date) -> bool:
        return self.age_on(day) < YOUTH_AGE_LIMIT


class MemberEvent(models.Model):
    """История учётной записи: кто, когда и что изменил. Append-only."""

    class Kind(models.TextChoices):
        ADMITTED = "admitted", _("Принят в Профсоюз")
        IMPORTED = "imported", _("Загружен из файла")
        CHANGED = "changed", _("Изменены данные")
        TRANSFER_REQUESTED = "transfer_requested", _("Запрошен перевод")
        TRANSFER_CANCELLED = "transfer_cancelled", _("Перевод отменён")
        TRANSFER_REJECTED = "transfer_rejected", _("Перевод отклонён")
        TRANSFERRED = "transferred", _("Переведён в другую организацию")
        LEFT = "left", _("Выбыл из Профсоюза")
        RESTORED = "restored", _("Восстановлен в Профсоюзе")
        CONSENT_GIVEN = "consent_given", _("Получено согласие")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Согласие отозвано")
        ACCOUNT_INVITED = "account_invited", _("Открыт личный кабинет")
        SELF_SERVICE = "self_service", _("Изменено членом Профсоюза в личном кабинете")
        DATA_DESTROYED = "data_destroyed", _("Персональные данные уничтожены")

    member = models.ForeignKey(
        Member, verbose_name=_("член Профсоюза"), on_delete=models.CASCADE, related_name="events"
    )
    created_at = models.DateTimeField(_("когда"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("событие"), max_length=24, choices=Kind.choices)
    organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("организация"), on_delete=models.PROTECT, related_name="+"
    )
    changes = models.JSONField(_("что изменилось"), default=dict, blank=True)
    note = models.CharField(_("примечание"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("событие истории члена Профсоюза")
        verbose_name_plural = _("история членов Профсоюза")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="memberevent_member_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%d.%m.%Y})"

    @property
    def change_lines(self) -> list[str]:
        return describe_changes("membership.member", self.changes)


class MemberTransfer(models.Model):
    """Перевод члена Профсоюза в другую первичную организацию: вступает в силу, когда её принимают."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Ожидает принятия")
        ACCEPTED = "accepted", _("Принят")
        REJECTED = "rejected", _("Отклонён")
        CANCELLED = "cancelled", _("Отменён")

    member = models.ForeignKey(
        Member, verbose_name=_("член Профсоюза"), on_delete=models.CASCADE, related_name="transfers"
    )
    from_organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("из организации"), on_delete=models.PROTECT, related_name="+"
    )
    to_organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("в организацию"),
        on_delete=models.PROTECT,
        related_name="incoming_transfers",
    )
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("запросил"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("запрошен"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("решение принял"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("решение принято"), null=True, blank=True)
    note = models.CharField(_("комментарий"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("перевод члена Профсоюза")
        verbose_name_plural = _("переводы членов Профсоюза")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(status="pending"), name="one_pending_transfer_per_member"
            )
        ]
        indexes = [models.Index(fields=["to_organization", "status"], name="transfer_incoming")]

    def __str__(self) -> str:
        return f"{self.member} → {self.to_organization}"


class Consent(models.Model):
    """Согласие на обработку персональных данных (отдельный документ, 152-ФЗ в редакции с 01.09.2025)."""

    class Purpose(models.TextChoices):
        PROCESSING = "processing", _("Обработка персональных данных Профсоюзом")
        CARD_VENDOR = "card_vendor", _("Передача данных изготовителю профсоюзного билета")
        PARTNERS = "partners", _("Участие в программе скидок и кэшбэка партнёров")

    class Method(models.TextChoices):
        SIGNED_FORM = "signed_form", _("Подписанный бланк (оригинал в ППО)")
        SCAN = "scan", _("Скан подписанного бланка")
        ELECTRONIC = "electronic", _("В личном кабинете")

    member = models.ForeignKey(
        Member, verbose_name=_("член Профсоюза"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("цель"), max_length=16, choices=Purpose.choices)
    text_version = models.CharField(_("редакция текста"), max_length=16)
    given_on = models.DateField(_("дата согласия"))
    method = models.CharField(_("как получено"), max_length=16, choices=Method.choices)
    scan = models.FileField(_("скан"), upload_to="consents/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("внёс"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_on = models.DateField(_("отозвано"), null=True, blank=True)
    created_at = models.DateTimeField(_("внесено"), auto_now_add=True)

    class Meta:
        verbose_name = _("согласие")
        verbose_name_plural = _("согласия")
        ordering = ["purpose", "-given_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "purpose"],
                condition=models.Q(withdrawn_on__isnull=True),
                name="one_active_consent_per_purpose",
            ),
            models.CheckConstraint(
                name="consent_withdrawn_after_given",
                condition=models.Q(withdrawn_on__isnull=True) | models.Q(withdrawn_on__gte=models.F("given_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.given_on:%d.%m.%Y})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


class PersonalDataDestruction(models.Model):
    """Акт уничтожения персональных данных: what was destroyed, when, on what basis. Kept for good."""

    member = models.OneToOneField(
        Member, verbose_name=_("член Профсоюза"), on_delete=models.PROTECT, related_name="destruction"
    )
    destroyed_at = models.DateTimeField(_("уничтожены"), auto_now_add=True)
    basis = models.CharField(_("основание"), max_length=300)
    fields = models.JSONField(_("уничтоженные сведения"), default=list)
    files_deleted = models.PositiveIntegerField(_("удалено файлов"), default=0)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("акт уничтожения персональных данных")
        verbose_name_plural = _("акты уничтожения персональных данных")
        ordering = ["-destroyed_at"]

    def __str__(self) -> str:
        return f"Акт № {self.pk} от {self.destroyed_at:%d.%m.%Y}"


class MemberInvitation(models.Model):
    """Одноразовый код для входа в личный кабинет: the chair prints it or it goes by e-mail."""

    MAX_ATTEMPTS = 5

    member = models.ForeignKey(
        Member, verbose_name=_("член Профсоюза"), on_delete=models.CASCADE, related_name="invitations"
    )
    code_hash = models.CharField(_("хеш кода"), max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("выдал"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("выдан"), auto_now_add=True)
    expires_at = models.DateTimeField(_("действует до"))
    used_at = models.DateTimeField(_("использован"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("неудачных попыток"), default=0)

    class Meta:
        verbose_name = _("приглашение в личный кабинет")
        verbose_name_plural = _("приглашения в личный кабинет")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member} ({self.created_at:%d.%m.%Y})"


class MemberImport(models.Model):
    """Загрузка списка членов Профсоюза из файла: preview with errors first, then all rows or none."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Проверяется")
        VALIDATED = "validated", _("Проверен, можно загружать")
        INVALID = "invalid", _("Есть ошибки")
        COMMITTING = "committing", _("Загружается")
        COMMITTED = "committed", _("Загружен")
        FAILED = "failed", _("Сбой")

    organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("организация"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("загрузил"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("загружен"), auto_now_add=True)
    file = models.FileField(_("файл"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("имя файла"), max_length=255)
    status = models.CharField(_("статус"), max_length=12, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(_("строк"), default=0)
    valid_rows = models.PositiveIntegerField(_("строк без ошибок"), default=0)
    error_count = models.PositiveIntegerField(_("ошибок"), default=0)
    # The first errors and duplicates, for the preview; error_count has the full number.
    errors = models.JSONField(_("ошибки"), default=list, blank=True)
    duplicates = models.JSONField(_("совпадения с реестром"), default=list, blank=True)
    duplicate_count = models.PositiveIntegerField(_("совпадений"), default=0)
    include_duplicates = models.BooleanField(_("загружать совпадающих"), default=False)
    committed_count = models.PositiveIntegerField(_("загружено"), default=0)
    failure = models.TextField(_("описание сбоя"), blank=True)
    # When the step under way (the check, then the commit) began: the beat task fails a step that never ended.
    step_started_at = models.DateTimeField(_("шаг начат"), default=timezone.now)
    finished_at = models.DateTimeField(_("завершено"), null=True, blank=True)

    class Meta:
        verbose_name = _("загрузка из файла")
        verbose_name_plural = _("загрузки из файлов")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.created_at:%d.%m.%Y %H:%M})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.VALIDATING, self.Status.COMMITTING)
