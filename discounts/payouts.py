"""Реестр выплат кешбэка для банка: the CSV file of a monthly payout batch.

What the bank needs to pay a member by the Faster Payments System (СБП) and nothing more: the member's three names,
the phone the payment goes to, the receiving bank, the amount and the purpose. No date of birth, card number or
organisation. UTF-8 with a byte-order mark (so Excel reads the Cyrillic right), `;` between cells, CRLF line ends,
amounts in roubles with two decimals after a point ("123.45").

Every cell goes through registry.spreadsheet.csv_cell_text: a formula-like start (=, +, -, @) is written as text.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from registry.spreadsheet import csv_cell_text

REGISTER_HEADER = (
    "№ п/п",
    "Идентификатор выплаты",
    "Фамилия",
    "Имя",
    "Отчество",
    "Телефон СБП",
    "Банк получателя",
    "Сумма",
    "Назначение платежа",
)
_NOT_DIGITS = re.compile(r"\D")


def register_phone(phone: str) -> str:
    """A Russian mobile number as the bank's register takes it, 11 digits from 7: "+7 (916) 123-45-67" and
    "89161234567" both give "79161234567". Anything else is passed on as typed (and guarded as text)."""
    digits = _NOT_DIGITS.sub("", phone or "")
    if len(digits) == 10:
        digits = "7" + digits
    elif len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if len(digits) == 11 and digits[0] == "7":
        return digits
    return (phone or "").strip()


def register_amount(kopecks: int) -> str:
    """Kopecks as the bank's roubles: 12345 → "123.45" (a point, no thousands separator)."""
    roubles, rest = divmod(int(kopecks), 100)
    return f"{roubles}.{rest:02d}"


def payout_reference(*, month, line_id: int) -> str:
    """The payout's identifier in the register: unique, and telling which month it pays (2026-10-000123)."""
    return f"{month:%Y-%m}-{line_id:06d}"


@dataclass(frozen=True)
class RegisterRow:
    line_id: int
    last_name: str
    first_name: str
    middle_name: str
    phone: str
    bank: str
    amount: int  # kopecks


def register_csv(*, month, rows: Iterable[RegisterRow], purpose: str) -> bytes:
    """The register file's bytes, rows numbered from 1 in the order given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(REGISTER_HEADER)
    for number, row in enumerate(rows, start=1):
        writer.writerow(
            csv_cell_text(cell)
            for cell in (
                number, payout_reference(month=month, line_id=row.line_id), row.last_name, row.first_name,
                row.middle_name, register_phone(row.phone), row.bank, register_amount(row.amount), purpose,
            )
        )  # fmt: skip
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
