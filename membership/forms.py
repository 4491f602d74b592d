from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership import validation
from membership.models import Consent, Member
from membership.selectors import MEMBER_ORDERINGS, AgeGroup, MemberFilters
from membership.services import MEMBER_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _member_checks_only(form) -> None:
    """Leave the text fields to membership.validation, which the import uses too: Django's own length and e-mail
    validators would answer the same value in other words, and a browser's maxlength cuts a pasted name silently."""
    for name in validation.TEXT_CHECKS:
        if name in form.fields:
            field = form.fields[name]
            field.max_length, field.validators = None, []
            field.widget.attrs.pop("maxlength", None)


def _checked(check, value, **options):
    """A value through one of membership.validation's checks, its message begun with a capital as under a field."""
    try:
        return check(value, **options)
    except ValidationError as error:
        raise ValidationError([message[:1].upper() + message[1:] for message in error.messages]) from None


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


class MemberChecksMixin:
    """The checks of membership.validation on a ModelForm of Member, whichever of the fields it has: the admission
    and edit form, the member's own contacts, the admin. The import calls the same checks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _member_checks_only(self)

    def clean_last_name(self):
        return _checked(validation.person_name, self.cleaned_data["last_name"])

    def clean_first_name(self):
        return _checked(validation.person_name, self.cleaned_data["first_name"])

    def clean_middle_name(self):
        return _checked(validation.person_name, self.cleaned_data["middle_name"], required=False)

    def clean_phone(self):
        return _checked(validation.phone_number, self.cleaned_data["phone"])

    def clean_email(self):
        return _checked(validation.email_address, self.cleaned_data["email"])

    def clean_position(self):
        return _checked(validation.position_text, self.cleaned_data["position"])

    def clean(self):
        cleaned = super().clean()
        birth_date = cleaned.get("birth_date")
        if birth_date:
            try:
                validation.birth_date_check(
                    birth_date, joined_on=cleaned.get("union_joined_on"), today=timezone.localdate()
                )
            except ValidationError as error:
                self.add_error("union_joined_on" if error.code == "too_young" else "birth_date", error)
        return cleaned


class MemberForm(MemberChecksMixin, forms.ModelForm):
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


class SelfServiceContactsForm(MemberChecksMixin, forms.ModelForm):
    class Meta:
        model = Member
        fields = ("phone", "email")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Файл Excel, LibreOffice или CSV"),
        help_text=_(
            ".xlsx, .xls, .ods, .csv или .txt («Текст Юникод» из Excel); CSV в UTF-8 или Windows-1251, "
            "разделитель — точка с запятой, запятая или табуляция."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv,.txt"}),
    )


class ImportCommitForm(forms.Form):
    include_duplicates = forms.BooleanField(
        label=_("Загрузить и тех, кто совпал с уже состоящими на учёте (это другие люди)"), required=False
    )
