"""The discount and cashback programme: partners, their cashiers and API tokens, purchases, the cashback ledger and
payouts. Money is integer kopecks; rates are integer basis points (discounts/money.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from discounts.money import BASIS_POINTS, percent_text


class Partner(models.Model):
    """Партнёр дисконтной программы: a shop, clinic, travel agency… that gives members a discount or cashback."""

    class Category(models.TextChoices):
        FOOD = "food", _("Продукты и питание")
        CLOTHES = "clothes", _("Одежда и обувь")
        HEALTH = "health", _("Здоровье и аптеки")
        EDUCATION = "education", _("Книги и обучение")
        TRAVEL = "travel", _("Отдых и путешествия")
        CULTURE = "culture", _("Культура и досуг")
        SPORT = "sport", _("Спорт")
        HOME = "home", _("Дом и электроника")
        SERVICES = "services", _("Услуги")
        AUTO = "auto", _("Транспорт и авто")
        ONLINE = "online", _("Интернет-магазины")

    name = models.CharField(_("название"), max_length=200)
    category = models.CharField(_("категория"), max_length=16, choices=Category.choices)
    logo = models.ImageField(_("логотип"), upload_to="partner-logos/%Y/", blank=True)
    description = models.TextField(_("о партнёре"), blank=True)
    terms = models.TextField(_("условия"), blank=True, help_text=_("Как получить скидку или кешбэк, исключения."))
    # Who manages the partner: a regional organisation for its own partners, none for central office's.
    managed_by = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("ведёт региональная организация"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_union_wide = models.BooleanField(_("действует во всех регионах"), default=False)
    regions = models.ManyToManyField(
        "registry.Region", verbose_name=_("регионы действия"), blank=True, related_name="partners"
    )
    discount_bp = models.PositiveIntegerField(
        _("скидка, б.п."), default=0, validators=[MaxValueValidator(BASIS_POINTS)], help_text=_("1 % = 100.")
    )
    cashback_bp = models.PositiveIntegerField(
        _("кешбэк, б.п."), default=0, validators=[MaxValueValidator(BASIS_POINTS)], help_text=_("1 % = 100.")
    )
    promo_code = models.CharField(_("промокод для покупок онлайн"), max_length=64, blank=True)
    online_url = models.URLField(_("ссылка для покупок онлайн"), blank=True)
    active_from = models.DateField(_("действует с"))
    active_until = models.DateField(_("действует по"), null=True, blank=True)
    hold_days = models.PositiveSmallIntegerField(
        _("срок удержания кешбэка, дней"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("В этот срок партнёр может оформить возврат; затем кешбэк подтверждается."),
    )
    # Anti-fraud: what one card may do at this partner in a day (0 = no limit).
    daily_purchases_per_card = models.PositiveSmallIntegerField(_("покупок по билету в день"), default=5)
    daily_amount_per_card = models.PositiveBigIntegerField(_("сумма покупок по билету в день, коп."), default=5_000_000)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("партнёр")
        verbose_name_plural = _("партнёры")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["category", "name"], name="partner_category_name")]
        constraints = [
            models.CheckConstraint(
                name="partner_period_ordered",
                condition=models.Q(active_until__isnull=True) | models.Q(active_until__gte=models.F("active_from")),
            ),
            models.CheckConstraint(name="partner_cashback_at_most_100", condition=models.Q(cashback_bp__lte=10_000)),
            models.CheckConstraint(name="partner_discount_at_most_100", condition=models.Q(discount_bp__lte=10_000)),
        ]

    def __str__(self) -> str:
        return self.name

    def is_active_on(self, day) -> bool:
        return self.active_from <= day and (self.active_until is None or day <= self.active_until)

    @property
    def is_active(self) -> bool:
        return self.is_active_on(timezone.localdate())

    @property
    def discount_percent(self) -> str:
        return percent_text(self.discount_bp)

    @property
    def cashback_percent(self) -> str:
        return percent_text(self.cashback_bp)


class Cashier(models.Model):
    """A partner's cashier: a user of the `cashier` role who works for exactly one partner."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("пользователь"), on_delete=models.CASCADE, related_name="cashier"
    )
    partner = models.ForeignKey(Partner, verbose_name=_("партнёр"), on_delete=models.PROTECT, related_name="cashiers")
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)

    class Meta:
        verbose_name = _("кассир партнёра")
        verbose_name_plural = _("кассиры партнёров")

    def __str__(self) -> str:
        return f"{self.user} ({self.partner})"


class PartnerToken(models.Model):
    """A partner system's key to the API. Only its SHA-256 is kept: the key itself is shown once, when issued."""

    partner = models.ForeignKey(Partner, verbose_name=_("партнёр"), on_delete=models.CASCADE, related_name="tokens")
    # The key's public head, by which a call finds its row before the hash is compared.
    prefix = models.CharField(_("начало ключа"), max_length=16, unique=True)
    key_sha256 = models.CharField(_("SHA-256 ключа"), max_length=64)
    name = models.CharField(_("назначение"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("выпущен"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("выпустил"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("отозван"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("отозвал"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ключ API партнёра")
        verbose_name_plural = _("ключи API партнёров")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CardCheck(models.Model):
    """One verification of a card at a partner (the cashier's page or the API): what anti-fraud looks at."""

    class Result(models.TextChoices):
        VALID = "valid", _("Действует")
        BLOCKED = "blocked", _("Не действует")
        UNKNOWN = "unknown", _("Не найден")

    partner = models.ForeignKey(Partner, verbose_name=_("партнёр"), on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(
        "cards.Card",
        verbose_name=_("билет"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # cardcheck_card_time starts with the card; checks are written at the till's pace
    )
    result = models.CharField(_("результат"), max_length=8, choices=Result.choices)
    checked_at = models.DateTimeField(_("время"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("проверка билета")
        verbose_name_plural = _("проверки билетов")
        indexes = [models.Index(fields=["card", "checked_at"], name="cardcheck_card_time")]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.checked_at:%d.%m.%Y %H:%M} {self.result}"


class Purchase(models.Model):
    """Покупка члена Профсоюза у партнёра по билету: the receipt, and the cashback it accrues."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Принята")
        REVERSED = "reversed", _("Возврат")

    class Channel(models.TextChoices):
        CASHIER = "cashier", _("Страница кассира")
        API = "api", _("API партнёра")

    partner = models.ForeignKey(Partner, verbose_name=_("партнёр"), on_delete=models.PROTECT, related_name="purchases")
    card = models.ForeignKey("cards.Card", verbose_name=_("билет"), on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        "membership.Member", verbose_name=_("член Профсоюза"), on_delete=models.PROTECT, related_name="purchases"
    )
    receipt_id = models.CharField(_("номер чека"), max_length=64)
    amount = models.PositiveBigIntegerField(_("сумма покупки, коп."))
    cashback_bp = models.PositiveIntegerField(_("ставка кешбэка, б.п."))
    cashback = models.PositiveBigIntegerField(_("кешбэк, коп."))
    status = models.CharField(_("статус"), max_length=8, choices=Status.choices, default=Status.ACCEPTED)
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("оформил кассир"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("время покупки"), default=timezone.now)
    hold_until = models.DateTimeField(_("удерживается до"))
    confirmed_at = models.DateTimeField(_("кешбэк подтверждён"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("возврат оформлен"), null=True, blank=True)
    # What the call asked for, so a retry with the same receipt id and a different amount is told apart.
    request_fingerprint = models.CharField(_("отпечаток запроса"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("покупка")
        verbose_name_plural = _("покупки")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "receipt_id"], name="purchase_receipt_once_per_partner"),
            models.CheckConstraint(
                name="purchase_reversed_has_time",
                condition=models.Q(status="accepted", reversed_at__isnull=True)
                | models.Q(status="reversed", reversed_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="purchase_partner_time"),
            models.Index(fields=["card", "created_at"], name="purchase_card_time"),
            models.Index(fields=["member", "-created_at"], name="purchase_member_time"),
            # The anti-fraud report's window over every partner's purchases (discounts.selectors.fraud_near_limit).
            models.Index(fields=["created_at"], name="purchase_time"),
            # The beat's question: which holds have ended and are still unconfirmed.
            models.Index(
                fields=["hold_until"],
                condition=models.Q(status="accepted", confirmed_at__isnull=True),
                name="purchase_hold_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · чек {self.receipt_id}"


class CashbackAccount(models.Model):
    """A member's cashback balances by state. Each column equals the sum of the member's ledger entries of that
    bucket: only discounts.services writes both, in one transaction, under this row's lock."""

    member = models.OneToOneField(
        "membership.Member", verbose_name=_("член Профсоюза"), on_delete=models.PROTECT, related_name="cashback"
    )
    pending = models.BigIntegerField(_("ожидает подтверждения, коп."), default=0)
    confirmed = models.BigIntegerField(_("подтверждено, коп."), default=0)
    paid = models.BigIntegerField(_("выплачено, коп."), default=0)
    # Where payouts go: the Faster Payments System (СБП) by phone, the only payout detail the programme keeps.
    payout_phone = models.CharField(_("телефон для выплат по СБП"), max_length=16, blank=True)
    payout_bank = models.CharField(_("банк для выплат по СБП"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("счёт кешбэка")
        verbose_name_plural = _("счета кешбэка")
        constraints = [
            models.CheckConstraint(name="cashback_pending_not_negative", condition=models.Q(pending__gte=0)),
            models.CheckConstraint(name="cashback_confirmed_not_negative", condition=models.Q(confirmed__gte=0)),
            models.CheckConstraint(name="cashback_paid_not_negative", condition=models.Q(paid__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.pending}/{self.confirmed}/{self.paid}"


class CashbackEntry(models.Model):
    """Проводка кешбэка: an append-only ledger line moving kopecks into or out of one bucket of a member's
    account. A confirmation is two lines (−pending, +confirmed); a payout two more (−confirmed, +paid)."""

    class Bucket(models.TextChoices):
        PENDING = "pending", _("Ожидает подтверждения")
        CONFIRMED = "confirmed", _("Подтверждено")
        PAID = "paid", _("Выплачено")

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", _("Начисление")
        REVERSAL = "reversal", _("Возврат покупки")
        CONFIRMATION = "confirmation", _("Подтверждение")
        PAYOUT = "payout", _("Выплата")
        PAYOUT_RETURNED = "payout_returned", _("Выплата не прошла")

    account = models.ForeignKey(
        CashbackAccount, verbose_name=_("счёт"), on_delete=models.PROTECT, related_name="entries"
    )
    bucket = models.CharField(_("раздел"), max_length=10, choices=Bucket.choices)
    kind = models.CharField(_("операция"), max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(_("сумма, коп."), validators=[MinValueValidator(-(10**12))])
    purchase = models.ForeignKey(
        Purchase, verbose_name=_("покупка"), on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    payout = models.ForeignKey(
        "PayoutLine", verbose_name=_("выплата"), on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    created_at = models.DateTimeField(_("время"), default=timezone.now)

    class Meta:
        verbose_name = _("проводка кешбэка")
        verbose_name_plural = _("проводки кешбэка")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="cashback_entry_account_time")]
        constraints = [models.CheckConstraint(name="cashback_entry_not_zero", condition=~models.Q(amount=0))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.get_bucket_display()})"


class PayoutBatch(models.Model):
    """Реестр выплат кешбэка за месяц: every member's confirmed balance at forming, and the file for the bank."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Формируется")
        READY = "ready", _("Реестр готов")
        SENT = "sent", _("Отправлен в банк")
        PAID = "paid", _("Исполнен банком")
        FAILED = "failed", _("Сбой при формировании")

    NEXT_STATUS = {Status.READY: Status.SENT, Status.SENT: Status.PAID}

    month = models.DateField(_("месяц"), unique=True, help_text=_("Первое число месяца, за который выплата."))
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.BUILDING)
    created_at = models.DateTimeField(_("сформирован"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("сформировал"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status_changed_at = models.DateTimeField(_("статус изменён"), null=True, blank=True)
    line_count = models.PositiveIntegerField(_("получателей"), default=0)
    total = models.BigIntegerField(_("сумма, коп."), default=0)
    # Accounts that had enough confirmed cashback but no payout details when the register was formed.
    skipped_count = models.PositiveIntegerField(_("пропущено без реквизитов"), default=0)
    register_file = models.FileField(_("реестр для банка"), upload_to="cashback-payouts/%Y/", blank=True)
    register_sha256 = models.CharField(_("SHA-256 реестра"), max_length=64, blank=True)
    failure = models.TextField(_("описание сбоя"), blank=True)

    class Meta:
        verbose_name = _("реестр выплат кешбэка")
        verbose_name_plural = _("реестры выплат кешбэка")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"Выплата за {self.month:%m.%Y}"


class PayoutLine(models.Model):
    """One member's payout in a batch."""

    class Status(models.TextChoices):
        INCLUDED = "included", _("Включена в реестр")
        PAID = "paid", _("Выплачена")
        RETURNED = "returned", _("Не прошла, возвращена на счёт")

    batch = models.ForeignKey(PayoutBatch, verbose_name=_("реестр"), on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(
        CashbackAccount, verbose_name=_("счёт"), on_delete=models.PROTECT, related_name="payout_lines"
    )
    amount = models.PositiveBigIntegerField(_("сумма, коп."))
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.INCLUDED)
    # The details as the bank received them, kept as they were on the day the register was formed.
    payout_phone = models.CharField(_("телефон СБП"), max_length=16)
    payout_bank = models.CharField(_("банк"), max_length=100)

    class Meta:
        verbose_name = _("строка реестра выплат")
        verbose_name_plural = _("строки реестра выплат")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["batch", "account"], name="payout_line_once_per_batch")]

    def __str__(self) -> str:
        return f"{self.batch}: {self.amount} ({self.get_status_display()})"
