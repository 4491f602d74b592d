"""Signed-in sessions for the benchmarks, made in the database without posting a password: as after both sign-in
steps, since central and regional staff reach nothing but the second step's page before it (accounts/middleware.py).
The session is marked as django_otp.login marks it, with the user's own confirmed device (the demo staff's app) or a
recovery-code device of the benchmark's own that holds no codes."""


def signed_in_client(user):
    from django.http import HttpRequest
    from django.test import Client
    from django_otp import devices_for_user, user_has_device
    from django_otp import login as otp_login
    from django_otp.plugins.otp_static.models import StaticDevice

    client = Client()
    client.force_login(user)
    if user.second_factor_required or user_has_device(user, confirmed=True):
        device = next(devices_for_user(user, confirmed=True), None)
        if device is None:
            device, _created = StaticDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
        request = HttpRequest()
        request.session, request.user = client.session, user
        otp_login(request, device)
        request.session.save()
    return client


def session_cookie(user) -> str:
    """The session cookie of `user`, for load tools that send it as a header."""
    return signed_in_client(user).cookies["sessionid"].value
