import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cards.numbers import card_number_grouped


class CardSerialCounter(models.Model):
    """The last serial issued in a region. Its row is locked while a number is taken, so numbers never collide and
    a rolled-back transaction gives its serial back: no gaps, no reuse."""

    region = models.OneToOneField("registry.Region", verbose_name=_("субъект РФ"), on_delete=models.PROTECT)
    last_serial = models.BigIntegerField(_("последний номер"), default=0)

    class Meta:
        verbose_name = _("счётчик номеров билетов")
        verbose_name_plural = _("счётчики номеров билетов")

    def __str__(self) -> str:
        return f"{self.region.code}: {self.last_serial}"


class Card(models.Model):
    """Электронный профсоюзный билет: a number of the member's, shown on the virtual card and printed on plastic."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Действует")
        BLOCKED = "blocked", _("Заблокирован")

    class BlockReason(models.TextChoices):
        LOST = "lost", _("Утерян")
        REISSUED = "reissued", _("Перевыпущен")
        LEFT = "left", _("Выбытие из Профсоюза")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Отзыв согласия")
        DAMAGED = "damaged", _("Повреждён")

    number = models.CharField(_("номер"), max_length=16, unique=True)
    # What the QR code carries (signed), so that the picture on a phone never shows the number itself.
    verification_key = models.UUIDField(_("ключ проверки"), default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        "membership.Member", verbose_name=_("член Профсоюза"), on_delete=models.PROTECT, related_name="cards"
    )
    # Where the holder is registered, kept on the card and moved with the member's transfers: the valid cards of
    # every organisation are then one grouped scan of this table, not a join with four million members.
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("организация держателя"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    status = models.CharField(_("статус"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField(_("выпущен"), auto_now_add=True)
    # When the plastic card with this number was handed to the member (its request marked issued).
    plastic_issued_at = models.DateTimeField(_("пластиковый билет выдан"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("выпустил"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    blocked_at = models.DateTimeField(_("заблокирован"), null=True, blank=True)
    block_reason = models.CharField(_("причина блокировки"), max_length=20, choices=BlockReason.choices, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("взамен билета"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )

    class Meta:
        verbose_name = _("профсоюзный билет")
        verbose_name_plural = _("профсоюзные билеты")
        ordering = ["-issued_at", "-id"]
        constraints = [
            # A member holds at most one valid card; older ones stay, blocked, for the history and verification.
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(status="active"), name="one_active_card_per_member"
            ),
            models.CheckConstraint(
                name="card_blocked_has_reason",
                condition=models.Q(status="active", blocked_at__isnull=True)
                | models.Q(status="blocked", blocked_at__isnull=False) & ~models.Q(block_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return self.grouped_number

    @property
    def grouped_number(self) -> str:
        return card_number_grouped(self.number)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class CardRequest(models.Model):
    """Заявка на пластиковый профсоюзный билет: from the chair's request to the card in the member's hands."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Запрошен")
        APPROVED = "approved", _("Одобрен")
        REJECTED = "rejected", _("Отклонён")
        SENT = "sent", _("Отправлен изготовителю")
        PRODUCED = "produced", _("Изготовлен")
        DELIVERED = "delivered", _("Доставлен в организацию")
        ISSUED = "issued", _("Выдан члену Профсоюза")
        CANCELLED = "cancelled", _("Отменён")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.SENT, Status.PRODUCED, Status.DELIVERED)

    member = models.ForeignKey(
        "membership.Member", verbose_name=_("член Профсоюза"), on_delete=models.PROTECT, related_name="card_requests"
    )
    card = models.ForeignKey(
        Card, verbose_name=_("билет"), on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("запросил"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("запрошен"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("рассмотрел"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("рассмотрен"), null=True, blank=True)
    reject_reason = models.CharField(_("причина отказа"), max_length=500, blank=True)
    issued_at = models.DateTimeField(_("выдан"), null=True, blank=True)
    batch = models.ForeignKey(
        "CardBatch", verbose_name=_("партия"), on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )

    class Meta:
        verbose_name = _("заявка на пластиковый билет")
        verbose_name_plural = _("заявки на пластиковые билеты")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(status__in=["requested", "approved", "sent", "produced", "delivered"]),
                name="one_open_card_request_per_member",
            )
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="card_request_queue")]

    def __str__(self) -> str:
        return f"{self.member} ({self.get_status_display()})"


class CardBatch(models.Model):
    """Партия пластиковых билетов для изготовителя: approved requests of one region and their vendor package."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Готовится пакет")
        READY = "ready", _("Пакет готов")
        FAILED = "failed", _("Сбой при подготовке")
        SENT = "sent", _("Отправлена изготовителю")
        PRODUCED = "produced", _("Изготовлена")
        DELIVERED = "delivered", _("Доставлена в организации")

    # The statuses a batch moves through after its package is ready, and what its requests become.
    NEXT_STATUS = {Status.READY: Status.SENT, Status.SENT: Status.PRODUCED, Status.PRODUCED: Status.DELIVERED}

    organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("региональная организация"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("сформировал"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("сформирована"), auto_now_add=True)
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.BUILDING)
    card_count = models.PositiveIntegerField(_("билетов"), default=0)
    package = models.FileField(_("пакет для изготовителя"), upload_to="card-batches/%Y/", blank=True)
    package_sha256 = models.CharField(_("SHA-256 пакета"), max_length=64, blank=True)
    failure = models.TextField(_("описание сбоя"), blank=True)
    status_changed_at = models.DateTimeField(_("статус изменён"), null=True, blank=True)

    class Meta:
        verbose_name = _("партия билетов")
        verbose_name_plural = _("партии билетов")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Партия № {self.pk} ({self.card_count})"

    @property
    def is_building(self) -> bool:
        return self.status == self.Status.BUILDING
