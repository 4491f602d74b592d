from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demonstration union (`manage.py seed_demo`, `manage.py demo_logins`): above every app, imported by none."""

    name = "demo"
