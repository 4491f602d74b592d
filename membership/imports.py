"""Import of members from spreadsheet files: parse, check every row, preview, then write all rows or none.

The use cases here are services like those in services.py; they live apart because the file handling is long.
Whatever happens, a job ends in a state its page explains: checked (with or without errors), written, or failed
with a reason and, for an unforeseen fault, a code the staff quote to support (registry.failures). A job whose worker
never finished is marked failed by the beat task member_imports_fail_stuck.
"""

import codecs
import csv
import datetime
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import xlsxwriter
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb
from python_calamine import CalamineError, CalamineWorkbook

from accounts.models import AccessLog, User
from accounts.services import access_log_write
from membership import validation
from membership.models import Member, MemberEvent, MemberImport, search_name_of
from membership.selectors import user_can_manage_members
from membership.services import MembershipError, ensure_member_organization
from registry.bulk import next_ids, uses_copy, write_rows
from registry.failures import failure_logged
from registry.models import Organization
from registry.spreadsheet import XLSX_TEXT_ONLY, csv_cell_text, csv_cell_value
from registry.uploads import OLE2_HEAD, ZIP_HEAD

logger = logging.getLogger(__name__)

MAX_IMPORT_ROWS = 200_000
MAX_IMPORT_BYTES = 50 * 1024 * 1024
PREVIEW_LIMIT = 500  # errors and duplicates kept for the preview page; the counts are complete
PROGRESS_EVERY = 2_000
# What people save a list in: Excel (.xlsx, .xls), LibreOffice (.ods), or text (CSV; Excel's "Unicode text" is .txt).
WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".ods")
TEXT_SUFFIXES = (".csv", ".txt")
# A check or a commit that has run this long was lost (its worker died, its message never arrived): the tasks stop
# themselves a little earlier (their soft time limit), and the beat task marks what is left as failed.
IMPORT_TIME_LIMIT = datetime.timedelta(minutes=30)
RUNNING_STATUSES = (MemberImport.Status.VALIDATING, MemberImport.Status.COMMITTING)


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    required: bool = False
    example: str = ""


COLUMNS = (
    Column("last_name", "Фамилия", True, "Иванова"),
    Column("first_name", "Имя", True, "Мария"),
    Column("middle_name", "Отчество", False, "Петровна"),
    Column("birth_date", "Дата рождения", True, "15.03.1985"),
    Column("sex", "Пол", True, "ж"),
    Column("phone", "Телефон", False, "+7 900 123-45-67"),
    Column("email", "E-mail", False, "ivanova@example.ru"),
    Column("category", "Категория", True, "работающий"),
    Column("position", "Должность / учебная группа", False, "учитель математики"),
    Column("is_teaching_staff", "Педагогический работник", False, "да"),
    Column("union_joined_on", "Дата вступления в Профсоюз", True, "01.09.2010"),
    Column("org_joined_on", "Дата постановки на учёт", False, "01.09.2015"),
    Column("dues_application", "Заявление об удержании взносов", False, "да"),
)

CATEGORY_WORDS = {
    "работающий": Member.Category.WORKING,
    "работник": Member.Category.WORKING,
    "обучающийся": Member.Category.STUDENT,
    "студент": Member.Category.STUDENT,
    "неработающий пенсионер": Member.Category.PENSIONER,
    "пенсионер": Member.Category.PENSIONER,
    "временно неработающий": Member.Category.UNEMPLOYED,
}
SEX_WORDS = {"ж": "f", "жен": "f", "женский": "f", "f": "f", "м": "m", "муж": "m", "мужской": "m", "m": "m"}
YES_WORDS = {"да", "д", "1", "yes", "true", "+", "есть"}
NO_WORDS = {"нет", "н", "0", "no", "false", "-", ""}
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


def _normalise_header(value) -> str:
    return " ".join(str(value or "").replace("*", "").replace("ё", "е").lower().split())


HEADER_TO_FIELD = {_normalise_header(column.header): column.field for column in COLUMNS} | {
    column.field: column.field for column in COLUMNS
}


class ImportFileError(MembershipError):
    """The file as a whole cannot be read: wrong format, no header, too big."""


def import_template(fmt: str) -> bytes:
    """The file a chair fills in: headers (required ones marked *) and one example row."""
    headers = [column.header + ("*" if column.required else "") for column in COLUMNS]
    example = [column.example for column in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerows([[csv_cell_text(cell) for cell in row] for row in (headers, example)])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, **XLSX_TEXT_ONLY})
    sheet = workbook.add_worksheet("Члены Профсоюза")
    bold = workbook.add_format({"bold": True})
    for column_index, (header, value) in enumerate(zip(headers, example, strict=True)):
        sheet.write_string(0, column_index, header, bold)
        sheet.write_string(1, column_index, value)
    for index, column in enumerate(COLUMNS):
        sheet.set_column(index, index, max(14, len(column.header) + 4))
    workbook.close()
    return buffer.getvalue()


def _decoded(raw: bytes) -> str:
    """The text of a CSV as Excel and LibreOffice save it: UTF-8 with or without a byte-order mark, UTF-16 ("Unicode
    text", with its mark or without), or Windows-1251 (what Excel on a Russian Windows writes as "CSV")."""
    if raw.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif _mostly_low(raw[1:400:2]):
        # UTF-16 without its mark: the high byte of Latin letters, digits and separators is 0, of Cyrillic ones 4;
        # bytes that small never occur in text in UTF-8 or Windows-1251.
        encodings = ("utf-16-le",)
    elif _mostly_low(raw[0:400:2]):
        encodings = ("utf-16-be",)
    else:
        encodings = ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportFileError(
        _("Файл не похож на таблицу в тексте (CSV): сохраните его из Excel или LibreOffice как .xlsx или CSV.")
    )


def _mostly_low(sample: bytes) -> bool:
    return len(sample) >= 2 and sum(1 for byte in sample if byte < 0x09) > len(sample) // 2


def _delimiter(text: str) -> str:
    """The separator of a text table, told by its header line: semicolon (Russian Excel), tab ("Unicode text",
    LibreOffice's choice) or comma; on a tie, in that order."""
    header = text.split("\n", 1)[0]
    return max((";", "\t", ","), key=header.count)


def _workbook_rows(file) -> Iterator[list]:
    # calamine (Rust) reads 100,000 rows in about a second; openpyxl needs half a minute. It reads .xlsx, .xls and .ods.
    try:
        return iter(CalamineWorkbook.from_filelike(file).get_sheet_by_index(0).iter_rows())
    except (CalamineError, ValueError, OSError, IndexError) as error:
        raise ImportFileError(
            _("Не удалось прочитать файл Excel: сохраните его как .xlsx и загрузите снова.")
        ) from error


def _read_rows(file, name: str) -> list[tuple[int, dict]]:
    """[(row number as the spreadsheet shows it, {field: raw value})], empty rows skipped. What the file is comes from
    its first bytes (a workbook is a ZIP or an OLE2 file), not from its name."""
    head = file.read(len(OLE2_HEAD))
    file.seek(0)
    suffix = name.lower()[name.rfind(".") :] if "." in name else ""
    if head.startswith((ZIP_HEAD, OLE2_HEAD)):
        raw_rows = _workbook_rows(file)
    elif suffix in WORKBOOK_SUFFIXES:
        raise ImportFileError(_("Не удалось прочитать файл Excel: сохраните его как .xlsx и загрузите снова."))
    elif suffix in TEXT_SUFFIXES:
        text = _decoded(file.read())
        raw_rows = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    else:
        raise ImportFileError(_("Загрузите файл .xlsx, .xls, .ods, .csv или .txt."))
    try:
        return _rows_of(raw_rows)
    except csv.Error as error:
        raise ImportFileError(
            _("Не удалось прочитать CSV (%(error)s): сохраните файл из Excel или LibreOffice заново.")
            % {"error": error}
        ) from error


def _blank(row) -> bool:
    return all(value is None or str(value).strip() == "" for value in row)


def _rows_of(raw_rows: Iterator[list]) -> list[tuple[int, dict]]:
    numbered = enumerate(raw_rows, start=1)
    # The header is the first row that holds anything; the numbers stay those the spreadsheet shows.
    header = next((row for _number, row in numbered if not _blank(row)), None)
    if header is None:
        raise ImportFileError(_("Файл пустой."))
    fields = [HEADER_TO_FIELD.get(_normalise_header(cell)) for cell in header]
    missing = [column.header for column in COLUMNS if column.required and column.field not in fields]
    if missing:
        raise ImportFileError(
            _("В первой строке нет обязательных столбцов: %(columns)s. Скачайте шаблон и сверьте заголовки.")
            % {"columns": ", ".join(missing)}
        )
    rows = []
    for number, raw_row in numbered:
        values = {field: value for field, value in zip(fields, raw_row, strict=False) if field}
        if _blank(values.values()):
            continue
        rows.append((number, values))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ImportFileError(
                _("В файле больше %(limit)s строк: разделите его на части.")
                % {"limit": f"{MAX_IMPORT_ROWS:,}".replace(",", " ")}
            )
    if not rows:
        raise ImportFileError(_("В файле нет ни одной строки с данными."))
    return rows


def _cell_text(value) -> str:
    """A cell as its text, as typed: a whole number without ".0", the guarding apostrophe of our own exports taken
    off (registry.spreadsheet.csv_cell_text)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return csv_cell_value(str(value).strip(" "))


def _text(value) -> str:
    """A cell of a keyword column (sex, category, yes/no, a date) with its spaces closed up."""
    return " ".join(_cell_text(value).split())


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _flag(value) -> bool | None:
    text = _text(value).lower()
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    return None


def _clean_row(values: dict, today: datetime.date) -> tuple[dict, list[tuple[str, str]]]:
    """(member fields, [(column header, message)]) for one row. Names, phone, e-mail and position go through the
    checks the forms use (membership.validation): a value that does not fit is an error, never cut or changed."""
    headers = {column.field: column.header for column in COLUMNS}
    cleaned, problems = {}, []

    def problem(field, message):
        problems.append((headers[field], message))

    for column in COLUMNS:
        raw = values.get(column.field)
        if column.required and _text(raw) == "":
            problem(column.field, _("не заполнено"))
    for field, check in validation.TEXT_CHECKS.items():
        raw = _cell_text(values.get(field))
        cleaned[field] = ""
        if raw.strip() == "":
            continue  # an empty required cell is reported above
        try:
            cleaned[field] = check(raw)
        except ValidationError as error:
            problem(field, error.messages[0])
    for field in ("birth_date", "union_joined_on", "org_joined_on"):
        raw = values.get(field)
        if _text(raw) == "":
            cleaned[field] = None
            continue
        parsed = _date(raw)
        if parsed is None:
            problem(field, _("«%(value)s» — не дата; пишите ДД.ММ.ГГГГ") % {"value": _text(raw)})
        elif parsed > today:
            problem(field, _("дата в будущем"))
            parsed = None
        cleaned[field] = parsed
    cleaned["org_joined_on"] = cleaned["org_joined_on"] or cleaned["union_joined_on"]
    sex = SEX_WORDS.get(_text(values.get("sex")).lower())
    if sex is None and _text(values.get("sex")):
        problem("sex", _("«%(value)s» — укажите «ж» или «м»") % {"value": _text(values.get("sex"))})
    cleaned["sex"] = sex
    category_text = _text(values.get("category")).lower().replace("ё", "е")
    category = CATEGORY_WORDS.get(category_text) or (category_text if category_text in Member.Category.values else None)
    if category is None and category_text:
        problem("category", _("неизвестная категория «%(value)s»: %(allowed)s") % {
            "value": _text(values.get("category")), "allowed": ", ".join(sorted(set(CATEGORY_WORDS) - {"работник", "студент", "пенсионер"})),
        })  # fmt: skip
    cleaned["category"] = category
    for field in ("is_teaching_staff", "dues_application"):
        flag = _flag(values.get(field))
        if flag is None:
            problem(field, _("«%(value)s» — укажите «да» или «нет»") % {"value": _text(values.get(field))})
        cleaned[field] = bool(flag)
    birth, joined, org_joined = cleaned["birth_date"], cleaned["union_joined_on"], cleaned["org_joined_on"]
    if birth:
        try:
            validation.birth_date_check(birth, joined_on=joined, today=today)
        except ValidationError as error:
            problem("union_joined_on" if error.code == "too_young" else "birth_date", error.messages[0])
    if joined and org_joined and org_joined < joined:
        problem("org_joined_on", _("раньше даты вступления в Профсоюз"))
    return cleaned, problems


@dataclass
class CheckedFile:
    rows: list[tuple[int, dict]]  # (row number, member fields) of the rows without errors
    total: int
    errors: list[dict]
    error_count: int
    duplicates: list[dict]
    duplicate_keys: set


def _check_file(job: MemberImport, progress: Callable[[int], None]) -> CheckedFile:
    with job.file.open("rb") as file:
        raw_rows = _read_rows(file, job.original_name)
    today = timezone.localdate()
    good, errors, error_count, seen = [], [], 0, {}
    for position, (number, values) in enumerate(raw_rows, start=1):
        cleaned, problems = _clean_row(values, today)
        key = (
            search_name_of(cleaned["last_name"], cleaned["first_name"], cleaned["middle_name"]),
            cleaned["birth_date"],
        )
        if not problems and key in seen:
            problems.append(("Фамилия", _("повторяет строку %(row)s (те же ФИО и дата рождения)") % {"row": seen[key]}))
        seen.setdefault(key, number)
        if problems:
            error_count += len(problems)
            errors.extend({"row": number, "column": column, "message": message} for column, message in problems)
        else:
            good.append((number, cleaned | {"search_name": key[0]}))
        if position % PROGRESS_EVERY == 0:
            progress(int(position / len(raw_rows) * 80))
    duplicates, duplicate_keys = _union_duplicates(good)
    progress(95)
    return CheckedFile(
        rows=good, total=len(raw_rows), errors=errors[:PREVIEW_LIMIT], error_count=error_count,
        duplicates=duplicates, duplicate_keys=duplicate_keys,
    )  # fmt: skip


def _union_duplicates(rows: list[tuple[int, dict]]) -> tuple[list[dict], set]:
    """Rows whose person (same name and date of birth) is already on the register anywhere in the union."""
    found, keys = [], set()
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        wanted = {(fields["search_name"], fields["birth_date"]): number for number, fields in chunk}
        existing = (
            Member.objects.filter(search_name__in={name for name, _ in wanted})
            .values_list("search_name", "birth_date", "organization__name", "organization__region__name")
        )  # fmt: skip
        for name, birth_date, org_name, region_name in existing:
            number = wanted.get((name, birth_date))
            if number is not None and (name, birth_date) not in keys:
                keys.add((name, birth_date))
                found.append(
                    {"row": number, "name": name, "where": f"{org_name}" + (f" ({region_name})" if region_name else "")}
                )
    found.sort(key=lambda item: item["row"])
    return found, keys


def _progress_key(job_id: int) -> str:
    return f"member-import-progress-{job_id}"


def member_import_progress(job: MemberImport) -> int:
    if not job.is_running:
        return 100
    return cache.get(_progress_key(job.pk), 0)


def _reporter(job_id: int) -> Callable[[int], None]:
    # The cache, not the row: the commit runs in one transaction whose writes nobody sees until the end.
    return lambda percent: cache.set(_progress_key(job_id), percent, timeout=3600)


@transaction.atomic
def member_import_start(*, by: User, organization: Organization, uploaded_file) -> MemberImport:
    """Accept an uploaded file for checking; nothing reaches the register yet."""
    if not user_can_manage_members(by, organization):
        raise PermissionDenied
    ensure_member_organization(organization)
    name = uploaded_file.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in WORKBOOK_SUFFIXES + TEXT_SUFFIXES:
        raise ImportFileError(_("Загрузите файл .xlsx, .xls, .ods, .csv или .txt."))
    if uploaded_file.size > MAX_IMPORT_BYTES:
        raise ImportFileError(_("Файл больше 50 МБ: разделите его на части."))
    job = MemberImport(organization=organization, uploaded_by=by, original_name=name[:255])
    job.file.save(f"import-{organization.pk}{suffix}", uploaded_file, save=False)
    job.save()
    return job


def member_import_discard_unqueued(*, job: MemberImport) -> None:
    """The check could not be queued (Redis down): the upload is refused whole, so no job waits for a check that
    will never come."""
    if MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.VALIDATING).delete()[0]:
        job.file.delete(save=False)


def member_import_commit_unqueued(*, job: MemberImport) -> MemberImport:
    """The commit could not be queued (Redis down): the checked file goes back to waiting for the chair's «Записать
    в реестр». Should the message have reached a worker after all, its commit finds the job not committing and stops,
    or (having locked the job first) finishes, and then the job is not committing here."""
    MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.COMMITTING).update(
        status=MemberImport.Status.VALIDATED, step_started_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _job_fail(job_id: int, *, stage: str, error: BaseException) -> None:
    """End a running job as failed after an unforeseen error: the traceback goes to the log under a code, the page
    shows the code. Called inside the `except` block."""
    reference = failure_logged(logger, "member import %s: the %s failed", job_id, stage)
    if isinstance(error, SoftTimeLimitExceeded):
        reason = _("Обработка файла не уложилась в %(minutes)s минут и остановлена.") % {
            "minutes": int(IMPORT_TIME_LIMIT.total_seconds() // 60)
        }
    elif stage == "check":
        reason = _("Сбой при проверке файла.")
    else:
        reason = _("Сбой при записи в реестр.")
    failure = reason + " " + _("Сообщите в службу поддержки код сбоя %(reference)s.") % {"reference": reference}
    MemberImport.objects.filter(pk=job_id, status__in=RUNNING_STATUSES).update(
        status=MemberImport.Status.FAILED, failure=failure, finished_at=timezone.now()
    )


def member_import_check(*, job_id: int) -> MemberImport:
    """Check every row and store the preview: errors with row numbers and reasons, matches in the register."""
    job = MemberImport.objects.get(pk=job_id)
    if job.status != MemberImport.Status.VALIDATING:
        return job  # checked already, or given up on by the beat task
    try:
        checked = _check_file(job, _reporter(job.pk))
    except ImportFileError as error:
        result = {
            "status": MemberImport.Status.INVALID,
            "errors": [{"row": 1, "column": "", "message": error.message}],
            "error_count": 1,
        }
    except Exception as error:
        _job_fail(job.pk, stage="check", error=error)
        job.refresh_from_db()
        return job
    else:
        result = {
            "status": MemberImport.Status.INVALID if checked.error_count else MemberImport.Status.VALIDATED,
            "total_rows": checked.total, "valid_rows": len(checked.rows),
            "errors": checked.errors, "error_count": checked.error_count,
            "duplicates": checked.duplicates[:PREVIEW_LIMIT], "duplicate_count": len(checked.duplicates),
        }  # fmt: skip
    # Only a job still being checked: one the beat task has meanwhile marked failed stays failed.
    MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.VALIDATING).update(
        **result, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def member_import_request_commit(*, by: User, job: MemberImport, include_duplicates: bool) -> MemberImport:
    if not user_can_manage_members(by, job.organization):
        raise PermissionDenied
    updated = MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.VALIDATED).update(
        status=MemberImport.Status.COMMITTING, include_duplicates=include_duplicates, finished_at=None,
        step_started_at=timezone.now(),
    )  # fmt: skip
    if not updated:
        raise MembershipError(_("Этот файл уже загружен или в нём есть ошибки."))
    job.refresh_from_db()
    return job


def member_import_commit(*, job_id: int) -> MemberImport:
    """Write every checked row in one transaction: on any failure nothing of the file is on the register."""
    job = MemberImport.objects.select_related("organization", "uploaded_by").get(pk=job_id)
    if job.status != MemberImport.Status.COMMITTING:
        return job  # a retried task finds the work done (or never requested) and stops
    report = _reporter(job.pk)
    try:
        checked = _check_file(job, lambda percent: report(percent // 2))
        if checked.error_count:
            raise MembershipError(_("Данные в файле изменились или стали неверными: проверьте файл заново."))
        with transaction.atomic():
            # Serialises two commits of the same job (a retried task racing the first run).
            locked = MemberImport.objects.select_for_update().get(pk=job.pk)
            if locked.status != MemberImport.Status.COMMITTING:
                return locked
            written = _write_members(job, checked, report)
            MemberImport.objects.filter(pk=job.pk).update(
                status=MemberImport.Status.COMMITTED, committed_count=written, finished_at=timezone.now()
            )
            access_log_write(
                user=job.uploaded_by, action=AccessLog.Action.CREATE, object_type="membership.member",
                object_repr=f"Загрузка из файла «{job.original_name}»", organization_path=job.organization.path,
                details={"import": job.pk, "count": written},
            )  # fmt: skip
    except (MembershipError, ImportFileError) as error:
        MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.COMMITTING).update(
            status=MemberImport.Status.FAILED, failure=error.message, finished_at=timezone.now()
        )
    except DatabaseError:
        reference = failure_logged(logger, "member import %s: the commit failed in the database", job.pk)
        MemberImport.objects.filter(pk=job.pk, status=MemberImport.Status.COMMITTING).update(
            status=MemberImport.Status.FAILED,
            failure=_(
                "Сбой базы данных при записи. Ничего из файла не записано; попробуйте загрузить ещё раз. "
                "Если сбой повторится, сообщите в службу поддержки код сбоя %(reference)s."
            ) % {"reference": reference},
            finished_at=timezone.now(),
        )  # fmt: skip
        raise
    except Exception as error:
        _job_fail(job.pk, stage="commit", error=error)
    job.refresh_from_db()
    return job


def member_imports_fail_stuck(*, now: datetime.datetime | None = None) -> int:
    """The beat task: a job still being checked or written longer than IMPORT_TIME_LIMIT after its step began was
    lost (its worker died or its message never arrived); it ends as failed, and the chair uploads the file again.
    Returns how many jobs were ended."""
    cutoff = (now or timezone.now()) - IMPORT_TIME_LIMIT
    failure = _(
        "Обработка файла прервалась и не закончилась за %(minutes)s минут. Ничего из файла не записано; "
        "загрузите его ещё раз."
    ) % {"minutes": int(IMPORT_TIME_LIMIT.total_seconds() // 60)}
    stuck = MemberImport.objects.filter(status__in=RUNNING_STATUSES, step_started_at__lt=cutoff)
    ended = 0
    for job_id in stuck.values_list("pk", flat=True):
        # One conditional update per job: a commit finishing at this moment keeps its own final state.
        ended += MemberImport.objects.filter(pk=job_id, status__in=RUNNING_STATUSES, step_started_at__lt=cutoff).update(
            status=MemberImport.Status.FAILED, failure=failure, finished_at=timezone.now()
        )
        logger.warning("member import %s: lost for more than %s, marked failed", job_id, IMPORT_TIME_LIMIT)
    return ended


MEMBER_IMPORT_COLUMNS = (
    "id", "organization_id", "last_name", "first_name", "middle_name", "search_name", "birth_date", "sex", "phone",
    "email", "category", "position", "is_teaching_staff", "union_joined_on", "org_joined_on", "dues_application",
    "status", "leaving_reason", "is_committee_member", "is_audit_member", "is_group_organiser", "is_safety_rep",
    "created_at", "updated_at",
)  # fmt: skip
EVENT_IMPORT_COLUMNS = ("member_id", "created_at", "by_id", "kind", "organization_id", "changes", "note")


def _write_members(job: MemberImport, checked: CheckedFile, report: Callable[[int], None]) -> int:
    """All rows with ids taken up front, so members and their "imported" events go in by COPY on PostgreSQL."""
    rows = [
        fields for _number, fields in checked.rows
        if job.include_duplicates or (fields["search_name"], fields["birth_date"]) not in checked.duplicate_keys
    ]  # fmt: skip
    ids = next_ids(Member, len(rows))
    now = timezone.now()
    org_id = job.organization_id
    member_rows = (
        (member_id, org_id, f["last_name"], f["first_name"], f["middle_name"], f["search_name"], f["birth_date"],
         f["sex"], f["phone"], f["email"], f["category"], f["position"], f["is_teaching_staff"], f["union_joined_on"],
         f["org_joined_on"], f["dues_application"], Member.Status.ACTIVE, "", False, False, False, False, now, now)
        for member_id, f in zip(ids, rows, strict=True)
    )  # fmt: skip
    written = write_rows(Member, columns=MEMBER_IMPORT_COLUMNS, rows=member_rows)
    report(80)
    note = job.original_name[:500]
    no_changes = Jsonb({}) if uses_copy() else {}
    event_rows = (
        (member_id, now, job.uploaded_by_id, MemberEvent.Kind.IMPORTED, org_id, no_changes, note) for member_id in ids
    )
    write_rows(MemberEvent, columns=EVENT_IMPORT_COLUMNS, rows=event_rows)
    report(99)
    return written
