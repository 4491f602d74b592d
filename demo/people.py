"""Members of the demo union: a stream of rows, primary organisation by primary organisation, written by COPY.

Four million rows go through `demo_member_rows`, so it draws from precomputed pools with `random()` and index
arithmetic only; `members_seed` streams them into `COPY` on PostgreSQL (constant memory) or into `bulk_create`
chunks on SQLite, with the member table's indexes and keys dropped for the COPY and rebuilt after it (demo.tables).
"""

import datetime
import functools
import random
from collections.abc import Iterator

from demo.names import POSITIONS, STUDY_GROUP_CODES, People, translit
from demo.plan import DEMO_EMAIL_DOMAIN, DEMO_REFERENCE_DATE, UnionPlan
from demo.report import PROGRESS_MIN_MEMBERS, DemoSeedReport, Say, grouped
from demo.tables import indexes_deferred
from membership.models import Member, search_name_of
from registry.bulk import reserve_ids, write_rows
from registry.models import Organization

Kind = Organization.InstitutionType
Category = Member.Category

SHARE_LEFT = 0.03
# Why members left, by category; a reason repeated weighs more in the draw.
LEAVING_REASONS = {
    Category.WORKING: ("voluntary",) * 4 + ("end_of_work",) * 3 + ("transfer",) * 2 + ("excluded",),
    Category.UNEMPLOYED: ("voluntary",) * 2 + ("end_of_work",) * 2,
    Category.STUDENT: ("end_of_work",) * 6 + ("voluntary",) * 2 + ("transfer",),
    Category.PENSIONER: ("voluntary",) * 3 + ("death",) * 2,
}
# Share of women among working members by type (schools and kindergartens are mostly women); ~80 % overall.
WOMEN_SHARE = {Kind.SCHOOL: 0.87, Kind.KINDERGARTEN: 0.96, Kind.UNIVERSITY: 0.62, Kind.COLLEGE: 0.74}
WOMEN_SHARE_DEFAULT = 0.8
WOMEN_SHARE_STUDENTS = 0.68
WOMEN_SHARE_PENSIONERS = 0.86

MEMBER_COLUMNS = (
    "id",
    "organization_id",
    "last_name",
    "first_name",
    "middle_name",
    "search_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "category",
    "position",
    "is_teaching_staff",
    "union_joined_on",
    "org_joined_on",
    "dues_application",
    "status",
    "left_on",
    "leaving_reason",
    "is_committee_member",
    "is_audit_member",
    "is_group_organiser",
    "is_safety_rep",
    "created_at",
    "updated_at",
)
YEAR_DAYS = 365.25
# (youngest age, oldest age) of each category of member.
MEMBER_AGES = {
    Category.WORKING: (22, 65),
    Category.UNEMPLOYED: (25, 60),
    Category.STUDENT: (17, 25),
    Category.PENSIONER: (60, 85),
}


def _searchable(word: str) -> str:
    """One name as it stands in Member.search_name; the three are joined with single spaces as search_name_of does."""
    return search_name_of(word, "")


@functools.cache
def _iso_days() -> tuple[int, tuple[str, ...]]:
    """ISO text of every day from 1935 to the reference date: a date is then one list lookup, not an object."""
    first = datetime.date(1935, 1, 1).toordinal()
    return first, tuple(
        datetime.date.fromordinal(day).isoformat() for day in range(first, DEMO_REFERENCE_DATE.toordinal() + 1)
    )


def _study_groups(kind: str) -> tuple[str, ...]:
    codes = STUDY_GROUP_CODES.get(kind, ("ГР",))
    return tuple(f"группа {code}-{course}{number:02d}" for code in codes for course in range(1, 5) for number in (1, 2))


def demo_member_rows(
    *, plan: UnionPlan, seed: int, created_at: datetime.datetime, first_id: int = 1
) -> Iterator[tuple]:
    """The member rows of the plan, in MEMBER_COLUMNS order, one primary organisation after another.

    Ids run from `first_id` (see _reserve_ids): an explicit id is cheaper for COPY than the identity default.

    Values are what COPY takes fastest: text (dates as ISO text), booleans and None. Everything here runs four
    million times, so the loop draws from precomputed pools with `random()` and index arithmetic only.
    """
    rng = random.Random(f"eseur-demo-members:{seed}")
    rand = rng.random
    people = People(rng)
    # Each name with its forms precomputed: (as written, as searched (search_name_of), Latin for the e-mail).
    surnames = tuple((name, _searchable(name), translit(name)) for name in people.surnames)
    surnames_female = tuple((name, _searchable(name), translit(name)) for name in people.surnames_female)
    first_names = {
        (female, younger): tuple((name, _searchable(name), translit(name[0])) for name in pool)
        for female, younger, pool in (
            (True, True, people.female_younger),
            (True, False, people.female_older),
            (False, True, people.male_younger),
            (False, False, people.male_older),
        )
    }
    patronymics = tuple(
        ((son, _searchable(son)), (daughter, _searchable(daughter))) for son, daughter in people.patronymics
    )
    n_surnames, n_patronymics = len(surnames), len(patronymics)
    day0, iso = _iso_days()
    today = DEMO_REFERENCE_DATE.toordinal()
    youth_from = datetime.date(1990, 1, 1).toordinal()
    created = created_at.isoformat()
    email_tail = f"@{DEMO_EMAIL_DOMAIN}"
    positions_by_kind = {kind: POSITIONS[kind] for kind in POSITIONS}
    groups_by_kind = {kind: _study_groups(kind) for kind in POSITIONS}
    ages = {
        category: (round(low * YEAR_DAYS), round((high + 1) * YEAR_DAYS) - 1)
        for category, (low, high) in MEMBER_AGES.items()
    }

    member_id = first_id - 1
    for primary in plan.primaries:
        org_id = primary.id
        kind = primary.institution_type
        positions = positions_by_kind[kind]
        n_positions = len(positions)
        groups = groups_by_kind[kind]
        n_groups = len(groups)
        size = primary.member_count or 1
        # A profkom of a few people, an audit commission of up to three, one group organiser per ~20 members and
        # a labour-safety representative per hundred: the activists the annual report counts.
        p_committee = min(0.5, (3 + size // 25) / size)
        p_audit = min(0.3, (1 if size < 15 else 3) / size)
        p_organiser = 0.05 if size >= 20 else 0.0
        p_safety = min(0.2, (1 + size // 100) / size)
        for category, count, women in (
            (Category.WORKING, primary.working, WOMEN_SHARE.get(kind, WOMEN_SHARE_DEFAULT)),
            (Category.UNEMPLOYED, primary.unemployed, WOMEN_SHARE_DEFAULT),
            (Category.STUDENT, primary.students, WOMEN_SHARE_STUDENTS),
            (Category.PENSIONER, primary.pensioners, WOMEN_SHARE_PENSIONERS),
        ):
            youngest, oldest = ages[category]
            span = oldest - youngest
            reasons = LEAVING_REASONS[category]
            category_text = category.value
            working = category == Category.WORKING
            studying = category == Category.STUDENT
            for _ in range(count):
                female = rand() < women
                if working or category == Category.UNEMPLOYED:
                    # Teachers' ages bunch in the middle of the career: the mean of two draws.
                    birth = today - youngest - int((rand() + rand()) * 0.5 * span)
                    joined = birth + 7670  # 21 years: the first job
                    union_joined = joined + int(rand() * (today - joined))
                    org_joined = union_joined + int(rand() * (today - union_joined))
                elif studying:
                    birth = today - youngest - int(rand() * span)
                    enrolled = max(birth + youngest, today - 1800)  # at 17, or five years ago at most
                    union_joined = org_joined = enrolled + int(rand() * (today - enrolled))
                else:
                    birth = today - youngest - int(rand() * span)
                    union_joined = birth + 7670 + int(rand() * 3650)
                    org_joined = union_joined + int(rand() * (today - 730 - union_joined))
                birth_text = iso[birth - day0]
                if female:
                    last_name, last_search, last_latin = surnames_female[int(rand() * n_surnames)]
                    pool = first_names[True, birth >= youth_from]
                    first_name, first_search, initial = pool[int(rand() * len(pool))]
                    middle_name, middle_search = patronymics[int(rand() * n_patronymics)][1]
                else:
                    last_name, last_search, last_latin = surnames[int(rand() * n_surnames)]
                    pool = first_names[False, birth >= youth_from]
                    first_name, first_search, initial = pool[int(rand() * len(pool))]
                    middle_name, middle_search = patronymics[int(rand() * n_patronymics)][0]
                if rand() < 0.85:
                    digits = f"{int(rand() * 1e9):09d}"
                    phone = f"+7 9{digits[:2]} {digits[2:5]}-{digits[5:7]}-{digits[7:]}"
                else:
                    phone = ""
                email = f"{last_latin}.{initial}{birth_text[2:4]}{email_tail}" if rand() < 0.6 else ""
                if working:
                    position, teaching = positions[int(rand() * n_positions)]
                    dues = rand() < 0.93
                elif studying:
                    position, teaching, dues = groups[int(rand() * n_groups)], False, rand() < 0.7
                else:
                    position, teaching, dues = "", False, False
                if rand() < SHARE_LEFT:
                    status = "left"
                    left_on = iso[org_joined + int(rand() * (today - org_joined)) - day0]
                    reason = reasons[int(rand() * len(reasons))]
                    committee = audit = organiser = safety = False
                else:
                    status, left_on, reason = "active", None, ""
                    active_worker = working or studying
                    committee = active_worker and rand() < p_committee
                    audit = active_worker and rand() < p_audit
                    organiser = working and rand() < p_organiser
                    safety = working and rand() < p_safety
                member_id += 1
                yield (
                    member_id,
                    org_id,
                    last_name,
                    first_name,
                    middle_name,
                    f"{last_search} {first_search} {middle_search}",
                    birth_text,
                    "f" if female else "m",
                    phone,
                    email,
                    category_text,
                    position,
                    teaching,
                    iso[union_joined - day0],
                    iso[org_joined - day0],
                    dues,
                    status,
                    left_on,
                    reason,
                    committee,
                    audit,
                    organiser,
                    safety,
                    created,
                    created,
                )


def _progress_every_tenth(rows: Iterator[tuple], *, total: int, say: Say) -> Iterator[tuple]:
    step = max(1, total // 10)
    next_mark = step
    for done, row in enumerate(rows, start=1):
        yield row
        if done == next_mark:
            say(f"  членов Профсоюза: {grouped(done)} из {grouped(total)} ({done * 100 // total} %)")
            next_mark += step


def members_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "members": every planned member, ids from one reserved block, in the planned order."""
    total = sum(primary.member_count for primary in plan.primaries)
    ids = reserve_ids(Member, total)
    rows = demo_member_rows(plan=plan, seed=plan.seed, created_at=now, first_id=ids.start if total else 1)
    if total >= PROGRESS_MIN_MEMBERS:
        rows = _progress_every_tenth(rows, total=total, say=say)
    with (
        indexes_deferred(
            Member,
            enabled=report.indexes_rebuilt,
            report=report,
            phase="member_indexes",
            what="членов Профсоюза",
            say=say,
        ),
        report.timed("members_copy", part=True),
    ):
        write_rows(Member, columns=MEMBER_COLUMNS, rows=rows)
