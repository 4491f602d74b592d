"""Exports of the statistics app: spreadsheets read back with openpyxl, PDF text extracted with pypdf, the access
log, and who may download what (the same rules as the page each file exports)."""

import datetime
import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pypdf
import pytest
from django.urls import reverse

from accounts.models import AccessLog
from union_statistics import dashboards, exports, services
from union_statistics.indicators import END, REPORT_INDICATORS, START, WOMEN, figures_derive, report_rows
from union_statistics.models import AnnualReport
from union_statistics.tables import INTEGER, PERCENT, TEXT, Column, StatTable

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)
ENTERED = {"working": [10, 12, 9], "students": [0, 3, 1]}
# Text a spreadsheet would run as a formula, and text that means markup to reportlab.
FORMULA_LIKE = ("=SUM(A1)", "+1+1", "-2+3", "@SUM(A1)")
MARKUP_NAME = "ППО <b>школы</b> № 1 </para> & «Ко» &amp;"


def _workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def _pdf_text(content: bytes) -> str:
    """All pages' text with every run of whitespace made one space, so wrapped lines compare as written."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _pdf_pages(content: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def _flat(text) -> str:
    return " ".join(str(text).split())


def _cells_by_first_value(sheet) -> dict:
    return {row[0].value: row for row in sheet.iter_rows() if row[0].value is not None}


def _table(rows: int = 3) -> StatTable:
    names = [*FORMULA_LIKE, MARKUP_NAME, "Районная организация А1"]
    return StatTable(
        title="Охват профсоюзным членством по организациям",
        columns=[
            Column("name", "Организация", TEXT),
            Column("members", "Членов Профсоюза", INTEGER),
            Column("coverage", "Охват, %", PERCENT),
        ],
        rows=[
            {"name": names[index % len(names)], "members": 1000 + index, "coverage": Decimal("66.7")}
            for index in range(rows)
        ],
        totals={"members": 1000 * rows + sum(range(rows)), "coverage": Decimal("50.0")},
        note="По данным реестра на 29.11.2026",
    )


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------


def test_table_xlsx_has_numbers_as_numbers_and_formula_like_text_as_text():
    table = _table(rows=len(FORMULA_LIKE) + 2)

    sheet = _workbook(exports.stat_table_xlsx(table))

    assert sheet["A1"].value == table.title
    assert [cell.value for cell in sheet[3]] == ["Организация", "Членов Профсоюза", "Охват, %"]
    assert sheet.freeze_panes == "A4"
    rows = _cells_by_first_value(sheet)
    for name in (*FORMULA_LIKE, MARKUP_NAME):
        name_cell, members, coverage = rows[name]
        assert name_cell.data_type == "s"
        assert name_cell.value == name
        assert members.data_type == "n"
        assert isinstance(members.value, int)
        assert coverage.data_type == "n"
        assert coverage.value == pytest.approx(0.667)
        assert coverage.number_format == "0.0%"
    name_cell, members, coverage = rows["Итого"]
    assert members.value == table.totals["members"]
    assert coverage.value == pytest.approx(0.5)
    assert sheet.cell(sheet.max_row, 1).value == table.note
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["C"].width


def test_table_xlsx_leaves_an_unknown_figure_empty_not_zero():
    table = _table(rows=1)
    table.rows[0]["coverage"] = None

    sheet = _workbook(exports.stat_table_xlsx(table))

    assert sheet["C4"].value is None


def test_table_pdf_prints_markup_and_formula_like_names_as_written():
    table = _table(rows=len(FORMULA_LIKE) + 2)

    text = _pdf_text(exports.stat_table_pdf(table, organization_name=MARKUP_NAME, signatures=True))

    assert _flat(table.title) in text
    assert text.count(_flat(MARKUP_NAME)) == 2  # the organisation above the table and one row
    for name in FORMULA_LIKE:
        assert name in text
    assert "66,7" in text
    assert "Итого" in text
    assert table.note in text
    assert "Председатель" in text and "М.П." in text


def test_table_pdf_without_signatures_has_no_signature_block():
    text = _pdf_text(exports.stat_table_pdf(_table(), organization_name="Районная организация А1"))

    assert "Председатель" not in text


def test_long_table_pdf_repeats_the_header_on_every_page():
    table = _table(rows=150)

    pages = _pdf_pages(exports.stat_table_pdf(table, organization_name="Районная организация А1"))

    assert len(pages) >= 3
    for page in pages:
        assert "Членов Профсоюза" in page
    assert "Итого" in pages[-1]


def test_wide_table_pdf_keeps_every_header_word_whole():
    labels = ["Членов Профсоюза", "Работающих", "Обучающихся", "Пенсионеров", "Охват, %", "Молодёжь, %", "Женщин, %"]
    labels += ["Принято за год", "Выбыло за год", "Эл. билеты, %", "Отчётов принято", "Отчётов ожидается"]
    columns = [Column("name", "Организация", TEXT), Column("region", "Субъект РФ", TEXT)]
    columns += [Column(f"c{index}", label, PERCENT if "%" in label else INTEGER) for index, label in enumerate(labels)]
    row = {"name": "Санкт-Петербургская организация", "region": "Санкт-Петербург"}
    row |= {f"c{index}": 123456 for index in range(len(labels))}
    table = StatTable(title="Организации в составе", columns=columns, rows=[row])

    words = set(_pdf_text(exports.stat_table_pdf(table, organization_name="Профсоюз")).split())

    for label in ["Организация", "Субъект РФ", *labels]:
        assert set(label.split()) <= words, label


# ---------------------------------------------------------------------------------------------------------------
# The annual report: data built through the services as a chair and the level above would
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def submitted_report(union, users, year_2025) -> AnnualReport:
    report = services.report_open(organization=union.primary_a1a, year=2025, by=users.chair)
    return services.report_submit(report=report, by=users.chair, entered=ENTERED)


@pytest.fixture
def accepted_report(submitted_report, users) -> AnnualReport:
    return services.report_accept(report=submitted_report, by=users.local)


def _download(client, url_name, *args, query: str = ""):
    return client.get(reverse(url_name, args=args) + query)


def test_report_xlsx_has_the_form_lines_with_real_numbers(client_for, users, accepted_report):
    response = _download(client_for(users.chair), "statistics:report_export", accepted_report.pk, "xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = _workbook(response.content)
    assert "за 2025 год" in sheet["A1"].value
    assert "1 января 2026" in sheet["A1"].value
    header = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "№ строки")
    assert list(header) == ["№ строки", "Показатель", "на начало года", "на конец года", "из них женщин"]
    lines = _cells_by_first_value(sheet)
    derived = figures_derive(accepted_report.figures)
    members = lines["7"]
    assert [cell.value for cell in members[2:]] == derived["members"] == [6, 5, 3]
    assert all(cell.data_type == "n" for cell in members[2:])
    working = lines["1"]
    assert [cell.value for cell in working[2:]] == ENTERED["working"]
    coverage = lines["4"]  # members / (working + students): 4 of 10 at the start, 4 of 15 at the end
    assert coverage[2].value == pytest.approx(0.4)
    assert coverage[3].value == pytest.approx(float(derived["coverage"][END]) / 100) == pytest.approx(0.267)
    assert coverage[3].number_format == "0.0%"
    joined = lines["8"]  # a flow: no start of the year
    assert joined[2].value == "х"
    assert joined[3].value == 1
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert any(row[1] and str(row[1]).startswith("Принят:") for row in values)


def test_report_pdf_has_heading_every_line_and_the_signatures(client_for, users, union, accepted_report):
    response = _download(client_for(users.regional), "statistics:report_export", accepted_report.pk, "pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Статистический отчёт первичной профсоюзной организации за 2025 год" in text
    assert "по состоянию на 1 января 2026 года" in text
    assert union.primary_a1a.name in text
    assert "Москва" in text
    for indicator in REPORT_INDICATORS:
        assert _flat(indicator.label) in text, indicator.key
    assert "Председатель ______________ / ______________________ /" in text
    assert "Дата «____»" in text
    assert "М.П." in text
    accepted_on = accepted_report.decided_at.astimezone().strftime("%d.%m.%Y")
    assert f"Принят: {accepted_on}, {users.local.display_name}" in text


def test_report_pdf_prints_an_organisation_name_with_markup(client_for, users, union, submitted_report):
    union.primary_a1a.name = MARKUP_NAME
    union.primary_a1a.save(update_fields=["name"])

    response = _download(client_for(users.chair), "statistics:report_export", submitted_report.pk, "pdf")

    assert response.status_code == 200
    assert _flat(MARKUP_NAME) in _pdf_text(response.content)
    assert "Принят:" not in _pdf_text(response.content)


def test_report_export_of_a_draft_shows_the_live_register(client_for, union, users, year_2025):
    report = services.report_open(organization=union.primary_a1a, year=2025, by=users.chair)
    services.report_save(report=report, by=users.chair, entered=ENTERED)

    response = _download(client_for(users.chair), "statistics:report_export", report.pk, "xlsx")

    sheet = _workbook(response.content)
    lines = _cells_by_first_value(sheet)
    assert [cell.value for cell in lines["7"][2:]] == [6, 5, 3]
    assert any("не сдан" in str(row[0]) for row in sheet.iter_rows(values_only=True) if row[0])


def test_report_export_is_logged_and_named(client_for, users, union, submitted_report):
    response = _download(client_for(users.chair), "statistics:report_export", submitted_report.pk, "pdf")

    org = union.primary_a1a
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="report-2025-org{org.pk}.pdf"')
    assert "filename*=UTF-8''" + quote(f"Отчёт 2025 {org.display_name}.pdf") in disposition
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.user == users.chair
    assert entry.object_type == "registry.organization"
    assert entry.object_id == str(org.pk)
    assert entry.details == {"what": "report", "year": 2025, "variant": "frozen", "format": "pdf"}


def test_unknown_format_is_not_found(client_for, users, submitted_report):
    response = _download(client_for(users.chair), "statistics:report_export", submitted_report.pk, "docx")

    assert response.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


# ---------------------------------------------------------------------------------------------------------------
# Rollups
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def register_rollup(year_2025):
    return services.rollup_build(year=2025, variant="register", today=TODAY)


def test_rollup_export_sums_the_subtree(client_for, users, union, register_rollup):
    response = _download(
        client_for(users.regional),
        "statistics:org_report_export",
        union.local_a1.pk,
        2025,
        "xlsx",
        query="?variant=register",
    )

    assert response.status_code == 200
    sheet = _workbook(response.content)
    assert sheet["A1"].value.startswith("Сводный статистический отчёт местной (территориальной) организации")
    lines = _cells_by_first_value(sheet)
    a1a = services.organization_register_figures(organization=union.primary_a1a, year=2025, today=TODAY)
    a1b = services.organization_register_figures(organization=union.primary_a1b, year=2025, today=TODAY)
    expected = [a1a["members"][column] + a1b["members"][column] for column in (START, END, WOMEN)]
    assert [cell.value for cell in lines["7"][2:]] == expected
    assert all(cell.data_type == "n" for cell in lines["7"][2:])
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.object_id == str(union.local_a1.pk)
    assert entry.details == {"what": "rollup", "year": 2025, "variant": "register", "format": "xlsx"}
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="rollup-2025-register-org{union.local_a1.pk}.xlsx"'
    )


def test_rollup_pdf_has_the_labels_and_the_signatures(client_for, users, union, register_rollup):
    response = _download(
        client_for(users.central),
        "statistics:org_report_export",
        union.region_a.pk,
        2025,
        "pdf",
        query="?variant=register",
    )

    text = _pdf_text(response.content)
    assert "Сводный статистический отчёт региональной организации Профсоюза за 2025 год" in text
    assert union.region_a.name in text
    for row in report_rows({}):
        assert _flat(row["indicator"].label) in text
    assert "М.П." in text


def test_rollup_export_without_a_snapshot_is_not_found(client_for, users, union, register_rollup):
    client = client_for(users.central)

    for year, variant in ((2024, "register"), (2025, "accepted")):
        response = _download(
            client, "statistics:org_report_export", union.region_a.pk, year, "xlsx", query=f"?variant={variant}"
        )
        assert response.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


# ---------------------------------------------------------------------------------------------------------------
# Who may download what
# ---------------------------------------------------------------------------------------------------------------

OK, DENY, HIDDEN, LOGIN = 200, 403, 404, "login"

# fmt: off
REPORT_ROLES = [
    # the chair's own report, the apparatus above it, another region, another chair, members and cashiers
    ("chair", OK), ("local", OK), ("regional", OK), ("central", OK),
    ("other_regional", HIDDEN), ("other_chair", HIDDEN), ("member", DENY), ("cashier", DENY), ("anonymous", LOGIN),
]
ROLLUP_ROLES = [
    # target: the rollup of local A1 (region A)
    ("central", "local_a1", OK), ("regional", "local_a1", OK), ("local", "local_a1", OK),
    ("chair", "local_a1", HIDDEN), ("chair", "primary_a1a", OK), ("other_regional", "local_a1", HIDDEN),
    ("other_chair", "primary_a1a", HIDDEN), ("member", "local_a1", DENY), ("cashier", "local_a1", DENY),
    ("anonymous", "local_a1", LOGIN),
]
# fmt: on


def _assert_answer(response, expected, url):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url == f"{reverse('accounts:login')}?next={quote(url)}"
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(("role", "expected"), REPORT_ROLES)
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_report_export_roles(client, users, submitted_report, role, expected, fmt):
    if role != "anonymous":
        client.force_login(users.by_role(role))
    url = reverse("statistics:report_export", args=[submitted_report.pk, fmt])

    response = client.get(url)

    _assert_answer(response, expected, url)
    logged = AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count()
    assert logged == (1 if expected == OK else 0)


@pytest.mark.parametrize(("role", "target", "expected"), ROLLUP_ROLES)
def test_rollup_export_roles(client, users, union, register_rollup, role, target, expected):
    if role != "anonymous":
        client.force_login(users.by_role(role))
    url = reverse("statistics:org_report_export", args=[getattr(union, target).pk, 2025, "xlsx"]) + "?variant=register"

    response = client.get(url)

    _assert_answer(response, expected, url)


# ---------------------------------------------------------------------------------------------------------------
# Dashboard and progress tables (their builders live in dashboards.py)
# ---------------------------------------------------------------------------------------------------------------

needs_children_table = pytest.mark.skipif(
    not hasattr(dashboards, "dashboard_children_table"),
    reason="union_statistics.dashboards.dashboard_children_table is not written yet",
)
needs_progress_table = pytest.mark.skipif(
    not hasattr(dashboards, "progress_table"), reason="union_statistics.dashboards.progress_table is not written yet"
)


@needs_children_table
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_dashboard_table_export(client_for, users, union, register_rollup, fmt):
    response = _download(
        client_for(users.regional),
        "statistics:dashboard_export",
        union.region_a.pk,
        fmt,
        query="?year=2025&variant=register",
    )

    assert response.status_code == 200
    table = dashboards.dashboard_children_table(user=users.regional, org=union.region_a, year=2025, variant="register")
    if fmt == "xlsx":
        sheet = _workbook(response.content)
        assert sheet["A1"].value == table.title
        assert [cell.value for cell in sheet[3]] == [str(column.label) for column in table.columns]
        for column_index, column in enumerate(table.columns):
            for row_index, row in enumerate(table.rows, start=4):
                cell = sheet.cell(row_index, column_index + 1)
                if column.kind != TEXT and row.get(column.key) is not None:
                    assert cell.data_type == "n", (column.key, cell.value)
    else:
        text = _pdf_text(response.content)
        assert _flat(table.title) in text
        assert union.local_a1.display_name in text
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.object_id == str(union.region_a.pk)
    assert entry.details == {"what": "dashboard", "year": 2025, "variant": "register", "format": fmt}


@needs_children_table
@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("central", "region_a", OK),
        ("regional", "region_a", OK),
        ("other_regional", "region_a", HIDDEN),
        ("chair", "local_a1", HIDDEN),
        ("member", "region_a", DENY),
        ("cashier", "region_a", DENY),
        ("anonymous", "region_a", LOGIN),
    ],
)
def test_dashboard_table_export_roles(client, users, union, register_rollup, role, target, expected):
    if role != "anonymous":
        client.force_login(users.by_role(role))
    url = reverse("statistics:dashboard_export", args=[getattr(union, target).pk, "xlsx"]) + "?year=2025"

    _assert_answer(client.get(url), expected, url)


@needs_progress_table
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_progress_table_export(client_for, users, union, register_rollup, fmt):
    response = _download(client_for(users.central), "statistics:progress_export", fmt, query="")

    assert response.status_code == 200
    table = dashboards.progress_table(user=users.central, org=union.central)
    if fmt == "xlsx":
        assert _workbook(response.content)["A1"].value == table.title
    else:
        assert _flat(table.title) in _pdf_text(response.content)
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert entry.object_id == str(union.central.pk)
    assert entry.details["what"] == "progress"


@needs_progress_table
@pytest.mark.parametrize(
    ("role", "query", "expected"),
    [
        ("central", "", OK),
        ("regional", "?org={region_a}", OK),
        ("other_regional", "?org={region_a}", HIDDEN),
        ("member", "", DENY),
        ("cashier", "", DENY),
        ("anonymous", "", LOGIN),
    ],
)
def test_progress_table_export_roles(client, users, union, register_rollup, role, query, expected):
    if role != "anonymous":
        client.force_login(users.by_role(role))
    url = reverse("statistics:progress_export", args=["pdf"]) + query.format(region_a=union.region_a.pk)

    _assert_answer(client.get(url), expected, url)


# ---------------------------------------------------------------------------------------------------------------
# The pages link to their downloads
# ---------------------------------------------------------------------------------------------------------------


def test_report_page_links_to_its_downloads(client_for, users, submitted_report):
    client = client_for(users.regional)

    page = client.get(submitted_report.get_absolute_url()).content.decode()

    for fmt in ("xlsx", "pdf"):
        url = reverse("statistics:report_export", args=[submitted_report.pk, fmt])
        assert f'href="{url}"' in page
        assert client.get(url).status_code == 200


def test_org_report_page_links_to_the_downloads_of_the_variant_shown(client_for, users, union, register_rollup):
    client = client_for(users.regional)
    page_url = reverse("statistics:org_report", args=[union.local_a1.pk, 2025])

    page = client.get(page_url + "?variant=register").content.decode()
    without_snapshot = client.get(page_url + "?variant=accepted").content.decode()

    for fmt in ("xlsx", "pdf"):
        url = reverse("statistics:org_report_export", args=[union.local_a1.pk, 2025, fmt])
        assert f'href="{url}?variant=register"' in page
        assert client.get(f"{url}?variant=register").status_code == 200
        assert url not in without_snapshot
