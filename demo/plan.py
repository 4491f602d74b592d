"""The demo union planned in memory: organisations with the paths the registry would give them, their sizes and
chairs' cards, before anything is written.

Organisations are tens of thousands of rows even for four million members, so the whole tree is drawn here from
one random generator seeded from the seed; the steps of `demo.seed` then write it and the rows that hang on it.
Every date is counted back from DEMO_REFERENCE_DATE, never from today, so that the same seed gives the same union
in any year.
"""

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Max

from accounts.errors import DomainError
from demo.names import (
    ADDITIONAL_NAMES,
    COLLEGE_NAMES,
    DISTRICTS,
    FACULTIES,
    KINDERGARTEN_NAMES,
    LEGAL_FORMS,
    MOSCOW_DISTRICTS,
    OTHER_NAMES,
    REGION_PLACES,
    SAINT_PETERSBURG_DISTRICTS,
    SEVASTOPOL_DISTRICTS,
    STAFF_GROUPS,
    STAFF_GROUPS_DEFAULT,
    STREETS,
    TRAINING_PROVIDERS,
    TRAININGS,
    UNIVERSITY_NAMES,
    VILLAGES,
    People,
    adjective,
    is_adjective,
    translit,
)
from registry.inn import inn_with_check_digit
from registry.models import PATH_SEGMENT_MAX, PATH_SEGMENT_WIDTH, Organization, Region

# Every date in the demo is counted from this day, so that the same seed gives the same rows in any year.
DEMO_REFERENCE_DATE = datetime.date(2026, 1, 1)
# Addresses under our own domain: a demo database must never hold a stranger's real mailbox.
DEMO_EMAIL_DOMAIN = "demo.eseur.ru"

# The union's proportions (report for 2020): 3.9 million members, ~75,000 primary and ~2,000 local organisations.
MEMBERS_PER_PRIMARY = 52
MEMBERS_PER_LOCAL = 1950
SHARE_WORKING = 0.674
SHARE_STUDENTS = 0.298
# "Temporarily not working" members are counted among the working in the union's reports; taken out of them here.
SHARE_UNEMPLOYED = 0.004
# Organisations whose chair's card is missing, and chairs whose term ran out with no new election recorded.
SHARE_WITHOUT_CHAIR = 0.06
SHARE_TERM_EXPIRED = 0.08
SHARE_PREVIOUS_CHAIR = 0.25
SHARE_CHAIRS_TRAINED = 0.45
CHAIR_TERM_YEARS = 5
# Below these sizes the demo is for browsing: a handful of organisations in every region, Moscow richer.
SMALL_DEMO_MEMBERS = 2000
MOSCOW_CODE = "77"
SAINT_PETERSBURG_CODE = "78"
FEDERAL_CITY_CODES = frozenset({"77", "78", "92"})
# Small regions that may keep no local level: their primary organisations sit directly under the region.
REGIONS_WITHOUT_LOCALS_CANDIDATES = ("04", "06", "08", "49", "79", "83", "87", "92")
REGIONS_WITHOUT_LOCALS = 5

Level = Organization.Level
Kind = Organization.InstitutionType


class DemoSeedError(DomainError):
    """A refusal of the seeder; its message is the Russian sentence shown to the operator."""


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder): the sum is exactly `total`."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    quotas = [total * weight / weight_sum for weight in weights]
    counts = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: quotas[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# Shares of primary organisations by type of institution.
PRIMARY_KIND_SHARES = {
    Kind.SCHOOL: 0.42,
    Kind.KINDERGARTEN: 0.33,
    Kind.ADDITIONAL: 0.07,
    Kind.COLLEGE: 0.05,
    Kind.UNIVERSITY: 0.012,
    Kind.MANAGEMENT: 0.03,
    Kind.OTHER: 0.088,
}
# Shares of the working (and retired) members by type of institution, and of the students by type. Fixed shares,
# not per-organisation weights: a small demo gives every region a university, and per-organisation weights would
# then put most teachers into universities.
WORKING_SHARE = {
    Kind.SCHOOL: 0.55,
    Kind.KINDERGARTEN: 0.22,
    Kind.COLLEGE: 0.08,
    Kind.UNIVERSITY: 0.055,
    Kind.ADDITIONAL: 0.04,
    Kind.MANAGEMENT: 0.01,
    Kind.OTHER: 0.045,
}
STUDENT_SHARE = {Kind.UNIVERSITY: 0.6, Kind.COLLEGE: 0.4}
# Whose place a region's university takes when the region is too small to have one by its share.
UNIVERSITY_DONORS = (Kind.OTHER, Kind.MANAGEMENT, Kind.ADDITIONAL, Kind.COLLEGE, Kind.KINDERGARTEN, Kind.SCHOOL)


@dataclass(eq=False, slots=True)
class PlannedOrg:
    """One organisation of the demo union before it is written (or an existing regional one it hangs under)."""

    parent: "PlannedOrg | None"
    level: str
    name: str
    path: str
    region_id: int | None
    short_name: str = ""
    institution_type: str = ""
    inn: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    employees_count: int | None = None
    students_count: int | None = None
    id: int | None = None
    last_segment: int = 0
    # Members to generate (primary organisations only).
    working: int = 0
    unemployed: int = 0
    students: int = 0
    pensioners: int = 0

    @property
    def member_count(self) -> int:
        return self.working + self.unemployed + self.students + self.pensioners

    def add_child(self, *, level: str, name: str, **fields) -> "PlannedOrg":
        """Give the child the next path under this organisation, exactly as registry.services._next_child_path."""
        if self.last_segment >= PATH_SEGMENT_MAX:
            raise DemoSeedError(f"В организации «{self.name}» не помещается столько подразделений.")
        self.last_segment += 1
        return PlannedOrg(
            parent=self,
            level=level,
            name=name,
            path=f"{self.path}{self.last_segment:0{PATH_SEGMENT_WIDTH}d}",
            region_id=self.region_id,
            **fields,
        )


@dataclass(eq=False, slots=True)
class PlannedChair:
    org: PlannedOrg
    last_name: str
    first_name: str
    middle_name: str
    phone: str
    email: str
    term_start: datetime.date
    term_end: datetime.date
    is_full_time: bool
    elected_protocol: str
    id: int | None = None
    trainings: list[tuple[str, str, datetime.date, int, str]] = field(default_factory=list)


@dataclass(eq=False)
class UnionPlan:
    """The demo union of `seed`: what the seeding steps write, and the seed they draw their own rows from."""

    seed: int
    central: Organization
    regions: list["RegionPlan"]
    organizations: list[PlannedOrg]  # the new ones, in path order
    primaries: list[PlannedOrg]
    chairs: list[PlannedChair]
    demo_local: PlannedOrg | None
    demo_school: PlannedOrg | None


@dataclass(eq=False)
class RegionPlan:
    """A region while it is being planned: its organisation and what names and numbers it has used."""

    region: Region
    org: PlannedOrg
    capital: str
    capital_adjective: str
    region_adjective: str
    weight: float
    has_locals: bool
    postcode_prefix: int
    phone_code: str
    inn_serial: int = 0
    used_titles: set[str] = field(default_factory=set)
    locals: list[PlannedOrg] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.region.code

    @property
    def is_federal_city(self) -> bool:
        return self.code in FEDERAL_CITY_CODES


@dataclass(frozen=True)
class Place:
    """Where the institutions of a local organisation stand, for their names and addresses."""

    adjective: str  # "Кировский" or the region's centre's adjective
    genitive: str  # "Кировского муниципального района", for the name of the education authority
    district: str = ""  # "Кировский район", part of a rural address
    rural: bool = False


class _Planner:
    """Draws the whole demo union from one random generator, region by region."""

    def __init__(self, *, members: int, seed: int):
        self.members = members
        self.seed = seed
        self.rng = random.Random(f"eseur-demo-plan:{seed}")
        self.organizations: list[PlannedOrg] = []
        self.primaries: list[PlannedOrg] = []

    def plan(self) -> UnionPlan:
        central = Organization.objects.filter(level=Level.CENTRAL, depth=1).order_by("path").first()
        regions = self._regions()
        primaries_by_region, locals_by_region = self._sizes(regions)
        for region_plan, primaries, locals_count in zip(regions, primaries_by_region, locals_by_region, strict=True):
            self._plan_region(region_plan, primaries=primaries, locals_count=locals_count)
        self._apportion_members()
        demo_local, demo_school = self._demo_places(regions)
        # Units show in the demo even when it is small: under the chair user's school and Moscow's first university.
        showcase = {demo_school, self._first_university(regions, MOSCOW_CODE)}
        for primary in self.primaries:
            self._plan_units(primary, always=primary in showcase)
        self.organizations.sort(key=lambda org: org.path)
        chairs = _ChairPlanner(rng=self.rng).plan(
            [region_plan.org for region_plan in regions] + self.organizations, must_have=demo_school
        )
        return UnionPlan(
            seed=self.seed,
            central=central,
            regions=regions,
            organizations=self.organizations,
            primaries=self.primaries,
            chairs=chairs,
            demo_local=demo_local,
            demo_school=demo_school,
        )

    # -- scale ------------------------------------------------------------------------------------------------

    def _regions(self) -> list[RegionPlan]:
        regional_orgs = list(
            Organization.objects.filter(level=Level.REGIONAL, region__isnull=False)
            .select_related("region")
            .order_by("path")
        )
        last_child = dict(
            Organization.objects.filter(parent__in=regional_orgs)
            .values("parent_id")
            .annotate(last=Max("path"))
            .values_list("parent_id", "last")
        )
        codes = [org.region.code for org in regional_orgs]
        candidates = [code for code in REGIONS_WITHOUT_LOCALS_CANDIDATES if code in codes]
        without_locals = set(self.rng.sample(candidates, k=min(REGIONS_WITHOUT_LOCALS, len(candidates))))
        plans = []
        for org in regional_orgs:
            code = org.region.code
            capital, capital_adjective, region_adjective, weight = REGION_PLACES.get(
                code, (org.region.name, "Городской", "Региональный", 1.0)
            )
            planned = PlannedOrg(
                parent=None,
                level=Level.REGIONAL,
                name=org.name,
                path=org.path,
                region_id=org.region_id,
                short_name=org.short_name,
                id=org.pk,
                last_segment=int(last_child[org.pk][-PATH_SEGMENT_WIDTH:]) if org.pk in last_child else 0,
            )
            region_plan = RegionPlan(
                region=org.region,
                org=planned,
                capital=capital,
                capital_adjective=capital_adjective,
                region_adjective=region_adjective,
                weight=weight,
                has_locals=code not in without_locals,
                postcode_prefix=self.rng.randrange(101, 694),
                phone_code={"77": "495", "78": "812"}.get(code, str(self.rng.randrange(342, 872))),
                inn_serial=self.rng.randrange(1000, 40000),
            )
            # regions.csv gives regional organisations no contacts: the demo fills the blank ones (see the writer).
            contacts = self._contacts(
                region_plan, place=Place(adjective=capital_adjective, genitive=""), email_prefix="ro"
            )
            planned.inn = org.inn or contacts["inn"]
            planned.address = org.address or contacts["address"]
            planned.phone = org.phone or contacts["phone"]
            planned.email = org.email or contacts["email"]
            plans.append(region_plan)
        return plans

    def _sizes(self, regions: list[RegionPlan]) -> tuple[list[int], list[int]]:
        """Primary and local organisations per region: proportional to the region, never fewer than a handful."""
        small = self.members < SMALL_DEMO_MEMBERS
        weights = [region.weight for region in regions]
        primaries = _apportion(round(self.members / MEMBERS_PER_PRIMARY), weights)
        locals_ = _apportion(
            round(self.members / MEMBERS_PER_LOCAL),
            [w if r.has_locals else 0 for w, r in zip(weights, regions, strict=True)],
        )
        for i, region in enumerate(regions):
            moscow = region.code == MOSCOW_CODE
            min_primaries = (4 if small else 12) if moscow else (2 if small else 3)
            primaries[i] = max(primaries[i], min_primaries)
            if region.has_locals:
                min_locals = (2 if small else 3) if moscow else 1
                # Every local organisation has at least one primary organisation under it.
                locals_[i] = min(max(locals_[i], min_locals), max(1, primaries[i] - 1))
            else:
                locals_[i] = 0
        return primaries, locals_

    # -- one region ---------------------------------------------------------------------------------------------

    def _plan_region(self, region: RegionPlan, *, primaries: int, locals_count: int) -> None:
        kinds = self._primary_kinds(primaries)
        places = self._local_places(region, locals_count)
        for place in places:
            region.locals.append(self._add_local(region, place))
        # Universities are primary organisations "with territorial rights", directly under the region, and so is
        # the regional education authority; everything else stands under a local organisation where there is one.
        territorial = [kind for kind in kinds if kind == Kind.UNIVERSITY]
        rest = [kind for kind in kinds if kind != Kind.UNIVERSITY]
        if Kind.MANAGEMENT in rest and region.locals:
            rest.remove(Kind.MANAGEMENT)
            territorial.append(Kind.MANAGEMENT)
        capital_place = Place(adjective=region.capital_adjective, genitive="")
        for kind in territorial:
            self._add_primary(region, parent=region.org, place=capital_place, kind=kind, regional=True)
        if not region.locals:
            for kind in rest:
                self._add_primary(region, parent=region.org, place=capital_place, kind=kind)
            return
        # Schools first, one to every local organisation, so that each has at least one and begins with a school.
        rest.sort(key=lambda kind: kind != Kind.SCHOOL)
        local_weights = [3.0 if i == 0 else self.rng.lognormvariate(0, 0.5) for i in range(len(region.locals))]
        owners = list(range(len(region.locals)))
        owners += self.rng.choices(range(len(region.locals)), weights=local_weights, k=max(0, len(rest) - len(owners)))
        by_local: dict[int, list[str]] = {}
        for owner, kind in zip(owners, rest, strict=False):
            by_local.setdefault(owner, []).append(kind)
        for i, local in enumerate(region.locals):
            for kind in by_local.get(i, []):
                self._add_primary(region, parent=local, place=places[i], kind=kind)

    def _primary_kinds(self, count: int) -> list[str]:
        kinds = list(PRIMARY_KIND_SHARES)
        counts = dict(zip(kinds, _apportion(count, list(PRIMARY_KIND_SHARES.values())), strict=True))
        # Every region has its university, so that students have somewhere to belong even in a small demo.
        if count >= 2 and counts[Kind.UNIVERSITY] == 0:
            donor = next(kind for kind in UNIVERSITY_DONORS if counts[kind] > 0)
            counts[donor] -= 1
            counts[Kind.UNIVERSITY] += 1
        result = [kind for kind in kinds for _ in range(counts[kind])]
        self.rng.shuffle(result)
        return result

    def _local_places(self, region: RegionPlan, count: int) -> list[Place]:
        if count == 0:
            return []
        if region.code == MOSCOW_CODE:
            names = list(MOSCOW_DISTRICTS)
        elif region.code == SAINT_PETERSBURG_CODE:
            names = list(SAINT_PETERSBURG_DISTRICTS)
        elif region.code == "92":
            names = list(SEVASTOPOL_DISTRICTS)
        else:
            names = list(DISTRICTS)
        self.rng.shuffle(names)
        places = []
        if not region.is_federal_city:
            # The first local organisation of a region is the city organisation of its centre.
            places.append(Place(adjective=region.capital_adjective, genitive=f"городского округа «{region.capital}»"))
        for i in range(count - len(places)):
            name = names[i % len(names)]
            if is_adjective(name):
                genitive = f"{adjective(name, case='gen')} района"
                district = f"{name} район"
            else:
                genitive, district = f"района {name}", f"район {name}"
            places.append(
                Place(
                    adjective=name if is_adjective(name) else "",
                    genitive=genitive + (f" ({i // len(names) + 1})" if i >= len(names) else ""),
                    district=district,
                    rural=not region.is_federal_city,
                )
            )
        return places

    def _add_local(self, region: RegionPlan, place: Place) -> PlannedOrg:
        if place.genitive.startswith("городского округа"):
            name = (
                f"{adjective(place.adjective, case='fem')} городская организация Общероссийского Профсоюза образования"
            )
            short_name = f"{adjective(place.adjective, case='fem')} городская организация Профсоюза"
        elif place.adjective:
            suffix = place.genitive.rpartition(" района")[2]
            name = f"{adjective(place.adjective, case='fem')} районная организация Общероссийского Профсоюза образования{suffix}"
            short_name = f"{adjective(place.adjective, case='fem')} районная организация Профсоюза{suffix}"
        else:
            name = f"Территориальная организация Общероссийского Профсоюза образования {place.genitive}"
            short_name = f"Территориальная организация Профсоюза {place.genitive}"
        local = region.org.add_child(
            level=Level.LOCAL,
            name=name,
            short_name=short_name,
            institution_type=Kind.OTHER,
            **self._contacts(region, place=place, email_prefix="to"),
        )
        self.organizations.append(local)
        return local

    def _add_primary(self, region: RegionPlan, *, parent: PlannedOrg, place: Place, kind: str, regional: bool = False):
        legal_form, title, short_name = self._institution(region, place=place, kind=kind, regional=regional)
        if legal_form:
            name = f"Первичная профсоюзная организация {LEGAL_FORMS[legal_form]} «{title}»"
        else:
            name = f"Первичная профсоюзная организация: {title}"
        if kind == Kind.UNIVERSITY:
            name = name.replace("организация", "организация работников и обучающихся", 1)
        primary = parent.add_child(
            level=Level.PRIMARY,
            name=name,
            short_name=short_name,
            institution_type=kind,
            **self._contacts(region, place=place, email_prefix="ppo"),
        )
        self.organizations.append(primary)
        self.primaries.append(primary)
        return primary

    def _institution(self, region: RegionPlan, *, place: Place, kind: str, regional: bool) -> tuple[str, str, str]:
        """(legal form, title, short name) of an institution, e.g. ("МБОУ", "Средняя ... школа № 12", "МБОУ СОШ № 12")."""
        rng = self.rng
        federal = region.is_federal_city
        number = self._number(region, kind)
        if kind == Kind.SCHOOL:
            form = "ГБОУ" if federal else rng.choices(("МБОУ", "МАОУ", "МКОУ"), weights=(7, 2, 1))[0]
            if region.code == MOSCOW_CODE:
                return form, f"Школа № {number}", f"{form} Школа № {number}"
            if place.rural and rng.random() < 0.3:
                village = self._unique(region, rng.choice(VILLAGES))
                return form, f"Средняя общеобразовательная школа {village}", f"{form} «СОШ {village}»"
            variant = rng.random()
            if variant < 0.12:
                return form, f"Гимназия № {number}", f"{form} «Гимназия № {number}»"
            if variant < 0.22:
                return form, f"Лицей № {number}", f"{form} «Лицей № {number}»"
            if variant < 0.32:
                return form, f"Основная общеобразовательная школа № {number}", f"{form} ООШ № {number}"
            return form, f"Средняя общеобразовательная школа № {number}", f"{form} СОШ № {number}"
        if kind == Kind.KINDERGARTEN:
            form = "ГБДОУ" if federal else rng.choices(("МБДОУ", "МАДОУ"), weights=(4, 1))[0]
            nickname = rng.choice(KINDERGARTEN_NAMES)
            return form, f"Детский сад № {number} «{nickname}»", f"{form} детский сад № {number} «{nickname}»"
        if kind == Kind.UNIVERSITY:
            pattern = rng.choice(UNIVERSITY_NAMES)
            title = self._unique(region, pattern.format(city=region.capital_adjective, region=region.region_adjective))
            return "ФГБОУ ВО", title, f"ФГБОУ ВО «{title}»"
        if kind == Kind.COLLEGE:
            form = rng.choice(("ГБПОУ", "ГАПОУ"))
            if region.code == MOSCOW_CODE and rng.random() < 0.6:
                title = f"Колледж № {number}"
            else:
                title = self._unique(
                    region, rng.choice(COLLEGE_NAMES).format(place=place.adjective or region.capital_adjective)
                )
            return form, title, f"{form} «{title}»"
        if kind == Kind.ADDITIONAL:
            form = "ГБУ ДО" if federal else rng.choice(("МБУ ДО", "МАУ ДО"))
            title = self._unique(region, rng.choice(ADDITIONAL_NAMES))
            return form, title, f"{form} «{title}»"
        if kind == Kind.MANAGEMENT:
            if regional or not place.genitive:
                title = {
                    "77": "Департамент образования и науки города Москвы",
                    "78": "Комитет по образованию Санкт-Петербурга",
                    "92": "Департамент образования и науки города Севастополя",
                }.get(region.code, f"Министерство образования ({region.region.name})")
                return "", title, title
            title = f"Управление образования администрации {place.genitive}"
            return "", title, title
        form = "ГКУ" if federal else rng.choice(("МБУ", "МКУ"))
        title = self._unique(region, rng.choice(OTHER_NAMES))
        return form, title, f"{form} «{title}»"

    def _number(self, region: RegionPlan, kind: str) -> int:
        """A school or kindergarten number not yet used in the region (Moscow's schools go up to four digits)."""
        top = 2200 if region.code == MOSCOW_CODE else 400
        for _ in range(20):
            number = self.rng.randrange(1, top)
            key = f"{kind}#{number}"
            if key not in region.used_titles:
                region.used_titles.add(key)
                return number
        top = len(region.used_titles) + top
        region.used_titles.add(f"{kind}#{top}")
        return top

    def _unique(self, region: RegionPlan, title: str) -> str:
        """A second "Дом детского творчества" in one region becomes "Дом детского творчества № 2"."""
        candidate, n = title, 1
        while candidate in region.used_titles:
            n += 1
            candidate = f"{title} № {n}"
        region.used_titles.add(candidate)
        return candidate

    def _contacts(self, region: RegionPlan, *, place: Place, email_prefix: str) -> dict:
        rng = self.rng
        region.inn_serial += 1
        office = rng.randrange(1, 40)
        inn = inn_with_check_digit(f"{region.code}{office:02d}{region.inn_serial % 100000:05d}")
        street = f"{rng.choice(STREETS)}, д. {rng.randrange(1, 160)}"
        postcode = f"{region.postcode_prefix}{rng.randrange(0, 1000):03d}"
        if region.is_federal_city:
            address = f"{postcode}, г. {region.capital}, {street}"
        elif place.rural and rng.random() < 0.6:
            address = f"{postcode}, {region.region.name}, {place.district}, {rng.choice(VILLAGES)}, {street}"
        else:
            address = f"{postcode}, {region.region.name}, г. {region.capital}, {street}"
        number = rng.randrange(0, 10_000_000)
        phone = f"+7 ({region.phone_code}) {number // 10000:03d}-{number // 100 % 100:02d}-{number % 100:02d}"
        email = f"{email_prefix}{region.inn_serial}.r{region.code}@{DEMO_EMAIL_DOMAIN}"
        return {"inn": inn, "address": address, "phone": phone, "email": email}

    # -- members and units --------------------------------------------------------------------------------------

    def _apportion_members(self) -> None:
        """Exact category totals, spread over the primary organisations by their kind and a random size."""
        total = self.members
        working_all = round(total * SHARE_WORKING)
        students = round(total * SHARE_STUDENTS)
        pensioners = total - working_all - students
        unemployed = round(total * SHARE_UNEMPLOYED)
        lognormal = self.rng.lognormvariate
        size = [lognormal(0, 0.45) for _ in self.primaries]
        size_of_kind: dict[str, float] = {}
        for org, org_size in zip(self.primaries, size, strict=True):
            size_of_kind[org.institution_type] = size_of_kind.get(org.institution_type, 0) + org_size
        work_weights = [
            WORKING_SHARE[org.institution_type] * org_size / size_of_kind[org.institution_type]
            for org, org_size in zip(self.primaries, size, strict=True)
        ]
        student_weights = [
            STUDENT_SHARE.get(org.institution_type, 0) * org_size / size_of_kind[org.institution_type]
            for org, org_size in zip(self.primaries, size, strict=True)
        ]
        if not any(student_weights):
            student_weights = work_weights
        working_counts = _apportion(working_all, work_weights)
        unemployed_counts = _apportion(unemployed, working_counts)
        for org, working, out_of_work, studying, retired in zip(
            self.primaries,
            working_counts,
            unemployed_counts,
            _apportion(students, student_weights),
            _apportion(pensioners, work_weights),
            strict=True,
        ):
            org.working, org.unemployed, org.students, org.pensioners = (
                working - out_of_work,
                out_of_work,
                studying,
                retired,
            )
            # Coverage (members / employees) runs from about half to nearly all in the union's reports.
            org.employees_count = round((working + 1) / self.rng.uniform(0.5, 0.97))
            if org.institution_type in STUDENT_SHARE:
                org.students_count = round((studying + 1) / self.rng.uniform(0.25, 0.75))

    def _demo_places(self, regions: list[RegionPlan]) -> tuple[PlannedOrg | None, PlannedOrg | None]:
        """The local organisation and the school of the `local`, `chair` and `member` demo users: Moscow's first."""
        moscow = next((region for region in regions if region.code == MOSCOW_CODE), None)
        if moscow is None or not moscow.locals:
            return None, None
        local = moscow.locals[0]
        school = next(
            (org for org in self.primaries if org.parent is local and org.institution_type == Kind.SCHOOL), None
        )
        return local, school

    def _first_university(self, regions: list[RegionPlan], code: str) -> PlannedOrg | None:
        region = next((region for region in regions if region.code == code), None)
        if region is None:
            return None
        return next(
            (org for org in self.primaries if org.parent is region.org and org.institution_type == Kind.UNIVERSITY),
            None,
        )

    def _plan_units(self, primary: PlannedOrg, *, always: bool) -> None:
        """A few primary organisations have профбюро (faculties of a university) or профгруппы (a school's staff)."""
        rng = self.rng
        if primary.institution_type == Kind.UNIVERSITY and (primary.member_count >= 150 or always):
            names = rng.sample(FACULTIES, k=min(len(FACULTIES), 2 + primary.member_count // 400))
            names = [f"Профбюро {faculty}" for faculty in names]
        elif always or (primary.member_count >= 30 and rng.random() < 0.03):
            groups = STAFF_GROUPS.get(primary.institution_type, STAFF_GROUPS_DEFAULT)
            names = rng.sample(groups, k=min(len(groups), 2 if always else rng.randrange(1, 4)))
        else:
            return
        for unit_name in names:
            self.organizations.append(primary.add_child(level=Level.UNIT, name=unit_name, short_name=unit_name))


class _ChairPlanner:
    """Chairs' cards: most current, some expiring, some expired without re-election, some missing."""

    def __init__(self, *, rng: random.Random):
        self.rng = rng
        self.people = People(rng)

    def plan(self, orgs: Iterable[PlannedOrg], *, must_have: PlannedOrg | None) -> list[PlannedChair]:
        rng = self.rng
        ref = DEMO_REFERENCE_DATE
        chairs: list[PlannedChair] = []
        for org in orgs:
            if org.level == Level.UNIT:
                continue
            if org is not must_have and org.level != Level.REGIONAL and rng.random() < SHARE_WITHOUT_CHAIR:
                continue
            if org is not must_have and rng.random() < SHARE_TERM_EXPIRED:
                # Elected more than a term ago and never re-elected: the card index shows the term as expired.
                start = ref - datetime.timedelta(days=CHAIR_TERM_YEARS * 365 + rng.randrange(30, 700))
            else:
                start = ref - datetime.timedelta(days=rng.randrange(0, CHAIR_TERM_YEARS * 365))
            if rng.random() < SHARE_PREVIOUS_CHAIR:
                previous_start = start - datetime.timedelta(days=CHAIR_TERM_YEARS * 365 + rng.randrange(0, 60))
                chairs.append(self._chair(org, previous_start, start - datetime.timedelta(days=1)))
            end = start + datetime.timedelta(days=CHAIR_TERM_YEARS * 365 - 1)
            chairs.append(self._chair(org, start, end))
        return chairs

    def _chair(self, org: PlannedOrg, start: datetime.date, end: datetime.date) -> PlannedChair:
        rng = self.rng
        women = 0.55 if org.level == Level.REGIONAL else 0.82
        person = self.people.adult(female=rng.random() < women)
        body = "профсоюзного собрания" if org.level == Level.PRIMARY else "отчётно-выборной конференции"
        chair = PlannedChair(
            org=org,
            last_name=person[0],
            first_name=person[1],
            middle_name=person[2],
            phone=self.people.mobile(),
            email=f"{translit(person[0])}.{translit(person[1][0])}{translit(person[2][0])}@{DEMO_EMAIL_DOMAIN}",
            term_start=start,
            term_end=end,
            is_full_time=org.level != Level.PRIMARY or org.institution_type == Kind.UNIVERSITY,
            elected_protocol=f"Протокол {body} № {rng.randrange(1, 12)} от {start:%d.%m.%Y}",
        )
        if rng.random() < SHARE_CHAIRS_TRAINED:
            for _ in range(rng.randrange(1, 3)):
                title, hours = rng.choice(TRAININGS)
                completed = min(
                    DEMO_REFERENCE_DATE, start + datetime.timedelta(days=rng.randrange(30, CHAIR_TERM_YEARS * 365))
                )
                certificate = f"{org.path[5:10]}-{completed.year}/{rng.randrange(1, 100000):05d}"
                chair.trainings.append((title, rng.choice(TRAINING_PROVIDERS), completed, hours, certificate))
        return chair


def demo_plan(*, members: int, seed: int) -> UnionPlan:
    """The union `demo_seed` would write, without writing it (the regional organisations must exist)."""
    return _Planner(members=members, seed=seed).plan()
