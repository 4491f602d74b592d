"""Демонстрационный реестр: a deterministic union of any size for the demo, the tests and the benchmark.

`demo_seed(members=N, seed=S)` builds, under the 85 regional organisations of `regions_load()`, local and primary
organisations, профбюро and профгруппы, chairs' cards, N members, one demo user per role and union cards for about
60 % of the active members with plastic-card requests (and their holders' consents to the vendor and to the
partners' programme), in the proportions of the union's own reports (67.4 %
working, 29.8 % students, 2.8 % non-working pensioners; ~52 members a primary organisation, ~1,950 a local one).
The same seed gives the same data: every random draw comes from `random.Random` seeded from S, and every date is
counted back from DEMO_REFERENCE_DATE, never from today.

It is built for four million members: organisations are planned in memory (demo.plan), then DEMO_STEPS write the
plan and what hangs on it, one module each, in one transaction; the large tables go by COPY on PostgreSQL and by
`bulk_create` chunks on SQLite (registry.bulk).

The demo app sits above every other app and nothing imports it.
"""

import datetime
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from cards.models import Card, CardRequest
from demo.cards import cards_seed
from demo.consents import card_consents_seed
from demo.discounts import discounts_seed
from demo.organizations import chairs_seed, organizations_seed
from demo.people import members_seed
from demo.plan import DEMO_REFERENCE_DATE, DemoSeedError, UnionPlan, demo_plan
from demo.report import PROGRESS_MIN_MEMBERS, DemoSeedReport, Say, grouped
from demo.reports import reports_seed
from demo.settlement import settlement_seed
from demo.users import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    DEMO_USERNAMES,
    demo_logins,
    demo_second_factor_logins,
    users_seed,
)
from membership.models import Consent, Member
from registry.bulk import uses_copy
from registry.models import Chair, ChairTraining, Organization
from registry.services import regions_load

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_REFERENCE_DATE",
    "DEMO_STEPS",
    "DEMO_TOTP_SECRET",
    "DEMO_USERNAMES",
    "PROGRESS_MIN_MEMBERS",
    "DemoSeedError",
    "DemoSeedReport",
    "demo_exists",
    "demo_logins",
    "demo_plan",
    "demo_second_factor_logins",
    "demo_seed",
]


class DemoStep(Protocol):
    """One step of the seeding: writes its part of the demo union."""

    def __call__(self, *, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None: ...


# What the seeding writes once the union is planned, in this order, each timed as a phase of the report. A step
# is a function of its own module in this app (plan, report, now, say keyword-only) that reads what the earlier
# steps wrote, writes its rows (registry.bulk for large tables) and puts its counts on the report; a new app's
# demo data is one more module and one more line here, before the tables are analysed.
DEMO_STEPS: tuple[tuple[str, DemoStep], ...] = (
    ("organizations", organizations_seed),
    ("chairs", chairs_seed),
    ("members", members_seed),
    ("users", users_seed),
    ("cards", cards_seed),
    ("consents", card_consents_seed),
    ("settlement", settlement_seed),
    ("reports", reports_seed),
    ("discounts", discounts_seed),
)
# From this many members on (PostgreSQL), the large tables' secondary indexes, unique constraints and foreign keys
# are dropped for the COPY and rebuilt after it: one sorted build per index is far cheaper than a row-by-row one.
INDEX_REBUILD_MIN_MEMBERS = 50_000
# The tables the steps fill with many rows: ANALYZE them at the end (PostgreSQL), or the planner takes a
# four-million-row table for an empty one. A step that writes many rows adds its models here.
ANALYZED_MODELS = (Organization, Chair, ChairTraining, Member, Card, CardRequest, Consent)


def demo_exists() -> bool:
    """The demo (or real data) is there: any member, or the `central` demo user."""
    return Member.objects.exists() or User.objects.filter(username="central").exists()


def demo_seed(
    *,
    members: int,
    seed: int,
    progress: Say | None = None,
    rebuild_indexes: bool | None = None,
) -> DemoSeedReport:
    """Fill an empty register with the demo union of `members` members; the same seed gives the same union.

    `rebuild_indexes` (PostgreSQL only) drops and rebuilds the indexes and keys of the member and card tables
    around their COPY; by default from INDEX_REBUILD_MIN_MEMBERS members on.
    """
    if members < 0:
        raise DemoSeedError("Число членов Профсоюза не может быть отрицательным.")
    say = progress or (lambda message: None)
    if rebuild_indexes is None:
        rebuild_indexes = members >= INDEX_REBUILD_MIN_MEMBERS
    report = DemoSeedReport(members=members, seed=seed, indexes_rebuilt=rebuild_indexes and uses_copy())
    now = timezone.now()
    with transaction.atomic():
        if Member.objects.exists():
            raise DemoSeedError(
                "В реестре уже есть члены Профсоюза: демонстрационные данные заводятся только в пустой реестр. "
                "Чтобы ничего не менять в заполненном реестре, добавьте --if-empty."
            )
        with report.timed("regions"):
            regions_load()
        if uses_copy():
            with connection.cursor() as cursor:
                # Paths are planned from what is there now: nobody may open an organisation until this commits.
                cursor.execute("LOCK TABLE registry_organization IN SHARE ROW EXCLUSIVE MODE")
        with report.timed("plan"):
            plan = demo_plan(members=members, seed=seed)
        say(f"Организаций: {grouped(len(plan.organizations))}, председателей: {grouped(len(plan.chairs))}.")
        for phase, step in DEMO_STEPS:
            with report.timed(phase):
                step(plan=plan, report=report, now=now, say=say)
        if uses_copy():
            tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in ANALYZED_MODELS)
            with report.timed("analyze"), connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
    return report
