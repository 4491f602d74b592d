import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

YOUTH_AGE_LIMIT = 35


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

    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("первичная организация"),
        on_delete=models.PROTECT,
        related_name="members",
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
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    class Meta:
        verbose_name = _("член Профсоюза")
        verbose_name_plural = _("члены Профсоюза")
        ordering = ["last_name", "first_name", "middle_name", "id"]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name", "id"], name="member_org_name"),
            models.Index(fields=["last_name", "first_name", "birth_date"], name="member_duplicate_key"),
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

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def age_on(self, day: datetime.date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def is_youth_on(self, day: datetime.date) -> bool:
        return self.age_on(day) < YOUTH_AGE_LIMIT
