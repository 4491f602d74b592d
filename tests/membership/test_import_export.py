"""Import from .xlsx/.csv (preview with row errors, all-or-nothing commit) and streamed export."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import AccessLog
from membership import imports
from membership.models import Member, MemberEvent, MemberImport
from tests.factories import MemberFactory

HEADER = ["Фамилия*", "Имя*", "Отчество", "Дата рождения*", "Пол*", "Телефон", "E-mail", "Категория*",
          "Должность / учебная группа", "Педагогический работник", "Дата вступления в Профсоюз*",
          "Дата постановки на учёт", "Заявление об удержании взносов"]  # fmt: skip


def letters(number: int) -> str:
    """A number in Russian letters (0 → "а", 29 → "ба"): distinct surnames that are still names."""
    word = ""
    while True:
        number, rest = divmod(number, len(ALPHABET))
        word = ALPHABET[rest] + word
        if not number:
            return word


ALPHABET = "абвгдежзийклмнопрстуфхцчшщэюя"


def good_row(number: int) -> list[str]:
    return [f"Фамилия{letters(number)}", "Анна", "Петровна", "15.03.1985", "ж", "", "", "работающий", "учитель", "да",
            "01.09.2010", "01.09.2015", "да"]  # fmt: skip


def csv_file(rows, name="members.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([HEADER, *rows])
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name="members.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def upload(client_for, users, union, django_capture_on_commit_callbacks):
    """upload(file) -> the import job after checking (Celery runs eagerly in the test settings)."""

    def run(file, user=None, org=None):
        client = client_for(user or users.chair)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("membership:import_upload", args=[(org or union.primary_a1a).pk]), {"file": file}
            )
        assert response.status_code == 302, response.content.decode()[:500]
        return MemberImport.objects.latest("id")

    return run


@pytest.fixture
def commit(client_for, users, django_capture_on_commit_callbacks):
    def run(job, include_duplicates=False, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            client_for(user or users.chair).post(
                reverse("membership:import_job", args=[job.pk]),
                {"include_duplicates": "on"} if include_duplicates else {},
            )
        job.refresh_from_db()
        return job

    return run


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_downloads_and_loads_back_as_one_valid_row(client_for, users, upload, fmt):
    content = client_for(users.chair).get(reverse("membership:import_template", args=[fmt])).content
    job = upload(SimpleUploadedFile(f"template.{fmt}", content))
    assert (job.status, job.total_rows, job.valid_rows, job.error_count) == ("validated", 1, 1, 0)


def test_valid_xlsx_is_previewed_then_written_whole(upload, commit, users, union):
    job = upload(xlsx_file([good_row(n) for n in range(5)]))
    assert job.status == "validated" and Member.objects.count() == 0  # preview writes nothing

    job = commit(job)
    assert job.status == "committed" and job.committed_count == 5
    members = Member.objects.filter(organization=union.primary_a1a)
    assert members.count() == 5 and members.filter(search_name=f"фамилия{letters(3)} анна петровна").exists()
    assert MemberEvent.objects.filter(kind="imported").count() == 5
    assert AccessLog.objects.filter(action="create", details__import=job.pk).exists()


def test_bad_rows_are_reported_by_row_and_reason_and_nothing_is_written(upload, commit, client_for, users):
    rows = [good_row(n) for n in range(6)]
    rows[1][3] = "31.02.1990"  # row 3: no such date
    rows[2][7] = "космонавт"  # row 4: unknown category
    rows[3][0] = ""  # row 5: empty surname
    rows[4][1] = " "  # row 6: empty name
    rows[5][10] = "01.01.2099"  # row 7: joined in the future
    job = upload(csv_file(rows))

    assert job.status == "invalid" and job.total_rows == 6 and job.valid_rows == 1
    problems = {(error["row"], error["column"]): error["message"] for error in job.errors}
    assert "не дата" in problems[(3, "Дата рождения")]
    assert "неизвестная категория «космонавт»" in problems[(4, "Категория")]
    assert problems[(5, "Фамилия")] == "не заполнено" and problems[(6, "Имя")] == "не заполнено"
    assert problems[(7, "Дата вступления в Профсоюз")] == "дата в будущем"

    page = client_for(users.chair).get(reverse("membership:import_job", args=[job.pk])).content.decode()
    assert "неизвестная категория «космонавт»" in page and "Записать в реестр" not in page
    assert commit(job).status == "invalid"
    assert Member.objects.count() == 0


def test_ten_thousand_rows_with_three_bad_ones(upload, commit):
    rows = [good_row(n) for n in range(10_000)]
    rows[122][4] = "x"  # spreadsheet row 124
    rows[5000][3] = "вчера"  # row 5002
    rows[9998][7] = ""  # row 10000
    job = upload(csv_file(rows))
    assert (job.total_rows, job.valid_rows, job.error_count) == (10_000, 9_997, 3)
    assert [error["row"] for error in job.errors] == [124, 5002, 10000]
    commit(job)
    assert Member.objects.count() == 0


def test_same_person_twice_in_a_file_is_an_error_on_the_second_row(upload):
    job = upload(csv_file([good_row(1), good_row(2), good_row(1)]))
    assert job.errors == [{"row": 4, "column": "Фамилия", "message": "повторяет строку 2 (те же ФИО и дата рождения)"}]


def test_people_already_on_the_register_are_shown_and_skipped_unless_asked(upload, commit, union):
    existing = MemberFactory(
        organization=union.primary_b1a, last_name=f"Фамилия{letters(1)}", first_name="Анна", middle_name="Петровна"
    )
    existing.search_name = f"фамилия{letters(1)} анна петровна"
    existing.birth_date = existing.birth_date.replace(year=1985, month=3, day=15)
    existing.save()
    job = upload(csv_file([good_row(1), good_row(2)]))
    assert job.status == "validated" and job.duplicate_count == 1
    assert job.duplicates[0]["row"] == 2 and union.primary_b1a.name in job.duplicates[0]["where"]

    assert commit(job).committed_count == 1
    assert Member.objects.filter(organization=union.primary_a1a).count() == 1


def test_a_failure_while_writing_leaves_nothing_half_written(upload, users, monkeypatch):
    job = upload(csv_file([good_row(n) for n in range(35)]))
    imports.member_import_request_commit(by=users.chair, job=job, include_duplicates=False)
    real_write_rows = imports.write_rows

    def write_members_then_fail(model, **kwargs):
        if model is MemberEvent:  # the members are in by now; the history fails
            raise OperationalError("disk full")
        return real_write_rows(model, **kwargs)

    monkeypatch.setattr(imports, "write_rows", write_members_then_fail)
    with pytest.raises(OperationalError, match="disk full"):
        imports.member_import_commit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "Ничего из файла не записано" in job.failure
    assert Member.objects.count() == 0 and MemberEvent.objects.count() == 0


def test_a_retried_commit_task_writes_nothing_twice(upload, users):
    job = upload(csv_file([good_row(n) for n in range(3)]))
    imports.member_import_request_commit(by=users.chair, job=job, include_duplicates=False)
    imports.member_import_commit(job_id=job.pk)
    imports.member_import_commit(job_id=job.pk)
    assert Member.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("Имя;Отчество\nАнна;Петровна\n", "x.csv", "нет обязательных столбцов: Фамилия, Дата рождения"),
        (
            "Фамилия;Имя;Дата рождения;Пол;Категория;Дата вступления в Профсоюз\n",
            "x.csv",
            "нет ни одной строки с данными",
        ),
        ("not a spreadsheet", "x.xlsx", "Не удалось прочитать файл Excel"),
    ],
)
def test_unreadable_files_are_explained(upload, content, name, message):
    job = upload(SimpleUploadedFile(name, content.encode()))
    assert job.status == "invalid" and message in job.errors[0]["message"]


def test_other_formats_are_refused_at_upload(client_for, users, union):
    response = client_for(users.chair).post(
        reverse("membership:import_upload", args=[union.primary_a1a.pk]),
        {"file": SimpleUploadedFile("list.docx", b"x")},
    )
    assert "Загрузите файл .xlsx, .xls, .ods, .csv или .txt." in response.content.decode()


def test_import_pages_of_another_organisation_are_hidden(upload, client_for, users, union):
    job = upload(csv_file([good_row(1)]))
    assert client_for(users.other_chair).get(reverse("membership:import_job", args=[job.pk])).status_code == 404
    assert (
        client_for(users.other_regional)
        .get(reverse("membership:import_upload", args=[union.primary_a1a.pk]))
        .status_code
        == 404
    )
    assert client_for(users.member).get(reverse("membership:import_job", args=[job.pk])).status_code == 403
    assert (
        client_for(users.regional).get(reverse("membership:import_job_status", args=[job.pk])).json()["status"]
        == "validated"
    )


@pytest.fixture
def two_regions_of_members(union):
    for number in range(3):
        MemberFactory(
            organization=union.primary_a1a,
            last_name=f"Наша{letters(number)}",
            search_name=f"наша{letters(number)} мария ивановна",
        )
    MemberFactory(organization=union.primary_b1a, last_name="Чужая", search_name="чужая мария ивановна")


def test_csv_export_is_streamed_scoped_logged_and_loads_back(client_for, users, two_regions_of_members, upload, union):
    response = client_for(users.regional).get(reverse("membership:member_export", args=["csv"]))
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Фамилия", "Имя", "Отчество"] and len(rows) == 4
    assert "Чужая" not in text and all(row[3].count(".") == 2 for row in rows[1:])
    entry = AccessLog.objects.get(action="export", user=users.regional)
    assert entry.details["count"] == 3 and entry.details["format"] == "csv"

    Member.objects.all().delete()
    job = upload(SimpleUploadedFile("export.csv", text.encode("utf-8")))
    assert job.status == "validated" and job.valid_rows == 3


def test_xlsx_export_follows_the_list_filters(client_for, users, two_regions_of_members):
    response = client_for(users.central).get(
        reverse("membership:member_export", args=["xlsx"]), {"q": f"наша{letters(1)}"}
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [f"Наша{letters(1)}"]


@pytest.mark.parametrize("role", ["member", "cashier"])
def test_export_refused_to_non_staff(client_for, users, role):
    assert client_for(users.by_role(role)).get(reverse("membership:member_export", args=["csv"])).status_code == 403
