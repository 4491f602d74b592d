"""Benchmarks of the statistics (issue 7), run by bench/run.py after the card batch.

10. the machine's limit: the report's member counts (one `GROUP BY organization_id` with a FILTER per count) as
    literal SQL through the `psql` client, and the same SQL through the app's psycopg connection for reference;
11. the union rollup through the app (`rollup_build`, register variant of this year; accepted variant of last
    year for reading), best of two, the same digest on every run, and its phases;
12. the central and a regional dashboard page served by gunicorn (the docker-compose settings) under `wrk`.

The module is not named `statistics.py`: bench/ is on sys.path, and that name would shadow the standard library.
"""

import datetime
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from serving import LOAD_CONNECTIONS, WRK_COUNTING, gunicorn_serving, wrk_required, wrk_run, wrk_script

ROOT = Path(__file__).resolve().parent.parent

RAW_RUNS = 3
ROLLUP_RUNS = 2
ROLLUP_TO_RAW_TARGET = 2.0
CENTRAL_P95_TARGET_MS = 150.0
REGIONAL_P95_TARGET_MS = 100.0
LOAD_SECONDS = 20
WARM_UP_SECONDS = 5
DASHBOARD_URL_NAME = "statistics:dashboard"
FALLBACK_URL_NAME = "registry:org_detail"
REGISTER_PHASE = "счёт по реестру (register_figures_by_org)"
MEMBER_GROUP_BY_PHASE = "  из него: GROUP BY членов (запрос и разбор строк)"
PSQL_TIME = re.compile(r"^Time: ([\d.]+) ms", re.MULTILINE)


def _best(timings: list[float]) -> float:
    return min(timings)


# --- 10. the raw GROUP BY -------------------------------------------------------------------------------------


def report_period():
    from django.utils import timezone

    from union_statistics.indicators import Period

    today = timezone.localdate()
    return Period.of_year(today.year, today=today)


def raw_group_by_sql(period) -> tuple[str, int]:
    """The app's own member counts of the report as one literal SQL statement, and the number of its FILTERs."""
    from django.db import connection

    from membership.models import Member
    from union_statistics.register import member_aggregates

    aggregates = member_aggregates(period)
    queryset = Member.objects.order_by().values("organization_id").annotate(**aggregates)
    sql, params = queryset.query.sql_with_params()
    return connection.ops.compose_sql(sql, params), len(aggregates)


def _psql_once(url: str, path: str) -> tuple[float, float]:
    """One `psql` process: the server-side time printed by \\timing and the wall time of the whole client."""
    started = time.perf_counter()
    completed = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", "\\timing on", "-f", path, "-o", os.devnull],
        capture_output=True,
        text=True,
        env={**os.environ, "PGAPPNAME": "bench-raw-group-by"},
    )
    wall = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        raise SystemExit(f"psql failed ({completed.returncode}): {completed.stderr.strip()[:2000]}")
    found = PSQL_TIME.search(completed.stdout)
    if not found:
        raise SystemExit(f"psql printed no timing: {completed.stdout[:500]!r}")
    return float(found.group(1)), wall


def measure_raw(url: str) -> dict:
    from django.db import connection

    if shutil.which("psql") is None:
        raise SystemExit("psql is not installed: apt-get install -y postgresql-client")
    psql_url = url.replace("postgres://", "postgresql://", 1)
    sql, aggregates = raw_group_by_sql(report_period())
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as file:
        file.write(sql + ";\n")
    try:
        _psql_once(psql_url, file.name)  # warm-up: hint bits, buffers
        psql_runs = [_psql_once(psql_url, file.name) for _ in range(RAW_RUNS)]
    finally:
        os.unlink(file.name)
    cursor_ms, rows = [], 0
    with connection.cursor() as cursor:
        for run in range(RAW_RUNS + 1):
            started = time.perf_counter()
            cursor.execute(sql)
            rows = len(cursor.fetchall())
            if run:
                cursor_ms.append((time.perf_counter() - started) * 1000)
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'membership_member'::regclass")
        members = cursor.fetchone()[0]
    return {
        "aggregates": aggregates,
        "rows": rows,
        "members": members,
        "psql_ms": [server for server, _wall in psql_runs],
        "psql_wall_ms": [wall for _server, wall in psql_runs],
        "cursor_ms": cursor_ms,
        "sql_chars": len(sql),
    }


# --- 11. the rollup through the app ---------------------------------------------------------------------------


class _PhaseTimer:
    """Wraps module functions by name for the duration of a block and sums their time; missing names are skipped,
    so a change of the services' insides drops a phase from the report instead of breaking the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def wrapped(self, targets: list[tuple[object, str, str]]):
        originals = []
        for module, name, label in targets:
            original = getattr(module, name, None)
            if original is None:
                continue
            originals.append((module, name, original))
            setattr(module, name, self._timed(original, label))
        try:
            yield self
        finally:
            for module, name, original in originals:
                setattr(module, name, original)

    def _timed(self, function: Callable, label: str) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        return timed


def _rollup_phase_targets():
    from registry import bulk
    from union_statistics import register, services

    return [
        (services, "_tree", "дерево организаций"),
        (services, "register_vectors_by_org", REGISTER_PHASE),
        (register, "_moved_members_into", "  из него: перешедшие после даты"),
        (register, "_transfers_into", "  из него: переводы года"),
        (register, "_chairs_into", "  из него: председатели"),
        (register, "_cards_into", "  из него: билеты"),
        (services, "_accepted_own_vectors", "принятые отчёты"),
        (services, "_rolled_up", "сумма по дереву"),
        (services, "write_rows", "запись снимка"),
        (bulk, "copy_rows", "  из неё COPY"),
    ]


def _phases_in_order(seconds: dict[str, float], *, total: float) -> dict[str, float]:
    """The measured phases in the order of the code, the members' GROUP BY as the register count's remainder,
    and what no wrapped function accounts for."""
    phases = {}
    for _module, _name, label in _rollup_phase_targets():
        if label in seconds:
            phases[label] = seconds[label]
        if label == REGISTER_PHASE and label in seconds:
            inner = sum(value for key, value in seconds.items() if key.startswith("  из него"))
            phases[MEMBER_GROUP_BY_PHASE] = seconds[label] - inner
    accounted = sum(value for key, value in phases.items() if not key.startswith(" "))
    phases["прочее (паспорта, отчёты, дайджест, транзакция)"] = total - accounted
    return phases


def measure_rollup() -> dict:
    from django.db import connection

    from union_statistics.models import RollupSnapshot
    from union_statistics.services import rollup_build

    year = datetime.date.today().year
    runs = []
    for _ in range(ROLLUP_RUNS):
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        timer = _PhaseTimer()
        with timer.wrapped(_rollup_phase_targets()):
            started = time.perf_counter()
            build = rollup_build(year=year, variant=RollupSnapshot.Variant.REGISTER, trigger="on_demand")
            seconds = time.perf_counter() - started
        runs.append({"seconds": seconds, "digest": build.digest, "phases": timer.seconds, "orgs": build.organizations})
    started = time.perf_counter()
    accepted = rollup_build(year=year - 1, variant=RollupSnapshot.Variant.ACCEPTED, trigger="on_demand")
    accepted_seconds = time.perf_counter() - started
    best = min(runs, key=lambda run: run["seconds"])
    best["phases"] = _phases_in_order(best["phases"], total=best["seconds"])
    return {
        "year": year,
        "runs": runs,
        "best": best,
        "digests_equal": len({run["digest"] for run in runs}) == 1,
        "accepted_seconds": accepted_seconds,
        "accepted_source": accepted.source,
    }


# --- 12. dashboards under load --------------------------------------------------------------------------------


def _session_cookie(user) -> str:
    from sessions import session_cookie

    return session_cookie(user)


def dashboard_url_name() -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(DASHBOARD_URL_NAME, args=[1])
    except NoReverseMatch:
        return FALLBACK_URL_NAME
    return DASHBOARD_URL_NAME


def measure_dashboards() -> dict:
    from django.urls import reverse

    from accounts.models import User

    wrk_required()
    url_name = dashboard_url_name()
    central = User.objects.get(username="central")
    regional = User.objects.get(username="regional")
    cases = [
        ("central", central, central.organization_id, CENTRAL_P95_TARGET_MS),
        ("regional", regional, regional.organization_id, REGIONAL_P95_TARGET_MS),
    ]
    results = {"url_name": url_name, "load_average_before": os.getloadavg(), "pages": []}
    with wrk_script(WRK_COUNTING) as script, gunicorn_serving() as base:
        for label, user, org_id, target in cases:
            url = base + reverse(url_name, args=[org_id])
            cookie = (f"Cookie: sessionid={_session_cookie(user)}",)
            wrk_run(url, headers=cookie, seconds=WARM_UP_SECONDS, script=script)
            result = wrk_run(url, headers=cookie, seconds=LOAD_SECONDS, script=script)
            results["pages"].append({"label": label, "path": url.removeprefix(base), "target_ms": target, **result})
    results["load_average_after"] = os.getloadavg()
    return results


# --- the figures ----------------------------------------------------------------------------------------------


def measure_statistics(*, url: str, figure: Callable, grouped: Callable[[float], str]) -> tuple[list, dict]:
    """Steps 10–12; `figure` is run.py's Figure. Returns the figures and the details for the JSON."""
    print("10/13 Сырой GROUP BY показателей отчёта через psql…", flush=True)
    raw = measure_raw(url)
    raw_ms = _best(raw["psql_ms"])
    figures = [
        figure(f"Сырой GROUP BY по членам ({raw['aggregates']} FILTER, {grouped(raw['rows'])} орг.): psql",
               raw_ms, "мс"),
        figure("  то же через курсор psycopg приложения", _best(raw["cursor_ms"]), "мс"),
    ]  # fmt: skip

    print("11/13 Сводка по Профсоюзу через приложение (rollup_build)…", flush=True)
    rollup = measure_rollup()
    best = rollup["best"]
    rollup_ms = best["seconds"] * 1000
    ratio = rollup_ms / raw_ms
    figures += [
        figure(f"Сводка по Профсоюзу (реестр, {rollup['year']}), лучшая из {ROLLUP_RUNS}", rollup_ms, "мс"),
        figure("  во сколько раз дольше сырого GROUP BY", ratio, "×", f"≤ {ROLLUP_TO_RAW_TARGET:g}×",
               ratio <= ROLLUP_TO_RAW_TARGET),
        figure("  повторный расчёт: тот же дайджест", rollup["digests_equal"], "", "да", rollup["digests_equal"],
               "да" if rollup["digests_equal"] else "нет"),
    ]  # fmt: skip
    for label, seconds in best["phases"].items():
        figures.append(figure(f"  фаза: {label}", seconds * 1000, "мс"))
    figures.append(
        figure(f"Сводка по принятым отчётам ({rollup['year'] - 1})", rollup["accepted_seconds"] * 1000, "мс")
    )

    print(f"12/13 Дашборды под нагрузкой wrk, {LOAD_SECONDS} с на страницу…", flush=True)
    dashboards = measure_dashboards()
    page_kind = "дашборд" if dashboards["url_name"] == DASHBOARD_URL_NAME else "страница организации (нет дашборда)"
    for page in dashboards["pages"]:
        who = {"central": "центральный совет, central", "regional": "свой регион, regional"}[page["label"]]
        p95 = page["p95_us"] / 1000
        bad = page["not_2xx"] + page["socket_errors"]
        figures += [
            figure(f"{page_kind.capitalize()}: {who}, wrk {LOAD_CONNECTIONS} соед.: запросов/с", page["rps"], "зап./с"),
            figure("  p50", page["p50_us"] / 1000, "мс"),
            figure("  p95", p95, "мс", f"≤ {page['target_ms']:g} мс", p95 <= page["target_ms"]),
            figure("  ответов не 2xx и ошибок сокета", bad, "", "0", bad == 0, str(bad)),
        ]  # fmt: skip
    load = " ".join(f"{value:.1f}" for value in dashboards["load_average_before"])
    figures.append(figure("  нагрузка машины (load average) перед wrk", 0.0, "", "", None, load))
    details = {
        "raw_group_by": raw,
        "rollup": {**rollup, "best": {**best, "phases": {k: round(v, 4) for k, v in best["phases"].items()}}},
        "dashboards": dashboards,
    }
    return figures, details
