"""The indicators of the union's annual statistical report and the arithmetic on them.

A set of figures maps an indicator's key to three numbers: at the start of the year, at the end of the year and
"of whom women" (at the end). A flow (joined, left) has no start: its value for the year stands in the end column.
Only absolute numbers are stored and summed; every percentage is computed from the sums when it is shown, so a
rollup never averages percentages.
"""

from __future__ import annotations

import array
import datetime
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

Figures = dict[str, list[int | None]]

START, END, WOMEN = 0, 1, 2

# Where a figure comes from.
REGISTER = "register"  # counted from the member register and the chairs' card index
ENTERED = "entered"  # entered by the chair: the register cannot know the institution's staff and students
COMPUTED = "computed"  # a sum or a percentage of other lines

STOCK = "stock"  # a number of people on a date
FLOW = "flow"  # a number of events in the year
PERCENT = "percent"


@dataclass(frozen=True)
class Indicator:
    key: str
    line: str
    label: str
    source: str
    kind: str = STOCK
    indent: bool = False  # "из них": a part of the line above
    # For percentages: the numerator and denominator keys.
    of: tuple[str, str] | None = None

    @property
    def is_entered(self) -> bool:
        return self.source == ENTERED


REPORT_INDICATORS: tuple[Indicator, ...] = (
    Indicator("working", "1", _("Работающих в учреждении"), ENTERED),
    Indicator("working_members", "1.1", _("из них членов Профсоюза"), REGISTER, indent=True),
    Indicator("students", "2", _("Обучающихся в учреждении"), ENTERED),
    Indicator("student_members", "2.1", _("из них членов Профсоюза"), REGISTER, indent=True),
    Indicator("total", "3", _("Всего работающих и обучающихся"), COMPUTED),
    Indicator("total_members", "3.1", _("из них членов Профсоюза"), COMPUTED, indent=True),
    Indicator(
        "coverage", "4", _("Охват профсоюзным членством, %"), COMPUTED, kind=PERCENT, of=("total_members", "total")
    ),
    Indicator("pensioners", "5", _("Неработающие пенсионеры — члены Профсоюза"), REGISTER),
    Indicator("unemployed", "6", _("Временно неработающие — члены Профсоюза"), REGISTER),
    Indicator("members", "7", _("Всего членов Профсоюза"), REGISTER),
    Indicator("joined", "8", _("Принято в Профсоюз за год"), REGISTER, kind=FLOW),
    Indicator("arrived", "9", _("Прибыло из других организаций Профсоюза"), REGISTER, kind=FLOW),
    Indicator("left_voluntary", "10", _("Выбыло по собственному желанию"), REGISTER, kind=FLOW),
    Indicator("excluded", "11", _("Исключено из Профсоюза"), REGISTER, kind=FLOW),
    Indicator(
        "left_other", "12", _("Выбыло по другим причинам (окончание работы, учёбы, смерть)"), REGISTER, kind=FLOW
    ),
    Indicator("transferred_out", "13", _("Убыло переводом в другие организации Профсоюза"), REGISTER, kind=FLOW),
    Indicator("youth", "14", _("Молодёжь до 35 лет — члены Профсоюза"), REGISTER),
    Indicator("teaching", "15", _("Педагогические работники — члены Профсоюза"), REGISTER),
    Indicator("chairs", "16", _("Председатели (по картотеке председателей)"), REGISTER),
    Indicator("chairs_full_time", "16.1", _("из них освобождённые"), REGISTER, indent=True),
    Indicator("committee", "17", _("Члены профсоюзного комитета"), REGISTER),
    Indicator("audit", "18", _("Члены контрольно-ревизионной комиссии"), REGISTER),
    Indicator("group_organisers", "19", _("Профгрупорги"), REGISTER),
    Indicator("safety_reps", "20", _("Уполномоченные по охране труда"), REGISTER),
)
INDICATORS_BY_KEY = {indicator.key: indicator for indicator in REPORT_INDICATORS}
ENTERED_KEYS = tuple(indicator.key for indicator in REPORT_INDICATORS if indicator.source == ENTERED)
REGISTER_KEYS = tuple(indicator.key for indicator in REPORT_INDICATORS if indicator.source == REGISTER)
FLOW_KEYS = tuple(indicator.key for indicator in REPORT_INDICATORS if indicator.kind == FLOW)
LEFT_KEYS = ("left_voluntary", "excluded", "left_other")

# The analysis of members beyond the form: on the end date only, no women column.
AGE_GROUPS: tuple[tuple[str, str, int, int | None], ...] = (
    ("age_under_25", _("до 25 лет"), 0, 25),
    ("age_25_34", _("25–34 года"), 25, 35),
    ("age_35_44", _("35–44 года"), 35, 45),
    ("age_45_54", _("45–54 года"), 45, 55),
    ("age_55_64", _("55–64 года"), 55, 65),
    ("age_65_plus", _("65 лет и старше"), 65, None),
)
TENURE_GROUPS: tuple[tuple[str, str, int, int | None], ...] = (
    ("tenure_under_1", _("меньше года"), 0, 1),
    ("tenure_1_2", _("1–2 года"), 1, 3),
    ("tenure_3_4", _("3–4 года"), 3, 5),
    ("tenure_5_9", _("5–9 лет"), 5, 10),
    ("tenure_10_19", _("10–19 лет"), 10, 20),
    ("tenure_20_plus", _("20 лет и больше"), 20, None),
)
# Counted from the register for dashboards and the digitalisation progress; never part of a chair's report.
REGISTER_EXTRA_KEYS: tuple[str, ...] = (
    *(key for key, *_rest in AGE_GROUPS),
    *(key for key, *_rest in TENURE_GROUPS),
    "joined_month",  # members who joined the union in the calendar month of the end date
    "cards_valid",  # electronic union cards valid on the date
    "plastic_issued",  # plastic cards handed to their members
    "primary_orgs",  # open primary organisations
    "passports_filled",  # of them with a filled passport
    "chairs_trained",  # current chairs with a training record in the last three years
    "reported_members",  # members in the last accepted report of each primary organisation
    "reports_expected",  # primary organisations that owe a report for the year
    "reports_submitted",  # of them submitted (awaiting a decision) or accepted
    "reports_accepted",
)
SINGLE_VALUE_KEYS = frozenset(REGISTER_EXTRA_KEYS)


def empty_figures() -> Figures:
    return {}


def figure(figures: Mapping[str, list], key: str, column: int = END) -> int | None:
    values = figures.get(key)
    return None if values is None else values[column]


def figures_add(total: Figures, other: Mapping[str, list]) -> Figures:
    """Add `other` into `total` in place, column by column; a missing number counts as none, not as zero."""
    for key, values in other.items():
        mine = total.get(key)
        if mine is None:
            total[key] = list(values)
            continue
        for column, value in enumerate(values):
            if value is not None:
                mine[column] = value if mine[column] is None else mine[column] + value
    return total


def figures_sum(many: Iterable[Mapping[str, list]]) -> Figures:
    total: Figures = {}
    for figures in many:
        figures_add(total, figures)
    return total


def percent(part: int | None, whole: int | None) -> Decimal | None:
    """part / whole × 100 to one decimal place, half up; none when the whole is unknown or zero."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def sum_known(*values: int | None) -> int | None:
    """The sum of the numbers that are known; none when none is."""
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def figures_derive(figures: Mapping[str, list]) -> Figures:
    """The computed lines (totals and coverage) added to a copy of `figures`; percentages as Decimal."""
    derived: Figures = {key: list(values) for key, values in figures.items()}
    empty = [None, None, None]
    for total_key, parts in (
        ("total", ("working", "students")),
        ("total_members", ("working_members", "student_members")),
    ):
        columns = [figures.get(part, empty) for part in parts]
        derived[total_key] = [sum_known(*(column[index] for column in columns)) for index in range(3)]
    for indicator in REPORT_INDICATORS:
        if indicator.kind == PERCENT:
            part, whole = (derived.get(key, empty) for key in indicator.of)
            derived[indicator.key] = [percent(part[index], whole[index]) for index in range(3)]
    return derived


def report_rows(figures: Mapping[str, list]) -> list[dict]:
    """The form's lines in order, each with its numbers, ready for a template or an export."""
    derived = figures_derive(figures)
    rows = []
    for indicator in REPORT_INDICATORS:
        start, end, women = derived.get(indicator.key, [None, None, None])
        rows.append(
            {
                "indicator": indicator,
                "start": None if indicator.kind == FLOW else start,
                "end": end,
                "women": women,
            }
        )
    return rows


@dataclass(frozen=True)
class Period:
    """The report year as two dates: the register's state at the start of `start` and at the start of `end`.

    The year's report is "as of 1 January" of the next year. For the current year, the end is the start of
    tomorrow: the register as it stands today.
    """

    year: int
    start: datetime.date
    end: datetime.date

    @classmethod
    def of_year(cls, year: int, *, today: datetime.date) -> Period:
        start = datetime.date(year, 1, 1)
        end = min(datetime.date(year + 1, 1, 1), today + datetime.timedelta(days=1))
        return cls(year=year, start=start, end=max(end, start))

    @property
    def is_complete(self) -> bool:
        return self.end == datetime.date(self.year + 1, 1, 1)

    @property
    def end_label_date(self) -> datetime.date:
        return self.end if self.is_complete else self.end - datetime.timedelta(days=1)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# The snapshot's figures are stored as one flat list in this order (three columns a key): a rollup of the union
# sums seventy-seven thousand of them, which flat lists make a C-level loop. Reordering or adding keys needs
# no migration, only a rebuild, because every reader expands the list with the same layout.
SNAPSHOT_KEYS: tuple[str, ...] = (*ENTERED_KEYS, *REGISTER_KEYS, *REGISTER_EXTRA_KEYS)
# 2: the list is stored packed (vector_pack), not as JSON text.
SNAPSHOT_LAYOUT_VERSION = 2
_UNKNOWN_COLUMNS = {
    **{key: (START,) for key in FLOW_KEYS},
    **{key: (START, WOMEN) for key in REGISTER_EXTRA_KEYS},
}


VECTOR_WIDTH = len(SNAPSHOT_KEYS) * 3
# Where "key__column" (the name of each counting aggregate) sits in the flat list.
VECTOR_POSITION: dict[str, int] = {
    f"{key}__{column}": index * 3 + column for index, key in enumerate(SNAPSHOT_KEYS) for column in range(3)
}


# A stored vector is its counts as 32-bit little-endian integers: one C call each way for eighty-five thousand
# rows, where JSON text took a Python conversion per number. The union's counts are far below 2**31; a count that
# is not raises OverflowError instead of being stored wrong.
_PACKED_TYPECODE = "i"


def vector_pack(vector: list[int]) -> bytes:
    packed = array.array(_PACKED_TYPECODE, vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def vector_unpack(data: bytes) -> list[int]:
    packed = array.array(_PACKED_TYPECODE)
    packed.frombytes(bytes(data))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tolist()


def figures_to_vector(figures: Mapping[str, list]) -> list[int]:
    vector: list[int] = []
    for key in SNAPSHOT_KEYS:
        values = figures.get(key)
        vector.extend((0, 0, 0) if values is None else (value or 0 for value in values))
    return vector


def vector_to_figures(vector: list) -> Figures:
    figures: Figures = {}
    for index, key in enumerate(SNAPSHOT_KEYS):
        values = list(vector[index * 3 : index * 3 + 3])
        if len(values) < 3:
            break
        for column in _UNKNOWN_COLUMNS.get(key, ()):
            values[column] = None
        figures[key] = values
    return figures


def vector_known(vector: list[int]) -> list[int | None]:
    """The vector as stored: none where a column has no meaning (a flow's start), so nobody reads a zero there."""
    return [
        None if column in _UNKNOWN_COLUMNS.get(key, ()) else vector[index * 3 + column]
        for index, key in enumerate(SNAPSHOT_KEYS)
        for column in range(3)
    ]
