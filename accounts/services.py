import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, User


def _organization_path_of(obj: models.Model | None) -> str:
    if obj is None:
        return ""
    path = getattr(obj, "path", None)
    if isinstance(path, str):
        return path
    organization = getattr(obj, "organization", None)
    return getattr(organization, "path", "") or ""


def access_log_write(**fields) -> AccessLog:
    """Append one record to the 152-FZ access log, given as access_log_entry takes it. The only way entries are
    made (with access_log_entry, for a caller that writes the record together with its own rows)."""
    entry = access_log_entry(**fields)
    entry.save(force_insert=True)
    return entry


def access_log_entry(
    *,
    user: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    organization_path: str = "",
    details: dict | None = None,
    ip_address: str | None = None,
) -> AccessLog:
    """The access-log record, not yet saved."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
        organization_path = organization_path or _organization_path_of(obj)
    authenticated = user is not None and user.is_authenticated
    return AccessLog(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else (details or {}).get("username", ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        organization_path=organization_path,
        details=details or {},
        ip_address=ip_address,
    )


def access_log_write_many(
    *,
    user: User,
    action: str,
    objects: Iterable[models.Model],
    details: dict | None = None,
    ip_address: str | None = None,
) -> int:
    """One record per object, in one statement: used by exports and bulk views of member lists."""
    entries = [
        access_log_entry(user=user, action=action, obj=obj, details=details, ip_address=ip_address) for obj in objects
    ]
    AccessLog.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def changed_fields(instance: models.Model, new_values: dict) -> dict[str, list]:
    """{field: [old, new]} for the fields whose value differs, as JSON-friendly strings."""
    changes = {}
    for name, new in new_values.items():
        old = getattr(instance, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes


def _jsonable(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


# The database trigger (migration 0002) refuses to delete rows younger than this, whatever the settings say.
ACCESS_LOG_MINIMUM_RETENTION_DAYS = 365
ACCESS_LOG_PURGE_CHUNK = 5000


def access_log_purge_expired(*, older_than_days: int | None = None) -> int:
    """Delete access-log rows past the retention period (settings.ACCESS_LOG_RETENTION_DAYS); returns how many.

    Deletes in chunks, each in its own short transaction, so the first purge of a large log neither holds
    long locks nor loses its progress if interrupted; a rerun simply goes on.
    """
    days = older_than_days if older_than_days is not None else settings.ACCESS_LOG_RETENTION_DAYS
    cutoff = timezone.now() - datetime.timedelta(days=max(days, ACCESS_LOG_MINIMUM_RETENTION_DAYS))
    expired = AccessLog.objects.filter(created_at__lt=cutoff).order_by("id")
    purged = 0
    while True:
        chunk = list(expired.values_list("id", flat=True)[:ACCESS_LOG_PURGE_CHUNK])
        if not chunk:
            return purged
        with transaction.atomic():
            deleted, _ = AccessLog.objects.filter(id__in=chunk).delete()
        purged += deleted


class AccountError(DomainError):
    """A refusal about an account itself (a login already taken)."""


def invited_account_create(
    *,
    username: str,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    email: str,
    role: str,
    organization=None,
) -> User:
    """A new account without a password: its person sets one through the link of invitation_send, so nobody else
    ever knows it and Django's password rules apply. Raises AccountError for a taken login and ValidationError for
    a value the model refuses; the caller writes the access log and sends the invitation after its commit."""
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(_("Логин «%(username)s» уже занят. Выберите другой.") % {"username": username})
    user = User(
        username=username, last_name=last_name, first_name=first_name, middle_name=middle_name, email=email,
        role=role, organization=organization,
    )  # fmt: skip
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def invitation_send(
    *, user: User, site_url: str, subject: str, template_name: str, context: dict | None = None
) -> None:
    """E-mail a one-time link (the password-reset token) with which the person sets a password."""
    link = site_url.rstrip("/") + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_mail(
        subject=subject,
        message=render_to_string(template_name, {"user": user, "link": link, **(context or {})}),
        from_email=None,
        recipient_list=[user.email],
    )
