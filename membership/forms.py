from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership.models import Consent, Member
from membership.selectors import MEMBER_ORDERINGS, AgeGroup, MemberFilters
from membership.services import MEMBER_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Фамилия (и имя)"), required=False, max_length=200)
    category = forms.ChoiceField(
        label=_("Категория"), required=False, choices=[("", _("все")), *Member.Category.choices]
    )
    status = forms.ChoiceField(
        label=_("Статус"),
        required=False,
        choices=[(Member.Status.ACTIVE, _("состоят на учёте")), (Member.Status.LEFT, _("выбывшие")), ("all", _("все"))],
    )
    age = forms.ChoiceField(label=_("Возраст"), required=False, choices=[("", _("любой")), *AgeGroup.CHOICES])
    teaching = forms.ChoiceField(
        label=_("Педагогические работники"),
        required=False,
        choices=[("", _("все")), ("1", _("только педагоги")), ("0", _("кроме педагогов"))],
    )
    card = forms.ChoiceField(
        label=_("Профсоюзный билет"),
        required=False,
        choices=[("", _("все")), ("valid", _("есть действующий")), ("none", _("нет действующего"))],
    )
    sort = forms.ChoiceField(
        label=_("Порядок"),
        required=False,
        choices=[("name", _("по фамилии")), ("-joined", _("недавно принятые")), ("birth", _("по дате рождения"))],
    )
    org = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered by hand in the list's filter bar (the busiest page): Bootstrap classes instead of crispy.
        for field in self.visible_fields():
            widget = field.field.widget
            widget.attrs["class"] = "form-select" if isinstance(widget, forms.Select) else "form-control"

    def to_filters(self) -> MemberFilters:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or Member.Status.ACTIVE
        sort = data.get("sort") or "name"
        return MemberFilters(
            query=data.get("q", ""),
            organization_id=data.get("org"),
            category=data.get("category", ""),
            status="" if status == "all" else status,
            age_group=data.get("age", ""),
            teaching=data.get("teaching", ""),
            card=data.get("card", ""),
            ordering=sort if sort in MEMBER_ORDERINGS else "name",
        )


class MemberForm(forms.ModelForm):
    """Admission and correction of a member's record."""

    duplicate_confirmed = forms.BooleanField(
        label=_("Это другой человек: совпадение ФИО и даты рождения проверено"), required=False
    )

    class Meta:
        model = Member
        fields = MEMBER_FIELDS
        widgets = {"birth_date": DATE_WIDGET, "union_joined_on": DATE_WIDGET, "org_joined_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        if not self.instance.pk:
            self.fields["union_joined_on"].initial = today
            self.fields["org_joined_on"].initial = today
        for name in ("last_name", "first_name", "middle_name", "position"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean(self):
        cleaned = super().clean()
        for name in ("last_name", "first_name", "middle_name"):
            if cleaned.get(name):
                cleaned[name] = " ".join(cleaned[name].split())
        return cleaned


class LeavingForm(forms.Form):
    left_on = forms.DateField(label=_("Дата выбытия"), widget=DATE_WIDGET)
    reason = forms.ChoiceField(
        label=_("Причина"),
        choices=[
            (value, label) for value, label in Member.LeavingReason.choices if value != Member.LeavingReason.TRANSFER
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["left_on"].initial = timezone.localdate()


class RestoreForm(forms.Form):
    note = forms.CharField(label=_("Пояснение"), required=False, max_length=500)


class TransferForm(forms.Form):
    q = forms.CharField(label=_("Принимающая организация: название или ИНН"), required=False, max_length=200)
    to_organization = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Комментарий для принимающей организации"), required=False, max_length=500)


class TransferRejectForm(forms.Form):
    note = forms.CharField(label=_("Причина отказа"), max_length=500)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Согласие"), choices=Consent.Purpose.choices)
    given_on = forms.DateField(label=_("Дата подписания"), widget=DATE_WIDGET)
    method = forms.ChoiceField(
        label=_("Как получено"),
        choices=[(value, label) for value, label in Consent.Method.choices if value != Consent.Method.ELECTRONIC],
    )
    scan = forms.FileField(
        label=_("Скан (PDF, JPEG или PNG, до 10 МБ)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_on"].initial = timezone.localdate()


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Дата заявления об отзыве"), widget=DATE_WIDGET)


class AccountActivationForm(forms.Form):
    username = forms.CharField(label=_("Логин"), max_length=150)
    code = forms.CharField(label=_("Одноразовый код"), max_length=16)
    birth_date = forms.DateField(label=_("Дата рождения"), widget=DATE_WIDGET)
    password1 = forms.CharField(
        label=_("Новый пароль"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Пароль ещё раз"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("Пароли не совпадают."))
        return cleaned


class SelfServiceContactsForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ("phone", "email")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Файл .xlsx или .csv"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"})
    )


class ImportCommitForm(forms.Form):
    include_duplicates = forms.BooleanField(
        label=_("Загрузить и тех, кто совпал с уже состоящими на учёте (это другие люди)"), required=False
    )
