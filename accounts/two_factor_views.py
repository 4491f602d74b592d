"""Pages of the second sign-in step: the code after the password, setting up an authenticator app, recovery codes,
and turning the step off (accounts/two_factor_services.py)."""

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.access import client_ip
from accounts.forms import SecondFactorCodeForm
from accounts.middleware import SECOND_FACTOR_NOT_OWED_SESSION_KEY
from accounts.two_factor_selectors import SecondFactorStep, second_factor_setup_allowed, second_factor_step_owed
from accounts.two_factor_services import (
    SecondFactorError,
    SecondFactorWrongCode,
    recovery_code_shown,
    recovery_codes_issue,
    recovery_codes_left,
    second_factor_disable,
    second_factor_verify,
    totp_device_confirm,
    totp_device_pending,
    totp_secret_shown,
)

# Wrong codes in a row after which the session is signed out: the same number django-axes allows for passwords.
FAILURES_SESSION_KEY = "second_factor_failures"
# New recovery codes wait here between the POST that made them and the one page that shows them.
RECOVERY_CODES_SESSION_KEY = "recovery_codes_to_show"


@never_cache
@login_required
def two_factor_verify(request):
    user = request.user
    step = None if user.is_verified() else second_factor_step_owed(user)
    if step is None:
        return redirect(_next_url(request))
    if step == SecondFactorStep.SETUP:
        return redirect(_with_next(reverse("accounts:two_factor_setup"), request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if AxesProxyHandler.is_locked(request, {"username": user.get_username()}):
            return _signed_out_locked(request)
        try:
            device = second_factor_verify(user=user, code=form.cleaned_data["code"], ip_address=client_ip(request))
        except SecondFactorWrongCode as error:
            return _wrong_code(request, form, error) or _verify_page(request, form)
        except SecondFactorError as error:
            form.add_error("code", error.message)
        else:
            _second_factor_passed(request, device)
            if isinstance(device, StaticDevice):
                messages.warning(request, _recovery_code_used_message(recovery_codes_left(user=user)))
            return redirect(_next_url(request))
    return _verify_page(request, form)


@never_cache
@login_required
def two_factor_setup(request):
    user = request.user
    if not second_factor_setup_allowed(user=user, verified=user.is_verified()):
        return redirect(_with_next(reverse("accounts:two_factor_verify"), request))
    device = totp_device_pending(user=user)
    form = SecondFactorCodeForm(request.POST or None, recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = totp_device_confirm(
                user=user, code=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except SecondFactorError as error:
            form.add_error("code", error.message)
        else:
            _second_factor_passed(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            messages.success(request, _("Вход в два шага включён. Теперь после пароля портал будет спрашивать код."))
            return redirect(_with_next(reverse("accounts:two_factor_recovery_codes"), request))
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": totp_secret_shown(device),
        "required": user.second_factor_required,
        "first_setup": not user.is_verified(),
        "next": _next_url(request),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache
@login_required
def two_factor_recovery_codes(request):
    """The new recovery codes, once: the page takes them out of the session as it shows them."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if codes is None:
        messages.info(request, _("Резервные коды показываются один раз. Если они потерялись, выпустите новые."))
        return redirect("accounts:profile")
    shown = [recovery_code_shown(code) for code in codes]
    return render(request, "accounts/two_factor_recovery_codes.html", {"codes": shown, "next": _next_url(request)})


@require_POST
@login_required
def two_factor_recovery_codes_issue(request):
    try:
        codes = recovery_codes_issue(user=request.user, ip_address=client_ip(request))
    except SecondFactorError as error:
        messages.error(request, error.message)
        return redirect("accounts:profile")
    request.session[RECOVERY_CODES_SESSION_KEY] = codes
    messages.success(request, _("Выпущены новые резервные коды; прежние больше не действуют."))
    return redirect(f"{reverse('accounts:two_factor_recovery_codes')}?next={reverse('accounts:profile')}")


@never_cache
@login_required
def two_factor_disable(request):
    user = request.user
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor_disable(user=user, code=form.cleaned_data["code"], ip_address=client_ip(request))
        except SecondFactorError as error:
            form.add_error("code", error.message)
        else:
            request.session[SECOND_FACTOR_NOT_OWED_SESSION_KEY] = user.role
            messages.success(request, _("Вход в два шага отключён: теперь для входа достаточно пароля."))
            return redirect("accounts:profile")
    return render(request, "accounts/two_factor_disable.html", {"form": form, "required": user.second_factor_required})


def _verify_page(request, form):
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


def _wrong_code(request, form, error: SecondFactorError):
    """Count the wrong code as a failed sign-in (the access log and django-axes); after as many as axes allows for
    passwords the session is signed out. Returns that response, or None with the error put on the form."""
    user = request.user
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    failures = request.session.get(FAILURES_SESSION_KEY, 0) + 1
    request.session[FAILURES_SESSION_KEY] = failures
    attempts_left = settings.AXES_FAILURE_LIMIT - failures
    if attempts_left <= 0 or getattr(request, "axes_locked_out", False):
        return _signed_out_locked(request)
    form.add_error("code", _("%(error)s Осталось попыток: %(left)s.") % {"error": error.message, "left": attempts_left})
    return None


def _signed_out_locked(request):
    next_path = _next_url(request)
    logout(request)
    messages.error(
        request,
        _(
            "Слишком много неверных кодов: вход прерван и временно заблокирован. Попробуйте снова через %(minutes)s "
            "мин. Если приложение недоступно, войдите по резервному коду; если нет и их — обратитесь в вышестоящую "
            "организацию."
        )
        % {"minutes": max(1, round(settings.AXES_COOLOFF_TIME * 60))},
    )
    return redirect_to_login(next_path)


def _second_factor_passed(request, device) -> None:
    # A new session key for the session that now has both factors, as Django gives one at sign-in.
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(FAILURES_SESSION_KEY, None)
    AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=request.user.get_username())


def _recovery_code_used_message(left: int) -> str:
    if left == 0:
        return _("Вы вошли по последнему резервному коду. Выпустите новые коды в профиле сейчас.")
    return _(
        "Вы вошли по резервному коду; он больше не действует. Осталось кодов: %(left)s. Если телефон с приложением "
        "потерян, подключите новое приложение в профиле."
    ) % {"left": left}


def _next_url(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, request) -> str:
    query = QueryDict(mutable=True)
    query["next"] = _next_url(request)
    return f"{url}?{query.urlencode(safe='/')}"


def _qr_svg(text: str) -> str:
    """The QR code as an <svg> element drawn on the server, to be put in the page as it is (no script, no image URL
    that would carry the secret)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg[svg.index("<svg") :])
