"""Reads of the second sign-in step (accounts/two_factor_services.py): whether a person owes it and what they have."""

import datetime
from dataclasses import dataclass

from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.two_factor_services import recovery_codes_left


class SecondFactorStep:
    """What a signed-in person who has not passed the second step must do before anything else."""

    VERIFY = "verify"  # enter a code of the app they have
    SETUP = "setup"  # their role requires an app and they have none yet


def second_factor_step_owed(user: User) -> str | None:
    """SecondFactorStep.VERIFY, SETUP, or None when the account may work after the password alone."""
    if user_has_device(user, confirmed=True):
        return SecondFactorStep.VERIFY
    if user.second_factor_required:
        return SecondFactorStep.SETUP
    return None


@dataclass(frozen=True)
class SecondFactorStatus:
    enabled: bool
    required: bool
    app_added_at: datetime.datetime | None
    recovery_codes_left: int


def second_factor_status(*, user: User) -> SecondFactorStatus:
    """What the profile page says about the account's second step."""
    app = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()
    return SecondFactorStatus(
        enabled=app is not None,
        required=user.second_factor_required,
        app_added_at=app.created_at if app is not None else None,
        recovery_codes_left=recovery_codes_left(user=user) if app is not None else 0,
    )


def second_factor_setup_allowed(*, user: User, verified: bool) -> bool:
    """A new app may be added by a session that has passed the second step (moving to another phone), or by an account
    that has no way to pass it yet (the first set-up). Never by a session that owes a code: whoever knows only the
    password must not put their own app on the account."""
    return verified or not user_has_device(user, confirmed=True)
