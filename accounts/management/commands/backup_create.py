from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.backup import BackupError, backup_create, backup_prune


class Command(BaseCommand):
    help = (
        "Снять резервную копию: база (pg_dump в формате custom; встроенная SQLite — копия через sqlite3 backup API) "
        "и все файлы хранилища, с манифестом размеров и SHA-256 (README, «Резервные копии»)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help=f"Папка для копий (по умолчанию BACKUP_DIR: {settings.BACKUP_DIR}).")
        parser.add_argument("--no-media", action="store_true", help="Только база, без файлов хранилища.")
        parser.add_argument(
            "--keep", type=int, help="После удачной копии оставить в папке только столько последних копий."
        )

    def handle(self, *args, **options):
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("Хранить нужно хотя бы одну копию (--keep 1 или больше).")
        try:
            result = backup_create(
                backup_dir=Path(options["dir"]) if options["dir"] else None,
                include_media=not options["no_media"],
                log=self.stdout.write,
            )
        except BackupError as error:
            raise CommandError(error.message) from error
        manifest = result.manifest
        last = manifest["access_log_last"]
        self.stdout.write(
            f"Таблиц: {len(manifest['tables'])}, строк: {sum(manifest['tables'].values())}; последняя запись журнала "
            f"доступа: {'№ ' + str(last['id']) + ' от ' + last['created_at'] if last else 'журнал пуст'}."
        )
        self.stdout.write(
            f"Файлов хранилища: {result.media_files}; всего {_size(result.total_bytes)} за {result.seconds:.1f} с."
        )
        self.stdout.write(self.style.SUCCESS(f"Копия готова: {result.path}"))
        if options["keep"] is not None:
            try:
                removed = backup_prune(backup_dir=result.path.parent, keep=options["keep"])
            except BackupError as error:
                raise CommandError(error.message) from error
            for path in removed:
                self.stdout.write(f"Удалена старая копия {path.name}.")


def _size(count: int) -> str:
    for unit in ("байт", "КиБ", "МиБ", "ГиБ"):
        if count < 1024 or unit == "ГиБ":
            return f"{count} {unit}" if unit == "байт" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)
