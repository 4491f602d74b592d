"""The member's side: the catalogue of the region's partners, a partner's page, the cashback balance and history,
the payout details and the cabinet panel; every URL for every role.

Rules the expectations come from:
- the catalogue and partner pages are for members (their region) and staff (their organisation's region; central
  office every region); a cashier gets 403; a partner of another region, or not active today, does not exist (404);
- the cashback page is the member's own: staff and cashiers get 403, a member account without a member record 404;
- anonymous visitors are sent to the login page.
"""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog, Role
from discounts import selectors, services
from discounts.models import CashbackAccount, CashbackEntry, Partner, Purchase
from membership.models import Member
from registry.models import Organization
from tests.discounts.conftest import partner_create
from tests.factories import MemberFactory, UserFactory

OK, DENY, HIDDEN, LOGIN = 200, 403, 404, "login"
ROLES = ("central", "regional", "local", "chair", "member", "cashier", "other_regional", "other_chair", "anonymous",
         "member_without_record")  # fmt: skip

# fmt: off
# url name, partner (programme attribute) or None, then the answer for each of ROLES in order
MATRIX = [
    ("discounts:catalogue",         None,            OK, OK, OK, OK, OK, DENY, OK, OK, LOGIN, HIDDEN),
    ("discounts:catalogue_partner", "partner_a",     OK, OK, OK, OK, OK, DENY, HIDDEN, HIDDEN, LOGIN, HIDDEN),
    ("discounts:catalogue_partner", "partner_union", OK, OK, OK, OK, OK, DENY, OK, OK, LOGIN, HIDDEN),
    ("discounts:catalogue_partner", "partner_b",     OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, DENY, OK, OK, LOGIN, HIDDEN),
    ("discounts:cashback",          None,            DENY, DENY, DENY, DENY, OK, DENY, DENY, DENY, LOGIN, HIDDEN),
]
# fmt: on
CASES = [
    (url, partner, role, expected)
    for url, partner, *answers in MATRIX
    for role, expected in zip(ROLES, answers, strict=True)
]


def _user(users, role):
    if role == "anonymous":
        return None
    if role == "member_without_record":
        return UserFactory(username="member_no_record", role=Role.MEMBER)
    return users.by_role(role)


@pytest.mark.parametrize(("url_name", "partner", "role", "expected"), CASES)
def test_role_matrix(client, users, programme, url_name, partner, role, expected):
    user = _user(users, role)
    if user is not None:
        client.force_login(user)
    args = [getattr(programme, partner).pk] if partner else []

    response = client.get(reverse(url_name, args=args))

    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected


def test_payout_details_form_is_only_the_members(client_for, users, programme):
    for role in ("central", "regional", "chair", "cashier"):
        response = client_for(users.by_role(role)).post(reverse("discounts:cashback"), {"phone": "+79160000000"})
        assert response.status_code == 403
    assert not CashbackAccount.objects.exclude(payout_phone="").exists()


# --- the catalogue --------------------------------------------------------------------------------------------------


def _catalogue(client, **query) -> str:
    return client.get(reverse("discounts:catalogue"), query).content.decode()


def test_member_sees_own_region_and_union_wide_partners_never_another_regions(client_for, users, programme):
    html = _catalogue(client_for(users.member))

    assert programme.partner_a.name in html
    assert programme.partner_union.name in html
    assert programme.partner_b.name not in html


def test_member_of_the_other_region_sees_the_mirror(client_for, programme, union):
    user = UserFactory(username="member_b", role=Role.MEMBER)
    Member.objects.filter(pk=programme.holder_b.pk).update(user=user)

    html = _catalogue(client_for(user))

    assert programme.partner_b.name in html and programme.partner_union.name in html
    assert programme.partner_a.name not in html


def test_region_comes_from_the_regional_organisation_when_the_primary_has_none(client_for, users, programme, union):
    """The region is read up the tree: a ППО row without its own region still sits in its regional organisation."""
    Organization.objects.filter(pk__in=[union.primary_a1a.pk, union.local_a1.pk]).update(region=None)

    html = _catalogue(client_for(users.member))

    assert programme.partner_a.name in html and programme.partner_b.name not in html


def test_member_of_a_unit_sees_the_region_of_the_unit(client_for, programme, union):
    user = UserFactory(username="member_unit", role=Role.MEMBER)
    MemberFactory(user=user, organization=union.unit_a1a)
    Organization.objects.filter(pk=union.unit_a1a.pk).update(region=None)

    html = _catalogue(client_for(user))

    assert programme.partner_a.name in html and programme.partner_b.name not in html


def test_staff_see_their_regions_catalogue_and_central_office_every_region(client_for, users, programme):
    regional = _catalogue(client_for(users.regional))
    assert programme.partner_a.name in regional and programme.partner_b.name not in regional

    central = _catalogue(client_for(users.central))
    assert all(p.name in central for p in (programme.partner_a, programme.partner_b, programme.partner_union))


def test_partners_not_active_today_are_left_out(client_for, users, programme, union):
    today = timezone.localdate()
    ended = partner_create(name="Кафе «Прошлогоднее»", regions=[union.region_a.region], cashback_bp=100,
                           active_from=today - datetime.timedelta(days=60), active_until=today - datetime.timedelta(days=1))  # fmt: skip
    future = partner_create(name="Кафе «Будущее»", union_wide=True, active_from=today + datetime.timedelta(days=1))
    client = client_for(users.member)

    html = _catalogue(client)

    assert ended.name not in html and future.name not in html
    assert client.get(reverse("discounts:catalogue_partner", args=[ended.pk])).status_code == 404
    assert client.get(reverse("discounts:catalogue_partner", args=[future.pk])).status_code == 404


def test_catalogue_is_one_query_whatever_the_number_of_partners(client_for, users, programme, union):
    client = client_for(users.member)
    client.get(reverse("discounts:catalogue"))  # the session and the user are read the same way every time
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("discounts:catalogue"))
    for number in range(15):
        partner_create(name=f"Партнёр {number}", regions=[union.region_a.region], cashback_bp=100)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("discounts:catalogue")).content.decode()

    assert "Партнёр 14" in html
    assert len(many) == len(few)
    partner_queries = [q["sql"] for q in many if 'FROM "discounts_partner"' in q["sql"]]
    assert len(partner_queries) == 1  # the region is a subquery of the same statement


def test_search_folds_case_and_yo_in_russian(client_for, users, programme, union):
    partner_create(name="Ёлочка", union_wide=True, category=Partner.Category.HOME)
    client = client_for(users.member)

    assert programme.partner_a.name in _catalogue(client, q="АЗБУКА")
    found = _catalogue(client, q="елочка")
    assert "Ёлочка" in found and programme.partner_a.name not in found
    assert "Ничего не нашлось" in _catalogue(client, q="несуществующий")


def test_category_chips_filter_and_count(client_for, users, programme):
    client = client_for(users.member)

    html = _catalogue(client, category=Partner.Category.TRAVEL)

    assert programme.partner_union.name in html and programme.partner_a.name not in html
    all_html = _catalogue(client)
    assert "Книги и обучение" in all_html and "Отдых и путешествия" in all_html
    assert "Здоровье и аптеки" not in all_html  # the only health partner is in the other region


def test_unknown_category_shows_everything(client_for, users, programme):
    html = _catalogue(client_for(users.member), category="<script>")

    assert programme.partner_a.name in html and "&lt;script&gt;" not in html


def test_partner_page_shows_terms_promo_code_link_and_hold(client_for, users, programme):
    partner = programme.partner_a
    Partner.objects.filter(pk=partner.pk).update(
        terms="Скидка не суммируется с акциями.", description="Книги для учителей.", promo_code="PROF2025",
        online_url="https://azbuka.example.ru/", hold_days=21,
    )  # fmt: skip

    html = client_for(users.member).get(reverse("discounts:catalogue_partner", args=[partner.pk])).content.decode()

    assert "Скидка не суммируется с акциями." in html and "Книги для учителей." in html
    assert 'value="PROF2025"' in html and 'data-copy-target="promo-code"' in html
    assert 'href="https://azbuka.example.ru/"' in html and 'rel="noopener noreferrer"' in html
    assert "21 дн." in html and "5 %" in html
    assert "Москва" in html
    assert "<script>" not in html.split("</footer>")[0]  # JS comes from static files only


# --- the cashback page ----------------------------------------------------------------------------------------------


def _buy(programme, users, *, receipt: str, amount: int, days_ago: int = 0, partner=None) -> Purchase:
    return services.purchase_record(
        partner=partner or programme.partner_a, presented=programme.card_a.number, receipt_id=receipt, amount=amount,
        channel=Purchase.Channel.CASHIER, by=users.cashier, now=timezone.now() - datetime.timedelta(days=days_ago),
    ).purchase  # fmt: skip


def _pay_out(member, amount: int) -> None:
    """What a payout batch does to the ledger: confirmed → paid (the payouts service is tested on its own)."""
    with transaction.atomic():
        account = services.cashback_account_locked(member.pk)
        services._ledger_post(account, kind=CashbackEntry.Kind.PAYOUT, moves={"confirmed": -amount, "paid": amount})


@pytest.fixture
def history(programme, users):
    """holder_a: two purchases confirmed long ago (the first paid out), one returned, one still on hold; and one at
    the union-wide partner that is confirmed but not yet paid."""
    paid = _buy(programme, users, receipt="A-1", amount=100_000, days_ago=60)  # 50 ₽
    services.cashback_confirm_due(now=timezone.now() - datetime.timedelta(days=40))
    _pay_out(programme.holder_a, paid.cashback)
    confirmed = _buy(programme, users, receipt="U-1", amount=50_000, days_ago=30, partner=programme.partner_union)
    services.cashback_confirm_due()
    reversed_ = _buy(programme, users, receipt="A-2", amount=20_000, days_ago=2)
    services.purchase_reverse(purchase=reversed_, by=users.cashier)
    pending = _buy(programme, users, receipt="A-3", amount=123_450)  # 61,73 ₽
    return {"paid": paid, "confirmed": confirmed, "reversed": reversed_, "pending": pending}


def test_cashback_states_add_up_to_the_balances(programme, history):
    account = CashbackAccount.objects.get(member=programme.holder_a)
    marked = selectors.cashback_states_mark(selectors.cashback_history(member=programme.holder_a), account=account)

    states = {purchase.receipt_id: purchase.cashback_state for purchase in marked}
    assert states == {"A-1": "paid", "U-1": "confirmed", "A-2": "reversed", "A-3": "pending"}
    for state in ("pending", "confirmed", "paid"):
        assert sum(p.cashback for p in marked if p.cashback_state == state) == getattr(account, state)
    assert (account.pending, account.confirmed, account.paid) == (6173, 1500, 5000)


def test_cashback_page_shows_balances_and_history(client_for, users, programme, history):
    services.purchase_record(
        partner=programme.partner_b, presented=programme.card_b.number, receipt_id="B-1", amount=10_000,
        channel=Purchase.Channel.CASHIER, by=None,
    )  # fmt: skip
    html = client_for(users.member).get(reverse("discounts:cashback")).content.decode()

    assert 'data-testid="balance-pending">61,73 ₽' in html
    assert 'data-testid="balance-confirmed">15,00 ₽' in html
    assert 'data-testid="balance-paid">50,00 ₽' in html
    hold_until = timezone.localtime(history["pending"].hold_until).strftime("%d.%m.%Y")
    assert f"ожидает до {hold_until}" in html
    assert "подтверждён" in html and "выплачен" in html and "возврат покупки" in html
    assert "покупка 1\u202f234,50 ₽" in html
    assert programme.partner_b.name not in html  # another member's purchase


def test_cashback_page_before_any_purchase_creates_nothing(client_for, users, programme):
    html = client_for(users.member).get(reverse("discounts:cashback")).content.decode()

    assert 'data-testid="balance-pending">0,00 ₽' in html and "Покупок по билету ещё не было" in html
    assert not CashbackAccount.objects.exists()


def test_history_pages_keep_the_paid_marks_right(client_for, users, programme, history, monkeypatch):
    """The running sum behind "paid" is taken over all purchases, not just the page shown."""
    monkeypatch.setattr("discounts.views.member.HISTORY_PAGE_SIZE", 1)

    client = client_for(users.member)
    third = client.get(reverse("discounts:cashback"), {"page": 3}).content.decode()  # U-1: confirmed, not yet paid
    fourth = client.get(reverse("discounts:cashback"), {"page": 4}).content.decode()  # the oldest, paid

    assert programme.partner_union.name in third and "подтверждён</span>" in third and "выплачен</span>" not in third
    assert programme.partner_a.name in fourth and "выплачен</span>" in fourth


# --- payout details -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("+7 912 345-67-89", "+79123456789"),
        ("8 (912) 345-67-89", "+79123456789"),
        ("89123456789", "+79123456789"),
        ("79123456789", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("+7\u00a0912\u00a0345\u00a067\u00a089", "+79123456789"),
    ],
)
def test_payout_phone_is_normalised(typed, normalised):
    assert services.payout_phone_normalised(typed) == normalised


@pytest.mark.parametrize("typed", ["+7 495 123-45-67", "12345", "+1 912 345 67 89", "8912345678", "телефон", ""])
def test_payout_phone_refuses_what_is_not_a_russian_mobile(typed):
    with pytest.raises(services.DiscountError, match="мобильного телефона"):
        services.payout_phone_normalised(typed)


def test_member_saves_payout_details_and_the_log_keeps_no_phone(client_for, users, programme):
    response = client_for(users.member).post(
        reverse("discounts:cashback"), {"phone": "8 (912) 345-67-89", "bank": "  Сбербанк  "}
    )

    assert response.status_code == 302 and response.url == reverse("discounts:cashback")
    account = CashbackAccount.objects.get(member=programme.holder_a)
    assert (account.payout_phone, account.payout_bank) == ("+79123456789", "Сбербанк")
    entry = AccessLog.objects.get(action=AccessLog.Action.CHANGE, object_type="membership.member")
    assert entry.object_id == str(programme.holder_a.pk) and entry.user == users.member
    assert entry.details == {"cashback_payout": ["payout_phone", "payout_bank"]}
    assert "912" not in str(entry.details)


@pytest.mark.parametrize(
    ("phone", "bank", "message"),
    [
        ("+7 495 123-45-67", "Сбербанк", "мобильного телефона"),
        ("+79123456789", "", "и телефон, и банк"),
        ("", "Сбербанк", "и телефон, и банк"),
        ("+79123456789", "Б" * 101, "не длиннее 100"),
    ],
)
def test_payout_details_refusals_are_shown_and_nothing_is_saved(client_for, users, programme, phone, bank, message):
    response = client_for(users.member).post(reverse("discounts:cashback"), {"phone": phone, "bank": bank})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CashbackAccount.objects.exclude(payout_phone="").exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.CHANGE, object_type="membership.member").exists()


def test_member_clears_payout_details(client_for, users, programme):
    CashbackAccount.objects.create(member=programme.holder_a, payout_phone="+79123456789", payout_bank="ВТБ")

    client_for(users.member).post(reverse("discounts:cashback"), {"phone": "", "bank": ""})

    account = CashbackAccount.objects.get(member=programme.holder_a)
    assert (account.payout_phone, account.payout_bank) == ("", "")


def test_payout_details_of_a_member_who_withdrew_consent_are_refused(users, programme):
    Member.objects.filter(pk=programme.holder_a.pk).update(processing_blocked_on=timezone.localdate())
    programme.holder_a.refresh_from_db()

    with pytest.raises(services.DiscountError, match="Согласие"):
        services.cashback_payout_details_update(member=programme.holder_a, by=users.member, phone="+79123456789",
                                                bank="ВТБ")  # fmt: skip


def test_nobody_sets_another_members_payout_details(users, programme):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.cashback_payout_details_update(member=programme.holder_b, by=users.member, phone="+79123456789",
                                                bank="ВТБ")  # fmt: skip


# --- the cabinet and the menu ---------------------------------------------------------------------------------------


def test_cabinet_shows_the_cashback_balance_and_the_way_to_it(client_for, users, programme):
    _buy(programme, users, receipt="A-9", amount=20_000)  # 10 ₽ pending

    html = client_for(users.member).get(reverse("membership:my_cabinet")).content.decode()

    assert 'data-testid="balance-pending">10,00 ₽' in html
    assert reverse("discounts:cashback") in html and reverse("discounts:catalogue") in html


def test_menu_offers_the_catalogue_to_members_and_the_till_to_cashiers(client_for, users, programme):
    member_html = client_for(users.member).get(reverse("accounts:profile")).content.decode()
    assert reverse("discounts:catalogue") in member_html and reverse("discounts:cashback") in member_html
    assert reverse("discounts:cashier") not in member_html

    cashier_html = client_for(users.cashier).get(reverse("accounts:profile")).content.decode()
    assert reverse("discounts:cashier") in cashier_html and reverse("discounts:catalogue") not in cashier_html


def test_cashback_page_queries_do_not_grow_with_the_history(client_for, users, programme):
    client = client_for(users.member)
    _buy(programme, users, receipt="A-0", amount=10_000)
    client.get(reverse("discounts:cashback"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("discounts:cashback"))
    for number in range(1, 4):
        _buy(programme, users, receipt=f"A-{number}", amount=10_000, partner=programme.partner_union)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("discounts:cashback"))

    assert len(many) == len(few)
