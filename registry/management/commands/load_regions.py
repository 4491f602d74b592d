from django.core.management.base import BaseCommand

from registry.services import regions_load


class Command(BaseCommand):
    help = "Загрузить субъекты РФ и региональные организации из regions.csv (повторный запуск ничего не дублирует)."

    def add_arguments(self, parser):
        parser.add_argument("--csv", help="Путь к regions.csv (по умолчанию — из настроек REGIONS_CSV).")

    def handle(self, *args, **options):
        regions, orgs = regions_load(csv_path=options.get("csv"))
        self.stdout.write(f"Субъектов РФ добавлено: {regions}; региональных организаций открыто: {orgs}.")
