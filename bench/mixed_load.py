"""Mixed load (issue 10), run by bench/run.py after the partner API, or alone against a seeded database:

    .venv/bin/python bench/mixed_load.py --database-url postgres://postgres@127.0.0.1:5432/eseur_bench

14. gunicorn as docker-compose.yml runs it (bench/serving.py, the settings of bench/partner_api.py: the project's
    own plus the bare card lookup), first the bare lookup under `wrk` (the raw single-lookup rate of this run), then
    100 locust users at once for 60 s (bench/mixed_load_locust.py): cashiers verifying cards and recording purchases
    through the partner API, chairs reading and searching their member lists, regional staff approving card
    requests one by one from the queue, central office reading dashboards. Requests/s, p50/p95/p99 and errors per
    kind; every approval and purchase answered as done is then looked up in the database.

Adds to the database, and reuses on the next run: users `bench-load-<role>-<n>` (chairs of several ППО, regional
staff of five regions, central office), card requests for those regional users to approve (topped up to
REQUESTS_PER_REGIONAL_USER each), the partner of bench/partner_api.py, a key of it and the purchases recorded.
No password is posted: the users' sessions are made in the database (`Client.force_login`) and sent as cookies.
"""

import argparse
import csv
import datetime
import json
import os
import random
import secrets
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

USERS = 100
SPAWN_RATE = 20
LOAD_SECONDS = 60
# Each user waits this long (uniformly) after each answer: 100 users then ask about 50 requests/s, a brisker pace
# than people reading pages or serving customers keep (README).
THINK_SECONDS = (1.0, 3.0)
P95_TARGET_MS = 200.0
BARE_SECONDS = 20
BARE_WARM_UP_SECONDS = 5
SEED = 1
# Users of each role among 100 (locust class weights) and each role's task weights; together they make the planned
# share of each kind of request (bench/README.md explains the choice).
ROLE_USERS = {"cashier": 50, "chair": 35, "regional": 10, "central": 5}
ROLE_TASKS = {
    "cashier": {"verify": 4, "purchase": 1},
    "chair": {"member_list": 4, "member_search": 3},
    "regional": {"request_approve": 1, "request_queue": 1},
    "central": {"dashboard": 1},
}
KINDS = {
    "verify": "кассир: проверка билета (API)",
    "purchase": "кассир: покупка (API)",
    "member_list": "председатель: список членов",
    "member_search": "председатель: поиск по фамилии",
    "request_queue": "регион: очередь заявок",
    "request_approve": "регион: одобрение заявки",
    "dashboard": "центр: дашборд",
}
REGIONS = 5
REGIONAL_USERS_PER_REGION = 2
# An approval takes about 1 in 20 requests: some 30 per regional user in a minute at the planned pace. The pool
# leaves room for a slower think time or a longer run without adding much to the union's own queue of ~43,000.
REQUESTS_PER_REGIONAL_USER = 300
CHAIR_MIN_MEMBERS = 100
PREFIXES_PER_CHAIR = 40
CARD_NUMBERS = 10_000


def planned_shares() -> dict[str, float]:
    total = sum(ROLE_USERS.values())
    shares = {}
    for role, tasks in ROLE_TASKS.items():
        for kind, weight in tasks.items():
            shares[kind] = ROLE_USERS[role] / total * weight / sum(tasks.values())
    return shares


# --- the people and what they work on ---------------------------------------------------------------------------


def _bench_users(role, organizations: list) -> list:
    """`bench-load-<role>-<n>`, one per organisation given, created once and reused (their organisation kept)."""
    from accounts.models import User

    users = []
    for number, org in enumerate(organizations, start=1):
        user, _created = User.objects.get_or_create(
            username=f"bench-load-{role}-{number:02d}",
            defaults={"role": role, "organization": org, "last_name": "Нагрузочный", "first_name": str(number)},
        )
        users.append(user)
    return users


def session_cookie(user) -> str:
    """A session of `user` in the database, as after signing in (both steps: bench/sessions.py)."""
    from sessions import session_cookie as signed_in_session_cookie

    return signed_in_session_cookie(user)


def _chair_organizations(count: int, rng: random.Random) -> list:
    """Random ППО with at least CHAIR_MIN_MEMBERS members: lists with later pages and surnames to search."""
    from django.db.models import Count

    from membership.models import Member
    from registry.models import Organization

    ids = list(
        Organization.objects.filter(level=Organization.Level.PRIMARY).order_by("id").values_list("id", flat=True)
    )
    candidates = rng.sample(ids, min(len(ids), count * 10))
    sizes = dict(
        Member.objects.filter(organization_id__in=candidates).order_by().values_list("organization_id")
        .annotate(total=Count("id")).values_list("organization_id", "total")
    )  # fmt: skip
    chosen = [pk for pk in candidates if sizes.get(pk, 0) >= CHAIR_MIN_MEMBERS][:count]
    if not chosen:
        chosen = sorted(candidates, key=lambda pk: -sizes.get(pk, 0))[:count]
    organizations = Organization.objects.in_bulk(chosen)
    return [organizations[pk] for pk in chosen]


def _search_prefixes(org, rng: random.Random) -> list[str]:
    """What a chair types: the first 3 to 7 letters of surnames of the organisation's members, URL-encoded."""
    from membership.models import Member

    names = list(Member.objects.filter(organization=org).order_by("id").values_list("last_name", flat=True)[:2000])
    picked = rng.sample(names, min(len(names), PREFIXES_PER_CHAIR))
    return [quote(name[: rng.randint(3, min(7, len(name)))]) for name in picked if len(name) >= 3]


def _regions(rng: random.Random) -> list:
    """The region of the demo's `regional` user (Moscow, the largest) and others chosen at random."""
    from accounts.models import User
    from registry.models import Organization

    own = User.objects.get(username="regional").organization
    others = list(Organization.objects.filter(level=Organization.Level.REGIONAL).exclude(pk=own.pk).order_by("id"))
    return [own, *rng.sample(others, min(len(others), REGIONS - 1))]


def _requests_to_approve(user, wanted: int) -> list[int]:
    """Ids of `wanted` requests awaiting a decision that `user` filed in its region: topped up with requests for
    members holding neither a valid card nor an open request (every approval takes a new number), whose consent to
    the card vendor is recorded with them (an approval refuses a request without it), and trimmed to
    `wanted`, so that the benchmark's own requests never grow the queue every regional page reads."""
    from card_batches import card_vendor_consents_give

    from cards.models import Card, CardRequest
    from membership.models import Member
    from registry.models import Organization

    waiting = CardRequest.objects.filter(requested_by=user, status=CardRequest.Status.REQUESTED)
    missing = wanted - waiting.count()
    if missing > 0:
        members = list(
            Member.objects.filter(
                organization__in=Organization.objects.subtree_of(user.organization).values("id"),
                status="active", processing_blocked_on__isnull=True,
            )
            .exclude(cards__status=Card.Status.ACTIVE)
            .exclude(card_requests__status__in=CardRequest.OPEN_STATUSES)
            .order_by("id")
            .values_list("id", "organization_id")[:missing]
        )  # fmt: skip
        card_vendor_consents_give([member for member, _org_id in members], recorded_by=user)
        CardRequest.objects.bulk_create(
            CardRequest(member_id=member, organization_id=org_id, requested_by=user) for member, org_id in members
        )
    elif missing < 0:
        CardRequest.objects.filter(
            pk__in=list(waiting.order_by("-id").values_list("id", flat=True)[:-missing])
        ).delete()
    return list(waiting.order_by("id").values_list("id", flat=True))


def prepare_plan(*, think: tuple[float, float] = THINK_SECONDS, seed: int = SEED) -> tuple[dict, dict]:
    """The locust users' plan (secrets included: kept in a temporary file only) and what the report may show."""
    from django.urls import reverse
    from partner_api import bench_partner, cards_warm, valid_card_numbers
    from stats import dashboard_url_name

    from accounts.models import Role, User
    from registry.models import Organization

    rng = random.Random(seed)
    chairs = _bench_users(Role.CHAIR, _chair_organizations(ROLE_USERS["chair"], rng))
    regions = _regions(rng)
    regional = _bench_users(Role.REGIONAL, [region for region in regions for _ in range(REGIONAL_USERS_PER_REGION)])
    central_org = User.objects.get(username="central").organization
    central = _bench_users(Role.CENTRAL, [central_org] * ROLE_USERS["central"])
    partner, key = bench_partner()
    cards = valid_card_numbers(CARD_NUMBERS)
    cards_warm(cards)
    url_name = dashboard_url_name()
    region_ids = (
        Organization.objects.filter(level=Organization.Level.REGIONAL).order_by("id").values_list("id", flat=True)
    )
    dashboards = [reverse(url_name, args=[central_org.pk])] * 10 + [reverse(url_name, args=[pk]) for pk in region_ids]
    plan = {
        "think_seconds": list(think),
        "users": ROLE_USERS,
        "tasks": ROLE_TASKS,
        "csrf_token": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32)),
        "api_key": key,
        "cards": cards,
        "member_list_path": reverse("membership:member_list"),
        "queue_path": reverse("cards:card_requests"),
        "approve_path": reverse("cards:card_request_action", args=[0, "approve"]).replace("/0/", "/{id}/"),
        "dashboard_paths": dashboards,
        "chair": [{"session": session_cookie(user), "prefixes": _search_prefixes(user.organization, rng)}
                  for user in chairs],
        "regional": [{"session": session_cookie(user), "requests": _requests_to_approve(user, REQUESTS_PER_REGIONAL_USER)}
                     for user in regional],
        "central": [{"session": session_cookie(user)} for user in central],
        "cashier": [{}],
    }  # fmt: skip
    about = {
        "partner_id": partner.pk,
        "chair_organizations": [user.organization_id for user in chairs],
        "regions": [region.pk for region in regions],
        "requests_to_approve": sum(len(person["requests"]) for person in plan["regional"]),
        "dashboards": len(set(dashboards)),
        "dashboard_url_name": url_name,
        "cards": len(cards),
        "users": [user.pk for user in chairs + regional + central],
    }
    return plan, about


# --- the run ----------------------------------------------------------------------------------------------------


def locust_run(*, base: str, plan_path: str, outcomes_path: str, users: int, seconds: int) -> dict:
    """locust in a process of its own (it patches the standard library for gevent), headless; its statistics are
    reset once all users have started, so the figures cover `seconds` of the full load."""
    locust = Path(sys.executable).parent / "locust"
    if not locust.exists():
        raise SystemExit("locust is not installed: .venv/bin/pip install -r requirements.txt")
    ramp = -(-users // SPAWN_RATE)
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "mixed")
        command = [str(locust), "-f", str(BENCH_DIR / "mixed_load_locust.py"), "--headless", "--host", base,
                   "-u", str(users), "-r", str(SPAWN_RATE), "-t", f"{seconds + ramp}s", "--reset-stats",
                   "--stop-timeout", "10", "--csv", prefix, "--only-summary", "--loglevel", "WARNING"]  # fmt: skip
        env = {**os.environ, "MIXED_LOAD_PLAN": plan_path, "MIXED_LOAD_OUTCOMES": outcomes_path}
        completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                   timeout=seconds + ramp + 120)  # fmt: skip
        try:
            with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as file:
                rows = list(csv.DictReader(file))
            with open(f"{prefix}_failures.csv", encoding="utf-8", newline="") as file:
                failures = list(csv.DictReader(file))
        except FileNotFoundError as missing:
            raise SystemExit(
                f"locust wrote no statistics ({completed.returncode}):\n{completed.stderr[-3000:]}"
            ) from missing
    kinds = {}
    for row in rows:
        name = "total" if row["Name"] == "Aggregated" else row["Name"]
        kinds[name] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": float(row["Max Response Time"]),
        }
    return {
        "kinds": kinds,
        "failures": [
            {"kind": row["Name"], "error": row["Error"], "count": int(row["Occurrences"])} for row in failures
        ],
        "stderr_tail": completed.stderr[-2000:] if completed.returncode not in (0, 1) else "",
    }


def writes_check(outcomes_path: str, partner_id: int) -> dict:
    """Every approval and purchase locust saw answered as done, looked up in the database."""
    from cards.models import CardRequest
    from discounts.models import Purchase

    with open(outcomes_path, encoding="utf-8") as file:
        outcomes = json.load(file)
    approved = set(outcomes["approved"])
    found = CardRequest.objects.filter(pk__in=approved, status=CardRequest.Status.APPROVED).count()
    receipts = set(outcomes["purchases"])
    recorded = 0
    for start in range(0, len(receipts), 5000):
        chunk = list(receipts)[start : start + 5000]
        recorded += Purchase.objects.filter(partner_id=partner_id, receipt_id__in=chunk).count()
    return {"approved_answered": len(approved), "approved_in_database": found,
            "purchases_answered": len(receipts), "purchases_in_database": recorded}  # fmt: skip


def measure(*, seconds: int = LOAD_SECONDS, users: int = USERS, think: tuple[float, float] = THINK_SECONDS,
            bare_seconds: int = BARE_SECONDS) -> dict:  # fmt: skip
    from django.contrib.sessions.models import Session
    from partner_api import partner_api_serving_env
    from partner_api_urls import BARE_LOOKUP_PATH
    from serving import WRK_COUNTING, gunicorn_serving, wrk_required, wrk_run, wrk_script

    wrk_required()
    plan, about = prepare_plan(think=think)
    env, cache = partner_api_serving_env()
    run_id = f"m{int(time.time())}"
    plan["run_id"] = run_id
    results = {**about, "cache": cache, "users_total": users, "seconds": seconds,
               "think_seconds": list(think), "planned_shares": planned_shares()}  # fmt: skip
    folder = tempfile.mkdtemp(prefix="mixed-load-")
    plan_path, numbers_path = os.path.join(folder, "plan.json"), os.path.join(folder, "numbers.txt")
    outcomes_path = os.path.join(folder, "outcomes.json")
    try:
        with open(plan_path, "w", encoding="utf-8") as file:
            json.dump(plan, file, ensure_ascii=False)
        with open(numbers_path, "w", encoding="utf-8") as file:
            file.write("\n".join(plan["cards"]) + "\n")
        script_text = (BENCH_DIR / "partner_api.lua").read_text(encoding="utf-8") + WRK_COUNTING
        with wrk_script(script_text) as script, gunicorn_serving(env=env) as base:
            headers = ("Content-Type: application/json",)
            args = (numbers_path, "lookup", run_id)
            wrk_run(base + BARE_LOOKUP_PATH, seconds=BARE_WARM_UP_SECONDS, script=script, headers=headers, args=args)
            results["bare"] = wrk_run(base + BARE_LOOKUP_PATH, seconds=bare_seconds, script=script,
                                      headers=headers, args=args)  # fmt: skip
            results["load_average_before"] = os.getloadavg()
            results.update(
                locust_run(base=base, plan_path=plan_path, outcomes_path=outcomes_path, users=users, seconds=seconds)
            )
            results["load_average_after"] = os.getloadavg()
        results["writes"] = writes_check(outcomes_path, about["partner_id"])
    finally:
        for path in (plan_path, numbers_path, outcomes_path):
            if os.path.exists(path):
                os.unlink(path)
        os.rmdir(folder)
        sessions = [person["session"] for role in ("chair", "regional", "central") for person in plan[role]]
        Session.objects.filter(session_key__in=sessions).delete()
    return results


# --- the figures ----------------------------------------------------------------------------------------------


def measure_mixed_load(*, figure: Callable, grouped: Callable[[float], str], seconds: int = LOAD_SECONDS,
                       users: int = USERS, think: tuple[float, float] = THINK_SECONDS) -> tuple[list, dict]:  # fmt: skip
    """Step 14; `figure` is run.py's Figure. Returns the figures and the details for the JSON."""
    print(f"14/14 Смешанная нагрузка: {users} пользователей locust, {seconds} с…", flush=True)
    results = measure(seconds=seconds, users=users, think=think)
    kinds, bare, writes = results["kinds"], results["bare"], results["writes"]
    total = kinds.get("total", {"requests": 0, "failures": 0, "rps": 0.0, "p50_ms": 0, "p95_ms": 0, "p99_ms": 0})
    weights = sum(ROLE_USERS.values())
    people = "/".join(str(round(users * count / weights)) for count in ROLE_USERS.values())
    think = "–".join(f"{value:g}" for value in results["think_seconds"])
    bare_bad = bare["not_2xx"] + bare["socket_errors"]
    figures = [
        figure(f"Смешанная нагрузка (locust): {users} пользователей, пауза {think} с, {seconds} с", 0.0, "", "", None,
               f"кэш: {results['cache']}"),
        figure("  кассиров / председателей / региональных / центральных", 0.0, "", "", None, people),
        figure("  голый поиск билета, тот же прогон (wrk, 4 соед.): запросов/с", bare["rps"], "зап./с"),
        figure("    его p95", bare["p95_us"] / 1000, "мс"),
        figure("    его ответов не 2xx и ошибок сокета", bare_bad, "", "0", bare_bad == 0, str(bare_bad)),
        figure("  смешанная: всего запросов/с", total["rps"], "зап./с"),
        figure("  смешанная: всего p95", total["p95_ms"], "мс"),
        figure("  смешанная: всего ошибок", total["failures"], "", "0", total["failures"] == 0,
               grouped(total["failures"])),
    ]  # fmt: skip
    shares = results["planned_shares"]
    for kind, label in KINDS.items():
        stats = kinds.get(kind)
        if stats is None:
            figures.append(figure(f"  {label}: ни одного запроса", 0.0, "", "> 0", False, "0"))
            continue
        share = stats["requests"] / total["requests"] * 100 if total["requests"] else 0.0
        figures += [
            figure(f"  {label}: запросов/с, доля {share:.0f} % (план {shares[kind] * 100:.0f} %)", stats["rps"],
                   "зап./с"),
            figure("    p50", stats["p50_ms"], "мс"),
            figure("    p95", stats["p95_ms"], "мс", f"≤ {P95_TARGET_MS:g} мс", stats["p95_ms"] <= P95_TARGET_MS),
            figure("    p99", stats["p99_ms"], "мс"),
            figure("    ошибок", stats["failures"], "", "0", stats["failures"] == 0, grouped(stats["failures"])),
        ]  # fmt: skip
    approvals_ok = writes["approved_in_database"] == writes["approved_answered"]
    purchases_ok = writes["purchases_in_database"] == writes["purchases_answered"]
    figures += [
        figure("  смешанная: одобренных заявок в базе / ответов «одобрено»", writes["approved_in_database"], "", "все",
               approvals_ok, f"{grouped(writes['approved_in_database'])} / {grouped(writes['approved_answered'])}"),
        figure("  смешанная: покупок в базе / ответов 201", writes["purchases_in_database"], "", "все", purchases_ok,
               f"{grouped(writes['purchases_in_database'])} / {grouped(writes['purchases_answered'])}"),
    ]  # fmt: skip
    for failure in results["failures"][:5]:
        figures.append(figure(f"  ошибка ({failure['kind']}): {failure['error'][:80]}", failure["count"], "", "",
                              None, grouped(failure["count"])))  # fmt: skip
    load = " ".join(f"{value:.1f}" for value in results["load_average_before"])
    figures.append(figure("  нагрузка машины (load average) перед locust", 0.0, "", "", None, load))
    return figures, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="a seeded PostgreSQL database (default: BENCH_DATABASE_URL)")  # fmt: skip
    parser.add_argument("--seconds", type=int, default=LOAD_SECONDS, help=f"seconds of load (default {LOAD_SECONDS})")
    parser.add_argument("--users", type=int, default=USERS, help=f"locust users at once (default {USERS})")
    parser.add_argument("--think", default="{:g},{:g}".format(*THINK_SECONDS),
                        help="seconds each user waits after an answer, least,most (default %(default)s)")  # fmt: skip
    args = parser.parse_args()
    think = tuple(float(value) for value in args.think.split(","))
    if len(think) != 2 or not 0 <= think[0] <= think[1]:
        raise SystemExit("--think takes two numbers of seconds, least,most: 1,3")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Give --database-url (or BENCH_DATABASE_URL) of a seeded PostgreSQL database.")
    sys.path.insert(0, str(BENCH_DIR))
    import run

    run.django_start(args.database_url)
    started = datetime.datetime.now().astimezone()
    figures, results = measure_mixed_load(figure=run.Figure, grouped=run.grouped, seconds=args.seconds,
                                          users=args.users, think=think)  # fmt: skip
    run.figures_print(figures)
    print(f"Нагрузка (load average) до: {results['load_average_before']}; после: {results['load_average_after']}")
    run.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = run.RESULTS_DIR / f"mixed-load-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"JSON: {path.relative_to(ROOT)}")
    if any(figure.passed is False for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
