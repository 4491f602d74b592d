"""Benchmark of the register at the union's scale; run by `make bench`, explained in bench/README.md.

Recreates the database named by BENCH_DATABASE_URL, migrates it, and in one run measures:
  1. the machine's own COPY rate: the seeder's member rows into a bare table (no indexes, constraints or keys);
  2. `seed_demo --members N`: members/s of the whole command and of its member phase, as a share of (1);
  3. the subtree lookup of a regional organisation (p95 over random regions) and its query plan;
  4. the organisation page (registry:org_detail) as a central and as a regional user (p95);
  5.-9. the member register and the card batch (bench/members.py, bench/card_batches.py);
  9б. the card package on Celery worker processes: 1 vs 2 workers, 100,000 cards' memory (bench/card_packages.py);
  10.-12. the statistics: raw GROUP BY through psql, the union rollup, dashboards under wrk (bench/stats.py);
  13. the partner API under wrk beside a bare view doing its one lookup (bench/partner_api.py);
  14. mixed load: 100 locust users (cashiers, chairs, regional and central staff) for 60 s, beside the bare lookup's
      rate of the same run (bench/mixed_load.py).
Prints a table (figure, target, PASS/FAIL) and writes the same to bench/results/bench-<timestamp>.json.
Timing assertions live here, never in the test suite.
"""

import argparse
import datetime
import io
import json
import os
import platform
import random
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"

SEED_SHARE_OF_RAW_TARGET = 0.50
SUBTREE_P95_TARGET_MS = 5.0
PAGE_P95_TARGET_MS = 50.0
WARM_UP_REQUESTS = 5


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None  # None: reported for reading, no target
    shown: str = ""  # the value as text, when it is not a number

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=4_000_000, help="members to seed (default 4,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo union (default 1)")
    parser.add_argument("--lookups", type=int, default=300, help="subtree lookups to time (at least 200)")
    parser.add_argument("--requests", type=int, default=100, help="GETs per page kind and user (at least 100)")
    args = parser.parse_args()
    args.lookups = max(args.lookups, 200)
    args.requests = max(args.requests, 100)
    return args


def database_recreate(url: str) -> None:
    """Drop and create the benchmark database through the server's `postgres` database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"BENCH_DATABASE_URL must name a database of its own, not {name!r}")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_start(url: str) -> None:
    """Production-like settings: DEBUG off, plain static storage (no manifest), the benchmark database."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.pop("STATIC_MANIFEST", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    # Static files are served from the source directories here (no collectstatic), as in the test suite.
    warnings.filterwarnings("ignore", message="No directory at")
    import django
    from django.conf import settings

    django.setup()
    if settings.DEBUG:
        raise SystemExit("DEBUG is on: the page timings would measure the debug machinery")
    storage = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" in storage:
        raise SystemExit(f"static storage is {storage}: unset STATIC_MANIFEST for the benchmark")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the stdlib `statistics` is shadowed by the project's app of that name)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def checkpoint() -> None:
    """Start each timed phase with the previous phase's dirty pages on disk, so it pays only for its own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def machine_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('max_wal_size')")
        version, shared_buffers, max_wal_size = cursor.fetchone()
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": version,
        "shared_buffers": shared_buffers,
        "max_wal_size": max_wal_size,
        "load_average_at_start": os.getloadavg(),
    }


def measure_raw_copy(*, members: int, seed: int) -> tuple[float, float, float]:
    """Rows/s of the generator alone, of COPY into a bare plain table and into a bare UNLOGGED table."""
    from django.db import connection, transaction
    from django.utils import timezone

    from demo.people import MEMBER_COLUMNS, demo_member_rows
    from demo.plan import demo_plan
    from registry.bulk import copy_rows

    plan = demo_plan(members=members, seed=seed)
    # The bare table has no foreign keys, so provisional organisation ids do.
    for number, org in enumerate(plan.organizations, start=1):
        org.id = number
    now = timezone.now()

    started = time.perf_counter()
    generated = sum(1 for _row in demo_member_rows(plan=plan, seed=seed, created_at=now))
    generator_rate = generated / (time.perf_counter() - started)

    rates = []
    for persistence in ("", "UNLOGGED"):
        with connection.cursor() as cursor:
            # LIKE copies columns, types, NOT NULL and defaults: no indexes, no checks, no keys.
            cursor.execute(f"CREATE {persistence} TABLE bench_member_raw (LIKE membership_member INCLUDING DEFAULTS)")
        checkpoint()
        started = time.perf_counter()
        with transaction.atomic():
            written = copy_rows(
                table="bench_member_raw",
                columns=MEMBER_COLUMNS,
                rows=demo_member_rows(plan=plan, seed=seed, created_at=now),
            )
        rates.append(written / (time.perf_counter() - started))
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_member_raw")
    return generator_rate, rates[0], rates[1]


def measure_seeding(*, members: int, seed: int):
    from django.core.management import call_command

    from demo.management.commands.seed_demo import Command as SeedDemo

    command = SeedDemo()
    checkpoint()
    started = time.perf_counter()
    call_command(command, members=members, seed=seed, stdout=io.StringIO())
    return time.perf_counter() - started, command.report


def measure_subtree(*, repetitions: int, seed: int) -> tuple[list[float], int, list[str]]:
    from registry.models import Organization

    regions = list(Organization.objects.filter(level=Organization.Level.REGIONAL))
    rng = random.Random(seed)
    for region in regions[:10]:
        list(Organization.objects.subtree_of(region).values_list("id", flat=True))
    timings, sizes = [], []
    for _ in range(repetitions):
        region = rng.choice(regions)
        started = time.perf_counter()
        ids = list(Organization.objects.subtree_of(region).values_list("id", flat=True))
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(ids))
    largest = max(regions, key=lambda region: Organization.objects.subtree_of(region).count())
    plan = Organization.objects.subtree_of(largest).values_list("id", flat=True).explain().splitlines()
    return timings, max(sizes), plan


def measure_pages(*, requests: int, seed: int) -> list[tuple[str, list[float]]]:
    from django.urls import reverse
    from sessions import signed_in_client

    from accounts.models import User
    from registry.models import Organization

    Level = Organization.Level
    central_user = User.objects.get(username="central")
    regional_user = User.objects.get(username="regional")
    own_region = regional_user.organization
    central = Organization.objects.get(pk=central_user.organization_id)
    regions = list(Organization.objects.filter(level=Level.REGIONAL))
    locals_all = list(Organization.objects.filter(level=Level.LOCAL))
    locals_own = list(Organization.objects.subtree_of(own_region).filter(level=Level.LOCAL))
    cases = [
        ("центральный совет, пользователь central", central_user, [central]),
        ("региональная организация, пользователь central", central_user, regions),
        ("местная организация, пользователь central", central_user, locals_all),
        ("своя региональная организация, пользователь regional", regional_user, [own_region]),
        ("местная организация своего региона, пользователь regional", regional_user, locals_own),
    ]
    rng = random.Random(seed)
    results = []
    for label, user, orgs in cases:
        client = signed_in_client(user)
        for _ in range(WARM_UP_REQUESTS):
            client.get(reverse("registry:org_detail", args=[rng.choice(orgs).pk]))
        timings = []
        for _ in range(requests):
            url = reverse("registry:org_detail", args=[rng.choice(orgs).pk])
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} as {user.username}: HTTP {response.status_code}")
        results.append((label, timings))
    return results


def measure_member_register(*, requests: int, seed: int) -> list[Figure]:
    """Issue 3's figures: the chair's list, a region-wide search, import and export of 100,000 rows."""
    import members

    figures = []
    print(f"5/13 Список членов ППО около 2 000 человек, {requests} запросов…", flush=True)
    timings, size = members.measure_member_list(requests=requests, seed=seed)
    p95 = percentile(timings, 0.95)
    figures += [
        Figure(f"Список членов ППО ({grouped(size)} чел.), председатель: p50", percentile(timings, 0.5), "мс"),
        Figure(f"Список членов ППО ({grouped(size)} чел.), председатель: p95", p95, "мс",
               f"≤ {members.MEMBER_LIST_P95_TARGET_MS:g} мс", p95 <= members.MEMBER_LIST_P95_TARGET_MS),
    ]  # fmt: skip
    print(f"6/13 Поиск по фамилии в регионе, {requests} запросов…", flush=True)
    timings, _sample = members.measure_region_search(requests=requests, seed=seed)
    p95 = percentile(timings, 0.95)
    figures += [
        Figure("Поиск по фамилии по региону (Москва): p50", percentile(timings, 0.5), "мс"),
        Figure("Поиск по фамилии по региону (Москва): p95", p95, "мс",
               f"≤ {members.REGION_SEARCH_P95_TARGET_MS:g} мс", p95 <= members.REGION_SEARCH_P95_TARGET_MS),
    ]  # fmt: skip
    print(f"7/13 Загрузка {grouped(members.IMPORT_ROWS)} строк из .xlsx…", flush=True)
    checking, committing, total, status, written = members.measure_import(seed=seed)
    figures += [
        Figure("Загрузка 100 000 строк: проверка и предпросмотр", checking, "с"),
        Figure("Загрузка 100 000 строк: запись в реестр", committing, "с"),
        Figure("Загрузка 100 000 строк: всего", total, "с", f"≤ {members.IMPORT_TARGET_SECONDS:g} с",
               total <= members.IMPORT_TARGET_SECONDS and status == "committed" and written == members.IMPORT_ROWS),
    ]  # fmt: skip
    print("8/13 Выгрузка в .csv и .xlsx…", flush=True)
    for fmt in ("csv", "xlsx"):
        seconds, rows, start_mb, growth_mb = members.measure_export(fmt)
        figures += [
            Figure(f"Выгрузка .{fmt}: {grouped(rows)} строк", seconds, "с", f"≤ {members.EXPORT_TARGET_SECONDS:g} с",
                   seconds <= members.EXPORT_TARGET_SECONDS and rows >= members.IMPORT_ROWS),
            Figure(f"  рост памяти процесса (RSS) за выгрузку .{fmt}, от {start_mb:.0f} МБ", growth_mb, "МБ"),
        ]  # fmt: skip
    return figures


def measure_cards() -> list[Figure]:
    """Issue 4's figure: a 10,000-card vendor package."""
    import card_batches

    print(
        f"9/13 Партия из {grouped(card_batches.BATCH_CARDS)} билетов: одобрение заявок и пакет для изготовителя…",
        flush=True,
    )
    approving, building, rate, growth_mb, size = card_batches.measure_card_batch()
    return [
        Figure("Одобрение 10 000 заявок (номер каждому под блокировкой)", approving, "с",
               f"≤ {card_batches.APPROVAL_TARGET_SECONDS:g} с", approving <= card_batches.APPROVAL_TARGET_SECONDS),
        Figure("Пакет партии 10 000 билетов (PDF, CSV, manifest, ZIP)", building, "с",
               f"≤ {card_batches.BATCH_TARGET_SECONDS:g} с", building <= card_batches.BATCH_TARGET_SECONDS),
        Figure("  билетов в секунду", rate, "бил./с"),
        Figure("  рост памяти процесса (RSS) при сборке пакета", growth_mb, "МБ",
               f"< {card_batches.BATCH_MEMORY_TARGET_MB:g} МБ", growth_mb < card_batches.BATCH_MEMORY_TARGET_MB),
        Figure("  размер пакета", size / 1024 / 1024, "МБ"),
    ]  # fmt: skip


def grouped(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def main() -> None:
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set BENCH_DATABASE_URL to a PostgreSQL database the benchmark may drop and recreate.")
    started_at = datetime.datetime.now().astimezone()
    print(f"Пересоздаю базу {urlsplit(url).path.lstrip('/')} и применяю миграции…", flush=True)
    database_recreate(url)
    django_start(url)

    from django.core.management import call_command

    from registry.services import regions_load

    call_command("migrate", verbosity=0)
    # The regional organisations exist before the timed seeding, as after `make run`'s load_regions.
    regions_load()
    machine = machine_info()
    figures: list[Figure] = []

    print(f"1/13 Сырой COPY {grouped(args.members)} строк…", flush=True)
    generator_rate, raw_rate, unlogged_rate = measure_raw_copy(members=args.members, seed=args.seed)
    figures += [
        Figure("Генератор строк без базы", generator_rate, "строк/с"),
        Figure("Сырой COPY: таблица без индексов и ключей", raw_rate, "строк/с"),
        Figure("Сырой COPY: то же, UNLOGGED", unlogged_rate, "строк/с"),
    ]

    print(f"2/13 seed_demo --members {grouped(args.members)} --seed {args.seed}…", flush=True)
    command_seconds, report = measure_seeding(members=args.members, seed=args.seed)
    member_phase_rate = args.members / report.seconds["members"]
    command_rate = args.members / command_seconds
    member_share = member_phase_rate / raw_rate
    # The target is judged on the member phase, the part comparable with the raw COPY; the whole command adds
    # fixed work (plan, organisations, chairs, ANALYZE, one password hash) and is reported beside it.
    figures += [
        Figure("seed_demo целиком", command_seconds, "с"),
        Figure("seed_demo целиком: членов/с", command_rate, "членов/с"),
        Figure("  доля от сырого COPY", command_rate / raw_rate * 100, "%"),
        Figure("Фаза членов (COPY + индексы + ключи)", member_phase_rate, "членов/с"),
        Figure("  доля от сырого COPY", member_share * 100, "%", f"≥ {SEED_SHARE_OF_RAW_TARGET:.0%}",
               member_share >= SEED_SHARE_OF_RAW_TARGET),
        Figure("  из неё COPY членов", args.members / report.seconds["members_copy"], "строк/с"),
        Figure("  из неё индексы и ключи", report.seconds.get("member_indexes", 0.0), "с"),
    ]  # fmt: skip

    print(f"3/13 Поддерево региона, {args.lookups} запросов…", flush=True)
    subtree_ms, largest_subtree, plan = measure_subtree(repetitions=args.lookups, seed=args.seed)
    uses_index = any("Index" in line for line in plan)
    figures += [
        Figure("Поддерево региона: p50", percentile(subtree_ms, 0.5), "мс"),
        Figure("Поддерево региона: p95", percentile(subtree_ms, 0.95), "мс", f"≤ {SUBTREE_P95_TARGET_MS:g} мс",
               percentile(subtree_ms, 0.95) <= SUBTREE_P95_TARGET_MS),
        Figure("  самое большое поддерево", largest_subtree, "организаций"),
        Figure("  план запроса идёт по индексу", uses_index, "", "index scan", uses_index, "да" if uses_index else "нет"),
    ]  # fmt: skip

    print(f"4/13 Страница организации, по {args.requests} запросов…", flush=True)
    for label, timings in measure_pages(requests=args.requests, seed=args.seed):
        p95 = percentile(timings, 0.95)
        figures += [
            Figure(f"Страница: {label}, p50", percentile(timings, 0.5), "мс"),
            Figure(f"Страница: {label}, p95", p95, "мс", f"≤ {PAGE_P95_TARGET_MS:g} мс", p95 <= PAGE_P95_TARGET_MS),
        ]

    figures += measure_member_register(requests=args.requests, seed=args.seed)
    figures += measure_cards()

    import card_packages

    card_package_figures, card_package_details = card_packages.measure_card_packages(figure=Figure, grouped=grouped)
    figures += card_package_figures

    import stats

    statistics_figures, statistics_details = stats.measure_statistics(url=url, figure=Figure, grouped=grouped)
    figures += statistics_figures

    import partner_api

    partner_api_figures, partner_api_details = partner_api.measure_partner_api(figure=Figure, grouped=grouped)
    figures += partner_api_figures

    import mixed_load

    mixed_load_figures, mixed_load_details = mixed_load.measure_mixed_load(figure=Figure, grouped=grouped)
    figures += mixed_load_figures

    machine["load_average_at_end"] = os.getloadavg()
    result = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "members": args.members,
        "seed": args.seed,
        "machine": machine,
        "seed_demo_phases_seconds": {phase: round(seconds, 3) for phase, seconds in report.seconds.items()},
        "seed_demo_organizations": {str(level): count for level, count in report.organizations.items()},
        "subtree_plan": plan,
        "statistics": statistics_details,
        "partner_api": partner_api_details,
        "mixed_load": mixed_load_details,
        "card_packages": card_package_details,
        "figures": [asdict(figure) | {"verdict": figure.verdict} for figure in figures],
    }
    report_print(result, figures, plan)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"bench-{started_at:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nJSON: {path.relative_to(ROOT)}")
    if any(figure.passed is False for figure in figures):
        sys.exit(1)


def report_print(result: dict, figures: list[Figure], plan: list[str]) -> None:
    machine = result["machine"]
    print()
    print(f"Единый реестр: бенчмарк, {grouped(result['members'])} членов Профсоюза, seed {result['seed']}")
    print(f"Машина: {machine['cpu_count']} CPU, {machine['platform']}, Python {machine['python']}")
    print(f"PostgreSQL: {machine['postgresql'].split(' on ')[0]}, shared_buffers {machine['shared_buffers']}")
    load_start = " ".join(f"{value:.1f}" for value in machine["load_average_at_start"])
    load_end = " ".join(f"{value:.1f}" for value in machine["load_average_at_end"])
    print(f"Нагрузка (load average) в начале: {load_start}; в конце: {load_end}")
    print(f"Фазы seed_demo, с: {result['seed_demo_phases_seconds']}")
    print(f"План поддерева: {plan[0].strip()}")
    print()
    figures_print(figures)


def figures_print(figures: list[Figure]) -> None:
    """The table of figures (name, value, target, verdict): of the whole run, and of a step's script run alone."""
    width = max(len(figure.name) for figure in figures)
    print(f"{'Показатель'.ljust(width)}  {'Значение':>14}  {'Цель':<16}  Итог")
    print("-" * (width + 44))
    for figure in figures:
        if figure.shown:
            value = figure.shown
        else:
            number = f"{figure.value:,.1f}" if figure.value < 100 else f"{figure.value:,.0f}"
            value = f"{number.replace(',', ' ')} {figure.unit}".strip()
        print(f"{figure.name.ljust(width)}  {value:>14}  {figure.target:<16}  {figure.verdict}")


if __name__ == "__main__":
    main()
