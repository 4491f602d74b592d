"""Benchmark of the partner API (issue 8), run by bench/run.py after the statistics, or alone:

    .venv/bin/python bench/partner_api.py --database-url postgres://postgres@127.0.0.1:5432/eseur_bench

13. gunicorn as docker-compose.yml runs it (bench/serving.py), with the partner API behind a key of a benchmark
    partner and, in the same server, a bare view doing the verification's one indexed lookup of a card by its number
    (bench/partner_api_urls.py, loaded only by bench/partner_api_settings.py); `wrk` on loopback POSTs bodies with
    10,000 random valid card numbers in turn (bench/partner_api.lua): the bare view, POST /api/v1/cards/verify, and
    POST /api/v1/purchases with unique receipt ids.

Alone, it uses the database as it is (it needs a seeded one: cards issued) and adds to it a partner "Бенчмарк API",
a new key of it and the purchases it records; run.py's own database is recreated on every run anyway.

The module is not named `discounts.py`: bench/ is on sys.path, and that name would shadow the app.
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

CARD_NUMBERS = 10_000
LOAD_SECONDS = 20
WARM_UP_SECONDS = 5
VERIFY_SHARE_OF_BARE_TARGET = 0.50
VERIFY_P95_TARGET_MS = 20.0
PURCHASE_P95_TARGET_MS = 50.0
PARTNER_NAME = "Бенчмарк API партнёров"
# The benchmark's key must not be stopped by the limit it still counts against: one cache round trip per call.
RATE_LIMIT = "1000000000/60"
# Production keeps the rate limit's counters in Redis; the benchmark does too when this Redis answers.
REDIS_URL_DEFAULT = "redis://127.0.0.1:6379/15"


def bench_partner():
    """The benchmark's partner, union-wide, 5 % cashback, no daily limits per card (the same cards come round
    again on every run), and a new key of it."""
    from accounts.models import Role, User
    from discounts.models import Partner
    from discounts.services import partner_token_issue

    central = User.objects.filter(role=Role.CENTRAL, is_active=True).order_by("id").first()
    if central is None:
        raise SystemExit("no active central office user to issue the benchmark's API key (seed the database first)")
    partner, _created = Partner.objects.update_or_create(
        name=PARTNER_NAME,
        defaults={
            "category": Partner.Category.SERVICES, "is_union_wide": True, "cashback_bp": 500,
            "active_from": datetime.date(2020, 1, 1), "active_until": None, "hold_days": 14,
            "daily_purchases_per_card": 0, "daily_amount_per_card": 0,
        },
    )  # fmt: skip
    _token, key = partner_token_issue(partner=partner, by=central, name="bench/partner_api.py")
    return partner, key


def partner_api_serving_env() -> tuple[dict[str, str], str]:
    """gunicorn's environment for the partner API with the bare lookup beside it (partner_api_settings), and where
    the rate limit's counters live: Redis (BENCH_REDIS_URL) when it answers, else each worker's memory. One key
    serves every till of the benchmark's partner: its limit must not be what stops them."""
    redis_url = os.environ.get("BENCH_REDIS_URL", REDIS_URL_DEFAULT)
    env = {
        "DJANGO_SETTINGS_MODULE": "partner_api_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), str(ROOT)]),
        "DISCOUNTS_API_RATE_LIMIT": RATE_LIMIT,
    }
    if not redis_answering(redis_url):
        return env, "память процесса (Redis не отвечает)"
    return {**env, "REDIS_URL": redis_url}, "Redis"


def valid_card_numbers(count: int) -> list[str]:
    """`count` random numbers of active cards whose holders are active members who have not withdrawn consent and
    take part in the partners' programme (a valid PARTNERS consent; the demo gives it to the plastic cards' holders
    and to its buyers): cards the API answers "valid" and takes purchases by. A block sample of the card table,
    then a random pick."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT card.number
            FROM cards_card AS card TABLESAMPLE SYSTEM (5) REPEATABLE (1)
            JOIN membership_member AS member ON member.id = card.member_id
            WHERE card.status = 'active' AND member.status = 'active' AND member.processing_blocked_on IS NULL
              AND EXISTS (SELECT 1 FROM membership_consent AS consent WHERE consent.member_id = card.member_id
                          AND consent.purpose = 'partners' AND consent.withdrawn_on IS NULL)
            ORDER BY random()
            LIMIT %s
            """,
            [count],
        )
        numbers = [row[0] for row in cursor.fetchall()]
        if len(numbers) < count:  # a small database: the whole table
            cursor.execute(
                """
                SELECT card.number FROM cards_card AS card JOIN membership_member AS member ON member.id = card.member_id
                WHERE card.status = 'active' AND member.status = 'active' AND member.processing_blocked_on IS NULL
                  AND EXISTS (SELECT 1 FROM membership_consent AS consent WHERE consent.member_id = card.member_id
                              AND consent.purpose = 'partners' AND consent.withdrawn_on IS NULL)
                ORDER BY random() LIMIT %s
                """,
                [count],
            )
            numbers = [row[0] for row in cursor.fetchall()]
    if not numbers:
        raise SystemExit("no valid cards in the database: seed it first (seed_demo issues cards)")
    return numbers


def cards_warm(numbers: list[str]) -> None:
    """Read every chosen card and its holder once by the number index, so that neither the bare view nor the API
    pays for first reads from disk, whichever runs first."""
    from cards.models import Card
    from membership.models import Consent

    for start in range(0, len(numbers), 500):
        list(Card.objects.filter(number__in=numbers[start : start + 500]).values_list("id", "member__status"))
        list(Consent.objects.filter(member__cards__number__in=numbers[start : start + 500]).values_list("id"))


def redis_answering(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # not installed, not running, refused: the benchmark then says it ran without Redis
        return False


def measure(*, seconds: int = LOAD_SECONDS, warm_up: int = WARM_UP_SECONDS) -> dict:
    from django.db import connection
    from partner_api_urls import BARE_LOOKUP_PATH
    from serving import WRK_COUNTING, gunicorn_serving, wrk_required, wrk_run, wrk_script

    from discounts.models import Purchase

    wrk_required()
    partner, key = bench_partner()
    numbers = valid_card_numbers(CARD_NUMBERS)
    cards_warm(numbers)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'cards_card'::regclass")
        cards = cursor.fetchone()[0]
    env, cache = partner_api_serving_env()
    run_id = f"b{int(time.time())}"
    purchases_before = Purchase.objects.filter(partner=partner).count()
    results = {"cards_in_table": cards, "numbers": len(numbers), "cache": cache, "load_average_before": os.getloadavg()}
    json_body = "Content-Type: application/json"
    cases = [
        ("bare", BARE_LOOKUP_PATH, (json_body,), "lookup"),
        ("verify", "/api/v1/cards/verify", (json_body, f"Authorization: Bearer {key}"), "verify"),
        ("purchase", "/api/v1/purchases", (json_body, f"Authorization: Bearer {key}"), "purchase"),
    ]
    script_text = (BENCH_DIR / "partner_api.lua").read_text(encoding="utf-8") + WRK_COUNTING
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as numbers_file:
        numbers_file.write("\n".join(numbers) + "\n")
    try:
        with wrk_script(script_text) as script, gunicorn_serving(env=env) as base:
            for label, path, headers, kind in cases:
                args = (numbers_file.name, kind, f"{run_id}w")
                wrk_run(base + path, seconds=warm_up, script=script, headers=headers, args=args)
                args = (numbers_file.name, kind, run_id)
                results[label] = wrk_run(base + path, seconds=seconds, script=script, headers=headers, args=args)
    finally:
        os.unlink(numbers_file.name)
    results["purchases_recorded"] = Purchase.objects.filter(partner=partner).count() - purchases_before
    results["load_average_after"] = os.getloadavg()
    return results


def measure_partner_api(*, figure: Callable, grouped: Callable[[float], str], seconds: int = LOAD_SECONDS,
                        warm_up: int = WARM_UP_SECONDS) -> tuple[list, dict]:  # fmt: skip
    """Step 13; `figure` is run.py's Figure. Returns the figures and the details for the JSON."""
    print(f"13/13 API партнёров под нагрузкой wrk, {seconds} с на вызов…", flush=True)
    results = measure(seconds=seconds, warm_up=warm_up)
    bare, verify, purchase = results["bare"], results["verify"], results["purchase"]
    share = verify["rps"] / bare["rps"]
    verify_p95 = verify["p95_us"] / 1000
    purchase_p95 = purchase["p95_us"] / 1000
    figures = [
        figure(f"API партнёров: {grouped(results['numbers'])} случайных билетов из {grouped(results['cards_in_table'])}, "
               f"счётчики ограничения частоты", 0.0, "", "", None, results["cache"]),
        figure("Голое представление: поиск билета по номеру, запросов/с", bare["rps"], "зап./с"),
        figure("  p95", bare["p95_us"] / 1000, "мс"),
        figure("Проверка билета POST /api/v1/cards/verify: запросов/с", verify["rps"], "зап./с"),
        figure("  доля от голого представления", share * 100, "%", f"≥ {VERIFY_SHARE_OF_BARE_TARGET:.0%}",
               share >= VERIFY_SHARE_OF_BARE_TARGET),
        figure("  p50", verify["p50_us"] / 1000, "мс"),
        figure("  p95", verify_p95, "мс", f"≤ {VERIFY_P95_TARGET_MS:g} мс", verify_p95 <= VERIFY_P95_TARGET_MS),
        figure("Покупка POST /api/v1/purchases: запросов/с", purchase["rps"], "зап./с"),
        figure("  p50", purchase["p50_us"] / 1000, "мс"),
        figure("  p95", purchase_p95, "мс", f"≤ {PURCHASE_P95_TARGET_MS:g} мс", purchase_p95 <= PURCHASE_P95_TARGET_MS),
        figure("  покупок записано", results["purchases_recorded"], "", "", None, grouped(results["purchases_recorded"])),
    ]  # fmt: skip
    for label, name in (("bare", "голое представление"), ("verify", "проверка"), ("purchase", "покупка")):
        bad = results[label]["not_2xx"] + results[label]["socket_errors"]
        figures.append(figure(f"  ответов не 2xx и ошибок сокета: {name}", bad, "", "0", bad == 0, str(bad)))
    load = " ".join(f"{value:.1f}" for value in results["load_average_before"])
    figures.append(figure("  нагрузка машины (load average) перед wrk", 0.0, "", "", None, load))
    return figures, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="a seeded PostgreSQL database (default: BENCH_DATABASE_URL)")  # fmt: skip
    parser.add_argument("--seconds", type=int, default=LOAD_SECONDS, help=f"seconds per call (default {LOAD_SECONDS})")
    parser.add_argument("--warm-up", type=int, default=WARM_UP_SECONDS, help="seconds of warm-up before each")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Give --database-url (or BENCH_DATABASE_URL) of a seeded PostgreSQL database.")
    sys.path.insert(0, str(BENCH_DIR))
    import run

    run.django_start(args.database_url)
    figures, _results = measure_partner_api(
        figure=run.Figure, grouped=run.grouped, seconds=args.seconds, warm_up=args.warm_up
    )
    run.figures_print(figures)
    if any(figure.passed is False for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
