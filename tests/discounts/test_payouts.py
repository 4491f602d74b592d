"""Monthly cashback payouts: who is in a register, the ledger moves, the file for the bank, the statuses, payments the
bank returned, the beat's run, and central office's pages (every URL for every role)."""

import csv
import datetime
import io
import threading
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from cards.services import card_issue
from discounts import services, tasks
from discounts.models import CashbackAccount, CashbackEntry, PayoutBatch, PayoutLine, Purchase
from discounts.payouts import REGISTER_HEADER, csv_cell_text, register_amount, register_phone
from discounts.services import DiscountError
from tests.discounts.test_cashback import assert_ledger_consistent
from tests.factories import MemberFactory

Kind = CashbackEntry.Kind
MINIMUM = 10_000  # 100 ₽


@pytest.fixture(autouse=True)
def payout_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CASHBACK_PAYOUT_MINIMUM = MINIMUM


def _confirmed(users, *, partner, card, amount: int, receipt: str) -> Purchase:
    """A purchase bought three weeks ago whose cashback the beat has confirmed."""
    bought = timezone.now() - datetime.timedelta(days=21)
    purchase = services.purchase_record(
        partner=partner, presented=card.number, receipt_id=receipt, amount=amount,
        channel=Purchase.Channel.CASHIER, by=users.cashier, now=bought,
    ).purchase  # fmt: skip
    services.cashback_confirm_due(now=timezone.now())
    return purchase


def _details(member, phone: str, bank: str) -> None:
    CashbackAccount.objects.update_or_create(member=member, defaults={"payout_phone": phone, "payout_bank": bank})


@pytest.fixture
def due(programme, users, union):
    """holder_a: 150 ₽ confirmed and a phone (paid); holder_b: 140 ₽, no phone (skipped); a member with 50 ₽
    (below the minimum); one who withdrew consent (never sent to a bank); one whose names look like formulas."""
    _details(programme.holder_a, "+79161234567", "Сбербанк")
    _confirmed(users, partner=programme.partner_a, card=programme.card_a, amount=300_000, receipt="A-1")
    _confirmed(users, partner=programme.partner_b, card=programme.card_b, amount=200_000, receipt="B-1")

    small = MemberFactory(organization=union.primary_a1a, last_name="Малова", card_consents=True)
    _details(small, "+79160000001", "ВТБ")
    _confirmed(users, partner=programme.partner_a, card=card_issue(member=small, by=users.chair), amount=100_000,
               receipt="A-2")  # fmt: skip

    withdrawn = MemberFactory(organization=union.primary_a1a, last_name="Отозвавшая", card_consents=True)
    _details(withdrawn, "+79160000002", "ВТБ")
    _confirmed(users, partner=programme.partner_a, card=card_issue(member=withdrawn, by=users.chair),
               amount=400_000, receipt="A-3")  # fmt: skip
    withdrawn.processing_blocked_on = timezone.localdate()
    withdrawn.save()

    tricky = MemberFactory(organization=union.primary_a1a, last_name="=HYPERLINK(\"http://x\";\"Жми\")", first_name="@Имя", middle_name="-Отчество", card_consents=True)  # fmt: skip
    _details(tricky, "+79160000003", "+Банк")
    _confirmed(users, partner=programme.partner_a, card=card_issue(member=tricky, by=users.chair), amount=1_234_500,
               receipt="A-4")  # fmt: skip
    return {"small": small, "withdrawn": withdrawn, "tricky": tricky}


def _month() -> datetime.date:
    return services.payout_month_previous()


def _register_rows(batch: PayoutBatch) -> list[list[str]]:
    with default_storage.open(batch.register_file.name, "rb") as handle:
        content = handle.read()
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8")[1:]
    assert "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


# --- forming ------------------------------------------------------------------------------------------------------------


def test_a_register_pays_every_confirmed_balance_from_the_minimum_with_a_phone(programme, users, due):
    batch = services.payout_batch_form(month=_month(), by=users.central)

    lines = {line.account.member: line for line in batch.lines.select_related("account__member")}
    assert set(lines) == {programme.holder_a, due["tricky"]}
    assert lines[programme.holder_a].amount == 15_000
    assert lines[due["tricky"]].amount == 61_725  # 5 % of 12 345,00 ₽
    assert (batch.line_count, batch.total, batch.skipped_count) == (2, 76_725, 1)  # holder_b has no phone
    assert lines[programme.holder_a].payout_phone == "+79161234567"

    account = CashbackAccount.objects.get(member=programme.holder_a)
    assert (account.pending, account.confirmed, account.paid) == (0, 0, 15_000)
    entries = CashbackEntry.objects.filter(payout=lines[programme.holder_a])
    assert sorted(entries.values_list("kind", "bucket", "amount")) == [
        (Kind.PAYOUT, "confirmed", -15_000), (Kind.PAYOUT, "paid", 15_000)
    ]  # fmt: skip
    # Those not paid keep their confirmed cashback for a later month.
    assert CashbackAccount.objects.get(member=programme.holder_b).confirmed == 14_000
    assert CashbackAccount.objects.get(member=due["small"]).confirmed == 5_000
    assert CashbackAccount.objects.get(member=due["withdrawn"]).confirmed == 20_000
    assert AccessLog.objects.filter(action=AccessLog.Action.CREATE, object_type="discounts.payoutbatch").exists()
    assert_ledger_consistent()


def test_one_register_a_month(users, due):
    services.payout_batch_form(month=_month(), by=users.central)

    with pytest.raises(DiscountError) as refusal:
        services.payout_batch_form(month=_month() + datetime.timedelta(days=10), by=users.central)

    assert refusal.value.code == "payout_exists"
    assert PayoutBatch.objects.count() == 1


def test_no_register_for_a_month_that_has_not_begun(users, due):
    next_month = (timezone.localdate().replace(day=28) + datetime.timedelta(days=5)).replace(day=1)
    with pytest.raises(DiscountError) as refusal:
        services.payout_batch_form(month=next_month, by=users.central)
    assert refusal.value.code == "payout_future"


def test_nobody_due_forms_no_register(programme, users):
    _confirmed(users, partner=programme.partner_a, card=programme.card_a, amount=300_000, receipt="A-1")  # no phone

    with pytest.raises(DiscountError) as refusal:
        services.payout_batch_form(month=_month(), by=users.central)

    assert refusal.value.code == "payout_nothing"
    assert "без реквизитов: 1" in refusal.value.message
    assert not PayoutBatch.objects.exists()


@pytest.mark.parametrize("role", ["regional", "local", "chair", "member", "cashier"])
def test_only_central_office_forms_a_register(users, due, role):
    with pytest.raises(PermissionDenied):
        services.payout_batch_form(month=_month(), by=users.by_role(role))
    assert not PayoutBatch.objects.exists()


# --- the register file ------------------------------------------------------------------------------------------------


def test_the_register_carries_what_the_bank_needs_and_nothing_else(programme, users, due):
    batch = services.payout_batch_form(month=_month(), by=users.central)
    batch = services.payout_batch_build(batch_id=batch.pk)

    assert batch.status == PayoutBatch.Status.READY
    assert default_storage.exists(batch.register_file.name)
    rows = _register_rows(batch)
    assert rows[0] == list(REGISTER_HEADER)
    assert all(len(row) == 9 for row in rows)
    line = batch.lines.get(account__member=programme.holder_a)
    month = f"{batch.month:%m.%Y}"
    assert rows[1] == [
        "1", f"{batch.month:%Y-%m}-{line.pk:06d}", "Смирнова", "Ольга", programme.holder_a.middle_name, "79161234567",
        "Сбербанк", "150.00", f"Выплата кешбэка по дисконтной программе Профсоюза за {month}. НДС не облагается",
    ]  # fmt: skip
    # Formula-like names and bank are written as text.
    assert rows[2][2:8] == ['\'=HYPERLINK("http://x";"Жми")', "'@Имя", "'-Отчество", "79160000003", "'+Банк", "617.25"]
    text = "\n".join(";".join(row) for row in rows)
    for private in (programme.card_a.number, "1985", "17.05", union_name(programme), "Отозвавшая"):
        assert private not in text


def union_name(programme) -> str:
    return programme.holder_a.organization.name


def test_the_beat_forms_the_previous_month_once_and_builds_its_file(
    programme, users, due, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = tasks.payout_monthly.delay().get()

    batch = PayoutBatch.objects.get(pk=batch_id)
    assert batch.month == _month() and batch.created_by is None
    assert batch.status == PayoutBatch.Status.READY and batch.register_file
    assert tasks.payout_monthly.delay().get() is None  # a second run does nothing
    assert PayoutBatch.objects.count() == 1
    assert CashbackEntry.objects.filter(kind=Kind.PAYOUT).count() == 4


def test_the_beat_does_nothing_when_nobody_is_due(db):
    assert tasks.payout_monthly.delay().get() is None
    assert not PayoutBatch.objects.exists()


def test_the_previous_month_across_a_new_year():
    assert services.payout_month_previous(today=datetime.date(2027, 1, 1)) == datetime.date(2026, 12, 1)
    assert services.payout_month_previous(today=datetime.date(2026, 3, 31)) == datetime.date(2026, 2, 1)


def test_a_failed_build_says_why_and_can_be_run_again(users, due, monkeypatch):
    batch = services.payout_batch_form(month=_month(), by=users.central)

    def broken(**kwargs):
        raise OSError("storage is full")

    monkeypatch.setattr(services, "register_csv", broken)
    failed = services.payout_batch_build(batch_id=batch.pk)
    assert failed.status == PayoutBatch.Status.FAILED
    assert "storage is full" in failed.failure
    assert not failed.register_file
    # The money moved at forming and stays moved: the lines are the same whatever happens to the file.
    assert CashbackAccount.objects.get(member=due["tricky"]).paid == 61_725

    monkeypatch.undo()
    with pytest.raises(DiscountError):  # a register without a file is not sent anywhere
        services.payout_batch_advance(batch=failed, by=users.central)
    rebuilt = services.payout_batch_rebuild(batch=failed, by=users.central)
    assert rebuilt.status == PayoutBatch.Status.BUILDING
    assert services.payout_batch_build(batch_id=batch.pk).status == PayoutBatch.Status.READY
    with pytest.raises(DiscountError) as refusal:
        services.payout_batch_rebuild(batch=rebuilt, by=users.central)
    assert refusal.value.code == "payout_not_failed"


def test_csv_cells_that_look_like_formulas_stay_text():
    assert [csv_cell_text(value) for value in ("=1+1", "+7", "-5", "@SUM(A1)", "\t=1", "Иванов", "1", "")] == [
        "'=1+1", "'+7", "'-5", "'@SUM(A1)", "'\t=1", "Иванов", "1", ""
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "written"),
    [("+79161234567", "79161234567"), ("8 (916) 123-45-67", "79161234567"), ("9161234567", "79161234567"),
     ("12345", "12345")],
)  # fmt: skip
def test_register_phone(phone, written):
    assert register_phone(phone) == written


@pytest.mark.parametrize(
    ("kopecks", "text"), [(0, "0.00"), (5, "0.05"), (12_345, "123.45"), (123_456_789, "1234567.89")]
)
def test_register_amount(kopecks, text):
    assert register_amount(kopecks) == text


# --- statuses and returned payments -----------------------------------------------------------------------------------


def _ready(users) -> PayoutBatch:
    batch = services.payout_batch_form(month=_month(), by=users.central)
    return services.payout_batch_build(batch_id=batch.pk)


def test_a_register_goes_ready_sent_paid_and_no_further(users, due):
    batch = _ready(users)

    batch = services.payout_batch_advance(batch=batch, by=users.central)
    assert batch.status == PayoutBatch.Status.SENT
    assert set(batch.lines.values_list("status", flat=True)) == {PayoutLine.Status.INCLUDED}
    batch = services.payout_batch_advance(batch=batch, by=users.central)
    assert batch.status == PayoutBatch.Status.PAID
    assert set(batch.lines.values_list("status", flat=True)) == {PayoutLine.Status.PAID}
    with pytest.raises(DiscountError) as refusal:
        services.payout_batch_advance(batch=batch, by=users.central)
    assert refusal.value.code == "payout_no_next_status"


def test_a_register_still_building_cannot_be_sent(users, due):
    batch = services.payout_batch_form(month=_month(), by=users.central)
    with pytest.raises(DiscountError):
        services.payout_batch_advance(batch=batch, by=users.central)


def test_a_payment_the_bank_returned_goes_back_to_confirmed_and_into_the_next_register(programme, users, due):
    batch = _ready(users)
    line = batch.lines.get(account__member=programme.holder_a)
    with pytest.raises(DiscountError) as refusal:
        services.payout_line_return(line=line, by=users.central)  # not sent to the bank yet
    assert refusal.value.code == "payout_not_sent"

    services.payout_batch_advance(batch=batch, by=users.central)
    services.payout_line_return(line=line, by=users.central)

    line.refresh_from_db()
    assert line.status == PayoutLine.Status.RETURNED
    account = CashbackAccount.objects.get(member=programme.holder_a)
    assert (account.confirmed, account.paid) == (15_000, 0)
    assert list(CashbackEntry.objects.filter(kind=Kind.PAYOUT_RETURNED, payout=line).values_list("bucket", "amount")
                .order_by("bucket")) == [("confirmed", 15_000), ("paid", -15_000)]  # fmt: skip
    with pytest.raises(DiscountError) as refusal:
        services.payout_line_return(line=line, by=users.central)
    assert refusal.value.code == "payout_line_returned"
    # When the bank reports the register done, the returned line stays returned.
    services.payout_batch_advance(batch=batch, by=users.central)
    line.refresh_from_db()
    assert line.status == PayoutLine.Status.RETURNED
    assert_ledger_consistent()

    # The member corrects the phone; the next month's register pays the money again.
    _details(programme.holder_a, "+79169999999", "Т-Банк")
    later = services.payout_batch_form(month=_month() + datetime.timedelta(days=31), by=users.central)
    assert later.lines.get(account__member=programme.holder_a).amount == 15_000
    assert later.lines.get(account__member=programme.holder_a).payout_phone == "+79169999999"
    assert_ledger_consistent()


# --- pages --------------------------------------------------------------------------------------------------------------

OK, DENY, NOT_FOUND, POST_ONLY = 200, 403, 404, 405
TO_BATCH, TO_LIST, LOGIN = "to-batch", "to-list", "login"
ROLES = ("central", "regional", "local", "chair", "member", "cashier", "other_regional", "anonymous")
OTHERS_DENIED = (DENY,) * 6

# fmt: off
# url name, arguments, method, then the answer for central office; everyone else 403, anonymous to the login page.
MATRIX = [
    ("discounts:payout_batches",        "",           "get",  OK),
    ("discounts:payout_batch_form",     "",           "get",  POST_ONLY),
    ("discounts:payout_batch_form",     "",           "post", TO_BATCH),
    ("discounts:payout_batch",          "batch",      "get",  OK),
    ("discounts:payout_batch",          "missing",    "get",  NOT_FOUND),
    ("discounts:payout_batch_status",   "batch",      "get",  OK),
    ("discounts:payout_batch_download", "batch",      "get",  OK),
    ("discounts:payout_batch_advance",  "batch",      "get",  POST_ONLY),
    ("discounts:payout_batch_advance",  "batch",      "post", TO_BATCH),
    ("discounts:payout_batch_rebuild",  "batch",      "post", TO_BATCH),
    ("discounts:payout_line_return",    "line",       "post", TO_BATCH),
    ("discounts:payout_line_return",    "other_line", "post", NOT_FOUND),
]
# fmt: on

CASES = [
    pytest.param(url_name, args, method, role, expected, id=f"{url_name}-{args}-{method}-{role}")
    for url_name, args, method, central in MATRIX
    for role, expected in zip(
        ROLES,
        (
            central,
            *((POST_ONLY,) * 6 if central == POST_ONLY else OTHERS_DENIED),
            POST_ONLY if central == POST_ONLY else LOGIN,
        ),
        strict=True,
    )
]


@pytest.fixture
def pages(programme, users, due):
    """A register of two months ago, sent to the bank (so a line can be returned); the form posts last month."""
    batch = services.payout_batch_form(month=_month() - datetime.timedelta(days=1), by=users.central)
    batch = services.payout_batch_advance(batch=services.payout_batch_build(batch_id=batch.pk), by=users.central)
    _confirmed(users, partner=programme.partner_a, card=programme.card_a, amount=400_000, receipt="A-9")
    return {"batch": batch, "line": batch.lines.first()}


def _url(url_name: str, args: str, pages) -> str:
    batch = pages["batch"]
    if args == "":
        return reverse(url_name)
    if args == "batch":
        return reverse(url_name, args=[batch.pk])
    if args == "missing":
        return reverse(url_name, args=[batch.pk + 100])
    if args == "line":
        return reverse(url_name, args=[batch.pk, pages["line"].pk])
    other = PayoutBatch.objects.create(month=datetime.date(2020, 1, 1), status=PayoutBatch.Status.SENT)
    stranger = PayoutLine.objects.create(batch=other, account=pages["line"].account, amount=1, payout_phone="+7")
    return reverse(url_name, args=[batch.pk, stranger.pk])


@pytest.mark.parametrize(("url_name", "args", "method", "role", "expected"), CASES)
def test_role_matrix(client, users, pages, url_name, args, method, role, expected, django_capture_on_commit_callbacks):
    url = _url(url_name, args, pages)
    if role != "anonymous":
        client.force_login(users.by_role(role))

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, method)(url, {"month": f"{_month():%Y-%m}"} if method == "post" else None)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url == f"{reverse('accounts:login')}?next={quote(url)}"
    elif expected == TO_BATCH:
        assert response.status_code == 302, response.content[:300]
        assert response.url.startswith(reverse("discounts:payout_batches"))
    else:
        assert response.status_code == expected


def test_every_payout_view_is_in_the_matrix():
    from discounts.views.payouts import urlpatterns

    assert {f"discounts:{pattern.name}" for pattern in urlpatterns} - {row[0] for row in MATRIX} == set()


def test_nobody_but_central_office_changes_anything(client, users, pages):
    batch = pages["batch"]
    for role in ("regional", "local", "chair", "member", "cashier", "other_regional"):
        client.force_login(users.by_role(role))
        client.post(reverse("discounts:payout_batch_advance", args=[batch.pk]))
        client.post(reverse("discounts:payout_line_return", args=[batch.pk, pages["line"].pk]))
        client.post(reverse("discounts:payout_batch_form"), {"month": f"{_month():%Y-%m}"})
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SENT
    assert not PayoutLine.objects.filter(status=PayoutLine.Status.RETURNED).exists()
    assert PayoutBatch.objects.count() == 1


def test_forming_now_from_the_page_builds_the_register(client_for, users, pages, django_capture_on_commit_callbacks):
    client = client_for(users.central)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("discounts:payout_batch_form"), {"month": f"{_month():%Y-%m}"})

    batch = PayoutBatch.objects.get(month=_month())
    assert response.url == reverse("discounts:payout_batch", args=[batch.pk])
    assert batch.status == PayoutBatch.Status.READY
    assert batch.lines.get().amount == 20_000  # holder_a's new cashback

    again = client.post(reverse("discounts:payout_batch_form"), {"month": f"{_month():%Y-%m}"}, follow=True)
    assert "уже сформирован" in again.content.decode()
    bad = client.post(reverse("discounts:payout_batch_form"), {"month": "октябрь"}, follow=True)
    assert "Выберите месяц" in bad.content.decode()


def test_the_batch_page_shows_totals_lines_and_the_skipped(client_for, programme, users, pages):
    response = client_for(users.central).get(reverse("discounts:payout_batch", args=[pages["batch"].pk]))

    page = response.content.decode()
    assert "Смирнова Ольга" in page
    assert "767,25" in page  # the register's sum: 150,00 + 617,25 ₽
    assert "Пропущены без реквизитов" in page
    assert "Вернулась" in page  # sent to the bank: a line can be marked returned
    assert reverse("discounts:payout_batch_download", args=[pages["batch"].pk]) in page


def test_the_list_shows_who_waits_for_payout_details(client_for, programme, users, pages):
    page = client_for(users.central).get(reverse("discounts:payout_batches")).content.decode()

    assert programme.holder_b.full_name in page  # 140 ₽ confirmed, no phone
    assert "140,00" in page
    assert "Отозвавшая" not in page  # withdrew consent: not chased for a phone either


def test_a_download_of_the_register_is_logged_as_an_export(client_for, users, pages):
    response = client_for(users.central).get(reverse("discounts:payout_batch_download", args=[pages["batch"].pk]))

    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith("\ufeff№ п/п;".encode())
    record = AccessLog.objects.get(action=AccessLog.Action.EXPORT, object_type="discounts.payoutbatch")
    assert record.user == users.central and record.details["lines"] == 2


def test_marking_a_line_returned_from_the_page(client_for, programme, users, pages):
    line = pages["line"]
    response = client_for(users.central).post(
        reverse("discounts:payout_line_return", args=[pages["batch"].pk, line.pk]), {"page": "1"}, follow=True
    )

    assert "отмечена как вернувшаяся" in response.content.decode()
    line.refresh_from_db()
    assert line.status == PayoutLine.Status.RETURNED


def test_the_list_page_reads_in_a_fixed_number_of_queries(client_for, users, pages, django_assert_max_num_queries):
    client = client_for(users.central)
    with django_assert_max_num_queries(8):
        client.get(reverse("discounts:payout_batches"))
    with django_assert_max_num_queries(10):
        client.get(reverse("discounts:payout_batch", args=[pages["batch"].pk]))


# --- concurrency (PostgreSQL: row locks) ------------------------------------------------------------------------------


def _in_threads(*jobs) -> tuple[list, list]:
    """Run the jobs at once, each in its own thread and connection; (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def run(job):
        try:
            barrier.wait()
            results.append(job())
        except Exception as error:  # a failure in a thread must reach the test, not vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_centrals_forming_the_same_month_at_once_pay_once(programme, users, due):
    def form():
        return services.payout_batch_form(month=_month(), by=users.central)

    results, errors = _in_threads(form, form, form)

    assert len(results) == 1 and len(errors) == 2
    assert {error.code for error in errors} == {"payout_exists"}
    assert PayoutBatch.objects.count() == 1
    assert CashbackEntry.objects.filter(kind=Kind.PAYOUT).count() == 4
    assert CashbackAccount.objects.get(member=programme.holder_a).paid == 15_000
    assert_ledger_consistent()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forming_while_the_same_members_buy_and_the_beat_confirms(programme, users, due):
    """Forming locks accounts in member order, as confirmation does; purchases lock one account: nobody waits in a
    circle, and the ledger adds up whatever order the transactions ran in."""
    earlier = timezone.now() - datetime.timedelta(days=20)

    def buy(number):
        def job():
            for card in (programme.card_a, programme.card_b):
                services.purchase_record(
                    partner=programme.partner_union, presented=card.number, receipt_id=f"C-{number}-{card.pk}",
                    amount=100_000, channel=Purchase.Channel.CASHIER, by=users.cashier, now=earlier,
                )  # fmt: skip
            return services.cashback_confirm_due(now=timezone.now())

        return job

    def form():
        return services.payout_batch_form(month=_month(), by=users.central)

    _results, errors = _in_threads(form, buy(1), buy(2), buy(3))

    assert not errors, errors
    assert PayoutBatch.objects.count() == 1
    assert Purchase.objects.filter(receipt_id__startswith="C-", confirmed_at__isnull=False).count() == 6
    assert_ledger_consistent()
