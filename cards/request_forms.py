"""Forms of the plastic-card queue: the regional staff's filter and the bulk approval it leads to."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cards.selectors import CardRequestFilters, QueueOrganization

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
# Two no-break spaces a level: the organisation list reads as the tree it is.
INDENT = "\u00a0\u00a0"
# A page of the queue holds 100 requests; a few pages' worth may be posted at once, never an unbounded list (and
# always under Django's limit of 1,000 fields a request).
MAX_SELECTED = 500


class LongSelect(forms.Select):
    """A flat list of hundreds of options (a region's organisations) written in one pass: Django's own select renders
    a template for every option, which took a fifth of the queue page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (choice, " selected" if str(choice) in selected else "", label) for choice, label in self.choices
        ))  # fmt: skip
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class CardRequestFilterForm(forms.Form):
    """Which requests awaiting a decision the queue shows and "approve all by the filter" takes."""

    org = forms.TypedChoiceField(
        label=_("Организация"), required=False, coerce=int, empty_value=None,
        widget=LongSelect(attrs={"class": "form-select"}),
        # A link kept from yesterday: the organisation's requests have all been decided since.
        error_messages={"invalid_choice": _("В этой организации заявок в ожидании нет: показаны все.")},
    )  # fmt: skip
    date_from = forms.DateField(label=_("Поданы с"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("по"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, organizations: list[QueueOrganization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [("", _("Все организации")), *(
            (item.organization.pk, f"{INDENT * item.indent}{item.organization.display_name} · {item.waiting}")
            for item in organizations
        )]  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(_("Начало периода позже его конца."))
        return data

    def to_filters(self) -> CardRequestFilters:
        """The valid part of the filter: what the page shows is what its bulk action posts."""
        self.is_valid()
        data = self.cleaned_data
        if self.non_field_errors():  # the period is upside down: the organisation alone still applies
            data = {"org": data.get("org")}
        return CardRequestFilters(
            organization_id=data.get("org"), requested_from=data.get("date_from"), requested_to=data.get("date_to")
        )


class RequestIdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            ids = sorted({int(item) for item in value or ()})
        except (TypeError, ValueError):
            raise ValidationError(_("Отмеченные заявки не разобраны: обновите страницу.")) from None
        if len(ids) > MAX_SELECTED:
            raise ValidationError(
                _("Отметьте не больше %(max)s заявок или одобрите все по фильтру.") % {"max": MAX_SELECTED}
            )
        return ids


class CardRequestBulkApproveForm(forms.Form):
    """What the queue posts: its filter, and either the requests ticked on the page or all that match the filter.
    The organisation is checked against the user's subtree by the selector, not by a list of choices, so that a
    request decided meanwhile does not make the whole form invalid."""

    SELECTED, FILTER = "selected", "filter"

    scope = forms.ChoiceField(choices=[(SELECTED, SELECTED), (FILTER, FILTER)])
    ids = RequestIdsField(required=False)
    org = forms.IntegerField(required=False, widget=forms.HiddenInput)
    date_from = forms.DateField(required=False, widget=forms.HiddenInput)
    date_to = forms.DateField(required=False, widget=forms.HiddenInput)
    # The newest request the confirmation counted: one made after it is not approved by "all by the filter".
    last_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.SELECTED and not data.get("ids"):
            raise ValidationError(_("Отметьте заявки, которые нужно одобрить."))
        return data

    def to_filters(self) -> CardRequestFilters:
        data = self.cleaned_data
        return CardRequestFilters(
            organization_id=data["org"], requested_from=data["date_from"], requested_to=data["date_to"],
            last_id=data["last_id"] if data["scope"] == self.FILTER else None,
        )  # fmt: skip

    def selected_ids(self) -> list[int] | None:
        return self.cleaned_data["ids"] if self.cleaned_data["scope"] == self.SELECTED else None
