"""The partners' programme and the member's consent to it (152-FZ: the partner learns the holder's name).

Without a valid PARTNERS consent the card is, for a partner, exactly a blocked card: its till and its system get the
blocked card's answer and never the reason; no purchase and no cashback. A withdrawal takes effect on the next call.
The member's cabinet says why partners do not accept the card and how to give the consent."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cards.models import Card
from cards.services import card_block, card_issue, card_verification_token
from discounts.models import CardCheck, CashbackEntry, Purchase
from discounts.services import partner_token_issue
from membership.models import Consent
from membership.services import consent_record, consent_withdraw
from tests.discounts.test_api import Api
from tests.discounts.test_cashier import CHECKED_CARD_KEY, _buy, _check
from tests.factories import MemberFactory, UserFactory

BLOCKED = {"state": "blocked", "holder": "Ольга С."}


@pytest.fixture
def api(programme, users) -> Api:
    _token, key = partner_token_issue(partner=programme.partner_a, by=users.central, name="касса")
    return Api(key)


def partners_consent_withdraw(member, *, by) -> None:
    consent = member.consents.get(purpose=Consent.Purpose.PARTNERS, withdrawn_on__isnull=True)
    consent_withdraw(by=by, consent=consent, withdrawn_on=timezone.localdate())


def blocked_card_answer(api: Api, programme, users) -> tuple:
    """What the partner's system is told about the same holder's card once it is blocked: the reference answer."""
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)
    verify, purchase = api.verify(programme.card_a.number), api.purchase(programme.card_a.number, receipt_id="B-1")
    return verify.status_code, verify.json(), purchase.status_code, purchase.json()


# --- the partner's system -------------------------------------------------------------------------------------------


def test_without_the_consent_the_api_answers_as_for_a_blocked_card_and_takes_no_purchase(programme, users, api):
    partners_consent_withdraw(programme.holder_a, by=users.chair)

    verify = api.verify(programme.card_a.number)
    purchase = api.purchase(programme.card_a.number, receipt_id="A-1")

    assert (verify.status_code, verify.json()) == (200, BLOCKED)
    assert (purchase.status_code, purchase.json()) == (409, {"code": "card_blocked", "message": "Билет заблокирован."})
    assert "соглас" not in verify.content.decode() + purchase.content.decode()  # the partner never learns why
    assert not Purchase.objects.exists() and not CashbackEntry.objects.exists()
    assert list(CardCheck.objects.values_list("result", flat=True)) == ["blocked"]
    # Word for word what a blocked card gets.
    reference = blocked_card_answer(api, programme, users)
    assert reference == (200, BLOCKED, 409, {"code": "card_blocked", "message": "Билет заблокирован."})


def test_a_holder_who_never_gave_the_consent_is_refused_by_number_and_by_the_qr_code(programme, users, api):
    member = MemberFactory(organization=programme.holder_a.organization, first_name="Инна", last_name="Новикова")
    card = card_issue(member=member, by=users.chair)
    qr = f"https://reestr.example.ru/cards/v/{card_verification_token(card)}/"
    for shown in (card.number, qr):
        assert api.verify(shown).json() == {"state": "blocked", "holder": "Инна Н."}
    assert api.purchase(qr, receipt_id="Q-1").json()["code"] == "card_blocked"
    consent_record(by=users.chair, member=member, purpose=Consent.Purpose.PARTNERS,
                   given_on=timezone.localdate(), method=Consent.Method.SIGNED_FORM)  # fmt: skip
    assert api.verify(qr).json() == {"state": "valid", "holder": "Инна Н."}


def test_a_withdrawal_takes_effect_on_the_very_next_call(programme, users, api):
    assert api.verify(programme.card_a.number).json()["state"] == "valid"  # the key remembered, everything warm
    assert api.purchase(programme.card_a.number, receipt_id="A-1").status_code == 201

    partners_consent_withdraw(programme.holder_a, by=users.chair)

    assert api.verify(programme.card_a.number).json() == BLOCKED
    assert api.purchase(programme.card_a.number, receipt_id="A-2").status_code == 409
    assert Purchase.objects.count() == 1


def test_the_consent_to_the_card_vendor_alone_does_not_open_the_partners_programme(programme, users, api):
    partners_consent_withdraw(programme.holder_a, by=users.chair)
    assert programme.holder_a.consents.filter(purpose=Consent.Purpose.CARD_VENDOR, withdrawn_on=None).exists()
    assert api.verify(programme.card_a.number).json() == BLOCKED


# --- the partner's till ---------------------------------------------------------------------------------------------


def test_the_cashier_sees_a_card_without_the_consent_as_not_valid_and_is_not_told_why(client_for, users, programme):
    partners_consent_withdraw(programme.holder_a, by=users.chair)
    client = client_for(users.cashier)

    _check(client, programme.card_a.number)

    html = client.get(reverse("discounts:cashier")).content.decode()
    assert "Билет не действует" in html and 'name="amount"' not in html
    assert "соглас" not in html.lower()
    assert client.session[CHECKED_CARD_KEY]["state"] == "blocked"
    assert _buy(client).status_code == 302  # sent back to check again
    assert not Purchase.objects.exists()


def test_a_consent_withdrawn_between_the_check_and_the_purchase_stops_the_purchase(client_for, users, programme):
    client = client_for(users.cashier)
    _check(client, programme.card_a.number)
    assert client.session[CHECKED_CARD_KEY]["state"] == "valid"

    partners_consent_withdraw(programme.holder_a, by=users.chair)
    response = _buy(client)

    assert "Билет заблокирован." in response.content.decode()
    assert "соглас" not in response.content.decode().lower()
    assert not Purchase.objects.exists() and not CashbackEntry.objects.exists()


# --- the member's cabinet -------------------------------------------------------------------------------------------


def test_the_cabinet_says_why_partners_refuse_the_card_and_how_to_give_the_consent(client_for, users, programme):
    client = client_for(users.member)
    assert 'data-testid="partner-consent-missing"' not in client.get(reverse("membership:my_cabinet")).content.decode()

    partners_consent_withdraw(programme.holder_a, by=users.chair)

    for page in (reverse("membership:my_cabinet"), reverse("discounts:cashback")):
        html = client.get(page).content.decode()
        notice = html[html.index('data-testid="partner-consent-missing"') :]
        notice = notice[: notice.index("</div>\n</div>")]
        assert "Партнёры не принимают ваш профсоюзный билет." in notice
        withdrawn_on = f"{timezone.localdate():%d.%m.%Y}"
        assert f"отозвали согласие на участие в программе скидок и кешбэка партнёров {withdrawn_on}" in notice
        assert reverse("membership:my_consent_form_pdf", args=["partners"]) in notice
        assert programme.holder_a.organization.name in notice  # where to take the signed form


def test_a_member_who_never_consented_is_told_so_and_the_other_member_sees_nothing_of_it(client_for, programme, union):
    newcomer = UserFactory(username="novichok")
    MemberFactory(user=newcomer, organization=union.primary_a1a)
    html = client_for(newcomer).get(reverse("membership:my_cabinet")).content.decode()
    assert "Нет вашего согласия на участие в программе скидок и кешбэка партнёров." in html
    assert "Смирнова" not in html
