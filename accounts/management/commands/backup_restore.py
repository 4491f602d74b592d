from django.core.management.base import BaseCommand, CommandError

from accounts.backup import BackupError, backup_check_archive, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Восстановить резервную копию в новую или пустую базу: сначала проверяются размеры и SHA-256 всех файлов, "
        "после восстановления — число строк каждой таблицы и последняя запись журнала доступа (README, "
        "«Резервные копии»)."
    )
    # Nothing may touch the target database before the backup has been checked, not even the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="Папка копии, например backups/20260301T020000Z.")
        parser.add_argument(
            "--database-url",
            help="База, в которую восстановить (по умолчанию — DATABASE_URL портала); нет такой — будет создана.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Восстановить и в непустую базу (всё в ней удаляется) и заменить файлы хранилища с тем же именем.",
        )
        parser.add_argument("--no-media", action="store_true", help="Только база, файлы хранилища не трогать.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Только проверить копию (SHA-256, оглавление дампа), не восстанавливая.",
        )

    def handle(self, *args, **options):
        try:
            if options["check"]:
                manifest = backup_verify(path=options["path"])
                self.stdout.write(f"Размеры и SHA-256 всех {len(manifest['files'])} файлов совпадают с манифестом.")
                self.stdout.write(backup_check_archive(path=options["path"], manifest=manifest))
                self.stdout.write(self.style.SUCCESS(f"Копия от {manifest['created_at']} цела."))
                return
            report = backup_restore(
                path=options["path"],
                database_url=options["database_url"],
                force=options["force"],
                include_media=not options["no_media"],
                log=self.stdout.write,
            )
        except BackupError as error:
            raise CommandError(error.message) from error
        last = report.access_log_last
        self.stdout.write(f"База: {report.target}.")
        self.stdout.write(f"Совпали таблиц: {report.tables}, строк в них: {report.rows}.")
        self.stdout.write(
            f"Последняя запись журнала доступа: {'№ ' + str(last['id']) + ' от ' + last['created_at'] if last else '—'}."
        )
        self.stdout.write(
            f"Файлы хранилища: записано {report.media_written}, уже были такими же {report.media_unchanged}."
        )
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"Внимание: {warning}."))
        if not report.ok:
            for mismatch in report.mismatches:
                self.stderr.write(f"Расхождение: {mismatch}.")
            raise CommandError(f"Восстановленная база не совпадает с копией ({len(report.mismatches)} расхождений).")
        self.stdout.write(self.style.SUCCESS(f"Копия восстановлена и сверена за {report.seconds:.1f} с."))
