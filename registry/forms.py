from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import InvitedAccountForm
from accounts.models import Role
from registry.models import Chair, ChairTraining, Organization
from registry.selectors import ROLE_ORG_LEVEL, ChairFilters, StaffUserFilters
from registry.services import CHAIR_FIELDS, PASSPORT_FIELDS


class PassportForm(forms.ModelForm):
    """Паспорт организации: what the organisation itself and the levels above may edit."""

    website = forms.URLField(label=_("Сайт"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Organization
        fields = PASSPORT_FIELDS
        widgets = {"address": forms.TextInput()}


class OrganizationCreateForm(PassportForm):
    level = forms.ChoiceField(label=_("Уровень"))

    class Meta(PassportForm.Meta):
        fields = ("level", *PASSPORT_FIELDS)

    def __init__(self, *args, levels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(level, Organization.Level(level).label) for level in levels]
        if len(levels) == 1:
            self.fields["level"].initial = levels[0]


class OrgSearchForm(forms.Form):
    q = forms.CharField(label=_("Поиск"), required=False, max_length=200)


class ChairForm(forms.ModelForm):
    class Meta:
        model = Chair
        fields = CHAIR_FIELDS
        widgets = {
            "term_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "term_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("term_start"), cleaned.get("term_end")
        if start and end and end < start:
            self.add_error("term_end", _("Окончание полномочий не может быть раньше их начала."))
        return cleaned


class ChairTrainingForm(forms.ModelForm):
    class Meta:
        model = ChairTraining
        fields = ("title", "provider", "completed_on", "hours", "certificate_number")
        widgets = {"completed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_completed_on(self):
        completed_on = self.cleaned_data["completed_on"]
        if completed_on > timezone.localdate():
            raise forms.ValidationError(_("Дата окончания обучения не может быть в будущем."))
        return completed_on


class ChairFilterForm(forms.Form):
    q = forms.CharField(label=_("ФИО или организация"), required=False, max_length=200)
    term = forms.ChoiceField(
        label=_("Полномочия"),
        required=False,
        choices=[
            ("", _("все")),
            ("current", _("действующие")),
            ("expiring", _("истекают в ближайшие полгода")),
            ("expired", _("истекли")),
        ],
    )
    training = forms.ChoiceField(
        label=_("Обучение"), required=False, choices=[("", _("все")), ("due", _("не обучались 3 года"))]
    )
    level = forms.ChoiceField(
        label=_("Уровень"), required=False, choices=[("", _("все")), *Organization.Level.choices[1:]]
    )

    def to_filters(self) -> ChairFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ChairFilters(
            query=data.get("q", ""),
            term=data.get("term", ""),
            training=data.get("training", ""),
            level=data.get("level", ""),
        )


class StaffUserForm(InvitedAccountForm):
    role = forms.ChoiceField(label=_("Роль"))
    field_order = ["role"]

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]


class StaffUserFilterForm(forms.Form):
    q = forms.CharField(label=_("ФИО, логин или организация"), required=False, max_length=200)
    role = forms.ChoiceField(
        label=_("Роль"),
        required=False,
        choices=[("", _("все")), *[(role, Role(role).label) for role in ROLE_ORG_LEVEL]],
    )
    active = forms.ChoiceField(
        label=_("Доступ"), required=False, choices=[("", _("все")), ("1", _("действует")), ("0", _("заблокирован"))]
    )

    def to_filters(self) -> StaffUserFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return StaffUserFilters(query=data.get("q", ""), role=data.get("role", ""), active=data.get("active", ""))
