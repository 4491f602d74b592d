"""The partner API, /api/v1/: every call, every refusal, keys and their scope, the rate limit, the schema and docs."""

import datetime
import re
import threading
from dataclasses import dataclass

import pytest
from django.contrib.staticfiles import finders
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate

from accounts.models import AccessLog
from cards.models import Card
from cards.services import card_block, card_verification_token
from discounts.api import RateLimited, rate_limit_take
from discounts.models import CardCheck, CashbackAccount, CashbackEntry, Partner, PartnerToken, Purchase
from discounts.services import partner_token_issue, partner_token_revoke, partner_token_rotate
from membership.models import Member
from membership.services import member_record_leaving

VERIFY = "/api/v1/cards/verify"
PURCHASES = "/api/v1/purchases"
SIXTEEN_DIGITS = re.compile(r"\d{16}")
# A number that passes the Luhn check and belongs to no card of the fixtures.
UNKNOWN_NUMBER = "7700000000999993"


class Api:
    """The test client as a partner's system: JSON bodies and `Authorization: Bearer <key>`."""

    def __init__(self, key: str | None, client: Client | None = None):
        self.client = client or Client(enforce_csrf_checks=True)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}

    def post(self, path: str, body: dict | None = None, **extra):
        return self.client.post(path, body or {}, content_type="application/json", **self.headers, **extra)

    def get(self, path: str, **extra):
        return self.client.get(path, **self.headers, **extra)

    def verify(self, card: str):
        return self.post(VERIFY, {"card": card})

    def purchase(self, card: str, receipt_id: str = "A-1", amount=125_050):
        return self.post(PURCHASES, {"card": card, "receipt_id": receipt_id, "amount": amount})

    def reverse(self, receipt_id: str):
        return self.post(f"{PURCHASES}/{receipt_id}/reverse")


@dataclass
class Keys:
    token_a: PartnerToken
    a: Api
    token_b: PartnerToken
    b: Api
    token_union: PartnerToken
    union: Api


@pytest.fixture
def keys(programme, users) -> Keys:
    token_a, key_a = partner_token_issue(partner=programme.partner_a, by=users.central, name="касса")
    token_b, key_b = partner_token_issue(partner=programme.partner_b, by=users.central)
    token_union, key_union = partner_token_issue(partner=programme.partner_union, by=users.central)
    return Keys(token_a, Api(key_a), token_b, Api(key_b), token_union, Api(key_union))


def api_log() -> list[AccessLog]:
    return list(AccessLog.objects.filter(object_type__startswith="discounts.").order_by("id"))


# --- verify ---------------------------------------------------------------------------------------------------------


def test_verify_valid_card_names_the_holder_briefly_and_records_the_check(programme, keys):
    response = keys.a.verify(programme.card_a.number)
    assert response.status_code == 200
    assert response.json() == {"state": "valid", "holder": "Ольга С."}
    check = CardCheck.objects.get()
    assert (check.partner, check.card, check.result) == (programme.partner_a, programme.card_a, "valid")
    entry = AccessLog.objects.get(action=AccessLog.Action.VERIFY)
    assert entry.username == f"api:{keys.token_a.prefix}"
    assert entry.details["card"] == f"•••• {programme.card_a.number[-4:]}"
    assert entry.details["result"] == "valid"


def test_verify_reads_the_grouped_number_and_the_virtual_cards_qr(programme, keys):
    number = programme.card_a.number
    grouped = f"{number[:4]} {number[4:8]}-{number[8:12]} {number[12:]}"
    qr = f"https://reestr.example.ru/cards/v/{card_verification_token(programme.card_a)}/"
    for shown in (grouped, qr, card_verification_token(programme.card_a)):
        assert keys.a.verify(shown).json() == {"state": "valid", "holder": "Ольга С."}


def test_verify_blocked_and_unknown_cards(programme, keys, users):
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)
    assert keys.a.verify(programme.card_a.number).json() == {"state": "blocked", "holder": "Ольга С."}
    assert keys.a.verify(UNKNOWN_NUMBER).json() == {"state": "unknown", "holder": ""}
    assert keys.a.verify("https://reestr.example.ru/cards/v/forged-token/").json()["state"] == "unknown"
    assert list(CardCheck.objects.order_by("id").values_list("result", flat=True)) == ["blocked", "unknown", "unknown"]


def test_verify_refuses_a_mistyped_number_before_looking_it_up(programme, keys):
    number = programme.card_a.number
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    with CaptureQueriesContext(connection) as queries:
        response = keys.a.verify(mistyped)
    assert response.status_code == 422
    assert response.json()["code"] == "card_number_invalid"
    assert "контрольная цифра" in response.json()["message"]
    assert not any("cards_card" in query["sql"] for query in queries.captured_queries)
    assert not CardCheck.objects.exists()
    assert AccessLog.objects.get(action=AccessLog.Action.VERIFY).details["refused"] == "card_number_invalid"


@pytest.mark.parametrize("body", [{}, {"card": ""}, {"card": 7700000000000420}, {"card": "x" * 600}])
def test_verify_refuses_a_missing_or_malformed_card(keys, body):
    response = keys.a.post(VERIFY, body)
    assert response.status_code == 422
    assert response.json()["code"] in {"request_invalid", "card_missing"}
    assert response.json()["message"]


def test_verify_path_makes_only_the_queries_it_needs(programme, keys):
    """The card with its holder, then the check and its log record together (on PostgreSQL in one round trip): the
    worker remembers the key after its first call (its revocation is read with the rate limit, not from the
    database)."""
    keys.a.verify(programme.card_a.number)  # warm: translations, URL resolver, the key remembered
    with CaptureQueriesContext(connection) as queries:
        assert keys.a.verify(programme.card_a.number).status_code == 200
    statements = [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    tables = re.findall(r'(?:FROM|INTO) "(\w+)"', ";".join(statements))
    # The holder's consent to the partners' programme is a subquery of the card's query, not a query of its own.
    assert tables == ["membership_consent", "cards_card", "discounts_cardcheck", "accounts_accesslog"]
    assert 'FROM "membership_consent"' in statements[0] and 'FROM "cards_card"' in statements[0]
    if connection.vendor == "postgresql":
        assert len(statements) == 2


UNFLUSHED = "set_config('synchronous_commit', 'off', true)"


@pytest.mark.postgres
def test_only_the_verification_commits_without_waiting_for_the_disk(programme, keys):
    """A check record and its log line may be lost in a server crash; a purchase and its ledger entry may not."""
    with CaptureQueriesContext(connection) as queries:
        keys.a.verify(programme.card_a.number)
    assert sum(UNFLUSHED in query["sql"] for query in queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert keys.a.purchase(programme.card_a.number).status_code == 201
        assert keys.a.reverse("A-1").status_code == 200
    assert all("synchronous_commit" not in query["sql"] for query in queries.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_verification_outside_a_transaction_writes_both_records_and_leaves_the_connection_durable(programme, keys):
    """In production the check runs in autocommit: its two rows are one implicit transaction, and the relaxed commit
    ends with it, so the purchase that follows on the same connection waits for the disk again."""
    checks, logs = CardCheck.objects.count(), AccessLog.objects.filter(action=AccessLog.Action.VERIFY).count()
    assert keys.a.verify(programme.card_a.number).status_code == 200
    assert CardCheck.objects.count() == checks + 1
    assert AccessLog.objects.filter(action=AccessLog.Action.VERIFY).count() == logs + 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_verify_at_a_partner_out_of_its_period_is_refused(programme, keys):
    Partner.objects.filter(pk=programme.partner_a.pk).update(active_until=timezone.localdate() - datetime.timedelta(1))
    response = keys.a.verify(programme.card_a.number)
    assert response.status_code == 403
    assert response.json()["code"] == "partner_inactive"


# --- purchases ------------------------------------------------------------------------------------------------------


def test_purchase_is_recorded_with_its_cashback_and_a_retry_returns_the_first(programme, keys):
    first = keys.a.purchase(programme.card_a.number, receipt_id="A-000123", amount=125_050)
    assert first.status_code == 201
    body = first.json()
    purchase = Purchase.objects.get()
    assert body["id"] == purchase.pk and body["receipt_id"] == "A-000123"
    assert (body["amount"], body["cashback"], body["status"]) == (125_050, 6_253, "accepted")  # 5 %, half up
    assert body["reversed_at"] is None
    created = datetime.datetime.fromisoformat(body["created_at"])
    hold_until = datetime.datetime.fromisoformat(body["hold_until"])
    assert hold_until - created == datetime.timedelta(days=programme.partner_a.hold_days)
    assert purchase.channel == Purchase.Channel.API and purchase.recorded_by is None

    again = keys.a.purchase(programme.card_a.number, receipt_id="A-000123", amount=125_050)
    assert again.status_code == 200
    assert again.json() == body
    assert Purchase.objects.count() == 1
    assert CashbackEntry.objects.count() == 1
    assert CashbackAccount.objects.get(member=programme.holder_a).pending == 6_253


def test_purchase_by_the_virtual_cards_qr(programme, keys):
    qr = f"https://reestr.example.ru/cards/v/{card_verification_token(programme.card_a)}/"
    response = keys.a.purchase(qr, receipt_id="Q-1", amount=10_000)
    assert response.status_code == 201 and response.json()["cashback"] == 500


def test_duplicate_receipt_with_other_data_is_a_conflict(programme, keys):
    assert keys.a.purchase(programme.card_a.number, receipt_id="A-1", amount=10_000).status_code == 201
    response = keys.a.purchase(programme.card_a.number, receipt_id="A-1", amount=20_000)
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_receipt"
    assert "A-1" in response.json()["message"]
    assert Purchase.objects.count() == 1


def test_the_same_receipt_id_at_two_partners_is_two_purchases(programme, keys):
    assert keys.a.purchase(programme.card_a.number, receipt_id="1").status_code == 201
    assert keys.union.purchase(programme.card_a.number, receipt_id="1").status_code == 201
    assert Purchase.objects.count() == 2


def _block(programme, users):
    card_block(card=programme.card_a, by=users.chair, reason=Card.BlockReason.LOST)


def _leave(programme, users):
    member_record_leaving(
        by=users.chair, member=programme.holder_a, left_on=timezone.localdate(), reason=Member.LeavingReason.VOLUNTARY
    )


def _consent_withdrawn(programme, users):
    Member.objects.filter(pk=programme.holder_a.pk).update(processing_blocked_on=timezone.localdate())


def _inactive(programme, users):
    Partner.objects.filter(pk=programme.partner_a.pk).update(active_from=timezone.localdate() + datetime.timedelta(1))


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (_block, 409, "card_blocked"),
        (_leave, 409, "member_left"),
        (_consent_withdrawn, 409, "card_blocked"),
        (_inactive, 403, "partner_inactive"),
    ],
)
def test_purchase_refusals_by_the_state_of_card_member_or_partner(programme, keys, users, change, status, code):
    change(programme, users)
    response = keys.a.purchase(programme.card_a.number)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    if code == "card_blocked":  # a withdrawn consent is never told apart from a blocked card
        assert response.json()["message"] == "Билет заблокирован."
    assert not Purchase.objects.exists() and not CashbackEntry.objects.exists()
    assert AccessLog.objects.get(action=AccessLog.Action.PURCHASE).details["refused"] == code


def test_purchase_by_an_unknown_or_mistyped_card_is_refused(programme, keys):
    response = keys.a.purchase(UNKNOWN_NUMBER)
    assert (response.status_code, response.json()["code"]) == (422, "card_unknown")
    response = keys.a.purchase(UNKNOWN_NUMBER[:-1] + "1")
    assert (response.status_code, response.json()["code"]) == (422, "card_number_invalid")
    assert not Purchase.objects.exists()


def test_daily_limits_per_card(programme, keys):
    Partner.objects.filter(pk=programme.partner_a.pk).update(daily_purchases_per_card=2, daily_amount_per_card=50_000)
    assert keys.a.purchase(programme.card_a.number, receipt_id="1", amount=20_000).status_code == 201
    response = keys.a.purchase(programme.card_a.number, receipt_id="2", amount=30_001)
    assert (response.status_code, response.json()["code"]) == (409, "daily_amount_limit")
    assert keys.a.purchase(programme.card_a.number, receipt_id="3", amount=30_000).status_code == 201
    response = keys.a.purchase(programme.card_a.number, receipt_id="4", amount=1)
    assert (response.status_code, response.json()["code"]) == (409, "daily_count_limit")
    assert Purchase.objects.count() == 2


@pytest.mark.parametrize("amount", [0, -100, "100", 100.5, 100.0, True, None, 1_000_000_001])
def test_amount_must_be_positive_whole_kopecks(programme, keys, amount):
    response = keys.a.purchase(programme.card_a.number, amount=amount)
    assert response.status_code == 422
    assert response.json()["code"] == "amount_invalid"
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("receipt_id", ["", "   ", "чек 1", "x" * 65, 123])
def test_receipt_id_must_be_a_short_word(programme, keys, receipt_id):
    response = keys.a.purchase(programme.card_a.number, receipt_id=receipt_id)
    assert response.status_code == 422
    assert response.json()["code"] == "receipt_invalid"


def test_a_body_that_is_not_json_is_refused_in_russian(keys):
    response = keys.a.client.post(PURCHASES, "card=1", content_type="application/json", **keys.a.headers)
    assert response.status_code == 400
    assert response.json() == {
        "code": "request_invalid",
        "message": "Запрос не разобран: тело должно быть объектом JSON.",
    }


# --- reversal -------------------------------------------------------------------------------------------------------


def test_reverse_within_the_hold_takes_the_cashback_back_and_a_retry_changes_nothing(programme, keys):
    keys.a.purchase(programme.card_a.number, receipt_id="R/7#2", amount=10_000)
    response = keys.a.reverse("R%2F7%232")
    assert response.status_code == 200
    body = response.json()
    assert (body["receipt_id"], body["status"], body["cashback"]) == ("R/7#2", "reversed", 500)
    assert body["reversed_at"] is not None
    assert CashbackAccount.objects.get(member=programme.holder_a).pending == 0
    assert CashbackEntry.objects.filter(kind=CashbackEntry.Kind.REVERSAL, amount=-500).count() == 1

    again = keys.a.reverse("R%2F7%232")
    assert again.status_code == 200 and again.json() == body
    assert CashbackEntry.objects.count() == 2


def test_reverse_after_the_hold_is_refused(programme, keys):
    keys.a.purchase(programme.card_a.number, receipt_id="1", amount=10_000)
    Purchase.objects.update(hold_until=timezone.now() - datetime.timedelta(minutes=1))
    response = keys.a.reverse("1")
    assert response.status_code == 409
    assert response.json()["code"] == "hold_expired"
    assert Purchase.objects.get().status == Purchase.Status.ACCEPTED


def test_reverse_of_an_unknown_receipt_is_not_found(keys):
    response = keys.a.reverse("nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- reading own purchases ------------------------------------------------------------------------------------------


def test_list_pages_newest_first_with_count_and_next(programme, keys):
    for number in range(3):
        keys.a.purchase(programme.card_a.number, receipt_id=f"L-{number}", amount=1_000 * (number + 1))
    first = keys.a.get(f"{PURCHASES}?page=1&page_size=2")
    assert first.status_code == 200
    page = first.json()
    assert page["count"] == 3
    assert [row["receipt_id"] for row in page["results"]] == ["L-2", "L-1"]
    assert page["next"] == "http://testserver/api/v1/purchases?page=2&page_size=2"
    assert page["previous"] is None
    second = keys.a.get(page["next"]).json()
    assert [row["receipt_id"] for row in second["results"]] == ["L-0"]
    assert second["next"] is None and second["previous"].endswith("?page=1&page_size=2")
    assert keys.a.get(f"{PURCHASES}?page=9").json()["results"] == []
    reads = AccessLog.objects.filter(action=AccessLog.Action.VIEW, object_type="discounts.partner")
    assert reads.count() == 3
    assert reads.first().details["token"] == keys.token_a.prefix


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "page_size=0", "page=x"])
def test_list_refuses_pages_out_of_bounds(keys, query):
    response = keys.a.get(f"{PURCHASES}?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "request_invalid"


def test_get_own_purchase_by_receipt_id_is_logged(programme, keys):
    created = keys.a.purchase(programme.card_a.number, receipt_id="G-1").json()
    response = keys.a.get(f"{PURCHASES}/G-1")
    assert response.status_code == 200 and response.json() == created
    read = AccessLog.objects.get(action=AccessLog.Action.VIEW)
    assert (read.details["read"], read.details["receipt"]) == ("purchase", "G-1")


def test_a_partner_never_sees_or_reverses_another_partners_purchase(programme, keys):
    keys.a.purchase(programme.card_a.number, receipt_id="SECRET-1")
    other = keys.union
    for response in (other.get(f"{PURCHASES}/SECRET-1"), other.reverse("SECRET-1")):
        assert response.status_code == 404  # not 403: the receipt's existence is not confirmed
        assert response.json() == keys.a.get(f"{PURCHASES}/NO-SUCH").json()
    assert other.get(PURCHASES).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert Purchase.objects.get().status == Purchase.Status.ACCEPTED


# --- keys -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer pk_0123456789ab.wrong", "Basic dXNlcjpwYXNz", "Bearer not-a-key", "pk_0123456789ab.x"],
)
def test_calls_without_a_valid_key_are_unauthorized_and_logged_without_the_secret(programme, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    client = Client()
    for response in (
        client.post(VERIFY, {"card": programme.card_a.number}, content_type="application/json", **headers),
        client.get(PURCHASES, **headers),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"
    refused = AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED)
    assert refused.count() == 2
    assert all("wrong" not in str(entry.details) and entry.username.startswith("api") for entry in refused)
    assert not CardCheck.objects.exists()


def test_a_revoked_key_stops_at_once(programme, keys, users):
    assert keys.a.verify(programme.card_a.number).status_code == 200
    partner_token_revoke(token=keys.token_a, by=users.central)
    assert keys.a.verify(programme.card_a.number).status_code == 401
    assert keys.a.get(PURCHASES).status_code == 401


def test_a_revocation_that_rolls_back_leaves_the_key_working(programme, keys, users):
    assert keys.a.verify(programme.card_a.number).status_code == 200
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_token_revoke(token=keys.token_a, by=users.central)
        raise RuntimeError("the revoking request failed")
    assert keys.a.verify(programme.card_a.number).status_code == 200


def test_a_purchase_follows_the_partners_rate_of_this_moment(programme, keys):
    """A worker remembers the key and its partner for a minute; money is never counted at an old rate."""
    assert keys.a.verify(programme.card_a.number).status_code == 200
    Partner.objects.filter(pk=programme.partner_a.pk).update(cashback_bp=1000)
    response = keys.a.purchase(programme.card_a.number, amount=10_000)
    assert response.status_code == 201
    assert response.json()["cashback"] == 1_000


def test_a_rotated_key_replaces_the_old_one(programme, keys, users):
    _new_token, new_key = partner_token_rotate(token=keys.token_a, by=users.central)
    assert keys.a.verify(programme.card_a.number).status_code == 401
    assert Api(new_key).verify(programme.card_a.number).status_code == 200


# --- rate limit -----------------------------------------------------------------------------------------------------


def test_over_the_rate_limit_a_key_gets_429_with_retry_after(programme, keys, settings):
    settings.DISCOUNTS_API_RATE_LIMIT = "3/60"
    for _ in range(3):
        assert keys.a.verify(programme.card_a.number).status_code == 200
    response = keys.a.verify(programme.card_a.number)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert keys.a.get(PURCHASES).status_code == 429
    assert CardCheck.objects.count() == 3
    assert keys.union.verify(programme.card_a.number).status_code == 200  # another key has its own window


def test_the_window_is_fixed_and_retry_after_counts_to_its_end(keys, settings):
    settings.DISCOUNTS_API_RATE_LIMIT = "2/60"
    window_start = 1_800_000_000 - 1_800_000_000 % 60
    rate_limit_take(keys.token_a, now=window_start + 10)
    rate_limit_take(keys.token_a, now=window_start + 20)
    with pytest.raises(RateLimited) as refused:
        rate_limit_take(keys.token_a, now=window_start + 45.5)
    assert refused.value.retry_after == 15
    rate_limit_take(keys.token_a, now=window_start + 60)  # the next window starts afresh


# --- schema, docs, log ----------------------------------------------------------------------------------------------


def test_openapi_schema_is_valid_and_describes_the_calls(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/cards/verify",
        "/api/v1/purchases",
        "/api/v1/purchases/{receipt_id}",
        "/api/v1/purchases/{receipt_id}/reverse",
    }
    assert schema["components"]["securitySchemes"]["PartnerKey"] == {"type": "http", "scheme": "bearer"}
    create = schema["paths"]["/api/v1/purchases"]["post"]["responses"]
    assert {"200", "201", "401", "409", "422", "429"} <= set(create)


def test_docs_page_loads_only_local_assets(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "//" not in re.sub(r"<!--.*?-->", "", html).replace('"/api/v1/schema/"', "")
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"url": "/api/v1/schema/"' in html


def test_no_card_number_reaches_the_access_log_or_an_error_reply(programme, keys, users):
    number = programme.card_a.number
    replies = [
        keys.a.verify(number),
        keys.a.verify(number[:-1] + "0" if number[-1] != "0" else number[:-1] + "1"),
        keys.a.verify(UNKNOWN_NUMBER),
        keys.a.purchase(number, receipt_id="N-1", amount=10_000),
        keys.a.purchase(number, receipt_id="N-1", amount=20_000),
        keys.a.purchase(number, receipt_id="N-2", amount="12"),
        keys.a.purchase(UNKNOWN_NUMBER, receipt_id="N-3"),
        keys.a.post(VERIFY, {"card": 7700000000000420}),
        keys.a.reverse("N-1"),
        keys.a.get(PURCHASES),
        keys.a.get(f"{PURCHASES}/N-1"),
        Client().get(f"{PURCHASES}/{number}", HTTP_AUTHORIZATION=f"Bearer pk_0123.{number}"),
        keys.a.get(f"{PURCHASES}/{number}"),
        keys.a.reverse(number),
    ]
    _block(programme, users)
    replies.append(keys.a.purchase(number, receipt_id="N-4"))
    for reply in replies:
        if reply.status_code >= 400:
            assert not SIXTEEN_DIGITS.search(reply.content.decode()), reply.content
    entries = api_log()
    assert {entry.action for entry in entries} >= {"verify", "purchase", "reversal", "view", "login_failed"}
    for entry in entries:
        assert not SIXTEEN_DIGITS.search(f"{entry.details} {entry.object_repr} {entry.username}"), entry.details


def test_every_call_leaves_one_line_in_the_access_log(programme, keys):
    calls = [
        lambda: keys.a.verify(programme.card_a.number),
        lambda: keys.a.verify(UNKNOWN_NUMBER[:-1] + "1"),  # refused by the service (Luhn)
        lambda: keys.a.post(VERIFY, {}),  # refused by the schema
        lambda: keys.a.purchase(programme.card_a.number, receipt_id="E-1"),
        lambda: keys.a.purchase(programme.card_a.number, receipt_id="E-1"),  # the retry
        lambda: keys.a.purchase(programme.card_a.number, receipt_id="E-2", amount="1"),
        lambda: keys.a.client.post(PURCHASES, "{", content_type="application/json", **keys.a.headers),
        lambda: keys.a.reverse("E-1"),
        lambda: keys.a.reverse("E-1"),  # the retry
        lambda: keys.a.reverse("NONE"),
        lambda: keys.a.get(PURCHASES),
        lambda: keys.a.get(f"{PURCHASES}?page=0"),
        lambda: keys.a.get(f"{PURCHASES}/E-1"),
        lambda: keys.a.get(f"{PURCHASES}/NONE"),
        lambda: Api("pk_0123456789ab.nope").get(PURCHASES),
    ]
    before = len(api_log())  # the keys' issuing
    for number, call in enumerate(calls, start=1):
        call()
        assert len(api_log()) == before + number, number
    actions = [(entry.action, entry.details.get("refused")) for entry in api_log()[before:]]
    assert actions == [
        ("verify", None), ("verify", "card_number_invalid"), ("verify", "request_invalid"),
        ("purchase", None), ("purchase", None), ("purchase", "amount_invalid"), ("purchase", "request_invalid"),
        ("reversal", None), ("reversal", None), ("reversal", "not_found"),
        ("view", None), ("view", "request_invalid"), ("view", None), ("view", "not_found"),
        ("login_failed", None),
    ]  # fmt: skip


# --- PostgreSQL: two identical calls at once ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_purchase_calls_at_once_make_one_purchase(programme, users):
    _token, key = partner_token_issue(partner=programme.partner_a, by=users.central)
    start = threading.Barrier(2)
    replies, errors = [], []

    def call():
        try:
            api = Api(key)
            start.wait(timeout=10)
            replies.append(api.purchase(programme.card_a.number, receipt_id="RACE-1", amount=99_999))
        except Exception as error:  # a failure in a thread must fail the test, not vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(reply.status_code for reply in replies) == [200, 201]
    assert replies[0].json() == replies[1].json()
    assert Purchase.objects.count() == 1
    assert CashbackEntry.objects.count() == 1
    assert CashbackAccount.objects.get(member=programme.holder_a).pending == 5_000  # 4 999,95 ₽ × 5 %, half up


def test_the_benchmarks_bare_lookup_is_not_served_by_the_project(client, programme):
    response = client.post("/bench/card-lookup/", {"card": programme.card_a.number}, content_type="application/json")
    assert response.status_code == 404
