import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union_statistics.indicators import END, ENTERED_KEYS, START, WOMEN, Figures
from union_statistics.models import RollupSnapshot

COLUMNS = ((START, "start"), (END, "end"), (WOMEN, "women"))
MAX_PEOPLE = 1_000_000


class ReportEntryForm(forms.Form):
    """What the chair enters: the institution's employees and students, at both dates and of whom women."""

    explanation = forms.CharField(
        label=_("Пояснение к расхождениям"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Нужно, если начало года не совпадает с концом прошлого года в принятом отчёте."),
    )

    def __init__(self, *args, entered: Figures, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        for key in ENTERED_KEYS:
            values = entered.get(key) or [None, None, None]
            for column, suffix in COLUMNS:
                initial.setdefault(f"{key}_{suffix}", values[column])
        super().__init__(*args, initial=initial, **kwargs)
        for key in ENTERED_KEYS:
            for _column, suffix in COLUMNS:
                self.fields[f"{key}_{suffix}"] = forms.IntegerField(
                    required=False,
                    min_value=0,
                    max_value=MAX_PEOPLE,
                    widget=forms.NumberInput(attrs={"class": "form-control form-control-sm text-end", "min": 0}),
                    error_messages={"min_value": _("Не меньше нуля."), "invalid": _("Введите целое число.")},
                )

    def field_for(self, key: str, suffix: str):
        return self[f"{key}_{suffix}"]

    def entered(self) -> Figures:
        return {key: [self.cleaned_data.get(f"{key}_{suffix}") for _column, suffix in COLUMNS] for key in ENTERED_KEYS}


class ReportDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=(("accept", _("Принять")), ("return", _("Вернуть на доработку"))))
    comment = forms.CharField(
        label=_("Комментарий"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CampaignOpenForm(forms.Form):
    year = forms.IntegerField(label=_("Отчётный год"), min_value=2000)
    deadline = forms.DateField(label=_("Срок сдачи"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("initial", {"year": today.year - 1, "deadline": datetime.date(today.year, 2, 15)})
        super().__init__(*args, **kwargs)
        self.fields["year"].max_value = today.year - 1
        self.fields["year"].widget.attrs["max"] = today.year - 1


class RollupRequestForm(forms.Form):
    year = forms.IntegerField(label=_("Год"), min_value=2000)
    variant = forms.ChoiceField(label=_("Вариант"), choices=RollupSnapshot.Variant.choices)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"year": timezone.localdate().year, "variant": RollupSnapshot.Variant.REGISTER})
        super().__init__(*args, **kwargs)
        self.fields["year"].max_value = timezone.localdate().year
