"""The settlement pages and files for every role: who sees which statement, who records what, what leaves in a file."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from cards.models import CardCharge, CardLedgerEntry, CardPayment, CardPriceList, CardVendorInvoice
from cards.services import card_batch_form
from cards.settlement_exports import ONE_C_HEADER
from cards.settlement_services import cost_recovery_set, primary_payment_record, region_payment_record
from tests.cards.test_settlement import approve_cards, prices  # noqa: F401 (the fixture of the price list)

ROLES = ("central", "regional", "local", "chair", "member", "cashier", "other_regional", "other_chair")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def settled(union, users, prices):  # noqa: F811
    """Region A recovers from its ППО; a batch of each region; a payment on each ledger."""
    cost_recovery_set(region=union.region_a, from_primaries=True, by=users.regional)
    approve_cards(union, users, {"primary_a1a": 3, "primary_a1b": 2})
    batch_a = card_batch_form(by=users.regional)
    approve_cards(union, users, {"primary_b1a": 2}, prefix="Питерская")
    batch_b = card_batch_form(by=users.other_regional)
    today = timezone.localdate()
    return {
        "batch_a": batch_a,
        "batch_b": batch_b,
        "charge_a": CardCharge.objects.get(batch=batch_a),
        "region_payment": region_payment_record(region=union.region_a, amount=20000, paid_on=today,
                                                by=users.central, document="101"),
        "primary_payment": primary_payment_record(primary=union.primary_a1a, amount=15000, paid_on=today,
                                                  by=users.regional, document="7"),
    }  # fmt: skip


def url_of(name, union, settled, users):
    """(url name, args) as data: the objects are made by the fixtures."""
    args = {
        "settlement_home": [],
        "settlement_balance": [],
        "settlement_balance_export_xlsx": ["xlsx"],
        "settlement_balance_export_csv": ["csv"],
        "settlement_region": [union.region_a.pk],
        "settlement_region_export_xlsx": [union.region_a.pk, "xlsx"],
        "settlement_region_export_csv": [union.region_a.pk, "csv"],
        "settlement_region_payment": [union.region_a.pk],
        "settlement_primary": [union.primary_a1a.pk],
        "settlement_primary_export": [union.primary_a1a.pk],
        "settlement_primary_payment": [union.primary_a1a.pk],
        "settlement_payment_cancel_region": [settled["region_payment"].pk],
        "settlement_payment_cancel_primary": [settled["primary_payment"].pk],
        "settlement_prices": [],
        "settlement_price_list_create": [],
        "settlement_batches": [],
        "settlement_batch_invoice": [settled["batch_a"].pk],
    }[name]
    url_name = name.removesuffix("_xlsx").removesuffix("_csv").removesuffix("_region").removesuffix("_primary")
    if name in ("settlement_region", "settlement_primary"):
        url_name = name
    return reverse(f"cards:{url_name}", args=args)


# Expected status of a GET for each role, in ROLES order.
MATRIX = {
    "settlement_home": (302, 302, 403, 302, 403, 403, 302, 404),
    "settlement_balance": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_balance_export_xlsx": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_balance_export_csv": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_region": (200, 200, 403, 403, 403, 403, 404, 403),
    "settlement_region_export_xlsx": (200, 200, 403, 403, 403, 403, 404, 403),
    "settlement_region_export_csv": (200, 200, 403, 403, 403, 403, 404, 403),
    "settlement_region_payment": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_primary": (200, 200, 403, 200, 403, 403, 404, 404),
    "settlement_primary_export": (200, 200, 403, 200, 403, 403, 404, 404),
    "settlement_primary_payment": (403, 200, 403, 403, 403, 403, 404, 403),
    "settlement_payment_cancel_region": (200, 404, 403, 403, 403, 403, 404, 403),
    "settlement_payment_cancel_primary": (404, 200, 403, 403, 403, 403, 404, 403),
    "settlement_prices": (200, 200, 403, 403, 403, 403, 200, 403),
    "settlement_price_list_create": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_batches": (200, 403, 403, 403, 403, 403, 403, 403),
    "settlement_batch_invoice": (200, 403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("name", MATRIX)
def test_role_matrix(name, client_for, users, union, settled):
    url = url_of(name, union, settled, users)
    for role, expected in zip(ROLES, MATRIX[name], strict=True):
        response = client_for(users.by_role(role)).get(url)
        assert response.status_code == expected, (name, role, response.status_code)


def test_anonymous_visitors_are_sent_to_log_in(client, union, users, settled):
    for name in ("settlement_home", "settlement_balance", "settlement_region", "settlement_primary"):
        response = client.get(url_of(name, union, settled, users))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_home_leads_each_role_to_its_own_page(client_for, users, union, settled):
    assert client_for(users.central).get(reverse("cards:settlement_home"))["Location"] == reverse(
        "cards:settlement_balance"
    )
    assert client_for(users.regional).get(reverse("cards:settlement_home"))["Location"] == reverse(
        "cards:settlement_region", args=[union.region_a.pk]
    )
    assert client_for(users.chair).get(reverse("cards:settlement_home"))["Location"] == reverse(
        "cards:settlement_primary", args=[union.primary_a1a.pk]
    )


def test_a_chair_sees_the_own_statement_only_while_the_region_recovers(client_for, users, union, settled):
    client = client_for(users.chair)
    url = reverse("cards:settlement_primary", args=[union.primary_a1a.pk])
    html = client.get(url).content.decode()
    assert "Расчёты за билеты" in html  # the menu entry
    assert client.get(reverse("cards:settlement_primary", args=[union.primary_a1b.pk])).status_code == 404
    assert client.get(reverse("cards:settlement_primary", args=[union.primary_b1a.pk])).status_code == 404

    cost_recovery_set(region=union.region_a, from_primaries=False, by=users.regional)
    assert client.get(url).status_code == 404
    assert client.get(reverse("cards:settlement_home")).status_code == 404
    assert "Расчёты за билеты" not in client.get(reverse("cards:card_requests")).content.decode()


POST_MATRIX = {
    # name: (args of the url, data, {role: status})
    "settlement_region_recovery": ("region_a", {"from_primaries": "0"},
                                   {"regional": 302, "other_regional": 404, "central": 403, "chair": 403}),
    "settlement_charge_pass_on": ("charge_a", {},
                                  {"regional": 302, "other_regional": 404, "central": 403, "chair": 403}),
    "settlement_batch_charge": ("batch_a", {}, {"central": 302, "regional": 403, "chair": 403}),
    "settlement_price_list_delete": ("price_list", {}, {"central": 302, "regional": 403, "other_regional": 403}),
}  # fmt: skip


@pytest.mark.parametrize("name", POST_MATRIX)
def test_post_role_matrix(name, client_for, users, union, settled):
    target, data, expected = POST_MATRIX[name]
    pk = {
        "region_a": union.region_a.pk, "charge_a": settled["charge_a"].pk, "batch_a": settled["batch_a"].pk,
        "price_list": CardPriceList.objects.get().pk,
    }[target]  # fmt: skip
    for role, status in expected.items():
        response = client_for(users.by_role(role)).post(reverse(f"cards:{name}", args=[pk]), data)
        assert response.status_code == status, (name, role, response.status_code)


def test_another_region_is_never_on_a_regions_pages(client_for, users, union, settled):
    client = client_for(users.regional)
    html = client.get(reverse("cards:settlement_region", args=[union.region_a.pk])).content.decode()
    assert union.primary_a1a.name in html and union.primary_b1a.name not in html
    assert union.region_b.name not in html
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("cards:settlement_region_export", args=[union.region_a.pk, "xlsx"])).content)
    )
    cells = {str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value}
    assert union.primary_a1a.name in cells and union.primary_b1a.name not in cells
    text = client.get(reverse("cards:settlement_region_export", args=[union.region_a.pk, "csv"])).content.decode()
    assert union.primary_a1a.name in text and union.primary_b1a.name not in text and union.region_b.name not in text
    assert (
        client_for(users.other_regional)
        .get(reverse("cards:settlement_primary", args=[union.primary_a1a.pk]))
        .status_code
        == 404
    )


def test_central_balance_lists_every_region_with_sums_of_the_ledger(client_for, users, union, settled):
    response = client_for(users.central).get(reverse("cards:settlement_balance"))
    balances = {row.region: row for row in response.context["balances"]}
    for region in (union.region_a, union.region_b):
        entries = CardLedgerEntry.objects.filter(ledger="region", account=region).values_list("amount", flat=True)
        assert balances[region].closing == sum(entries)
    assert balances[union.region_a].closing == 5 * 12050 - 20000
    assert balances[union.region_b].closing == 2 * 15000
    assert response.context["totals"]["closing"] == 5 * 12050 - 20000 + 2 * 15000

    workbook = openpyxl.load_workbook(
        io.BytesIO(client_for(users.central).get(reverse("cards:settlement_balance_export", args=["xlsx"])).content)
    )
    sheet = workbook["Регионы"]
    rows = {row[1]: row for row in sheet.iter_rows(values_only=True) if row[1]}
    assert float(rows[union.region_a.name][6]) == pytest.approx(402.50)  # 60 250 − 20 000 kopecks
    assert float(rows["Итого"][6]) == pytest.approx(702.50)


def test_the_region_xlsx_statement_adds_up(client_for, users, union, settled):
    content = (
        client_for(users.regional)
        .get(reverse("cards:settlement_region_export", args=[union.region_a.pk, "xlsx"]))
        .content
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Выписка", "По ППО", "По партиям и ППО"]
    rows = [row for row in workbook["Выписка"].iter_rows(values_only=True) if row[1]]
    total = next(row for row in rows if str(row[1]).startswith("Итого"))
    assert (total[3], total[4], total[5], total[6]) == (5, 602.5, 200, 402.5)
    primaries = {row[0]: row for row in workbook["По ППО"].iter_rows(values_only=True) if row[0]}
    assert primaries[union.primary_a1a.name][2:7] == (3, 361.5, 361.5, 150, 211.5)
    assert primaries["Итого"][3] == total[4]
    assert AccessLog.objects.filter(action="export", user=users.regional, object_id=str(union.region_a.pk)).exists()


def test_the_1c_file_is_what_the_readme_says(client_for, users, union, settled):
    union.primary_a1a.name = "=HYPERLINK(1) ППО"
    union.primary_a1a.save(update_fields=["name"])
    content = (
        client_for(users.regional)
        .get(reverse("cards:settlement_region_export", args=[union.region_a.pk, "csv"]))
        .content
    )
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert tuple(rows[0]) == ONE_C_HEADER
    by_kind = {}
    for row in rows[1:]:
        by_kind.setdefault(row[2], []).append(dict(zip(ONE_C_HEADER, row, strict=True)))
    region_charge = next(r for r in by_kind["Начисление"] if r["Плательщик"] == union.region_a.name)
    assert region_charge["Сумма"] == "602,50" and region_charge["Цена"] == "120,50"
    assert region_charge["Количество"] == "5" and region_charge["Получатель"] == union.central.name
    assert region_charge["Дата"] == f"{timezone.localdate():%d.%m.%Y}"
    primary_charge = next(r for r in by_kind["Начисление"] if r["Получатель"] == union.region_a.name)
    assert primary_charge["Плательщик"] == "'=HYPERLINK(1) ППО"  # written as text, never a formula
    payments = {r["Номер документа"]: r["Сумма"] for r in by_kind["Оплата"]}
    assert payments == {"101": "200,00", "7": "150,00"}
    assert len({row[0] for row in rows[1:]}) == len(rows) - 1  # every line has its own identifier


def test_central_office_records_a_payment_typed_in_roubles(client_for, users, union, settled):
    client = client_for(users.central)
    url = reverse("cards:settlement_region_payment", args=[union.region_a.pk])
    response = client.post(url, {"amount": "1 234,5", "paid_on": timezone.localdate().isoformat(), "document": "55"})
    assert response.status_code == 302
    payment = CardPayment.objects.get(document="55")
    assert (payment.amount, payment.payer, payment.recorded_by) == (123450, union.region_a, users.central)

    response = client.post(url, {"amount": "12.345", "paid_on": timezone.localdate().isoformat()})
    assert response.status_code == 200 and "Сумма в рублях и копейках" in response.content.decode()
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(url, {"amount": "10", "paid_on": future})
    assert "Дата оплаты ещё не наступила" in response.content.decode()


def test_cancelling_a_payment_asks_for_a_reason(client_for, users, union, settled):
    client = client_for(users.central)
    url = reverse("cards:settlement_payment_cancel", args=[settled["region_payment"].pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Платёж другого региона"}).status_code == 302
    settled["region_payment"].refresh_from_db()
    assert settled["region_payment"].cancel_reason == "Платёж другого региона"


def test_the_region_switches_recovery_and_passes_an_earlier_batch_on(client_for, users, union, settled):
    client = client_for(users.other_regional)
    client.post(reverse("cards:settlement_region_recovery", args=[union.region_b.pk]), {"from_primaries": "1"})
    charge_b = CardCharge.objects.get(batch=settled["batch_b"])
    assert client.post(reverse("cards:settlement_charge_pass_on", args=[charge_b.pk])).status_code == 302
    assert CardLedgerEntry.objects.get(ledger="primary", account=union.primary_b1a).amount == 2 * 15000
    html = client_for(users.other_chair).get(reverse("cards:settlement_primary", args=[union.primary_b1a.pk]))
    assert "300,00" in html.content.decode()


def test_a_price_list_typed_by_central_office(client_for, users, settled):
    client = client_for(users.central)
    data = {"valid_from": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(), "vendor": "Гознак",
            "min_cards_0": "1", "price_0": "140", "min_cards_1": "1000", "price_1": "99,90"}  # fmt: skip
    assert client.post(reverse("cards:settlement_price_list_create"), data).status_code == 302
    price_list = CardPriceList.objects.get(vendor="Гознак", valid_from__gt=timezone.localdate())
    assert list(price_list.tiers.values_list("min_cards", "unit_price")) == [(1, 14000), (1000, 9990)]
    response = client.post(reverse("cards:settlement_price_list_create"), {**data, "min_cards_0": "2"})
    assert "от 1 билета" in response.content.decode()
    response = client.post(reverse("cards:settlement_price_list_create"), {**data, "price_1": ""})
    assert "и число билетов, и цена" in response.content.decode()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_vendor_invoice_takes_a_pdf_only(client_for, users, settled):
    client = client_for(users.central)
    batch = settled["batch_a"]
    url = reverse("cards:settlement_batch_invoice", args=[batch.pk])
    data = {"number": "СЧ-42", "issued_on": timezone.localdate().isoformat(), "amount": "590,00"}
    response = client.post(url, {**data, "file": SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf")})
    assert response.status_code == 200 and "PDF" in response.content.decode()
    assert not CardVendorInvoice.objects.exists()

    response = client.post(url, {**data, "file": SimpleUploadedFile("invoice.pdf", PDF, "application/pdf")})
    assert response.status_code == 302
    invoice = CardVendorInvoice.objects.get(batch=batch)
    assert (invoice.number, invoice.amount) == ("СЧ-42", 59000)
    pdf = client.get(reverse("cards:settlement_batch_invoice_file", args=[batch.pk]))
    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content) == PDF
    page = client.get(reverse("cards:settlement_batches")).content.decode()
    assert "СЧ-42" in page and "−12,50" in page  # the invoice is 12,50 ₽ under what the region was charged
    assert AccessLog.objects.filter(object_type="cards.cardvendorinvoice", action="create").exists()


def test_an_uncharged_batch_is_flagged_and_charged_once_a_price_list_exists(client_for, users, union):
    from cards.settlement_services import price_list_create

    approve_cards(union, users, {"university_a": 2}, prefix="Ранняя")
    batch = card_batch_form(by=users.regional)
    client = client_for(users.central)
    assert "не начислена регионам" in client.get(reverse("cards:settlement_balance")).content.decode()
    assert "нет прейскуранта" in client.get(reverse("cards:settlement_batches")).content.decode()

    price_list_create(valid_from=datetime.date(2020, 1, 1), tiers=[(1, 10000)], by=users.central)
    assert "Начислить" in client.get(reverse("cards:settlement_batches")).content.decode()
    assert client.post(reverse("cards:settlement_batch_charge", args=[batch.pk])).status_code == 302
    assert CardCharge.objects.get(batch=batch).amount == 20000
    assert "не начислена" not in client.get(reverse("cards:settlement_balance")).content.decode()


def test_the_balance_and_statement_pages_take_a_fixed_number_of_queries(
    client_for, users, union, settled, django_assert_max_num_queries
):
    for number in range(5):
        approve_cards(union, users, {"primary_a1b": 1, "university_a": 1}, prefix=f"Ещё{number}")
        card_batch_form(by=users.regional)
    # Central and regional staff's requests each read the device that passed their second sign-in step (django-otp).
    client = client_for(users.central)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("cards:settlement_balance")).status_code == 200
    client = client_for(users.regional)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("cards:settlement_region", args=[union.region_a.pk])).status_code == 200
