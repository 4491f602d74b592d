"""Every value checked, nothing silently changed (issue 10, item 2): one set of checks for the import and the forms,
every PDF prints what the database holds, every spreadsheet the portal writes keeps text as text, and uploaded
scans are told by what they contain."""

import csv
import datetime
import io
import re

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from accounts.models import Role
from demo.people import demo_member_rows
from demo.plan import DEMO_REFERENCE_DATE, demo_plan
from discounts.payouts import RegisterRow, register_csv
from membership import validation
from membership.models import Consent, Member, MemberEvent, MemberImport
from membership.services import MembershipError, consent_record, member_admit
from registry.services import regions_load
from tests.factories import MemberFactory, UserFactory

HEADER = ["Фамилия*", "Имя*", "Отчество", "Дата рождения*", "Пол*", "Телефон", "E-mail", "Категория*",
          "Должность / учебная группа", "Педагогический работник", "Дата вступления в Профсоюз*",
          "Дата постановки на учёт", "Заявление об удержании взносов"]  # fmt: skip
COLUMN = {"last_name": 0, "first_name": 1, "middle_name": 2, "birth_date": 3, "phone": 5, "email": 6, "position": 8,
          "union_joined_on": 10, "org_joined_on": 11}  # fmt: skip
YEARS_AGO_110 = timezone.localdate().year - 111


def import_row(**changes) -> list[str]:
    row = ["Иванова", "Анна", "Петровна", "15.03.1985", "ж", "", "", "работающий", "учитель", "да", "01.09.2010",
           "01.09.2010", "да"]  # fmt: skip
    for field, value in changes.items():
        row[COLUMN[field]] = value
    return row


ADMISSION = {
    "last_name": "Иванова", "first_name": "Анна", "middle_name": "Петровна", "birth_date": "1985-03-15", "sex": "f",
    "phone": "", "email": "", "category": "working", "position": "учитель", "union_joined_on": "2010-09-01",
    "org_joined_on": "2010-09-01",
}  # fmt: skip

# (field, value as typed, the words of the refusal): the same value, the same words, in the import and in the form.
REFUSED = [
    ("last_name", "Я" * 500, "длиннее 150 знаков (здесь 500)"),
    ("last_name", "Иванова2", "недопустимый знак «2»"),
    ("last_name", "Ивaнова", "в слове «Ивaнова» смешаны русские и латинские буквы"),  # a Latin "a"
    ("last_name", "Петрова-Smithа", "в слове «Smithа» смешаны"),
    ("last_name", "=SUM(A1)", "начинается с «=», как формула"),
    ("last_name", "+1+1", "начинается с «+», как формула"),
    ("last_name", "-Петрова", "начинается с «-», как формула"),
    ("first_name", "@SUM(A1)", "начинается с «@», как формула"),
    ("first_name", "<b>Анна", "недопустимый знак «<»"),
    ("first_name", "Ан\x07на", "недопустимый знак U+0007"),
    ("first_name", "Анна\u200b", "недопустимый знак U+200B"),
    ("first_name", "Анна😀", "недопустимый знак «😀»"),
    ("middle_name", "Анна--Мария", "ставят только между буквами"),
    ("middle_name", "Петровна'", "ставят только между буквами"),
    ("phone", "123", "«123» — не номер телефона"),
    ("phone", "+1 212 555-01-23", "не номер телефона"),
    ("phone", "8 900 123-45-6x", "не номер телефона"),
    ("email", "ivanova@", "«ivanova@» — не адрес электронной почты"),
    ("email", "ivanova@школа😀.рф", "недопустимый знак «😀»"),
    ("position", "учитель " + "я" * 300, "длиннее 255 знаков"),
    ("position", "учитель\x0bфизики", "недопустимый знак U+000B"),
    ("position", "учитель 🎓", "недопустимый знак «🎓»"),
]
# (field, as typed, as stored): what is accepted, and the one rewriting there is (a phone in the register's form).
ACCEPTED = [
    ("last_name", "Smith", "Smith"),
    ("last_name", "O'Brien", "O'Brien"),
    ("last_name", "Д’Артаньян", "Д’Артаньян"),
    ("last_name", "Петрова-Водкина", "Петрова-Водкина"),
    ("last_name", "Ван дер Берг", "Ван дер Берг"),
    ("first_name", "Гөлнара", "Гөлнара"),  # Tatar letters are Cyrillic letters
    ("first_name", "  Анна   Мария ", "Анна Мария"),
    ("phone", "8 (900) 123-45-67", "+7 900 123-45-67"),
    ("phone", "9001234567", "+7 900 123-45-67"),
    ("phone", "+79001234567", "+7 900 123-45-67"),
    ("email", "anna.ivanova@example.org", "anna.ivanova@example.org"),
    ("position", "учитель, № 5 — «гимназия»", "учитель, № 5 — «гимназия»"),
]
DATES_REFUSED = [
    ({"birth_date": "01.01.1890"}, "birth_date", "больше 110 лет"),
    (
        {"birth_date": f"01.01.{YEARS_AGO_110}", "union_joined_on": "01.09.1950", "org_joined_on": "01.09.1950"},
        "birth_date",
        "больше 110 лет",
    ),
    (
        {"birth_date": "01.06.2000", "union_joined_on": "01.09.2013", "org_joined_on": "01.09.2013"},
        "union_joined_on",
        "В Профсоюз вступают с 14 лет",
    ),
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def upload(client_for, users, union, django_capture_on_commit_callbacks):
    def run(rows) -> MemberImport:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";").writerows([HEADER, *rows])
        with django_capture_on_commit_callbacks(execute=True):
            client_for(users.chair).post(
                reverse("membership:import_upload", args=[union.primary_a1a.pk]),
                {"file": SimpleUploadedFile("spisok.csv", buffer.getvalue().encode("utf-8"))},
            )
        return MemberImport.objects.latest("id")

    return run


@pytest.fixture
def commit(client_for, users, django_capture_on_commit_callbacks):
    def run(job) -> MemberImport:
        with django_capture_on_commit_callbacks(execute=True):
            client_for(users.chair).post(reverse("membership:import_job", args=[job.pk]), {})
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def admit(client_for, users, union):
    def run(**changes):
        response = client_for(users.chair).post(
            reverse("membership:member_admit", args=[union.primary_a1a.pk]), {**ADMISSION, **changes}
        )
        return response

    return run


def iso(date_text: str) -> str:
    return datetime.datetime.strptime(date_text, "%d.%m.%Y").date().isoformat()


# --- the rules, in the import and in the form ---------------------------------------------------------------------


def test_every_refused_value_is_a_row_error_with_its_number_and_nothing_is_written_or_cut(upload):
    job = upload([import_row(**{field: value}) for field, value, _words in REFUSED])
    assert job.status == "invalid" and job.valid_rows == 0
    found = {(error["row"], error["column"]): error["message"] for error in job.errors}
    for number, (field, _value, words) in enumerate(REFUSED, start=2):
        column = HEADER[COLUMN[field]].rstrip("*")
        assert words in found.get((number, column), ""), (number, column, found.get((number, column)))
    assert Member.objects.count() == 0


def test_every_refused_value_is_refused_by_the_admission_form_in_the_same_words(admit):
    for field, value, words in REFUSED:
        response = admit(**{field: value})
        assert response.status_code == 200, field
        messages = response.context["form"].errors[field]
        assert any(words.lower() in message.lower() for message in messages), (field, value, messages)
    assert Member.objects.count() == 0


@pytest.mark.parametrize(("dates", "field", "words"), DATES_REFUSED)
def test_implausible_dates_are_refused_in_the_import_and_the_form(upload, admit, dates, field, words):
    job = upload([import_row(**dates)])
    column = HEADER[COLUMN[field]].rstrip("*")
    assert [(error["row"], error["column"]) for error in job.errors] == [(2, column)]
    assert words in job.errors[0]["message"]

    response = admit(**{name: iso(value) for name, value in dates.items()})
    assert any(words in message for message in response.context["form"].errors[field])
    assert Member.objects.count() == 0


def test_accepted_values_are_stored_as_typed_in_the_import_and_the_form(upload, commit, admit):
    # A different date of birth on each row, so that no row repeats another person.
    rows = [import_row(**{field: typed, "birth_date": f"{number + 1:02d}.03.1985"})
            for number, (field, typed, _stored) in enumerate(ACCEPTED)]  # fmt: skip
    job = upload(rows)
    assert (job.status, job.errors) == ("validated", [])
    assert commit(job).status == "committed"
    imported = Member.objects.order_by("id")
    for member, (field, _typed, stored) in zip(imported, ACCEPTED, strict=True):
        assert getattr(member, field) == stored, field
    Member.objects.all().delete()

    for field, typed, stored in ACCEPTED:
        assert admit(**{field: typed}).status_code == 302, field
        assert getattr(Member.objects.latest("id"), field) == stored
        Member.objects.all().delete()


def test_the_members_own_contacts_pass_the_same_checks(client, union, users):
    member = MemberFactory(organization=union.primary_a1a, last_name="Зайцева", user=users.member)
    client.force_login(users.member)
    refused = client.post(reverse("membership:my_contacts"), {"phone": "123", "email": "x@"})
    assert "не номер телефона" in refused.content.decode() and "не адрес электронной почты" in refused.content.decode()
    assert client.post(reverse("membership:my_contacts"), {"phone": "8 900 1234567", "email": ""}).status_code == 302
    member.refresh_from_db()
    assert member.phone == "+7 900 123-45-67"


def test_the_services_refuse_what_the_forms_refuse(users, union):
    fields = {"first_name": "Анна", "birth_date": datetime.date(1985, 3, 15), "sex": "f", "category": "working",
              "union_joined_on": datetime.date(2010, 9, 1), "org_joined_on": datetime.date(2010, 9, 1)}  # fmt: skip
    with pytest.raises(MembershipError, match="Фамилия: «=1\\+1» начинается с «=»"):
        member_admit(by=users.chair, organization=union.primary_a1a, last_name="=1+1", **fields)
    with pytest.raises(MembershipError, match="больше 110 лет"):
        member_admit(by=users.chair, organization=union.primary_a1a, last_name="Иванова",
                     **(fields | {"birth_date": datetime.date(1890, 1, 1)}))  # fmt: skip
    member = member_admit(
        by=users.chair, organization=union.primary_a1a, last_name="Иванова", phone="89001234567", **fields
    )
    assert member.phone == "+7 900 123-45-67"


def test_the_demo_union_passes_the_checks(db):
    regions_load()
    plan = demo_plan(members=20_000, seed=3)
    rows = demo_member_rows(plan=plan, seed=3, created_at=timezone.now())
    checked = 0
    for row in rows:
        _id, _org, last, first, middle, _search, birth, _sex, phone, email, _cat, position, *_rest = row
        joined = row[13]
        fields = {"last_name": last, "first_name": first, "middle_name": middle, "phone": phone, "email": email,
                  "position": position}  # fmt: skip
        assert validation.member_text_clean(fields) == fields
        validation.birth_date_check(
            datetime.date.fromisoformat(birth), joined_on=datetime.date.fromisoformat(joined), today=DEMO_REFERENCE_DATE
        )
        checked += 1
    assert checked == 20_000


# --- PDFs print what the database holds ---------------------------------------------------------------------------

MARKUP_NAMES = {"last_name": "<b>Иванова", "first_name": "</para>", "middle_name": "Tom & Jerry <br/>"}


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def marked_up_member(union, users):
    """Values the checks now refuse, as an older import could have left them in the database."""
    union.primary_a1a.__class__.objects.filter(pk=union.primary_a1a.pk).update(name="ППО <i>школы</i> & «Лицей»")
    member = MemberFactory(organization=union.primary_a1a, user=users.member, **MARKUP_NAMES)
    MemberEvent.objects.create(member=member, by=users.chair, kind="changed", organization=union.primary_a1a,
                               note="Исправлено: </para><para> & <font>")  # fmt: skip
    Consent.objects.create(member=member, purpose="processing", text_version="2025-09",
                           given_on=datetime.date(2025, 1, 1), method="signed_form")  # fmt: skip
    return member


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("chair", lambda member: reverse("membership:consent_form_pdf", args=[member.pk, "processing"])),
        ("chair", lambda member: reverse("membership:member_data", args=[member.pk, "pdf"])),
        ("member", lambda member: reverse("membership:my_consent_form_pdf", args=["partners"])),
        ("member", lambda member: reverse("membership:my_data", args=["pdf"])),
    ],
    ids=["consent form (staff)", "member data (staff)", "consent form (member)", "my data (member)"],
)
def test_every_pdf_prints_names_with_markup_as_typed(client_for, users, marked_up_member, who, url):
    response = client_for(users.by_role(who)).get(url(marked_up_member))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = re.sub(r"\s+", " ", pdf_text(response.content))
    assert "<b>Иванова </para> Tom & Jerry <br/>" in text
    assert "ППО <i>школы</i> & «Лицей»" in text


def test_the_history_note_with_markup_is_printed_in_my_data(client_for, users, marked_up_member):
    text = pdf_text(client_for(users.member).get(reverse("membership:my_data", args=["pdf"])).content)
    assert "Исправлено: </para><para> & <font>" in re.sub(r"\s+", " ", text)


# --- spreadsheets keep text as text -------------------------------------------------------------------------------


@pytest.fixture
def formula_member(union):
    return MemberFactory(organization=union.primary_a1a, last_name="=SUM(A1)", first_name="@SUM(A1)",
                         middle_name="-1", position="+1+1", phone="+7 900 123-45-67")  # fmt: skip


def test_member_xlsx_export_holds_formulas_as_strings(client_for, users, formula_member):
    response = client_for(users.chair).get(reverse("membership:member_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = {cell.value: cell.data_type for cell in sheet[2] if cell.value}
    for text in ("=SUM(A1)", "@SUM(A1)", "-1", "+1+1", "+7 900 123-45-67"):
        assert cells.get(text) == "s", (text, cells)


def test_member_csv_export_guards_formula_starts_and_loads_back(
    client_for, users, union, formula_member, upload, commit
):
    response = client_for(users.chair).get(reverse("membership:member_export", args=["csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    row = next(csv.reader(io.StringIO(text.splitlines()[1]), delimiter=";"))
    assert row[:3] == ["'=SUM(A1)", "'@SUM(A1)", "'-1"]
    assert row[5] == "'+7 900 123-45-67" and row[8] == "'+1+1"

    # A correct member exported and loaded back keeps the phone (the apostrophe guarding "+7" comes off).
    Member.objects.all().delete()
    MemberFactory(organization=union.primary_a1a, last_name="Телефонова", phone="+7 900 123-45-67",
                  search_name="телефонова мария ивановна")  # fmt: skip
    exported = b"".join(
        client_for(users.chair).get(reverse("membership:member_export", args=["csv"])).streaming_content
    ).decode("utf-8-sig")
    assert "'+7 900 123-45-67" in exported
    Member.objects.all().delete()
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))[1:]
    job = upload([row[:13] for row in rows])
    assert job.status == "validated"
    assert commit(job).status == "committed"
    assert Member.objects.get().phone == "+7 900 123-45-67"


def test_import_templates_hold_only_text(client_for, users):
    content = client_for(users.chair).get(reverse("membership:import_template", args=["xlsx"])).content
    sheet = load_workbook(io.BytesIO(content)).active
    assert {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value} == {"s"}
    text = client_for(users.chair).get(reverse("membership:import_template", args=["csv"])).content.decode("utf-8-sig")
    assert ";'+7 900 123-45-67;" in text


def test_payout_register_guards_names_that_start_like_formulas():
    content = register_csv(
        month=datetime.date(2026, 10, 1), purpose="Кэшбэк",
        rows=[RegisterRow(line_id=1, last_name="=HYPERLINK(1)", first_name="+1", middle_name="@A", phone="",
                          bank="Банк", amount=100)],
    ).decode("utf-8-sig")  # fmt: skip
    assert ";'=HYPERLINK(1);'+1;'@A;" in content


# --- uploaded scans are told by their content ---------------------------------------------------------------------


def picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 60), "white").save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "stored_as"),
    [
        ("scan.pdf", b"%PDF-1.4\n%%EOF\n", ".pdf"),
        ("scan.jpg", picture("JPEG"), ".jpg"),
        ("scan.pdf", picture("PNG"), ".png"),  # a picture under a PDF's name is kept as what it is
        ("IMG_0001", picture("JPEG"), ".jpg"),
    ],
)
def test_a_scan_is_kept_as_what_it_contains(users, union, name, content, stored_as):
    member = MemberFactory(organization=union.primary_a1a)
    consent = consent_record(by=users.chair, member=member, purpose="processing", given_on=datetime.date(2025, 1, 1),
                             method="scan", scan=SimpleUploadedFile(name, content))  # fmt: skip
    assert consent.scan.name.endswith(stored_as)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", b"MZ\x90\x00 a program"),
        ("scan.png", b"<html><script>alert(1)</script></html>"),
        ("scan.jpg", picture("JPEG")[:200]),  # cut short in the upload
        ("scan.png", picture("GIF")),  # a picture, but not one a scan comes as
    ],
    ids=["program named .pdf", "page named .png", "truncated JPEG", "GIF named .png"],
)
def test_a_file_that_is_not_a_scan_is_refused_whatever_its_name(client_for, users, union, name, content):
    member = MemberFactory(organization=union.primary_a1a)
    response = client_for(users.chair).post(
        reverse("membership:consent_add", args=[member.pk]),
        {
            "purpose": "processing",
            "given_on": "2025-01-01",
            "method": "scan",
            "scan": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 200
    assert "Скан принимается в формате PDF, JPEG или PNG." in response.content.decode()
    assert not Consent.objects.exists()


def test_roles_still_see_only_their_own_members_pdfs(client_for, users, union, marked_up_member):
    other = UserFactory(role=Role.CHAIR, organization=union.primary_b1a)
    url = reverse("membership:member_data", args=[marked_up_member.pk, "pdf"])
    assert client_for(other).get(url).status_code == 404


def test_the_admin_changes_a_record_through_the_same_checks(client, union):
    member = MemberFactory(organization=union.primary_a1a, last_name="Иванова")
    form_class = admin.site._registry[Member].get_form(None, member)
    data = {field: getattr(member, field) for field in form_class.base_fields if hasattr(member, field)}
    data |= {"organization": union.primary_a1a.pk, "user": "", "last_name": "=SUM(A1)", "phone": "123"}
    form = form_class(data, instance=member)
    assert not form.is_valid()
    assert "начинается с «=»" in form.errors["last_name"][0] and "не номер телефона" in form.errors["phone"][0]
