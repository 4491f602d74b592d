"""The second sign-in step as the tests meet it: the code a person's authenticator app would show, and a test-client
session that has passed the step the way django_otp.login marks it."""

import time

from django.http import HttpRequest
from django.test import Client
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def totp_device_of(user: User) -> TOTPDevice:
    """The user's confirmed authenticator app, added now (as if set up earlier) when the user has none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="Приложение-аутентификатор", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The six digits the app shows now. A code is accepted once, so when the current one was already used (the same
    person signed in twice within 30 seconds) this is the next one, which the portal accepts a step early; when that
    was used too, it waits for the clock."""
    device.refresh_from_db()
    app = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    while app.t() + device.tolerance <= device.last_t:
        time.sleep(0.5)
    step = max(app.t(), device.last_t + 1)
    app.drift += step - app.t()
    return f"{app.token():0{device.digits}d}"


def session_second_factor_pass(client: Client, user: User) -> None:
    """Mark the client's session as having passed the second step, as django_otp.login does after a right code,
    for a user who owes it: whose role requires it (an app is added when they have none) or who has turned it on."""
    if not (user.second_factor_required or user_has_device(user, confirmed=True)):
        return
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, totp_device_of(user))
    request.session.save()
