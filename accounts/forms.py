from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessLog
from accounts.selectors import AccessLogFilters, access_log_object_types, access_log_region_choices


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Логин"), widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    error_messages = {
        "invalid_login": _(
            "Неверный логин или пароль. Обратите внимание: после нескольких неудачных попыток вход "
            "будет временно заблокирован."
        ),
        "inactive": _("Учётная запись отключена. Обратитесь к председателю или в вышестоящую организацию."),
    }


class AccessLogFilterForm(forms.Form):
    username = forms.CharField(label=_("Логин"), required=False)
    action = forms.ChoiceField(label=_("Действие"), required=False, choices=[("", _("все")), *AccessLog.Action.choices])
    object_type = forms.ChoiceField(
        label=_("Тип объекта"), required=False, choices=[("", _("все")), *access_log_object_types()]
    )
    object_id = forms.CharField(label=_("Номер объекта"), required=False)
    region = forms.ChoiceField(label=_("Регион"), required=False)
    date_from = forms.DateField(label=_("С"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("По"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("все")), *access_log_region_choices()]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("Дата «С» позже даты «По»."))
        return cleaned

    def to_filters(self) -> AccessLogFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AccessLogFilters(
            username=data.get("username", ""),
            action=data.get("action", ""),
            object_type=data.get("object_type", ""),
            object_id=data.get("object_id", ""),
            organization_path=data.get("region", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class InvitedAccountForm(forms.Form):
    """Who an account is for; its person sets the password through the invitation (invited_account_create)."""

    last_name = forms.CharField(label=_("Фамилия"), max_length=150)
    first_name = forms.CharField(label=_("Имя"), max_length=150)
    middle_name = forms.CharField(label=_("Отчество"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), help_text=_("На этот адрес придёт ссылка для установки пароля."))
    username = forms.RegexField(
        label=_("Логин"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Логин может содержать латинские буквы, цифры и знаки . @ + - _")},
    )


class SecondFactorCodeForm(forms.Form):
    """A code of the second sign-in step: six digits from the app or, where `recovery` allows, a recovery code."""

    code = forms.CharField(label=_("Код"), max_length=32)

    def __init__(self, *args, recovery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.widget.attrs.update({"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"})
        if recovery:
            field.label = _("Код из приложения или резервный код")
            field.help_text = _(
                "Шесть цифр из приложения-аутентификатора или один из резервных кодов (вида abcd-ef23)."
            )
        else:
            field.label = _("Код из приложения")
            field.widget.attrs.update({"inputmode": "numeric", "pattern": "[0-9 ]*"})
            field.help_text = _("Шесть цифр, которые приложение показывает сейчас.")
