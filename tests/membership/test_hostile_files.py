"""Every upload ends in a clear state (issue 10, item 1): whatever file a chair saves from Excel or LibreOffice is
read, an unforeseen fault ends the job as failed with a code the staff quote, and a job lost with its worker is
marked failed by the beat task — nothing stays "being checked" or "being written"."""

import codecs
import csv
import datetime
import io
import re
import traceback

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from membership import imports, tasks
from membership.models import Member, MemberImport

HEADER = ["Фамилия*", "Имя*", "Отчество", "Дата рождения*", "Пол*", "Телефон", "E-mail", "Категория*",
          "Должность / учебная группа", "Педагогический работник", "Дата вступления в Профсоюз*",
          "Дата постановки на учёт", "Заявление об удержании взносов"]  # fmt: skip
# Cells that hold the separators and quotes of every shape, and letters outside ASCII (ё, an apostrophe).
ROWS = [
    ["Семёнова", "Мария", "Петровна", "15.03.1985", "ж", "+7 900 123-45-67", "", "работающий",
     "учитель; математики", "да", "01.09.2010", "01.09.2015", "да"],
    ["Д'Артаньян", "Шарль", "", "01.02.1990", "м", "", "dartagnan@example.org", "работающий",
     'учитель "физики", завуч', "нет", "01.09.2012", "", "нет"],
]  # fmt: skip


def table_text(delimiter: str, rows=ROWS) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([HEADER, *rows])
    return buffer.getvalue()


# (what saves it, file name, bytes): the shapes Excel and LibreOffice write.
SHAPES = [
    ("Excel: CSV UTF-8 (BOM, ;)", "spisok.csv", lambda: codecs.BOM_UTF8 + table_text(";").encode("utf-8")),
    ("LibreOffice: CSV UTF-8 (no BOM, ,)", "spisok.csv", lambda: table_text(",").encode("utf-8")),
    ("Excel on Russian Windows: CSV (cp1251, ;)", "spisok.csv", lambda: table_text(";").encode("cp1251")),
    ("LibreOffice: CSV Windows-1251 (,)", "spisok.csv", lambda: table_text(",").encode("cp1251")),
    (
        'Excel: "Unicode text" (UTF-16 LE with BOM, tab)',
        "spisok.txt",
        lambda: codecs.BOM_UTF16_LE + table_text("\t").encode("utf-16-le"),
    ),
    ("UTF-16 LE without BOM, tab", "spisok.csv", lambda: table_text("\t").encode("utf-16-le")),
    ("UTF-16 BE with BOM, ;", "spisok.csv", lambda: codecs.BOM_UTF16_BE + table_text(";").encode("utf-16-be")),
    ("LibreOffice: text, UTF-8, tab", "spisok.txt", lambda: table_text("\t").encode("utf-8")),
]


@pytest.fixture
def upload(client_for, users, union, django_capture_on_commit_callbacks):
    def run(name, content):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(users.chair).post(
                reverse("membership:import_upload", args=[union.primary_a1a.pk]),
                {"file": SimpleUploadedFile(name, content)},
            )
        assert response.status_code == 302, response.content.decode()[:500]
        return MemberImport.objects.latest("id")

    return run


@pytest.fixture
def commit(client_for, users, django_capture_on_commit_callbacks):
    def run(job):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(users.chair).post(reverse("membership:import_job", args=[job.pk]), {})
        assert response.status_code == 302
        job.refresh_from_db()
        return job

    return run


@pytest.mark.parametrize(("shape", "name", "content"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_every_shape_excel_and_libreoffice_save_is_read_and_written_as_typed(upload, commit, shape, name, content):
    job = upload(name, content())
    assert (job.status, job.total_rows, job.valid_rows, job.errors) == ("validated", 2, 2, [])

    assert commit(job).status == "committed"
    written = {member.last_name: member for member in Member.objects.all()}
    assert set(written) == {"Семёнова", "Д'Артаньян"}
    assert written["Семёнова"].position == "учитель; математики"
    assert written["Д'Артаньян"].position == 'учитель "физики", завуч'
    assert written["Д'Артаньян"].email == "dartagnan@example.org"


def test_a_workbook_is_known_by_its_content_whatever_its_name(upload):
    workbook = Workbook()
    for row in [HEADER, *ROWS]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload("spisok.csv", buffer.getvalue())  # an .xlsx saved under the wrong name
    assert (job.status, job.valid_rows) == ("validated", 2)


def test_row_numbers_are_those_the_spreadsheet_shows_even_below_blank_lines(upload):
    rows = [ROWS[0], ["", "", "", "", "", "", "", "", "", "", "", "", ""], ["Петрова2", *ROWS[0][1:]]]
    job = upload("spisok.csv", ("\r\n" + table_text(";", rows)).encode("utf-8"))  # the header on line 2
    assert [(error["row"], error["column"]) for error in job.errors] == [(5, "Фамилия")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("spisok.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "не похож на таблицу"),
        ("spisok.csv", table_text(";").encode("utf-8").replace(b"\xd0\x9c", b"\x00"), "не похож на таблицу"),
        ("spisok.csv", (table_text(";") + '"' + "я" * 200_000 + '"\r\n').encode("utf-8"), "Не удалось прочитать CSV"),
        ("spisok.xlsx", b"PK\x03\x04 a broken archive", "Не удалось прочитать файл Excel"),
        ("spisok.xls", table_text(";").encode("utf-8"), "Не удалось прочитать файл Excel"),
    ],
    ids=["picture named .csv", "NUL bytes", "a field over the csv module's limit", "broken zip", "text named .xls"],
)
def test_a_file_that_cannot_be_read_is_explained_never_a_server_error(upload, name, content, message):
    job = upload(name, content)
    assert job.status == "invalid" and message in job.errors[0]["message"]


def _reference(job: MemberImport) -> str:
    match = re.search(r"код сбоя ([0-9A-F]{4}-[0-9A-F]{4})", job.failure)
    assert match, job.failure
    return match.group(1)


def _logged_traceback(caplog, reference: str) -> str:
    record = next(record for record in caplog.records if reference in record.getMessage())
    assert record.exc_info, "the traceback is logged beside the code"
    return "".join(traceback.format_exception(*record.exc_info))


def test_an_unforeseen_fault_in_the_check_fails_the_job_with_a_code_found_in_the_log(
    upload, monkeypatch, caplog, client_for, users
):
    def fault(job, progress):
        raise RuntimeError("calamine panicked")

    monkeypatch.setattr(imports, "_check_file", fault)
    job = upload("spisok.txt", codecs.BOM_UTF16_LE + table_text("\t").encode("utf-16-le"))

    assert job.status == "failed" and not job.is_running and job.finished_at
    assert "Сбой при проверке файла" in job.failure
    reference = _reference(job)
    assert "RuntimeError: calamine panicked" in _logged_traceback(caplog, reference)
    page = client_for(users.chair).get(reverse("membership:import_job", args=[job.pk])).content.decode()
    assert reference in page and "не записано ничего" in page


def test_an_unforeseen_fault_while_writing_fails_the_job_and_writes_nothing(upload, commit, monkeypatch, caplog):
    job = upload("spisok.csv", table_text(";").encode("utf-8"))

    def fault(job, checked, report):
        Member.objects.create(
            organization=job.organization, last_name="Половинкина", first_name="Анна",
            birth_date=datetime.date(1980, 1, 1), sex="f", category="working",
            union_joined_on=datetime.date(2000, 1, 1), org_joined_on=datetime.date(2000, 1, 1),
        )  # fmt: skip
        raise KeyError("column")

    monkeypatch.setattr(imports, "_write_members", fault)
    job = commit(job)
    assert job.status == "failed" and "Сбой при записи в реестр" in job.failure
    assert "KeyError" in _logged_traceback(caplog, _reference(job))
    assert Member.objects.count() == 0


def test_a_check_stopped_by_its_time_limit_says_so(upload, monkeypatch):
    def too_long(job, progress):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(imports, "_check_file", too_long)
    job = upload("spisok.csv", table_text(";").encode("utf-8"))
    assert job.status == "failed" and "не уложилась в 30 минут" in job.failure and _reference(job)


def test_the_import_tasks_stop_before_the_beat_task_gives_up_on_them():
    for task in (tasks.member_import_check, tasks.member_import_commit):
        assert task.soft_time_limit < task.time_limit < imports.IMPORT_TIME_LIMIT.total_seconds()


def _job(union, users, *, status, started_minutes_ago):
    return MemberImport.objects.create(
        organization=union.primary_a1a, uploaded_by=users.chair, file="imports/x.csv", original_name="x.csv",
        status=status, step_started_at=timezone.now() - datetime.timedelta(minutes=started_minutes_ago),
    )  # fmt: skip


def test_beat_marks_jobs_lost_past_their_time_limit_failed_and_leaves_the_rest(union, users):
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "membership.tasks.member_imports_fail_stuck"
    )
    assert entry["schedule"] <= imports.IMPORT_TIME_LIMIT.total_seconds() / 2
    Status = MemberImport.Status
    lost_check = _job(union, users, status=Status.VALIDATING, started_minutes_ago=31)
    lost_commit = _job(union, users, status=Status.COMMITTING, started_minutes_ago=45)
    running = _job(union, users, status=Status.COMMITTING, started_minutes_ago=5)
    finished = _job(union, users, status=Status.COMMITTED, started_minutes_ago=600)

    assert tasks.member_imports_fail_stuck.delay().get() == 2

    statuses = dict(MemberImport.objects.values_list("pk", "status"))
    assert statuses == {lost_check.pk: "failed", lost_commit.pk: "failed", running.pk: "committing",
                        finished.pk: "committed"}  # fmt: skip
    lost_check.refresh_from_db()
    assert "не закончилась за 30 минут" in lost_check.failure and lost_check.finished_at

    # The lost task's message arriving late changes nothing: the job stays failed.
    assert imports.member_import_check(job_id=lost_check.pk).status == "failed"
    assert imports.member_import_commit(job_id=lost_commit.pk).status == "failed"


def test_a_commit_request_restarts_the_clock(upload, users):
    job = upload("spisok.csv", table_text(";").encode("utf-8"))
    MemberImport.objects.filter(pk=job.pk).update(step_started_at=timezone.now() - datetime.timedelta(hours=2))
    imports.member_import_request_commit(by=users.chair, job=job, include_duplicates=False)
    assert imports.member_imports_fail_stuck() == 0
