"""Вход в два шага: after the password, a code from an authenticator app (TOTP, django-otp), or one of ten
single-use recovery codes for the day the phone is lost.

Central and regional staff must have it (User.second_factor_required); anyone else may turn it on in the profile.
The codes are checked by django-otp's devices, which also slow guessing down: after each wrong code the next check
waits twice as long (1, 2, 4… seconds), and the wait is kept on the device, whatever session the guesses come from.
The views also count a wrong code as a failed sign-in (django-axes), so five of them lock the login as five wrong
passwords do.
"""

import hashlib
from base64 import b32encode

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.errors import DomainError
from accounts.models import AccessLog, User
from accounts.services import access_log_write

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Приложение-аутентификатор"
RECOVERY_DEVICE_NAME = "Резервные коды"


class SecondFactorError(DomainError):
    """A code refused: wrong, or the step turned off or not yet set up."""


class SecondFactorWrongCode(SecondFactorError):
    """The code was checked and did not match: a guess that counts towards the sign-in lock."""


class SecondFactorThrottled(SecondFactorError):
    """Too soon after the last wrong code: nothing was checked."""


def code_normalized(code: str) -> str:
    """A code as it is stored: spaces and hyphens people type between groups dropped, letters in lower case."""
    return "".join(character for character in code if character not in " -\t").lower()


def recovery_code_shown(code: str) -> str:
    """A recovery code in two groups of four, the way it is easiest to copy by hand: "abcd-ef23"."""
    return f"{code[:4]}-{code[4:]}"


def totp_secret_shown(device: TOTPDevice) -> str:
    """The app's key as the apps ask it to be typed in: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


@transaction.atomic
def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: the one not yet confirmed, so that reloading the page keeps the key the
    person may already have scanned, or a new one with a fresh random key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user: User, code: str, ip_address: str | None = None) -> tuple[TOTPDevice, list[str]]:
    """Turn the second step on, or move it to another app: the first code of the app being set up proves that it
    holds the key. Any app added before stops working, and ten new recovery codes replace the old ones.

    Returns the device and the recovery codes, which are shown to the person once and never again."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise SecondFactorError(_("Страница настройки устарела: откройте её снова и добавьте в приложение новый ключ."))
    _code_check(device, code_normalized(code))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _recovery_codes_replace(user=user)
        access_log_write(user=user, action=AccessLog.Action.SECOND_FACTOR_ON, obj=user, ip_address=ip_address)
    return device, codes


def second_factor_verify(*, user: User, code: str, ip_address: str | None = None) -> Device:
    """The second step of signing in: a code the app shows now, or one of the recovery codes (which is used up, and
    its use written to the access log). Returns the device that accepted the code; raises SecondFactorError."""
    code = code_normalized(code)
    if not code:
        raise SecondFactorWrongCode(_("Введите код."))
    app_code = len(code) == 6 and code.isdigit()
    device_model = TOTPDevice if app_code else StaticDevice
    devices = list(device_model.objects.devices_for_user(user, confirmed=True).order_by("id"))
    if not devices:
        raise SecondFactorWrongCode(
            _("Код не подошёл.") if app_code else _("Резервных кодов не осталось: войдите по коду из приложения.")
        )
    for device in devices:
        _raise_if_throttled(device)
    device = next((device for device in devices if _code_accepted(device, code)), None)
    if device is None:
        raise SecondFactorWrongCode(
            _(
                "Код не подошёл. Введите код, который приложение показывает сейчас; время на телефоне должно быть верным."
            )
            if app_code
            else _("Резервный код не подошёл: он набран с ошибкой или уже использован.")
        )
    if not app_code:
        access_log_write(
            user=user,
            action=AccessLog.Action.RECOVERY_CODE_USED,
            obj=user,
            details={"осталось резервных кодов": recovery_codes_left(user=user)},
            ip_address=ip_address,
        )
    return device


def second_factor_disable(*, user: User, code: str, ip_address: str | None = None) -> None:
    """Turn the second step off, for a person whose role does not require it; a current code confirms it is them."""
    if user.second_factor_required:
        raise SecondFactorError(_("Для вашей роли вход в два шага обязателен: отключить его нельзя."))
    second_factor_verify(user=user, code=code, ip_address=ip_address)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        access_log_write(user=user, action=AccessLog.Action.SECOND_FACTOR_OFF, obj=user, ip_address=ip_address)


@transaction.atomic
def recovery_codes_issue(*, user: User, ip_address: str | None = None) -> list[str]:
    """Ten new recovery codes in place of the old ones, which stop working at once."""
    if not TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        raise SecondFactorError(_("Сначала включите вход в два шага."))
    codes = _recovery_codes_replace(user=user)
    access_log_write(user=user, action=AccessLog.Action.RECOVERY_CODES_ISSUED, obj=user, ip_address=ip_address)
    return codes


@transaction.atomic
def second_factor_install(*, user: User, totp_key: str, recovery_codes: list[str]) -> TOTPDevice:
    """Put an app's key and recovery codes prepared elsewhere on the account, confirmed (the demo union's staff, whose
    key is printed for visitors). Replaces whatever the account had."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=totp_key, confirmed=True)
    _recovery_codes_replace(user=user, codes=recovery_codes)
    return device


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def recovery_codes_derived(seed: str, count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Recovery codes that the same seed always gives (the demo's printed codes); real accounts get random ones."""
    return [
        b32encode(hashlib.sha256(f"{seed}:{number}".encode()).digest()[:5]).decode().lower() for number in range(count)
    ]


def _recovery_codes_replace(*, user: User, codes: list[str] | None = None) -> list[str]:
    # The device is kept and only its codes change: a session that passed the step with a recovery code stays signed
    # in when new codes are issued.
    device = StaticDevice.objects.filter(user=user).order_by("id").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    elif not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = codes if codes is not None else [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _code_check(device: Device, code: str) -> None:
    _raise_if_throttled(device)
    if not _code_accepted(device, code):
        raise SecondFactorWrongCode(
            _(
                "Код не подошёл. Введите код, который приложение показывает сейчас; время на телефоне должно быть верным."
            )
        )


def _raise_if_throttled(device: Device) -> None:
    allowed, details = device.verify_is_allowed()
    if not allowed and details and details.get("locked_until"):
        seconds = max(1, int((details["locked_until"] - timezone.now()).total_seconds() + 0.999))
        raise SecondFactorThrottled(
            _("Слишком много неверных кодов подряд. Подождите %(seconds)s с и введите код снова.")
            % {"seconds": seconds}
        )


def _code_accepted(device: Device, code: str) -> bool:
    # In a transaction of its own, with the device's row locked, as django_otp.verify_token does: two requests never
    # both accept one code, and a wrong code's slow-down is saved even though the caller then raises.
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        return locked.verify_token(code)
