"""Export of the member list to .csv (streamed) and .xlsx (written row by row to a temporary file).

The columns are those of the import template, so an exported file can be corrected and loaded back. Every cell is
text that stays text: in the .csv a formula-like start gets an apostrophe (registry.spreadsheet.csv_cell_text, which
the import takes off again), in the .xlsx each cell is written as a string.
"""

import csv
import tempfile
from collections.abc import Iterator

import xlsxwriter
from django.db.models import QuerySet

from accounts.models import AccessLog, User
from accounts.services import access_log_write
from membership.imports import COLUMNS
from membership.models import Member
from registry.models import Organization
from registry.spreadsheet import XLSX_TEXT_ONLY, csv_cell_text

EXPORT_CHUNK = 2_000
EXTRA_HEADERS = ("Организация", "Статус", "Дата выбытия", "Причина выбытия")
CATEGORY_WORD = {
    Member.Category.WORKING: "работающий",
    Member.Category.STUDENT: "обучающийся",
    Member.Category.PENSIONER: "неработающий пенсионер",
    Member.Category.UNEMPLOYED: "временно неработающий",
}
SEX_WORD = {"f": "ж", "m": "м"}
STATUS_WORD = dict(Member.Status.choices)
REASON_WORD = dict(Member.LeavingReason.choices)
VALUE_FIELDS = [column.field for column in COLUMNS] + ["organization__name", "status", "left_on", "leaving_reason"]


def export_headers() -> list[str]:
    return [column.header for column in COLUMNS] + list(EXTRA_HEADERS)


def _date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def export_rows(members: QuerySet[Member]) -> Iterator[list[str]]:
    """Rows as text, fetched in chunks on a server-side cursor so memory stays flat at any size."""
    for values in (
        members.order_by("organization_id", "search_name", "id")
        .values_list(*VALUE_FIELDS)
        .iterator(chunk_size=EXPORT_CHUNK)
    ):
        record = dict(zip(VALUE_FIELDS, values, strict=True))
        yield [
            record["last_name"], record["first_name"], record["middle_name"], _date(record["birth_date"]),
            SEX_WORD.get(record["sex"], ""), record["phone"], record["email"], CATEGORY_WORD.get(record["category"], ""),
            record["position"], "да" if record["is_teaching_staff"] else "нет", _date(record["union_joined_on"]),
            _date(record["org_joined_on"]), "да" if record["dues_application"] else "нет", record["organization__name"],
            str(STATUS_WORD.get(record["status"], "")), _date(record["left_on"]),
            str(REASON_WORD.get(record["leaving_reason"], "")),
        ]  # fmt: skip


def member_export_log(*, by: User, members: QuerySet[Member], org: Organization, fmt: str, filters: dict) -> int:
    """152-FZ: every export is logged with who, when, what selection and how many members."""
    count = members.count()
    access_log_write(
        user=by, action=AccessLog.Action.EXPORT, object_type="membership.member",
        object_repr=f"Выгрузка списка ({fmt}): {org.display_name}", organization_path=org.path,
        details={"format": fmt, "count": count, "filters": filters},
    )  # fmt: skip
    return count


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv_lines(members: QuerySet[Member]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(export_headers())
    for row in export_rows(members):
        yield writer.writerow([csv_cell_text(cell) for cell in row])


def export_xlsx_file(members: QuerySet[Member]):
    """A temporary .xlsx file; the caller sends and closes it.

    xlsxwriter's constant-memory mode flushes each row to disk as it is written, so memory stays flat.
    """
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False, **XLSX_TEXT_ONLY})
    sheet = workbook.add_worksheet("Члены Профсоюза")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, export_headers(), bold)
    for number, row in enumerate(export_rows(members), start=1):
        for column, text in enumerate(row):
            if text:
                sheet.write_string(number, column, text)
    workbook.close()
    handle.seek(0)
    return handle
