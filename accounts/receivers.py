from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.access import client_ip
from accounts.middleware import session_limits_start
from accounts.models import AccessLog
from accounts.services import access_log_write


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    access_log_write(user=user, action=AccessLog.Action.LOGIN, ip_address=client_ip(request) if request else None)


@receiver(user_logged_in)
def start_session_limits(sender, request, user, **kwargs):
    # Every way of signing in (the login form, a member's invitation code, the test client) ends in Django's login().
    if request is not None and hasattr(request, "session"):
        session_limits_start(request.session, user)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        access_log_write(user=user, action=AccessLog.Action.LOGOUT, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs):
    access_log_write(
        user=None,
        action=AccessLog.Action.LOGIN_FAILED,
        details={"username": str(credentials.get("username", ""))[:150]},
        ip_address=client_ip(request) if request else None,
    )
