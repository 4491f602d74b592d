from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union_statistics.indicators import END, ENTERED_KEYS, vector_pack, vector_unpack


class ReportCampaign(models.Model):
    """Отчётная кампания: central office asks every primary organisation for its report of a year by a deadline."""

    year = models.PositiveSmallIntegerField(_("отчётный год"), unique=True)
    deadline = models.DateField(_("срок сдачи"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("открыл"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("открыта"), auto_now_add=True)
    closed_at = models.DateTimeField(_("закрыта"), null=True, blank=True)
    # How many reminders went out, so the page can say it and beat does not send twice in one day.
    last_reminders_on = models.DateField(_("последние напоминания"), null=True, blank=True)

    class Meta:
        verbose_name = _("отчётная кампания")
        verbose_name_plural = _("отчётные кампании")
        ordering = ["-year"]

    def __str__(self) -> str:
        return _("Отчёт за %(year)s год") % {"year": self.year}

    def get_absolute_url(self) -> str:
        return reverse("statistics:campaign_detail", args=[self.year])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AnnualReport(models.Model):
    """Статистический отчёт первичной профсоюзной организации за год (по состоянию на 1 января)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Не сдан")
        SUBMITTED = "submitted", _("Сдан, ждёт проверки")
        RETURNED = "returned", _("Возвращён на доработку")
        ACCEPTED = "accepted", _("Принят")

    # A chair may change the report while it is with them; the level above decides on a submitted one.
    EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)
    OWED_STATUSES = (Status.DRAFT, Status.RETURNED)

    organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("организация"), on_delete=models.PROTECT, related_name="reports"
    )
    year = models.PositiveSmallIntegerField(_("отчётный год"))
    campaign = models.ForeignKey(
        ReportCampaign,
        verbose_name=_("кампания"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # What the chair entered: the institution's staff and students, {key: [start, end, women]}.
    entered = models.JSONField(_("введено председателем"), default=dict, blank=True)
    # Frozen at submission: the register's figures plus the entered ones. Later register changes do not touch it.
    figures = models.JSONField(_("показатели"), default=dict, blank=True)
    # The members line's end figure, kept by the database from the frozen figures: a rollup reads
    # it from every organisation's last accepted report, and parsing eighty thousand documents for one number
    # costs more than the rest of that read.
    members_end = models.GeneratedField(
        expression=Cast(KT(f"figures__members__{END}"), models.IntegerField()),
        output_field=models.IntegerField(_("членов Профсоюза на конец года"), null=True),
        db_persist=True,
    )
    explanation = models.TextField(_("пояснение к расхождениям"), blank=True)
    submitted_at = models.DateTimeField(_("сдан"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("сдал"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("решение принято"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("решение принял"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    return_comment = models.TextField(_("замечания при возврате"), blank=True)
    reminded_at = models.DateTimeField(_("последнее напоминание"), null=True, blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("годовой статистический отчёт")
        verbose_name_plural = _("годовые статистические отчёты")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="one_report_per_org_and_year"),
            models.CheckConstraint(
                name="report_submitted_has_time",
                condition=models.Q(status__in=["draft"]) | models.Q(submitted_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["year", "status"], name="report_year_status"),
            # The last accepted report of each organisation with its members, read from the index alone.
            models.Index(
                fields=["organization", "-year", "members_end"],
                condition=models.Q(status="accepted"),
                name="report_accepted_members",
            ),
        ]

    def __str__(self) -> str:
        return _("Отчёт %(org)s за %(year)s год") % {"org": self.organization, "year": self.year}

    def get_absolute_url(self) -> str:
        return reverse("statistics:report_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_frozen(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.ACCEPTED)

    def entered_value(self, key: str, column: int) -> int | None:
        values = self.entered.get(key)
        return None if values is None else values[column]

    @staticmethod
    def entered_keys() -> tuple[str, ...]:
        return ENTERED_KEYS


class ReportEvent(models.Model):
    """История отчёта: сдан, возвращён с замечаниями, принят. Append-only."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Сдан")
        RETURNED = "returned", _("Возвращён на доработку")
        ACCEPTED = "accepted", _("Принят")

    report = models.ForeignKey(AnnualReport, verbose_name=_("отчёт"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("событие"), max_length=10, choices=Kind.choices)
    # Empty for events loaded with the data (the demo union), not made by a person in the portal.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("когда"), default=timezone.now)
    comment = models.TextField(_("комментарий"), blank=True)

    class Meta:
        verbose_name = _("событие отчёта")
        verbose_name_plural = _("история отчётов")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%d.%m.%Y})"


class RollupBuild(models.Model):
    """One run of the rollup: when, by whom or by the schedule, from what, with what result."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Идёт расчёт")
        DONE = "done", _("Готово")
        FAILED = "failed", _("Сбой")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Ночной расчёт")
        ON_DEMAND = "on_demand", _("По запросу")
        CAMPAIGN = "campaign", _("Решение по отчёту")

    year = models.PositiveSmallIntegerField(_("год"))
    variant = models.CharField(_("вариант"), max_length=10)
    trigger = models.CharField(_("запуск"), max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("запросил"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("статус"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("начат"), auto_now_add=True)
    finished_at = models.DateTimeField(_("закончен"), null=True, blank=True)
    # What the figures were built from: the dates of the register, row counts, the accepted reports.
    source = models.JSONField(_("исходные данные"), default=dict, blank=True)
    # SHA-256 of every snapshot row's figures in organisation order: equal digests, equal snapshots.
    digest = models.CharField(_("контрольная сумма"), max_length=64, blank=True)
    organizations = models.PositiveIntegerField(_("организаций"), default=0)
    failure = models.TextField(_("описание сбоя"), blank=True)

    class Meta:
        verbose_name = _("расчёт сводных показателей")
        verbose_name_plural = _("расчёты сводных показателей")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.year} {self.variant} ({self.started_at:%d.%m.%Y %H:%M})"

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class RollupSnapshot(models.Model):
    """Сводные показатели одной организации за год: what dashboards read instead of counting members."""

    class Variant(models.TextChoices):
        ACCEPTED = "accepted", _("По принятым отчётам")
        REGISTER = "register", _("По данным реестра")

    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("организация"),
        on_delete=models.CASCADE,
        related_name="+",
        # The unique constraint below starts with the organisation: its index serves lookups by organisation.
        db_index=False,
        # No foreign-key trigger: a build writes 85,000 rows whose ids it has just read in the same transaction,
        # and checking each at commit costs as much as writing them. Deletions still cascade through the ORM.
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField(_("год"))
    variant = models.CharField(_("вариант"), max_length=10, choices=Variant.choices)
    # The counts in the layout of indicators.SNAPSHOT_KEYS, packed (indicators.vector_pack): eighty-five thousand
    # rows are written at a time and only ever read whole, so the database need not parse or index inside them.
    figures = models.BinaryField(_("показатели"))
    build = models.ForeignKey(
        RollupBuild,
        verbose_name=_("расчёт"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # as for the organisation above
    )

    class Meta:
        verbose_name = _("сводные показатели")
        verbose_name_plural = _("сводные показатели")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "variant"], name="one_snapshot_per_org_year"),
        ]
        indexes = [models.Index(fields=["year", "variant"], name="snapshot_year_variant")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.variant}"

    @property
    def vector(self) -> list[int]:
        return vector_unpack(self.figures)

    @vector.setter
    def vector(self, counts: list[int]) -> None:
        self.figures = vector_pack(counts)
