"""A table of figures as pages, spreadsheets and PDF files all show it: columns with their kind, rows of values.

Selectors build a StatTable; the dashboard template renders it (sortable), exports write it to .xlsx (numbers as
numbers, percentages as percentages) and PDF. One shape, so that every table on a page can be exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

TEXT = "text"
INTEGER = "integer"
PERCENT = "percent"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = INTEGER


@dataclass
class StatTable:
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    # The line under the rows: the sum of the absolute columns and the percentages of those sums.
    totals: dict | None = None
    # Where the figures come from and as of when, printed under the table and in the exports.
    note: str = ""
    # A row's link (drill-down), by row index; not exported.
    links: list[str | None] = field(default_factory=list)

    def value(self, row: dict, column: Column) -> str | int | Decimal | None:
        return row.get(column.key)
