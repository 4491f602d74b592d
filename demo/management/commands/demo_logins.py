from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_logins, demo_second_factor_logins


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
        second_factor = demo_second_factor_logins()
        if second_factor:
            secret = " ".join(DEMO_TOTP_SECRET[start : start + 4] for start in range(0, len(DEMO_TOTP_SECRET), 4))
            logins = ", ".join(login for login, _ in second_factor)
            self.stdout.write(f"Вход в два шага ({logins}): после пароля — код из приложения-аутентификатора.")
            self.stdout.write(f"  Ключ для ввода в приложение вручную (по времени, 6 цифр, 30 с): {secret}")
            self.stdout.write("  Или резервный код (каждый действует один раз):")
            for login, codes in second_factor:
                self.stdout.write(f"    {login.ljust(width)}  {'  '.join(codes)}")
            self.stdout.write("")
