"""Files of the cards' settlement: a statement and the central balance to .xlsx, the ledger to CSV for 1C.

.xlsx (xlsxwriter): amounts are numbers in roubles with a two-decimal format, written from exact decimals of the
kopecks (Decimal(kopecks) / 100), so a sum in the spreadsheet adds up; every text cell goes through write_string
with formulas, numbers and URLs never guessed from strings.

CSV for 1C (columns in README, «Выгрузка для 1С»): UTF-8 with a byte-order mark, `;` between cells, CRLF line ends,
dates ДД.ММ.ГГГГ, amounts in roubles with a decimal comma and no thousands separator ("1234,50"); a text cell that
a spreadsheet would run as a formula is written as text (registry.spreadsheet.csv_cell_text).
"""

import csv
import datetime
import io
from collections.abc import Iterable
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

from cards.models import CardChargeLine, CardLedgerEntry, SettlementLedger
from cards.settlement_selectors import Period, PrimaryRow, RegionBalance, Statement, entry_description
from registry.models import Organization
from registry.money import roubles_plain
from registry.spreadsheet import csv_cell_text

WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
INTEGER_FORMAT = "#,##0"
AUTHOR = "Общероссийский Профсоюз образования"

ONE_C_HEADER = (
    "Идентификатор",
    "Дата",
    "Вид операции",
    "Номер документа",
    "Плательщик",
    "ИНН плательщика",
    "Получатель",
    "ИНН получателя",
    "Количество",
    "Цена",
    "Сумма",
    "Содержание",
)
ONE_C_KINDS = {
    CardLedgerEntry.Kind.CHARGE: "Начисление",
    CardLedgerEntry.Kind.PAYMENT: "Оплата",
    CardLedgerEntry.Kind.PAYMENT_CANCELLED: "Отмена оплаты",
}


def period_text(period: Period) -> str:
    if period.is_open:
        return "за всё время"
    start = f"с {period.start:%d.%m.%Y}" if period.start else "с начала расчётов"
    end = f"по {period.end:%d.%m.%Y}" if period.end else f"по {timezone.localdate():%d.%m.%Y}"
    return f"{start} {end}"


def _roubles(kopecks: int) -> Decimal:
    return Decimal(int(kopecks)) / 100


class _Book:
    """A workbook with the formats of the settlement files."""

    def __init__(self, title: str):
        self.buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self.buffer, WORKBOOK_OPTIONS)
        self.workbook.set_properties({"title": title, "author": AUTHOR, "company": AUTHOR})
        base = {"font_name": "Arial", "font_size": 10}
        add = self.workbook.add_format
        self.title = add({**base, "bold": True, "font_size": 12})
        self.note = add({**base, "font_color": "#555555"})
        self.header = add({**base, "bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#E9ECEF",
                           "border": 1})  # fmt: skip
        self.text = add({**base, "border": 1, "valign": "top", "text_wrap": True})
        self.date = add({**base, "border": 1, "valign": "top", "num_format": "dd.mm.yyyy"})
        self.integer = add({**base, "border": 1, "valign": "top", "num_format": INTEGER_FORMAT})
        self.money = add({**base, "border": 1, "valign": "top", "num_format": MONEY_FORMAT})
        bold = {**base, "border": 1, "bold": True, "bg_color": "#F8F9FA"}
        self.total_text = add(bold)
        self.total_integer = add({**bold, "num_format": INTEGER_FORMAT})
        self.total_money = add({**bold, "num_format": MONEY_FORMAT})

    def sheet(self, name: str, widths: Iterable[int]):
        sheet = self.workbook.add_worksheet(name)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        return sheet

    def head(self, sheet, lines: list[str]) -> int:
        """Title lines over a table; returns the row the table starts at."""
        sheet.write_string(0, 0, lines[0], self.title)
        for row, line in enumerate(lines[1:], start=1):
            sheet.write_string(row, 0, line, self.note)
        return len(lines) + 1

    def header_row(self, sheet, row: int, titles: Iterable[str]) -> None:
        for column, title in enumerate(titles):
            sheet.write_string(row, column, title, self.header)
        sheet.freeze_panes(row + 1, 0)

    def cells(self, sheet, row: int, values: list[tuple], *, total: bool = False) -> None:
        """(kind, value) pairs: "text", "date", "int", "money"; None writes an empty bordered cell."""
        formats = {
            "text": self.total_text if total else self.text,
            "date": self.date,
            "int": self.total_integer if total else self.integer,
            "money": self.total_money if total else self.money,
        }
        for column, (kind, value) in enumerate(values):
            cell_format = formats[kind]
            if value is None or value == "":
                sheet.write_blank(row, column, None, cell_format)
            elif kind == "text":
                sheet.write_string(row, column, str(value), cell_format)
            elif kind == "date":
                sheet.write_datetime(row, column, datetime.datetime.combine(value, datetime.time()), cell_format)
            elif kind == "int":
                sheet.write_number(row, column, int(value), cell_format)
            else:
                sheet.write_number(row, column, _roubles(value), cell_format)

    def close(self) -> bytes:
        self.workbook.close()
        return self.buffer.getvalue()


def statement_xlsx(
    *,
    statement: Statement,
    heading: list[str],
    primaries: list[PrimaryRow] | None = None,
    lines: Iterable[CardChargeLine] | None = None,
) -> bytes:
    """A statement of one account; a region's also has its breakdown by ППО and by batch and ППО."""
    book = _Book(heading[0])
    sheet = book.sheet("Выписка", (12, 30, 34, 10, 16, 16, 16))
    row = book.head(sheet, [*heading, f"Период: {period_text(statement.period)}",
                            f"Сформирована {timezone.localtime():%d.%m.%Y %H:%M}"])  # fmt: skip
    book.header_row(sheet, row, ("Дата", "Операция", "Основание", "Билетов", "Начислено, ₽", "Оплачено, ₽", "Долг, ₽"))
    row += 1
    book.cells(sheet, row, [("text", ""), ("text", "Сальдо на начало периода"), ("text", ""), ("int", None),
                            ("money", None), ("money", None), ("money", statement.opening)])  # fmt: skip
    for item in statement.rows:
        row += 1
        cards = item.entry.charge_line.cards if item.entry.charge_line_id else (
            item.entry.charge.cards if item.entry.charge_id else None
        )  # fmt: skip
        book.cells(sheet, row, [
            ("date", item.entry.occurred_on), ("text", item.operation), ("text", item.basis), ("int", cards),
            ("money", item.charged or None), ("money", item.paid or None), ("money", item.balance),
        ])  # fmt: skip
    row += 1
    book.cells(sheet, row, [("text", ""), ("text", "Итого за период, сальдо на конец"), ("text", ""),
                            ("int", statement.cards), ("money", statement.charged), ("money", statement.paid),
                            ("money", statement.closing)], total=True)  # fmt: skip
    sheet.write_string(row + 2, 0, "Долг — сколько организация должна; отрицательный — оплачено вперёд.", book.note)

    if primaries is not None:
        sheet = book.sheet("По ППО", (48, 14, 10, 16, 16, 16, 16))
        row = book.head(sheet, [f"{heading[0]}: по первичным организациям", *heading[1:],
                                f"Период: {period_text(statement.period)}"])  # fmt: skip
        book.header_row(sheet, row, ("Первичная организация", "ИНН", "Билетов", "Стоимость, ₽",
                                     "Предъявлено ППО, ₽", "Оплачено ППО, ₽", "Долг ППО, ₽"))  # fmt: skip
        for primary in primaries:
            row += 1
            book.cells(sheet, row, [
                ("text", primary.org.name), ("text", primary.org.inn), ("int", primary.cards),
                ("money", primary.amount), ("money", primary.passed_on), ("money", primary.paid),
                ("money", primary.balance),
            ])  # fmt: skip
        row += 1
        book.cells(sheet, row, [
            ("text", "Итого"), ("text", ""), ("int", sum(p.cards for p in primaries)),
            ("money", sum(p.amount for p in primaries)), ("money", sum(p.passed_on for p in primaries)),
            ("money", sum(p.paid for p in primaries)), ("money", sum(p.balance for p in primaries)),
        ], total=True)  # fmt: skip

    if lines is not None:
        sheet = book.sheet("По партиям и ППО", (48, 14, 10, 12, 10, 14, 16))
        row = book.head(sheet, [f"{heading[0]}: билеты членов ППО по партиям", *heading[1:],
                                f"Период: {period_text(statement.period)}"])  # fmt: skip
        book.header_row(sheet, row, ("Первичная организация", "ИНН", "Партия №", "Дата", "Билетов", "Цена, ₽",
                                     "Сумма, ₽"))  # fmt: skip
        cards = amount = 0
        for line in lines:
            row += 1
            book.cells(sheet, row, [
                ("text", line.organization.name), ("text", line.organization.inn), ("int", line.charge.batch_id),
                ("date", line.charge.charged_on), ("int", line.cards), ("money", line.unit_price),
                ("money", line.amount),
            ])  # fmt: skip
            cards, amount = cards + line.cards, amount + line.amount
        row += 1
        book.cells(sheet, row, [("text", "Итого"), ("text", ""), ("int", None), ("date", None), ("int", cards),
                                ("money", None), ("money", amount)], total=True)  # fmt: skip
    return book.close()


def balances_xlsx(*, balances: list[RegionBalance], period: Period) -> bytes:
    """Central office's table: every region's balance with the central council."""
    title = "Расчёты регионов за пластиковые билеты"
    book = _Book(title)
    sheet = book.sheet("Регионы", (6, 48, 16, 10, 16, 16, 16, 14, 12))
    row = book.head(sheet, [title, f"Период: {period_text(period)}",
                            f"Сформирована {timezone.localtime():%d.%m.%Y %H:%M}"])  # fmt: skip
    book.header_row(sheet, row, ("Код", "Региональная организация", "Долг на начало, ₽", "Билетов",
                                 "Начислено, ₽", "Оплачено, ₽", "Долг на конец, ₽", "Последняя оплата",
                                 "Возмещают ППО"))  # fmt: skip
    for item in balances:
        row += 1
        book.cells(sheet, row, [
            ("text", item.region.region.code if item.region.region else ""), ("text", item.region.name),
            ("money", item.opening), ("int", item.cards), ("money", item.charged), ("money", item.paid),
            ("money", item.closing), ("date", item.last_paid_on), ("text", "да" if item.recovers else ""),
        ])  # fmt: skip
    row += 1
    book.cells(sheet, row, [
        ("text", ""), ("text", "Итого"), ("money", sum(b.opening for b in balances)),
        ("int", sum(b.cards for b in balances)), ("money", sum(b.charged for b in balances)),
        ("money", sum(b.paid for b in balances)), ("money", sum(b.closing for b in balances)), ("date", None),
        ("text", ""),
    ], total=True)  # fmt: skip
    return book.close()


def _one_c_row(entry: CardLedgerEntry, *, central: Organization) -> list:
    """One ledger entry as a line of the 1C file: who owes whom, for what, how much."""
    payer = entry.account
    recipient = central if entry.ledger == SettlementLedger.REGION else entry.region
    operation, basis = entry_description(entry)
    cards = price = ""
    if entry.kind == CardLedgerEntry.Kind.CHARGE:
        source = entry.charge_line if entry.charge_line_id else entry.charge
        document = f"Партия № {entry.charge.batch_id}"
        cards, price = source.cards, roubles_plain(source.unit_price)
        content = f"Изготовление пластиковых профсоюзных билетов: {operation.lower()} ({basis})"
    else:
        document = entry.payment.document
        content = f"{operation} за пластиковые профсоюзные билеты" + (f": {basis}" if basis else "")
    return [
        f"БИЛ-{entry.pk:09d}",
        f"{entry.occurred_on:%d.%m.%Y}",
        ONE_C_KINDS[entry.kind],
        document,
        payer.name,
        payer.inn,
        recipient.name,
        recipient.inn,
        cards,
        price,
        roubles_plain(abs(entry.amount)),
        content,
    ]


def ledger_1c_csv(*, entries: Iterable[CardLedgerEntry], central: Organization) -> bytes:
    """The entries, in the order given, as the CSV that 1C loads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(ONE_C_HEADER)
    for entry in entries:
        writer.writerow(csv_cell_text(cell) for cell in _one_c_row(entry, central=central))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
