"""What views need around access: role checks and the access-log entry for a page view.

Queryset scoping itself lives in the selectors; these only guard the door.
"""

import ipaddress
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models

from accounts.models import AccessLog
from accounts.services import access_log_write


def require_role(*roles):
    """Let the view run only for users with one of `roles`; anyone else gets 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def client_ip(request) -> str | None:
    """The visitor's address: REMOTE_ADDR, or behind settings.TRUSTED_PROXY_COUNT proxies the entry of
    X-Forwarded-For the outermost of them wrote. Entries further left came from the client and may be forged."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and _is_ip_address(forwarded[-proxies]):
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def log_page_view(request, obj: models.Model, **details) -> None:
    """152-FZ: every staff view of an organisation or member page leaves a record."""
    access_log_write(
        user=request.user, action=AccessLog.Action.VIEW, obj=obj, details=details, ip_address=client_ip(request)
    )
