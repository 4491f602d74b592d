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
    # Where the member is registered, kept on the request and moved with the member's transfers (as on the card):
    # a region's queue is then its own requests found by index, not every waiting request of the union looked up
    # member by member.
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("организация члена Профсоюза"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # card_request_org_status starts with it
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
        indexes = [
            models.Index(fields=["status", "requested_at"], name="card_request_queue"),
            models.Index(fields=["organization", "status"], name="card_request_org_status"),
            # The regional queue counts what waits in each organisation of a subtree by an index-only scan of this
            # small index (only the requests awaiting a decision), never by visiting the table's pages.
            models.Index(
                fields=["organization", "requested_at", "id"],
                name="card_request_waiting",
                condition=models.Q(status="requested"),
            ),
        ]

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
    # When the build was handed to the Celery queue; empty while the queue (Redis) was down when it was asked for,
    # and then the beat task cards.tasks.card_batches_watch hands it over once the queue is back.
    build_queued_at = models.DateTimeField(_("сборка поставлена в очередь"), null=True, blank=True)

    class Meta:
        verbose_name = _("партия билетов")
        verbose_name_plural = _("партии билетов")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Партия № {self.pk} ({self.card_count})"

    @property
    def is_building(self) -> bool:
        return self.status == self.Status.BUILDING


class CardBatchChunk(models.Model):
    """One part of a batch's vendor package: the cards first_number…last_number (by position in the batch's
    requests ordered by number, fixed when the build is planned), rendered by one worker into one PDF and a slice
    of the personalization file. rendered_at is set only after both files are in storage, so a half-written file
    of a killed worker is never taken for a finished part; the assembling step streams the parts into the ZIP."""

    batch = models.ForeignKey(CardBatch, verbose_name=_("партия"), on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(_("номер части"))
    first_number = models.CharField(_("первый номер"), max_length=16)
    last_number = models.CharField(_("последний номер"), max_length=16)
    card_count = models.PositiveIntegerField(_("билетов"))
    # The part's requests in card-number order, fixed with the plan: a part is read by primary key, whatever the
    # planner thinks of a batch formed a moment ago.
    request_ids = models.JSONField(_("заявки части"), default=list)
    pdf = models.FileField(_("макеты (PDF)"), max_length=255, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 PDF"), max_length=64, blank=True)
    pdf_bytes = models.PositiveBigIntegerField(_("размер PDF, байт"), default=0)
    csv = models.FileField(_("строки персонализации"), max_length=255, blank=True)
    rendered_at = models.DateTimeField(_("готова"), null=True, blank=True)
    worker = models.CharField(_("обработчик"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("часть пакета партии")
        verbose_name_plural = _("части пакета партии")
        ordering = ["batch", "index"]
        constraints = [models.UniqueConstraint(fields=["batch", "index"], name="one_chunk_per_batch_index")]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.index:04d}"

    @property
    def pdf_name(self) -> str:
        """The part's name in the ZIP: the vendor prints cards-0001.pdf, cards-0002.pdf, … in this order."""
        return f"cards-{self.index:04d}.pdf"


# --- the cards' cost and who pays it (cards.settlement_services) ----------------------------------------------------


class CardPriceList(models.Model):
    """Прейскурант изготовителя пластиковых билетов: the price of a card by the batch's size, in force from a date
    until the next version. A version that priced a batch is never changed: a new price is a new version."""

    valid_from = models.DateField(_("действует с"), unique=True)
    vendor = models.CharField(_("изготовитель"), max_length=200, blank=True)
    note = models.CharField(_("основание"), max_length=300, blank=True, help_text=_("Договор, письмо, приложение."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("внёс"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("внесён"), auto_now_add=True)

    class Meta:
        verbose_name = _("прейскурант на билеты")
        verbose_name_plural = _("прейскуранты на билеты")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"Прейскурант с {self.valid_from:%d.%m.%Y}"


class CardPriceTier(models.Model):
    """Ступень прейскуранта: the price of one card in a batch of at least `min_cards` cards."""

    price_list = models.ForeignKey(
        CardPriceList, verbose_name=_("прейскурант"), on_delete=models.CASCADE, related_name="tiers"
    )
    min_cards = models.PositiveIntegerField(_("от, билетов"))
    unit_price = models.PositiveBigIntegerField(_("цена билета, коп."))

    class Meta:
        verbose_name = _("ступень прейскуранта")
        verbose_name_plural = _("ступени прейскуранта")
        ordering = ["price_list", "min_cards"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "min_cards"], name="price_tier_once_per_list"),
            models.CheckConstraint(name="price_tier_from_one_card", condition=models.Q(min_cards__gte=1)),
            models.CheckConstraint(name="price_tier_price_positive", condition=models.Q(unit_price__gt=0)),
        ]

    def __str__(self) -> str:
        return f"от {self.min_cards}: {self.unit_price} коп."


class CardVendorInvoice(models.Model):
    """Счёт изготовителя за партию: what the central council prepaid the vendor for the batch."""

    batch = models.OneToOneField(
        CardBatch, verbose_name=_("партия"), on_delete=models.PROTECT, related_name="vendor_invoice"
    )
    number = models.CharField(_("номер счёта"), max_length=64)
    issued_on = models.DateField(_("дата счёта"))
    amount = models.PositiveBigIntegerField(_("сумма, коп."))
    file = models.FileField(_("счёт (PDF)"), upload_to="card-invoices/%Y/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("внёс"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("внесён"), auto_now=True)

    class Meta:
        verbose_name = _("счёт изготовителя")
        verbose_name_plural = _("счета изготовителя")

    def __str__(self) -> str:
        return f"Счёт № {self.number} от {self.issued_on:%d.%m.%Y}"


class CardCharge(models.Model):
    """Начисление региону за партию: the region's cards in the batch × the price in force on the forming day.
    Written once, when the batch is formed; later prices never move it."""

    batch = models.ForeignKey(CardBatch, verbose_name=_("партия"), on_delete=models.PROTECT, related_name="charges")
    region = models.ForeignKey(
        "registry.Organization", verbose_name=_("региональная организация"), on_delete=models.PROTECT, related_name="+"
    )
    price_list = models.ForeignKey(
        CardPriceList, verbose_name=_("прейскурант"), on_delete=models.PROTECT, related_name="charges"
    )
    # The tier is chosen by the whole batch's size: a batch the centre gathers over regions is cheaper for all.
    batch_cards = models.PositiveIntegerField(_("билетов в партии"))
    tier_min_cards = models.PositiveIntegerField(_("ступень прейскуранта, от билетов"))
    cards = models.PositiveIntegerField(_("билетов региона"))
    unit_price = models.PositiveBigIntegerField(_("цена билета, коп."))
    amount = models.PositiveBigIntegerField(_("сумма, коп."))
    charged_on = models.DateField(_("дата начисления"))
    created_at = models.DateTimeField(_("записано"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("сформировал"), on_delete=models.PROTECT, related_name="+"
    )
    # When the lines were charged to the primary organisations (the region recovers the cost from them).
    passed_on_at = models.DateTimeField(_("предъявлено ППО"), null=True, blank=True)

    class Meta:
        verbose_name = _("начисление за билеты")
        verbose_name_plural = _("начисления за билеты")
        ordering = ["-charged_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "region"], name="card_charge_once_per_batch_region"),
            models.CheckConstraint(name="card_charge_is_cards_times_price",
                                   condition=models.Q(amount=models.F("cards") * models.F("unit_price"))),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"Партия № {self.batch_id}: {self.cards} × {self.unit_price} коп."


class CardChargeLine(models.Model):
    """Строка начисления: one primary organisation's cards in the region's charge, at the charge's price."""

    charge = models.ForeignKey(CardCharge, verbose_name=_("начисление"), on_delete=models.PROTECT, related_name="lines")
    organization = models.ForeignKey(
        "registry.Organization", verbose_name=_("первичная организация"), on_delete=models.PROTECT, related_name="+"
    )
    cards = models.PositiveIntegerField(_("билетов"))
    unit_price = models.PositiveBigIntegerField(_("цена билета, коп."))
    amount = models.PositiveBigIntegerField(_("сумма, коп."))

    class Meta:
        verbose_name = _("строка начисления за билеты")
        verbose_name_plural = _("строки начислений за билеты")
        ordering = ["charge", "id"]
        constraints = [
            models.UniqueConstraint(fields=["charge", "organization"], name="card_charge_line_once_per_org"),
            models.CheckConstraint(name="card_charge_line_is_cards_times_price",
                                   condition=models.Q(amount=models.F("cards") * models.F("unit_price"))),
        ]  # fmt: skip
        indexes = [models.Index(fields=["organization", "charge"], name="card_charge_line_org")]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.cards} × {self.unit_price} коп."


class CardCostRecovery(models.Model):
    """The region's choice: the cost of the cards is recovered from its primary organisations (each then has its
    own statement), or the region bears it."""

    region = models.OneToOneField(
        "registry.Organization",
        verbose_name=_("региональная организация"),
        on_delete=models.PROTECT,
        related_name="card_cost_recovery",
    )
    from_primaries = models.BooleanField(_("стоимость возмещают ППО"), default=False)
    changed_at = models.DateTimeField(_("изменено"), auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("изменил"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("возмещение стоимости билетов")
        verbose_name_plural = _("возмещение стоимости билетов")

    def __str__(self) -> str:
        return f"{self.region_id}: {'ППО' if self.from_primaries else 'регион'}"


class SettlementLedger(models.TextChoices):
    """Two sets of accounts: regions owe the central council; primary organisations owe their region."""

    REGION = "region", _("Регион — центральный совет")
    PRIMARY = "primary", _("ППО — региональная организация")


class CardPayment(models.Model):
    """Оплата за билеты: a region's payment to the central council (recorded by central office), or a primary
    organisation's payment to its region (recorded by the region). A mistaken one is cancelled, never deleted."""

    ledger = models.CharField(_("расчёты"), max_length=8, choices=SettlementLedger.choices)
    payer = models.ForeignKey(
        "registry.Organization", verbose_name=_("плательщик"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "registry.Organization", verbose_name=_("региональная организация"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.PositiveBigIntegerField(_("сумма, коп."))
    paid_on = models.DateField(_("дата оплаты"))
    document = models.CharField(_("платёжный документ"), max_length=64, blank=True)
    note = models.CharField(_("примечание"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("внёс"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("внесена"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("отменена"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("отменил"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancel_reason = models.CharField(_("причина отмены"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("оплата за билеты")
        verbose_name_plural = _("оплаты за билеты")
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(name="card_payment_positive", condition=models.Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"Оплата {self.amount} коп. от {self.paid_on:%d.%m.%Y}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class CardLedgerEntry(models.Model):
    """Проводка расчётов за билеты: an append-only line on an organisation's account, in kopecks, plus what the
    account owes more (a charge, a cancelled payment) and minus what it paid. Every balance is the sum of these."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Начисление")
        PAYMENT = "payment", _("Оплата")
        PAYMENT_CANCELLED = "payment_cancelled", _("Отмена оплаты")

    ledger = models.CharField(_("расчёты"), max_length=8, choices=SettlementLedger.choices)
    account = models.ForeignKey(
        "registry.Organization", verbose_name=_("счёт организации"), on_delete=models.PROTECT, related_name="+"
    )
    # The regional organisation either side of which the entry is: the scope of regional staff.
    region = models.ForeignKey(
        "registry.Organization", verbose_name=_("региональная организация"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("операция"), max_length=20, choices=Kind.choices)
    amount = models.BigIntegerField(_("сумма, коп."))
    occurred_on = models.DateField(_("дата"))
    charge = models.ForeignKey(
        CardCharge, verbose_name=_("начисление"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    charge_line = models.ForeignKey(
        CardChargeLine,
        verbose_name=_("строка начисления"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    payment = models.ForeignKey(
        CardPayment, verbose_name=_("оплата"), on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    created_at = models.DateTimeField(_("записано"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("записал"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("проводка расчётов за билеты")
        verbose_name_plural = _("проводки расчётов за билеты")
        ordering = ["occurred_on", "id"]
        indexes = [
            models.Index(fields=["ledger", "account", "occurred_on"], name="card_ledger_account_day"),
            models.Index(fields=["ledger", "region", "occurred_on"], name="card_ledger_region_day"),
        ]
        constraints = [
            models.CheckConstraint(
                name="card_ledger_sign_by_kind",
                condition=models.Q(kind="payment", amount__lt=0)
                | models.Q(kind__in=["charge", "payment_cancelled"], amount__gt=0),
            ),
            # A charge and a line are posted once: a retried forming can never charge twice.
            models.UniqueConstraint(
                fields=["charge"], condition=models.Q(ledger="region"), name="card_ledger_charge_once"
            ),
            models.UniqueConstraint(fields=["charge_line"], name="card_ledger_charge_line_once"),
            models.UniqueConstraint(fields=["payment", "kind"], name="card_ledger_payment_kind_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} коп. ({self.occurred_on:%d.%m.%Y})"
