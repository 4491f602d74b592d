"""The cashier's page: every URL for every role, the check (typed number, QR address, mistyped number), the purchase
and its refusals, the day's list and returns, all scoped to the cashier's own partner.

Rules the expectations come from:
- the page is the cashier role's, for a cashier tied to a partner; a cashier account without one gets 403 with the
  reason; every other role 403; anonymous visitors go to the login page; the POST-only addresses answer GET with 405;
- another partner's purchase does not exist for a cashier (404);
- the card number never appears in a URL.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from cards.models import Card
from cards.services import card_block, card_verification_token
from discounts import services
from discounts.models import CardCheck, CashbackAccount, Cashier, Partner, Purchase
from discounts.views.cashier import CHECKED_CARD_KEY
from membership.models import Member
from membership.services import member_record_leaving
from tests.factories import UserFactory

OK, DENY, HIDDEN, LOGIN, POST_ONLY, REDIRECT = 200, 403, 404, "login", 405, 302
ROLES = ("cashier", "cashier_without_partner", "central", "regional", "local", "chair", "member", "anonymous")

# fmt: off
# url name, the URL's argument ("own"/"other" purchase or None), method, then the answer for each of ROLES in order
MATRIX = [
    ("discounts:cashier",               None,    "get",  OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:cashier_check",         None,    "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("discounts:cashier_check",         None,    "post", REDIRECT, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:cashier_purchase",      None,    "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("discounts:cashier_purchase",      None,    "post", REDIRECT, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:cashier_next_customer", None,    "post", REDIRECT, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:cashier_reverse",       "own",   "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("discounts:cashier_reverse",       "own",   "post", REDIRECT, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:cashier_reverse",       "other", "post", HIDDEN, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
]
# fmt: on
CASES = [
    (url, arg, method, role, expected)
    for url, arg, method, *answers in MATRIX
    for role, expected in zip(ROLES, answers, strict=True)
]


def _record(programme, *, partner=None, card=None, receipt="R-1", amount=100_000, by=None, now=None) -> Purchase:
    return services.purchase_record(
        partner=partner or programme.partner_a, presented=(card or programme.card_a).number, receipt_id=receipt,
        amount=amount, channel=Purchase.Channel.CASHIER, by=by, now=now,
    ).purchase  # fmt: skip


@pytest.fixture
def purchases(programme, users):
    """One purchase at the cashier's partner, one at the other region's partner (another cashier's)."""
    return {
        "own": _record(programme, receipt="A-1", by=users.cashier),
        "other": _record(programme, partner=programme.partner_b, card=programme.card_b, receipt="B-1"),
    }


def _user(users, role):
    if role == "anonymous":
        return None
    if role == "cashier_without_partner":
        return UserFactory(username="cashier_nobody", role=Role.CASHIER)
    return users.by_role(role)


@pytest.mark.parametrize(("url_name", "arg", "method", "role", "expected"), CASES)
def test_role_matrix(client, users, programme, purchases, url_name, arg, method, role, expected):
    user = _user(users, role)
    if user is not None:
        client.force_login(user)
    url = reverse(url_name, args=[purchases[arg].pk] if arg else [])

    response = getattr(client, method)(url, {"card": programme.card_a.number} if method == "post" else {})

    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected
    if expected == REDIRECT:
        assert response.url == reverse("discounts:cashier")
    if role != "cashier" or arg == "other":
        assert Purchase.objects.get(pk=purchases["own"].pk).status == Purchase.Status.ACCEPTED


def test_cashier_without_partner_is_told_why(client_for, db):
    user = UserFactory(username="cashier_nobody", role=Role.CASHIER)

    response = client_for(user).get(reverse("discounts:cashier"))

    assert response.status_code == 403
    assert "не привязана ни к одному партнёру" in response.content.decode()


def test_cashier_lands_on_the_cashier_page(client_for, users, programme):
    response = client_for(users.cashier).get(reverse("home"))

    assert response.status_code == 302 and response.url == reverse("discounts:cashier")


# --- the check ------------------------------------------------------------------------------------------------------


def _check(client, text: str):
    return client.post(reverse("discounts:cashier_check"), {"card": text})


def test_typed_number_with_spaces_is_valid_and_shows_only_first_name_and_initial(client_for, users, programme):
    client = client_for(users.cashier)

    response = _check(client, programme.card_a.grouped_number)

    assert response.status_code == 302 and response.url == reverse("discounts:cashier")
    assert programme.card_a.number not in response.url
    html = client.get(response.url).content.decode()
    assert "Билет действует" in html and "Ольга С." in html
    assert "Смирнова" not in html and programme.card_a.number not in html
    assert f"•••• {programme.card_a.number[-4:]}" in html
    assert 'name="amount"' in html  # the purchase form follows a valid check
    assert client.session[CHECKED_CARD_KEY]["card"] == programme.card_a.pk
    assert programme.card_a.number not in str(dict(client.session))
    check = CardCheck.objects.get()
    assert (check.partner, check.card, check.result) == (programme.partner_a, programme.card_a, "valid")


def test_number_typed_with_dashes_is_read_too(client_for, users, programme):
    number = programme.card_a.number
    client = client_for(users.cashier)

    _check(client, f" {number[:4]}-{number[4:8]}-{number[8:12]}-{number[12:]} ")

    assert "Билет действует" in client.get(reverse("discounts:cashier")).content.decode()


def test_scanned_qr_address_is_valid(client_for, users, programme):
    client = client_for(users.cashier)

    _check(client, f"https://reestr.example.ru/cards/v/{card_verification_token(programme.card_a)}/")

    html = client.get(reverse("discounts:cashier")).content.decode()
    assert "Билет действует" in html and "Ольга С." in html


def test_wrong_luhn_digit_is_refused_before_any_card_query(client_for, users, programme):
    number = programme.card_a.number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    client = client_for(users.cashier)

    with CaptureQueriesContext(connection) as queries:
        response = _check(client, wrong)

    assert response.status_code == 200
    html = response.content.decode()
    assert "контрольная цифра не сходится" in html and "is-invalid" in html
    assert not [q["sql"] for q in queries if 'FROM "cards_card"' in q["sql"] or wrong in q["sql"]]
    assert not CardCheck.objects.exists()
    assert 'name="amount"' not in html


def test_too_short_number_and_empty_field_are_refused(client_for, users, programme):
    client = client_for(users.cashier)

    assert "контрольная цифра" in _check(client, "1234 5678").content.decode()
    assert "Введите номер билета" in _check(client, "   ").content.decode()
    assert not CardCheck.objects.exists()


def test_blocked_card_is_shown_as_not_valid_without_purchase_form(client_for, users, programme):
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)
    client = client_for(users.cashier)

    _check(client, programme.card_a.number)

    html = client.get(reverse("discounts:cashier")).content.decode()
    assert "Билет не действует" in html and 'name="amount"' not in html


def test_member_who_left_is_not_valid(client_for, users, programme):
    member_record_leaving(
        by=users.chair, member=programme.holder_a, left_on=timezone.localdate(), reason=Member.LeavingReason.VOLUNTARY
    )
    client = client_for(users.cashier)

    _check(client, programme.card_a.number)

    assert "Билет не действует" in client.get(reverse("discounts:cashier")).content.decode()


def test_unknown_number_is_not_found(client_for, users, programme):
    from cards.numbers import card_number_compose

    client = client_for(users.cashier)

    _check(client, card_number_compose(region_code="77", serial=9_999_999_999))

    html = client.get(reverse("discounts:cashier")).content.decode()
    assert "Билет не найден" in html and 'name="amount"' not in html


def test_inactive_partner_is_told_and_checks_are_refused(client_for, users, programme):
    Partner.objects.filter(pk=programme.partner_a.pk).update(active_until=timezone.localdate() - datetime.timedelta(1))
    client = client_for(users.cashier)

    assert "не участвует в программе" in client.get(reverse("discounts:cashier")).content.decode()
    assert "Партнёр сейчас не участвует" in _check(client, programme.card_a.number).content.decode()


def test_every_form_carrying_the_card_number_is_a_post(client_for, users, programme):
    html = client_for(users.cashier).get(reverse("discounts:cashier")).content.decode()

    form = html[html.index('id="card-check-form"') - 120 : html.index('id="card-check-form"')]
    assert 'method="post"' in form
    assert "<script>" not in html.split("</footer>")[0]  # no inline script: static/js/cashier.js
    assert "vendor/zxing/zxing-library" in html and "js/cashier" in html


# --- the purchase ---------------------------------------------------------------------------------------------------


def _checked(client, programme):
    _check(client, programme.card_a.number)
    return client


def _buy(client, amount="1 234,50", receipt="Ч-100"):
    return client.post(reverse("discounts:cashier_purchase"), {"amount": amount, "receipt": receipt})


def test_purchase_is_recorded_and_its_cashback_shown(client_for, users, programme):
    client = _checked(client_for(users.cashier), programme)

    response = _buy(client)

    assert response.status_code == 302 and response.url == reverse("discounts:cashier")
    purchase = Purchase.objects.get()
    assert (purchase.partner, purchase.card, purchase.amount, purchase.cashback) == (
        programme.partner_a, programme.card_a, 123_450, 6173,  # 5 % of 1 234,50 ₽ = 61,725 → 61,73 (half up)
    )  # fmt: skip
    assert (purchase.channel, purchase.recorded_by, purchase.receipt_id) == ("cashier", users.cashier, "Ч-100")
    html = client.get(response.url).content.decode()
    assert "Покупка оформлена" in html and "Кешбэк покупателю: 61,73 ₽" in html
    assert CHECKED_CARD_KEY not in client.session  # the next customer starts with a new check
    assert 'name="amount"' not in html


def test_purchase_without_a_check_is_refused(client_for, users, programme):
    client = client_for(users.cashier)

    response = _buy(client)

    assert response.status_code == 302
    assert "Сначала проверьте билет" in client.get(response.url).content.decode()
    assert not Purchase.objects.exists()


def test_purchase_after_a_stale_check_is_refused(client_for, users, programme):
    client = _checked(client_for(users.cashier), programme)
    session = client.session
    session[CHECKED_CARD_KEY]["at"] = (timezone.now() - datetime.timedelta(minutes=11)).isoformat()
    session.save()

    response = _buy(client)

    assert "Сначала проверьте билет" in client.get(response.url).content.decode()
    assert not Purchase.objects.exists()


def test_purchase_after_a_blocked_check_is_refused(client_for, users, programme):
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)
    client = _checked(client_for(users.cashier), programme)

    _buy(client)

    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("amount", "receipt", "message"),
    [
        ("abc", "Ч-1", "Сумма в рублях, например: 1 234,50."),
        ("12,345", "Ч-1", "Сумма в рублях"),
        ("0", "Ч-1", "Сумма покупки должна быть больше нуля."),
        ("-5", "Ч-1", "Сумма покупки должна быть больше нуля."),
        ("20 000 000", "Ч-1", "Сумма покупки слишком велика"),
        ("100", "", "Номер чека: от 1 до 64 знаков"),
        ("100", "<b>1</b>", "Номер чека: от 1 до 64 знаков"),
    ],
)
def test_purchase_refusals_are_shown_in_russian_and_keep_the_form(
    client_for, users, programme, amount, receipt, message
):
    client = _checked(client_for(users.cashier), programme)

    response = _buy(client, amount=amount, receipt=receipt)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and 'data-testid="purchase-error"' in html
    assert f'value="{amount}"' in html  # the cashier corrects rather than retypes
    assert not Purchase.objects.exists()


def test_duplicate_receipt_is_refused(client_for, users, programme):
    client = _checked(client_for(users.cashier), programme)
    _buy(client, receipt="Ч-7")
    _checked(client, programme)

    response = _buy(client, amount="10", receipt="Ч-7")

    assert "Чек № Ч-7 уже оформлен" in response.content.decode()
    assert Purchase.objects.count() == 1


def test_card_blocked_between_check_and_purchase_is_refused(client_for, users, programme):
    client = _checked(client_for(users.cashier), programme)
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)

    response = _buy(client)

    assert "Билет заблокирован." in response.content.decode()
    assert not Purchase.objects.exists()


def test_daily_limit_refusal_reaches_the_page(client_for, users, programme):
    Partner.objects.filter(pk=programme.partner_a.pk).update(daily_purchases_per_card=1)
    client = _checked(client_for(users.cashier), programme)
    _buy(client, receipt="Ч-1")
    _checked(client, programme)

    response = _buy(client, receipt="Ч-2")

    assert "предел партнёра на день" in response.content.decode()


def test_next_customer_forgets_the_check(client_for, users, programme):
    client = _checked(client_for(users.cashier), programme)

    client.post(reverse("discounts:cashier_next_customer"))

    assert "Билет действует" not in client.get(reverse("discounts:cashier")).content.decode()


def test_check_made_for_another_partner_does_not_carry_over(client_for, users, programme):
    """A cashier moved to another partner mid-shift starts again: the session's check belonged to the first."""
    client = _checked(client_for(users.cashier), programme)
    Cashier.objects.filter(user=users.cashier).update(partner=programme.partner_union)

    _buy(client)

    assert not Purchase.objects.exists()


# --- the day's list and returns -------------------------------------------------------------------------------------


def test_cashier_sees_only_own_partners_purchases_of_today(client_for, users, programme, purchases):
    yesterday = _record(programme, receipt="A-OLD", now=timezone.now() - datetime.timedelta(days=1, hours=1))

    html = client_for(users.cashier).get(reverse("discounts:cashier")).content.decode()

    assert "№ A-1" in html
    assert "№ B-1" not in html and f"№ {yesterday.receipt_id}" not in html


def test_receipt_search_finds_only_own_partners_receipts(client_for, users, programme, purchases):
    client = client_for(users.cashier)

    assert "№ A-1" in client.get(reverse("discounts:cashier"), {"receipt": "A-1"}).content.decode()
    html = client.get(reverse("discounts:cashier"), {"receipt": "B-1"}).content.decode()
    assert "Чек № B-1 у вашего партнёра не найден." in html


def test_cashier_reverses_own_purchase_and_the_cashback_goes(client_for, users, programme, purchases):
    client = client_for(users.cashier)

    response = client.post(reverse("discounts:cashier_reverse", args=[purchases["own"].pk]))

    assert response.status_code == 302
    purchases["own"].refresh_from_db()
    assert purchases["own"].status == Purchase.Status.REVERSED
    html = client.get(response.url).content.decode()
    assert "Возврат по чеку № A-1 оформлен" in html
    assert CashbackAccount.objects.get(member=programme.holder_a).pending == 0


def test_cashier_cannot_reverse_another_partners_purchase(client_for, users, programme, purchases):
    response = client_for(users.cashier).post(reverse("discounts:cashier_reverse", args=[purchases["other"].pk]))

    assert response.status_code == 404
    purchases["other"].refresh_from_db()
    assert purchases["other"].status == Purchase.Status.ACCEPTED


def test_return_after_the_hold_is_refused_with_the_reason(client_for, users, programme):
    old = _record(programme, receipt="A-OLD", now=timezone.now() - datetime.timedelta(days=20))
    client = client_for(users.cashier)

    html = client.get(reverse("discounts:cashier"), {"receipt": "A-OLD"}).content.decode()
    assert "срок возврата истёк" in html and f"/purchases/{old.pk}/reverse/" not in html
    response = client.post(reverse("discounts:cashier_reverse", args=[old.pk]))

    assert "Срок возврата истёк" in client.get(response.url).content.decode()
    old.refresh_from_db()
    assert old.status == Purchase.Status.ACCEPTED


def test_cashier_page_queries_do_not_grow_with_the_days_purchases(client_for, users, programme):
    client = client_for(users.cashier)
    _record(programme, receipt="A-0")
    client.get(reverse("discounts:cashier"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("discounts:cashier"))
    for number in range(1, 4):
        _record(programme, receipt=f"A-{number}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("discounts:cashier"))

    assert len(many) == len(few)


# --- rate limit -----------------------------------------------------------------------------------------------------


def test_checks_and_purchases_of_one_cashier_are_rate_limited(client_for, users, programme, settings):
    """A stolen cashier's session must not run through card numbers: over CASHIER_RATE_LIMIT the page answers 429
    in Russian with Retry-After and neither checks nor records anything."""
    settings.CASHIER_RATE_LIMIT = "3/60"
    client = _checked(client_for(users.cashier), programme)
    assert _buy(client, receipt="Ч-1").status_code == 302
    assert _check(client, programme.card_a.number).status_code == 302

    checked = _check(client, programme.card_b.number)
    bought = _buy(client, receipt="Ч-2")

    for refused in (checked, bought):
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert "Слишком много запросов" in refused.content.decode()
    assert CardCheck.objects.filter(partner=programme.partner_a).count() == 2
    assert list(Purchase.objects.values_list("receipt_id", flat=True)) == ["Ч-1"]
    assert client.get(reverse("discounts:cashier")).status_code == 200  # the page and its list still open


def test_another_cashier_has_a_count_of_its_own(client, client_for, users, programme, settings):
    settings.CASHIER_RATE_LIMIT = "1/60"
    busy = client_for(users.cashier)
    _check(busy, programme.card_a.number)
    assert _check(busy, programme.card_a.number).status_code == 429

    colleague = UserFactory(username="cashier_colleague", role=Role.CASHIER)
    Cashier.objects.create(user=colleague, partner=programme.partner_a)
    busy.logout()
    assert _check(client_for(colleague), programme.card_a.number).status_code == 302
