from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Напечатать логины демонстрационных пользователей каждой роли."

    def handle(self, *args, **options):
        rows = demo_logins()
        if not rows:
            self.stdout.write("Демонстрационных пользователей нет: запустите manage.py seed_demo.")
            return
        self.stdout.write("")
        self.stdout.write("Сайт: http://127.0.0.1:8000   Пароль всех демонстрационных пользователей: " + DEMO_PASSWORD)
        width = max(len(login) for _, login, _ in rows)
        for role, login, where in rows:
            self.stdout.write(f"  {login.ljust(width)}  {role}: {where}")
        self.stdout.write("")
