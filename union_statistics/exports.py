"""The statistics app's files: any StatTable and the annual report, to .xlsx (xlsxwriter) and PDF (reportlab).

Numbers go into spreadsheets as numbers and percentages as fractions with a percent format, so a sum or a chart
works on them at once. Every text cell is written with write_string: an organisation's name that starts with "="
stays a name and never becomes a formula. Every text that goes into a reportlab Paragraph is escaped first.
The PDF report follows the union's paper form, with its signatures block.
"""

from __future__ import annotations

import io
from decimal import Decimal

import xlsxwriter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registry.models import Organization
from registry.pdf import FONT_BOLD, FONT_REGULAR, pdf_fonts_register, pdf_paragraph, pdf_styles
from registry.spreadsheet import XLSX_TEXT_ONLY
from union_statistics.indicators import FLOW, PERCENT
from union_statistics.tables import INTEGER, TEXT, Column, StatTable
from union_statistics.tables import PERCENT as PERCENT_COLUMN

PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "#,##0"
# Never let xlsxwriter guess: a string is a string, whatever it starts with.
WORKBOOK_OPTIONS = {"in_memory": True, **XLSX_TEXT_ONLY}
AUTHOR = "Общероссийский Профсоюз образования"
PAGE = landscape(A4)
MARGIN = 12 * mm
NOT_APPLICABLE = "х"  # the paper form's mark for a cell that has no meaning (a flow's start of year)
NO_VALUE = "—"


# ---------------------------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------------------------


def _fraction(value: Decimal | int | float) -> float:
    """A percentage (66.7) as the fraction a spreadsheet's percent format shows as 66.7 %."""
    return float(Decimal(str(value)) / 100)


def _display(value, kind: str) -> str:
    """A value as printed on paper: grouped integers, percentages with a decimal comma."""
    if value is None or value == "":
        return NO_VALUE if kind != TEXT else ""
    if kind == PERCENT_COLUMN:
        return f"{Decimal(str(value)):.1f}".replace(".", ",")
    if kind == INTEGER:
        return f"{int(value):,}".replace(",", "\u00a0")
    return str(value)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return pdf_paragraph(text, style)


class _Sheet:
    """A worksheet with the formats of the statistics files and the widths measured while writing."""

    def __init__(self, workbook: xlsxwriter.Workbook, name: str):
        self.sheet = workbook.add_worksheet(name)
        self.widths: dict[int, int] = {}
        base = {"font_name": "Arial", "font_size": 10}
        self.title = workbook.add_format({**base, "bold": True, "font_size": 12})
        self.text = workbook.add_format(base)
        self.wrap = workbook.add_format({**base, "text_wrap": True, "valign": "top"})
        self.note = workbook.add_format({**base, "italic": True, "font_color": "#555555"})
        self.header = workbook.add_format(
            {**base, "bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#E9ECEF", "border": 1}
        )
        self.cell = {
            TEXT: workbook.add_format({**base, "border": 1, "valign": "top"}),
            INTEGER: workbook.add_format({**base, "border": 1, "num_format": INTEGER_FORMAT}),
            PERCENT_COLUMN: workbook.add_format({**base, "border": 1, "num_format": PERCENT_FORMAT}),
        }
        self.total = {
            kind: workbook.add_format(
                {
                    **base,
                    "border": 1,
                    "bold": True,
                    "bg_color": "#F8F9FA",
                    **({} if kind == TEXT else {"num_format": f}),
                }
            )
            for kind, f in ((TEXT, None), (INTEGER, INTEGER_FORMAT), (PERCENT_COLUMN, PERCENT_FORMAT))
        }

    def string(self, row: int, col: int, text, cell_format=None, *, measure: bool = True) -> None:
        text = "" if text is None else str(text)
        self.sheet.write_string(row, col, text, cell_format)
        if measure:
            self.widths[col] = max(self.widths.get(col, 0), min(len(text), 60))

    def value(self, row: int, col: int, value, kind: str, cell_format) -> None:
        if kind == TEXT:
            self.string(row, col, value, cell_format)
        elif value is None or value == "":
            self.sheet.write_blank(row, col, None, cell_format)
        elif kind == PERCENT_COLUMN:
            self.sheet.write_number(row, col, _fraction(value), cell_format)
            self.widths[col] = max(self.widths.get(col, 0), 7)
        else:
            self.sheet.write_number(row, col, int(value), cell_format)
            self.widths[col] = max(self.widths.get(col, 0), len(f"{int(value):,}") + 1)

    def set_widths(self, minimum: int = 8) -> None:
        for col, width in self.widths.items():
            self.sheet.set_column(col, col, max(minimum, width + 2))


def _sheet_name(title: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip(" '")
    return cleaned[:31] or "Таблица"


# ---------------------------------------------------------------------------------------------------------------
# Any table of figures
# ---------------------------------------------------------------------------------------------------------------


def _totals_row(table: StatTable) -> dict | None:
    if table.totals is None:
        return None
    totals = dict(table.totals)
    first = table.columns[0]
    if first.kind == TEXT and not totals.get(first.key):
        totals[first.key] = _("Итого")
    return totals


def stat_table_xlsx(table: StatTable) -> bytes:
    """Title, header, rows, the totals line and the note under them; the header stays frozen when scrolling."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    workbook.set_properties({"title": table.title, "author": AUTHOR})
    sheet = _Sheet(workbook, _sheet_name(table.title))
    sheet.string(0, 0, table.title, sheet.title, measure=False)
    header_row = 2
    for col, column in enumerate(table.columns):
        sheet.string(header_row, col, column.label, sheet.header, measure=False)
        sheet.widths[col] = max(sheet.widths.get(col, 0), min(len(str(column.label)), 18))
    row = header_row + 1
    for data in table.rows:
        for col, column in enumerate(table.columns):
            sheet.value(row, col, table.value(data, column), column.kind, sheet.cell[column.kind])
        row += 1
    totals = _totals_row(table)
    if totals is not None:
        for col, column in enumerate(table.columns):
            sheet.value(row, col, totals.get(column.key), column.kind, sheet.total[column.kind])
        row += 1
    if table.note:
        sheet.string(row + 1, 0, table.note, sheet.note, measure=False)
    sheet.sheet.set_row(header_row, 32)
    sheet.sheet.freeze_panes(header_row + 1, 0)
    sheet.set_widths()
    workbook.close()
    return buffer.getvalue()


def _document(buffer: io.BytesIO, title: str, *, pagesize=PAGE) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=title, author=AUTHOR,
    )  # fmt: skip


def _styles(font_size: float = 8) -> dict[str, ParagraphStyle]:
    """The documents' styles, with table cells at `font_size` (a wide table gets a smaller one)."""
    styles = pdf_styles()
    cell = ParagraphStyle(f"cell_{font_size}", parent=styles["small"], fontSize=font_size, leading=font_size * 1.25)
    return {
        **styles,
        "cell": cell,
        "cell_bold": ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD),
        "cell_right": ParagraphStyle("cell_right", parent=cell, alignment=2),
        "cell_right_bold": ParagraphStyle("cell_right_bold", parent=cell, alignment=2, fontName=FONT_BOLD),
        "cell_indent": ParagraphStyle("cell_indent", parent=cell, leftIndent=4 * mm),
        "header": ParagraphStyle("header", parent=cell, fontName=FONT_BOLD, alignment=1),
    }


CELL_PADDING = 3  # left and right, in points
# Cell font sizes tried in turn until every header word fits its column whole.
CELL_FONT_SIZES = (8, 7.5, 7, 6.5, 6)
# What a text column (an organisation's name) keeps at least before the font gets smaller.
TEXT_COLUMN_MIN_WIDTH = 32 * mm


def _grid_style(*, header_rows: int = 1, total_row: bool = False) -> TableStyle:
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#6c757d")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, header_rows - 1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]
    if total_row:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f8f9fa")))
    return TableStyle(commands)


def _column_needs(table: StatTable, font_size: float) -> list[float]:
    """Each column's width for its longest header word and its widest figure, so that no word breaks inside."""
    needs = []
    for column in table.columns:
        words = str(column.label).split() or [""]
        need = max(stringWidth(word, FONT_BOLD, font_size) for word in words)
        if column.kind == TEXT:
            need = max(need, TEXT_COLUMN_MIN_WIDTH)
        else:
            values = [_display(row.get(column.key), column.kind) for row in [*table.rows, table.totals or {}]]
            need = max(need, *(stringWidth(value, FONT_BOLD, font_size) for value in values))
        needs.append(need + 2 * CELL_PADDING + 1)
    return needs


def _table_layout(table: StatTable, width: float) -> tuple[float, list[float]]:
    """The largest cell font at which the columns fit the page, and the widths: text columns share the rest."""
    pdf_fonts_register()
    for font_size in CELL_FONT_SIZES:
        needs = _column_needs(table, font_size)
        if sum(needs) <= width:
            break
    else:
        return font_size, [width * need / sum(needs) for need in needs]
    spare = width - sum(needs)
    growing = [index for index, column in enumerate(table.columns) if column.kind == TEXT] or range(len(needs))
    for index in growing:
        needs[index] += spare / len(growing)
    return font_size, needs


def _signatures(styles: dict[str, ParagraphStyle], *, accepted: str = "") -> KeepTogether:
    """The paper form's signatures block: the chair signs, dates and stamps; an accepted report says by whom."""
    return KeepTogether(
        [Spacer(1, 8 * mm), *(_para(line, styles["body"]) for line in _signature_lines(accepted=accepted))]
    )


def _signature_lines(*, accepted: str = "") -> list[str]:
    lines = [
        _("Председатель ______________ / ______________________ /"),
        _("Дата «____» ______________ 20____ г."),
        _("М.П."),
    ]
    if accepted:
        lines.append(_("Принят: %(accepted)s") % {"accepted": accepted})
    return lines


def stat_table_pdf(table: StatTable, *, organization_name: str, signatures: bool = False) -> bytes:
    """The table on landscape A4; a long table goes on over pages with its header repeated on each."""
    font_size, widths = _table_layout(table, PAGE[0] - 2 * MARGIN)
    styles = _styles(font_size)
    buffer = io.BytesIO()
    header = [_para(column.label, styles["header"]) for column in table.columns]

    def cells(data: dict, *, bold: bool = False) -> list[Paragraph]:
        text_style, number_style = (
            (styles["cell_bold"], styles["cell_right_bold"]) if bold else (styles["cell"], styles["cell_right"])
        )
        return [
            _para(
                _display(data.get(column.key), column.kind),
                text_style if column.kind == TEXT else number_style,
            )
            for column in table.columns
        ]

    body = [cells(data) for data in table.rows]
    totals = _totals_row(table)
    if totals is not None:
        body.append(cells(totals, bold=True))
    grid = Table(
        [header, *body],
        colWidths=widths,
        repeatRows=1,
        style=_grid_style(total_row=totals is not None),
    )
    story = [
        _para(organization_name, styles["small"]),
        Spacer(1, 2 * mm),
        _para(table.title, styles["title"]),
        grid,
    ]
    if table.note:
        story += [Spacer(1, 2 * mm), _para(table.note, styles["small"])]
    if signatures:
        story.append(_signatures(styles))
    _document(buffer, table.title).build(story)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# The annual report in the layout of the union's form
# ---------------------------------------------------------------------------------------------------------------

# Whose report a rollup is, in the genitive of the heading "Сводный статистический отчёт …".
_ROLLUP_OF = {
    Organization.Level.CENTRAL: gettext_lazy("Общероссийского Профсоюза образования"),
    Organization.Level.REGIONAL: gettext_lazy("региональной организации Профсоюза"),
    Organization.Level.LOCAL: gettext_lazy("местной (территориальной) организации Профсоюза"),
    Organization.Level.UNIT: gettext_lazy("профсоюзного бюро (группы)"),
}


def report_heading(*, organization: Organization, year: int) -> str:
    if organization.is_primary:
        kind = _("Статистический отчёт первичной профсоюзной организации")
    else:
        kind = _("Сводный статистический отчёт %(of)s") % {
            "of": _ROLLUP_OF.get(organization.level, _("организации Профсоюза"))
        }
    return _("%(kind)s за %(year)s год (по состоянию на 1 января %(next)s года)") % {
        "kind": kind,
        "year": year,
        "next": year + 1,
    }


REPORT_COLUMNS = (
    Column("line", gettext_lazy("№ строки"), TEXT),
    Column("label", gettext_lazy("Показатель"), TEXT),
    Column("start", gettext_lazy("на начало года"), INTEGER),
    Column("end", gettext_lazy("на конец года"), INTEGER),
    Column("women", gettext_lazy("из них женщин"), INTEGER),
)


def _region_name(organization: Organization) -> str:
    return organization.region.name if organization.region_id else NO_VALUE


def _report_lines(*, organization: Organization, status_label: str, variant_label: str) -> list[str]:
    lines = [
        _("Организация: %(name)s") % {"name": organization.name},
        _("Субъект РФ: %(region)s") % {"region": _region_name(organization)},
    ]
    if variant_label:
        lines.append(_("Данные: %(variant)s") % {"variant": variant_label})
    if status_label:
        lines.append(_("Статус: %(status)s") % {"status": status_label})
    return lines


def _row_kind(row: dict) -> str:
    return PERCENT_COLUMN if row["indicator"].kind == PERCENT else INTEGER


def report_xlsx(
    *,
    organization: Organization,
    year: int,
    rows: list[dict],
    status_label: str,
    variant_label: str,
    accepted: str = "",
) -> bytes:
    """The report as a spreadsheet: the form's lines with numbers as numbers, coverage as a percentage."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    heading = report_heading(organization=organization, year=year)
    workbook.set_properties({"title": heading, "author": AUTHOR, "company": organization.name})
    sheet = _Sheet(workbook, _("Отчёт %(year)s") % {"year": year})
    sheet.string(0, 0, heading, sheet.title, measure=False)
    row = 1
    for line in _report_lines(organization=organization, status_label=status_label, variant_label=variant_label):
        sheet.string(row, 0, line, sheet.text, measure=False)
        row += 1
    header_row = row + 1
    for col, column in enumerate(REPORT_COLUMNS):
        sheet.string(header_row, col, column.label, sheet.header, measure=False)
    sheet.widths.update({0: 8, 1: 50, 2: 12, 3: 12, 4: 12})
    row = header_row + 1
    for data in rows:
        indicator = data["indicator"]
        kind = _row_kind(data)
        sheet.string(row, 0, indicator.line, sheet.cell[TEXT], measure=False)
        label = ("    " if indicator.indent else "") + str(indicator.label)
        sheet.string(row, 1, label, sheet.cell[TEXT])
        if indicator.kind == FLOW:
            sheet.string(row, 2, NOT_APPLICABLE, sheet.cell[TEXT], measure=False)
        else:
            sheet.value(row, 2, data["start"], kind, sheet.cell[kind])
        sheet.value(row, 3, data["end"], kind, sheet.cell[kind])
        sheet.value(row, 4, data["women"], kind, sheet.cell[kind])
        row += 1
    row += 1
    for line in _signature_lines(accepted=accepted):
        sheet.string(row, 1, line, sheet.text, measure=False)
        row += 1
    sheet.sheet.set_row(header_row, 32)
    sheet.sheet.freeze_panes(header_row + 1, 0)
    sheet.set_widths()
    workbook.close()
    return buffer.getvalue()


def report_pdf(
    *,
    organization: Organization,
    year: int,
    rows: list[dict],
    status_label: str,
    variant_label: str,
    accepted: str = "",
) -> bytes:
    """The report on A4 as the union's paper form: heading, organisation, the lines, the signatures block."""
    styles = _styles()
    buffer = io.BytesIO()
    heading = report_heading(organization=organization, year=year)
    header = [_para(column.label, styles["header"]) for column in REPORT_COLUMNS]
    body = []
    for data in rows:
        indicator = data["indicator"]
        kind = _row_kind(data)
        start = NOT_APPLICABLE if indicator.kind == FLOW else _display(data["start"], kind)
        body.append(
            [
                _para(indicator.line, styles["cell"]),
                _para(indicator.label, styles["cell_indent" if indicator.indent else "cell"]),
                _para(start, styles["cell_right"]),
                _para(_display(data["end"], kind), styles["cell_right"]),
                _para(_display(data["women"], kind), styles["cell_right"]),
            ]
        )
    width = A4[0] - 2 * MARGIN
    figure_width = 24 * mm
    grid = Table(
        [header, *body],
        colWidths=[17 * mm, width - 17 * mm - 3 * figure_width, figure_width, figure_width, figure_width],
        repeatRows=1,
        style=_grid_style(),
    )
    story = [
        _para(heading, styles["title"]),
        *(
            _para(line, styles["body"])
            for line in _report_lines(organization=organization, status_label=status_label, variant_label=variant_label)
        ),
        Spacer(1, 4 * mm),
        grid,
        _signatures(styles, accepted=accepted),
    ]
    _document(buffer, heading, pagesize=A4).build(story)
    return buffer.getvalue()
