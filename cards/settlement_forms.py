"""Forms of the cards' settlement pages: people type roubles with kopecks ("1 234,50"), the ledger keeps kopecks."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cards.settlement_selectors import Period
from cards.settlement_services import AMOUNT_MAX, TIERS_MAX
from registry.money import kopecks_from_text

TIER_ROWS = 6


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class RoublesField(forms.CharField):
    """Roubles and kopecks as typed ("1 234,50", "1234.5", "980") → kopecks; zero and negatives refused."""

    def __init__(self, **kwargs):
        attrs = {"inputmode": "decimal", "autocomplete": "off", "maxlength": "24"}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            kopecks = kopecks_from_text(value)
        except ValueError:
            raise forms.ValidationError(_("Сумма в рублях и копейках, например 1\u00a0234,50.")) from None
        if kopecks <= 0:
            raise forms.ValidationError(_("Сумма должна быть больше нуля."))
        if kopecks > AMOUNT_MAX:
            raise forms.ValidationError(_("Слишком большая сумма: проверьте, не лишние ли цифры."))
        return kopecks


class PeriodForm(forms.Form):
    """The period of a statement or of the balance: both ends optional."""

    start = forms.DateField(label=_("с"), required=False, widget=DateInput())
    end = forms.DateField(label=_("по"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("Начало периода позже его конца."))
        return data

    def period(self) -> Period:
        if not self.is_valid():
            return Period()
        return Period(self.cleaned_data.get("start"), self.cleaned_data.get("end"))


class PaymentForm(forms.Form):
    amount = RoublesField(label=_("Сумма, ₽"))
    paid_on = forms.DateField(label=_("Дата оплаты"), widget=DateInput())
    document = forms.CharField(
        label=_("Платёжное поручение №"), max_length=64, required=False, help_text=_("Номер платёжного документа.")
    )
    note = forms.CharField(label=_("Примечание"), max_length=300, required=False)


class PaymentCancelForm(forms.Form):
    reason = forms.CharField(label=_("Причина отмены"), max_length=300)


class PriceListForm(forms.Form):
    """A version of the price list with up to TIER_ROWS tiers ("from N cards — price"); empty rows are skipped."""

    valid_from = forms.DateField(label=_("Действует с"), widget=DateInput())
    vendor = forms.CharField(label=_("Изготовитель"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Основание"), max_length=300, required=False, help_text=_("Договор, письмо, приложение.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(TIER_ROWS):
            self.fields[f"min_cards_{number}"] = forms.IntegerField(
                label=_("от, билетов"), required=False, min_value=1, max_value=10_000_000,
                initial=1 if number == 0 else None,
            )  # fmt: skip
            self.fields[f"price_{number}"] = RoublesField(label=_("цена билета, ₽"), required=False)

    def tier_rows(self) -> list[tuple]:
        return [(self[f"min_cards_{number}"], self[f"price_{number}"]) for number in range(TIER_ROWS)]

    def clean(self):
        data = super().clean()
        tiers = []
        for number in range(TIER_ROWS):
            min_cards, price = data.get(f"min_cards_{number}"), data.get(f"price_{number}")
            if min_cards is None and price is None:
                continue
            if min_cards is None or price is None:
                raise forms.ValidationError(_("В каждой ступени нужны и число билетов, и цена."))
            tiers.append((min_cards, price))
        if not tiers:
            raise forms.ValidationError(_("Укажите хотя бы одну ступень: от скольких билетов и цену билета."))
        if len(tiers) > TIERS_MAX:
            raise forms.ValidationError(_("Слишком много ступеней."))
        data["tiers"] = tiers
        return data


class VendorInvoiceForm(forms.Form):
    number = forms.CharField(label=_("Номер счёта"), max_length=64)
    issued_on = forms.DateField(label=_("Дата счёта"), widget=DateInput())
    amount = RoublesField(label=_("Сумма счёта, ₽"))
    file = forms.FileField(
        label=_("Счёт (PDF)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
        help_text=_("PDF до 10 МБ. Необязательно; новый файл заменяет прежний."),
    )


def roubles_input(kopecks: int) -> str:
    """Kopecks as an input shows them: 123450 → "1234,50" (no group separators, so it parses back as is)."""
    roubles, rest = divmod(int(kopecks), 100)
    return f"{roubles},{rest:02d}"
