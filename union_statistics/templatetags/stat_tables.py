"""The rows of a sortable StatTable, written in Python: a dashboard table has hundreds of rows of thirteen cells.

Rendering them through template loops and an include per cell cost more than everything else on the page; here a
row is a few string joins. The output is what templates/union_statistics/includes/value.html prints for a value
(tests compare both), every text is escaped, and each cell keeps the data-sort value static/js/sortable-table.js
compares.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from union_statistics.tables import INTEGER, PERCENT, TEXT

register = template.Library()

NONE_HTML = '<span class="text-muted">—</span>'
ONE_DECIMAL = Decimal("0.1")


class NumberFormat:
    """The current language's separators, read once per table instead of once per cell."""

    def __init__(self) -> None:
        self.thousands = get_format("THOUSAND_SEPARATOR")
        self.decimal = get_format("DECIMAL_SEPARATOR")
        self.grouping = get_format("NUMBER_GROUPING")

    def integer(self, value: int) -> str:
        # humanize's intcomma: groups of three with the language's separator (Russian: a no-break space).
        if self.grouping != 3:
            from django.contrib.humanize.templatetags.humanize import intcomma

            return intcomma(value)
        return f"{int(value):,}".replace(",", self.thousands)

    def one_decimal(self, value) -> str:
        # floatformat:1: half up, the language's decimal separator, no grouping.
        rounded = Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
        return f"{rounded:f}".replace(".", self.decimal)

    def percent(self, value) -> str:
        return self.one_decimal(value) + "&nbsp;%"


def format_value(value, kind: str, number_format: NumberFormat | None = None) -> str:
    """A value's HTML, as includes/value.html prints it."""
    if value is None:
        return NONE_HTML
    number_format = number_format or NumberFormat()
    if kind == PERCENT:
        return number_format.percent(value)
    if kind == INTEGER:
        return number_format.integer(value)
    return escape(value)


def _sort_attr(value) -> str:
    return "" if value is None else escape(value)


def _badges(badges, css: str) -> str:
    return "".join(f' <span class="badge {css} level-badge">{escape(badge)}</span>' for badge in badges)


# The figures' alignment is set once on the row (text-align and white-space are inherited) rather than on each of
# a dozen cells; the name and text cells take it back.
ROW = '<tr class="text-end text-nowrap">'
TEXT_CELL = ' class="text-start text-wrap"'


def _cell(value, kind: str, shown: str) -> str:
    # A whole number under a thousand reads as it sorts: the sorting script takes the cell's text then.
    if kind == INTEGER and value is not None and shown == str(value):
        return f"<td>{shown}</td>"
    css = TEXT_CELL if kind == TEXT else ""
    return f'<td{css} data-sort="{_sort_attr(value)}">{shown}</td>'


def _row(table, row: dict, link: str | None, number_format: NumberFormat) -> str:
    cells = []
    for column in table.columns:
        value = table.value(row, column)
        badges = row.get(f"{column.key}_badges", ())
        if column.key == "name":
            text = escape(value)
            if link:
                text = f'<a class="fw-bold text-decoration-none" href="{escape(link)}">{text}</a>'
            # Without badges the name is the cell's whole text, which the sorting script reads when data-sort is absent.
            if badges:
                sort = f' data-sort="{_sort_attr(value)}"'
                text += _badges(badges, "text-bg-secondary")
            else:
                sort = ""
            cells.append(f'<th scope="row" class="fw-normal text-start text-wrap"{sort}>{text}</th>')
        else:
            shown = format_value(value, column.kind, number_format) + _badges(badges, "badge-pilot")
            cells.append(_cell(value, column.kind, shown))
    return ROW + "".join(cells) + "</tr>"


def _totals(table, number_format: NumberFormat) -> str:
    cells = []
    for column in table.columns:
        value = table.value(table.totals, column)
        if column.key == "name":
            cells.append(f'<th scope="row" class="text-start text-wrap">{escape(value)}</th>')
        else:
            css = TEXT_CELL if column.kind == TEXT else ""
            shown = "" if value is None else format_value(value, column.kind, number_format)
            cells.append(f"<td{css}>{shown}</td>")
    return '<tr class="stat-totals text-end text-nowrap">' + "".join(cells) + "</tr>"


@register.simple_tag
def stat_table_body(table) -> SafeString:
    """<tbody> and, with a totals line, <tfoot> of a StatTable (union_statistics/tables.py)."""
    number_format = NumberFormat()
    links = table.links + [None] * (len(table.rows) - len(table.links))
    rows = [_row(table, row, link, number_format) for row, link in zip(table.rows, links, strict=False)]
    if not rows:
        empty = escape(_("Нет данных."))
        rows = [f'<tr><td colspan="{len(table.columns)}" class="text-center text-muted py-4">{empty}</td></tr>']
    html = "<tbody>\n" + "\n".join(rows) + "\n</tbody>"
    if table.totals:
        html += "\n<tfoot>" + _totals(table, number_format) + "</tfoot>"
    return mark_safe(html)  # every value above is escaped or a number formatted here
