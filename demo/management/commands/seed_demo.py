from django.core.management.base import BaseCommand, CommandError

from demo.seed import PROGRESS_MIN_MEMBERS, DemoSeedError, DemoSeedReport, demo_exists, demo_seed
from registry.models import Organization

LEVEL_WORDS = (
    (Organization.Level.LOCAL, "местных"),
    (Organization.Level.PRIMARY, "первичных"),
    (Organization.Level.UNIT, "профбюро и профгрупп"),
)


class Command(BaseCommand):
    help = (
        "Заполнить пустой реестр демонстрационным Профсоюзом: местные и первичные организации, председатели, "
        "члены Профсоюза, по одному пользователю каждой роли, профсоюзные билеты и заявки на пластиковые. "
        "Один и тот же --seed даёт одни и те же данные."
    )

    # The report of the last run, for callers that time the phases (bench/run.py).
    report: DemoSeedReport | None = None

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=3000, help="Сколько членов Профсоюза завести.")
        parser.add_argument("--seed", type=int, default=1, help="Зерно генератора случайных чисел.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Ничего не делать, если в реестре уже есть члены Профсоюза или демонстрационные пользователи.",
        )

    def handle(self, *args, members: int, seed: int, if_empty: bool, **options):
        if if_empty and demo_exists():
            self.stdout.write("В реестре уже есть члены Профсоюза или демонстрационные пользователи: ничего не меняю.")
            return
        progress = self.stdout.write if members >= PROGRESS_MIN_MEMBERS else None
        try:
            self.report = demo_seed(members=members, seed=seed, progress=progress)
        except DemoSeedError as error:
            raise CommandError(error.message) from error
        levels = ", ".join(f"{word} {self.report.organizations.get(level, 0)}" for level, word in LEVEL_WORDS)
        self.stdout.write(
            self.style.SUCCESS(
                f"Демонстрационный реестр заполнен за {self.report.total_seconds:.1f} с: "
                f"организаций {sum(self.report.organizations.values())} ({levels}), "
                f"председателей {self.report.chairs}, членов Профсоюза {self.report.members}, "
                f"пользователей {self.report.users}, билетов {self.report.cards} "
                f"(заявок на пластиковые {self.report.card_requests}), "
                f"согласий на передачу данных изготовителю и партнёрам {self.report.consents}, "
                f"статистических отчётов {self.report.reports}, "
                f"партнёров программы скидок {self.report.partners}, покупок по билетам {self.report.purchases}."
            )
        )
