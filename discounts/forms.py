"""Forms of the staff's partner pages and the anti-fraud report: people type percentages and roubles, the
programme keeps basis points and kopecks (discounts/money.py)."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from accounts.forms import InvitedAccountForm
from accounts.models import Role, User
from discounts import selectors
from discounts.models import Partner
from discounts.money import BASIS_POINTS, kopecks_from_text
from discounts.services import LOGO_MAX_BYTES, DiscountError, partner_logo_prepare
from registry.models import Region

DAILY_AMOUNT_MAX = 1_000_000_000  # 10 million roubles a day per card: anything above is a typo


def basis_points_from_percent(percent: Decimal | None) -> int:
    """5,55 % → 555 b.p. The form has already allowed two decimal places at most, so this is exact."""
    return int(percent * 100) if percent is not None else 0


def percent_from_basis_points(rate_bp: int) -> Decimal:
    return (Decimal(rate_bp) / 100).quantize(Decimal("0.01"))


def roubles_input(kopecks: int) -> str:
    """Kopecks as the input shows them: 5000000 → "50000,00" (no group separators, so it parses back as is)."""
    roubles, rest = divmod(kopecks, 100)
    return f"{roubles},{rest:02d}"


def _percent_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("В процентах, до сотых: 5 или 7,5."),
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class PartnerForm(forms.Form):
    """A partner's card. Central office chooses who manages the partner and where it is valid; regional staff
    make partners of their own organisation, valid in their own region."""

    name = forms.CharField(label=_("Название"), max_length=200)
    category = forms.ChoiceField(label=_("Категория"), choices=Partner.Category.choices)
    logo = forms.FileField(
        label=_("Логотип"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
        help_text=_("PNG, JPEG, WebP или GIF до 5 МБ; будет уменьшен до 400 × 400 точек."),
    )
    logo_clear = forms.BooleanField(label=_("Убрать логотип"), required=False)
    description = forms.CharField(label=_("О партнёре"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    terms = forms.CharField(
        label=_("Условия"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Как получить скидку или кешбэк, исключения."),
    )
    managed_by = forms.ModelChoiceField(
        label=_("Ведёт"),
        queryset=selectors.regional_orgs_managing_partners(),
        required=False,
        empty_label=_("Центральный аппарат"),
    )
    is_union_wide = forms.BooleanField(label=_("Действует во всех регионах"), required=False)
    regions = forms.ModelMultipleChoiceField(
        label=_("Регионы действия"),
        queryset=Region.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    discount_percent = _percent_field(_("Скидка, %"))
    cashback_percent = _percent_field(_("Кешбэк, %"))
    hold_days = forms.IntegerField(
        label=_("Срок удержания кешбэка, дней"),
        min_value=0,
        max_value=365,
        initial=14,
        help_text=_("В этот срок партнёр может оформить возврат; затем кешбэк подтверждается."),
    )
    promo_code = forms.CharField(label=_("Промокод для покупок онлайн"), max_length=64, required=False)
    online_url = forms.URLField(label=_("Ссылка для покупок онлайн"), required=False, assume_scheme="https")
    active_from = forms.DateField(label=_("Участвует с"), widget=DateInput())
    active_until = forms.DateField(
        label=_("Участвует по"), required=False, widget=DateInput(), help_text=_("Пусто — бессрочно.")
    )
    daily_purchases_per_card = forms.IntegerField(
        label=_("Покупок по одному билету в день"),
        min_value=0,
        max_value=1000,
        initial=5,
        help_text=_("0 — без ограничения."),
    )
    daily_amount = forms.CharField(
        label=_("Сумма покупок по одному билету в день, ₽"),
        initial="50000,00",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("0 — без ограничения."),
    )

    def __init__(self, *args, user: User, partner: Partner | None = None, **kwargs):
        if partner is not None:
            kwargs.setdefault("initial", self.initial_from(partner))
        super().__init__(*args, **kwargs)
        self.user = user
        self.partner = partner
        self.fields["regions"].queryset = selectors.regions_user_may_select(user)
        if user.role != Role.CENTRAL:
            # Regional staff: their organisation manages it, their region is the only place it is valid.
            del self.fields["managed_by"]
            del self.fields["is_union_wide"]
            self.fields["regions"].required = True
            if partner is None:
                self.initial.setdefault("regions", list(self.fields["regions"].queryset))
        if partner is None or not partner.logo:
            del self.fields["logo_clear"]

    @staticmethod
    def initial_from(partner: Partner) -> dict:
        return {
            **{name: getattr(partner, name) for name in ("name", "category", "description", "terms")},
            **{name: getattr(partner, name) for name in ("promo_code", "online_url", "active_from", "active_until")},
            "managed_by": partner.managed_by,
            "is_union_wide": partner.is_union_wide,
            "regions": list(partner.regions.all()),
            "discount_percent": percent_from_basis_points(partner.discount_bp) if partner.discount_bp else None,
            "cashback_percent": percent_from_basis_points(partner.cashback_bp) if partner.cashback_bp else None,
            "hold_days": partner.hold_days,
            "daily_purchases_per_card": partner.daily_purchases_per_card,
            "daily_amount": roubles_input(partner.daily_amount_per_card),
        }

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(_("Файл логотипа больше 5 МБ."))
        try:
            return partner_logo_prepare(upload)
        except DiscountError as error:
            raise forms.ValidationError(error.message) from None

    def clean_daily_amount(self):
        text = (self.cleaned_data.get("daily_amount") or "0").replace("\u202f", "")
        try:
            kopecks = kopecks_from_text(text)
        except ValueError:
            raise forms.ValidationError(_("Введите сумму в рублях, например 50000 или 49 999,99.")) from None
        if not 0 <= kopecks <= DAILY_AMOUNT_MAX:
            raise forms.ValidationError(_("Сумма должна быть от 0 до 10 000 000 ₽."))
        return kopecks

    def clean(self):
        data = super().clean()
        if self.user.role != Role.CENTRAL:
            data["managed_by"] = self.user.organization
            data["is_union_wide"] = False
        if not data.get("is_union_wide") and "regions" in data and not data["regions"]:
            self.add_error("regions", _("Укажите регионы или отметьте «Действует во всех регионах»."))
        if data.get("is_union_wide") and data.get("managed_by") is not None:
            self.add_error("is_union_wide", _("Партнёр во всех регионах — партнёр центрального аппарата."))
        rates = [data[name] for name in ("discount_percent", "cashback_percent") if name in data]
        if len(rates) == 2 and not any(rates):
            self.add_error("discount_percent", _("Укажите скидку или кешбэк."))
        start, end = data.get("active_from"), data.get("active_until")
        if start and end and end < start:
            self.add_error("active_until", _("Дата окончания раньше даты начала."))
        return data

    def service_arguments(self) -> dict:
        """What partner_create / partner_update take, in the units the programme keeps."""
        data = self.cleaned_data
        arguments = {
            name: data[name]
            for name in ("name", "category", "description", "terms", "promo_code", "online_url", "hold_days")
        }
        arguments.update(
            active_from=data["active_from"],
            active_until=data["active_until"],
            discount_bp=basis_points_from_percent(data["discount_percent"]),
            cashback_bp=basis_points_from_percent(data["cashback_percent"]),
            daily_purchases_per_card=data["daily_purchases_per_card"],
            daily_amount_per_card=data["daily_amount"],
            managed_by=data["managed_by"],
            is_union_wide=data["is_union_wide"],
            regions=list(data["regions"]),
            logo=data.get("logo"),
        )
        if self.partner is not None:
            arguments["logo_clear"] = data.get("logo_clear", False)
        return arguments


class PartnerFilterForm(forms.Form):
    q = forms.CharField(label=_("Название"), required=False, max_length=200)
    category = forms.ChoiceField(
        label=_("Категория"), required=False, choices=[("", _("все")), *Partner.Category.choices]
    )
    region = forms.ModelChoiceField(
        label=_("Регион"), queryset=Region.objects.none(), required=False, empty_label=_("все")
    )
    state = forms.ChoiceField(
        label=_("Участие"),
        required=False,
        choices=[("", _("все")), ("active", _("участвует")), ("inactive", _("не участвует"))],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = selectors.regions_user_may_select(user)
        if user.role != Role.CENTRAL:
            del self.fields["region"]

    def to_filters(self) -> selectors.PartnerFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.PartnerFilters(
            query=data.get("q", ""),
            category=data.get("category", ""),
            region=data.get("region"),
            state=data.get("state", ""),
        )


class CashierForm(InvitedAccountForm):
    """A partner's cashier: the account's person, invited by e-mail."""


class TokenIssueForm(forms.Form):
    name = forms.CharField(
        label=_("Назначение ключа"),
        max_length=100,
        required=False,
        help_text=_("Например: «касса магазина на Тверской» или «интернет-магазин»."),
    )


class FraudReportForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("За последние"),
        coerce=int,
        choices=[(1, _("1 день")), (3, _("3 дня")), (7, _("7 дней")), (14, _("14 дней")), (31, _("31 день"))],
        initial=selectors.FRAUD_DAYS_DEFAULT,
        required=False,
    )
    partners = forms.IntegerField(
        label=_("Партнёров за час, не меньше"),
        initial=selectors.FRAUD_PARTNERS_PER_HOUR,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        required=False,
    )
    near_limit_percent = forms.IntegerField(
        label=_("Ниже дневного предела не больше чем на, %"),
        initial=selectors.FRAUD_NEAR_LIMIT_BP * 100 // BASIS_POINTS,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        required=False,
    )

    def values(self) -> dict:
        """The report's parameters: what the form says where it is valid, the defaults elsewhere."""
        self.is_valid()  # a bound form keeps in cleaned_data the fields that are valid, whatever the others say
        data = getattr(self, "cleaned_data", {})
        near_limit_percent = data.get("near_limit_percent") or selectors.FRAUD_NEAR_LIMIT_BP // 100
        return {
            "days": data.get("days") or selectors.FRAUD_DAYS_DEFAULT,
            "partners": data.get("partners") or selectors.FRAUD_PARTNERS_PER_HOUR,
            "near_limit_percent": near_limit_percent,
            "near_limit_bp": near_limit_percent * 100,
        }
