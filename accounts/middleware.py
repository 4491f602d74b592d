"""Two gates every request of a signed-in person passes: a session left idle ends, and staff who owe the second
sign-in step (a code from an authenticator app) reach nothing but that step and the way out until they pass it."""

import datetime
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.two_factor_selectors import SecondFactorStep, second_factor_step_owed

LAST_ACTIVITY_SESSION_KEY = "last_activity"
IDLE_TIMEOUT_SESSION_KEY = "idle_timeout"
# How old the stored time of the last request may get before it is written again: a busy session is saved at most
# once a minute rather than on every request, and may end up to a minute before the limit.
LAST_ACTIVITY_RESOLUTION_SECONDS = 60
# Roles whose sessions have no idle limit: a member's card app, installed on the phone, forgets the saved card when
# it finds the session gone, and the member only ever sees their own data.
IDLE_UNLIMITED_ROLES = frozenset({Role.MEMBER})

# The session's verdict that its user owes no second step, so the devices are not looked up on every request; kept
# with the role it was made for, so that a person given a staff role mid-session owes it at once.
SECOND_FACTOR_NOT_OWED_SESSION_KEY = "second_factor_not_owed_by_role"
# What a person who owes the second step may open: the step itself and the way out.
SECOND_FACTOR_OPEN_VIEWS = frozenset({
    "accounts:two_factor_verify", "accounts:two_factor_setup", "accounts:logout", "set_language",
})  # fmt: skip
# The partner API authenticates every call by the partner's key and never looks at the session.
SECOND_FACTOR_OPEN_NAMESPACES = frozenset({"partner_api"})
SECOND_FACTOR_STEP_VIEWS = {
    SecondFactorStep.VERIFY: "accounts:two_factor_verify",
    SecondFactorStep.SETUP: "accounts:two_factor_setup",
}


def session_limits_start(session, user) -> None:
    """At sign-in (accounts/receivers.py): the idle limit of the user's role, the clock of the last request, the end of
    the session counted from now, and no verdict left over from an earlier sign-in of the same session."""
    idle_unlimited = user.role in IDLE_UNLIMITED_ROLES
    session[IDLE_TIMEOUT_SESSION_KEY] = 0 if idle_unlimited else settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())
    # A date rather than an age: saving the session every minute must not push its end further each time.
    session.set_expiry(timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session.pop(SECOND_FACTOR_NOT_OWED_SESSION_KEY, None)


class SessionIdleTimeoutMiddleware:
    """Ends a signed-in session after settings.SESSION_IDLE_TIMEOUT_MINUTES without a request: the person lands on
    the login page, told why, and comes back to the page they asked for. The absolute limit of
    settings.SESSION_COOKIE_AGE, counted from sign-in, stays: the session's expiry date is fixed at sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            last_activity = session.get(LAST_ACTIVITY_SESSION_KEY)
            idle_timeout = session.get(IDLE_TIMEOUT_SESSION_KEY, 0)
            if last_activity is None:  # a session signed in before this middleware was deployed
                if request.user.is_authenticated:
                    session_limits_start(request.session, request.user)
            elif idle_timeout and now - last_activity > idle_timeout:
                return self._expired(request, idle_timeout)
            elif idle_timeout and now - last_activity >= LAST_ACTIVITY_RESOLUTION_SECONDS:
                session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _expired(request, idle_timeout: int):
        logout(request)
        messages.warning(
            request,
            _(
                "Сеанс завершён: с портала не было запросов больше %(minutes)s мин. Это защищает персональные данные "
                "на оставленном без присмотра компьютере. Войдите снова — откроется страница, на которой вы были."
            )
            % {"minutes": idle_timeout // 60},
        )
        return redirect_to_login(request.get_full_path())


class SecondFactorRequiredMiddleware:
    """Sends a signed-in person who owes the second step to it (or to setting up an app, when their role requires one
    and they have none), with the page they asked for kept in `next`. Needs django-otp's OTPMiddleware before it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.view_name in SECOND_FACTOR_OPEN_VIEWS or match.namespace in SECOND_FACTOR_OPEN_NAMESPACES:
            return None
        # The session is looked at first, so that an anonymous visitor's request loads no user.
        if SESSION_KEY not in request.session or not request.user.is_authenticated:
            return None
        user = request.user
        if user.is_verified() or request.session.get(SECOND_FACTOR_NOT_OWED_SESSION_KEY) == user.role:
            return None
        step = second_factor_step_owed(user)
        if step is None:
            request.session[SECOND_FACTOR_NOT_OWED_SESSION_KEY] = user.role
            return None
        query = QueryDict(mutable=True)
        query["next"] = request.get_full_path()
        return redirect(f"{reverse(SECOND_FACTOR_STEP_VIEWS[step])}?{query.urlencode(safe='/')}")
