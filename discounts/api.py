"""The partner API, /api/v1/: a partner's till or web shop verifies a card, records a purchase or its return, and
reads its own transactions.

django-ninja rather than Django REST framework: request and response bodies are pydantic models, validated by
pydantic's compiled core, and the OpenAPI 3 document is generated from those same models; a call runs through one
function without serializer and viewset layers (ninja adds about 0.2 ms to a bare Django view; bench/partner_api.py
measures the whole call against one); and the Swagger UI comes inside the wheel (ninja/static), served from /static/.

A call carries `Authorization: Bearer <key>`: the key finds its PartnerToken (stored hashed, one query), then takes
one unit of the key's fixed-window rate limit (one Redis round trip in production). A partner reads and reverses only
its own purchases: another partner's receipt id is answered 404, exactly as one that does not exist. Every authenticated call is
written to the access log with the card number masked (discounts.services); a refused key is logged as a failed
sign-in. Calls over the rate limit are not logged: they read and write nothing, and a flood would otherwise reach the
database at its own rate, which the limit is there to prevent.
"""

import datetime
import time
from typing import Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from accounts import rate_limits
from accounts.access import client_ip
from accounts.models import AccessLog
from accounts.rate_limits import RateLimit, RateLimited
from discounts.models import Partner, PartnerToken, Purchase
from discounts.selectors import get_purchase_for_partner, purchases_of_partner
from discounts.services import (
    DiscountError,
    card_check,
    partner_api_call_refused_log,
    partner_api_key_refused_log,
    partner_api_read_log,
    partner_token_authenticate,
    partner_token_authenticate_remembered,
    partner_token_forget,
    partner_token_revoked_mark,
    purchase_record,
    purchase_reverse,
)

# The HTTP status of each refusal; a code not listed here is a request the partner's system should not repeat as is.
REFUSAL_STATUS = {
    "partner_inactive": 403,
    "card_blocked": 409,
    "member_left": 409,
    "duplicate_receipt": 409,
    "daily_count_limit": 409,
    "daily_amount_limit": 409,
    "hold_expired": 409,
}
REFUSAL_STATUS_DEFAULT = 422
# The refusal code of a field the schema already rejects (`"amount": "100"`), the same as the services give for a
# value they refuse (`"amount": -1`): the partner's system sees one code per field, whichever layer noticed.
FIELD_CODES = {"amount": "amount_invalid", "receipt_id": "receipt_invalid"}
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 100


# --- bodies ---------------------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str = Field(description="Постоянный код отказа для программы партнёра, например `card_blocked`.")
    message: str = Field(description="Что случилось, по-русски, для показа кассиру.")


class VerifyIn(Schema):
    card: str = Field(
        max_length=512,
        description="16 цифр номера профсоюзного билета (пробелы и дефисы допустимы) или текст QR-кода "
        "виртуального билета: адрес проверки или подписанный токен.",
        examples=["7700 0000 0000 0420"],
    )


class VerifyOut(Schema):
    state: Literal["valid", "blocked", "unknown"] = Field(
        description="valid — билет действует; blocked — не действует (заблокирован, владелец вышел из Профсоюза "
        "или отозвал согласие); unknown — такого билета нет."
    )
    holder: str = Field(description="Имя и первая буква фамилии владельца; пусто для unknown.", examples=["Ольга С."])


class PurchaseIn(Schema):
    card: str = Field(max_length=512, description="Номер билета или текст QR-кода, как в /cards/verify.")
    receipt_id: str = Field(
        max_length=256,
        description="Номер чека в системе партнёра: до 64 знаков — цифры, буквы, точка, дефис, косая черта, #. "
        "Повтор вызова с тем же чеком, билетом и суммой возвращает первую покупку.",
        examples=["A-000123"],
    )
    amount: int = Field(
        strict=True,
        description="Сумма покупки в копейках, целое число больше нуля и не больше 1 000 000 000.",
        examples=[125050],
    )


class PurchaseOut(Schema):
    id: int
    receipt_id: str
    amount: int = Field(description="Сумма покупки, коп.")
    cashback: int = Field(description="Кешбэк члена Профсоюза, коп. (по ставке партнёра, округление до копейки).")
    status: Literal["accepted", "reversed"]
    created_at: datetime.datetime
    hold_until: datetime.datetime = Field(description="До этого времени покупку можно вернуть.")
    reversed_at: datetime.datetime | None = None


class PurchasePage(Schema):
    count: int = Field(description="Всего покупок партнёра.")
    next: str | None = Field(description="Адрес следующей страницы или null.")
    previous: str | None = Field(description="Адрес предыдущей страницы или null.")
    results: list[PurchaseOut]


class PageParams(Schema):
    page: int = Field(1, ge=1, description="Номер страницы, с 1.")
    page_size: int = Field(PAGE_SIZE_DEFAULT, ge=1, le=PAGE_SIZE_MAX, description="Покупок на странице.")


ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- the key and its rate limit -------------------------------------------------------------------------------------


def rate_limit_take(token: PartnerToken, *, now: float | None = None) -> bool:
    """Count one call of the key in the current window of settings.DISCOUNTS_API_RATE_LIMIT; RateLimited once the key
    is over it. Returns whether the key has been revoked since this worker remembered it (read in the same round
    trip)."""
    return rate_limits.rate_limit_take(
        scope="discounts-api",
        subject=str(token.pk),
        limit=RateLimit.from_setting("DISCOUNTS_API_RATE_LIMIT"),
        now=now,
        also_read=partner_token_revoked_mark(token.pk),
    )


class PartnerKey(HttpBearer):
    """`Authorization: Bearer pk_….…`: the partner's key, issued by central office."""

    def authenticate(self, request: HttpRequest, token: str) -> PartnerToken | None:
        partner_token = partner_token_authenticate_remembered(token, now=time.monotonic())
        if partner_token is not None and rate_limit_take(partner_token):
            # Revoked since this worker remembered it (or a revocation was begun): the database decides.
            partner_token_forget(partner_token.pk)
            partner_token = partner_token_authenticate(token)
        return partner_token


api = NinjaAPI(
    title="Единый реестр: API партнёров дисконтной программы",
    version="1",
    description=(
        "Проверка профсоюзного билета, покупки с кешбэком и возвраты для систем партнёров. Ключ API выдаёт "
        "центральный аппарат; он передаётся в заголовке `Authorization: Bearer <ключ>`. Суммы — целые копейки. "
        "Отказ — ответ 4xx с полями `code` (постоянный код) и `message` (текст для кассира). Число вызовов "
        "ключа ограничено (ответ 429 с заголовком `Retry-After`)."
    ),
    urls_namespace="partner_api",
    openapi_url="/schema/",
    docs_url="/docs/",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    auth=PartnerKey(),
)


def _error(request: HttpRequest, status: int, code: str, message: str):
    return api.create_response(request, {"code": code, "message": message}, status=status)


@api.exception_handler(DiscountError)
def _refused(request, error: DiscountError):
    return _error(request, REFUSAL_STATUS.get(error.code, REFUSAL_STATUS_DEFAULT), error.code, error.message)


@api.exception_handler(AuthenticationError)
def _key_refused(request, error):
    partner_api_key_refused_log(
        presented=request.headers.get("Authorization", ""), path=request.path, ip_address=client_ip(request)
    )
    response = _error(
        request, 401, "unauthorized", _("Ключ API не принят: он не указан, набран с ошибкой или отозван.")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _over_limit(request, error: RateLimited):
    response = _error(
        request, 429, "rate_limited",
        _("Слишком много вызовов с этим ключом: повторите через %(seconds)s с.") % {"seconds": error.retry_after},
    )  # fmt: skip
    response["Retry-After"] = str(error.retry_after)
    return response


def _refused_before_the_services(request, code: str, **details) -> None:
    """The log line of a call refused here, in ninja's layer, with the action the call asked for."""
    token = getattr(request, "auth", None)
    if not isinstance(token, PartnerToken):
        return
    if request.path.endswith("/cards/verify"):
        action = AccessLog.Action.VERIFY
    elif request.method == "POST":
        action = AccessLog.Action.REVERSAL if request.path.endswith("/reverse") else AccessLog.Action.PURCHASE
    else:
        action = AccessLog.Action.VIEW
    partner_api_call_refused_log(token=token, action=action, code=code, **details)


@api.exception_handler(Http404)
def _not_found(request, error):
    receipt_id = (request.resolver_match.kwargs.get("receipt_id", "") if request.resolver_match else "")[:64]
    _refused_before_the_services(request, "not_found", receipt=receipt_id)
    return _error(request, 404, "not_found", _("Покупка с таким номером чека у вас не найдена."))


@api.exception_handler(HttpError)
def _unreadable(request, error: HttpError):
    code = "request_invalid" if error.status_code == 400 else f"http_{error.status_code}"
    _refused_before_the_services(request, code)
    if error.status_code == 400:
        return _error(request, 400, code, _("Запрос не разобран: тело должно быть объектом JSON."))
    return _error(request, error.status_code, code, str(error))


@api.exception_handler(ValidationError)
def _malformed(request, error: ValidationError):
    """pydantic's findings in Russian and without the values sent: a card number must not come back in a reply."""
    problems, code = [], "request_invalid"
    for found in error.errors:
        names = [part for part in found.get("loc", ()) if isinstance(part, str)]
        field = names[-1] if len(names) > 1 else _("тело запроса")
        code = FIELD_CODES.get(field, code) if code == "request_invalid" else code
        problems.append(f"{field}: {_field_problem(found)}")
    _refused_before_the_services(request, code)
    return _error(request, 422, code, _("Запрос не разобран — %(problems)s.") % {"problems": "; ".join(problems)})


def _field_problem(found: dict) -> str:
    kind = found.get("type", "")
    if kind == "missing":
        return _("поле обязательно")
    if kind.startswith("int"):
        return _("нужно целое число")
    if kind.startswith("string"):
        return _("нужна строка не длиннее %(limit)s знаков") % {"limit": found.get("ctx", {}).get("max_length", "")}
    if kind in {"greater_than_equal", "less_than_equal"}:
        return _("число вне допустимых пределов")
    return _("значение не подходит")


# --- the calls ------------------------------------------------------------------------------------------------------


def partner_current(token: PartnerToken) -> Partner:
    """The key's partner as it is now: a worker remembers keys for a minute (services.API_KEY_MEMORY_SECONDS), and
    a purchase follows the partner's rate, hold and limits of this moment."""
    return Partner.objects.get(pk=token.partner_id)


def _purchase_body(purchase: Purchase) -> dict:
    return {
        "id": purchase.pk,
        "receipt_id": purchase.receipt_id,
        "amount": purchase.amount,
        "cashback": purchase.cashback,
        "status": purchase.status,
        "created_at": purchase.created_at,
        "hold_until": purchase.hold_until,
        "reversed_at": purchase.reversed_at,
    }


@api.post("/cards/verify", response={200: VerifyOut, **ERRORS}, tags=["Билеты"], summary="Проверить билет")
def card_verify(request, body: VerifyIn):
    """Действует ли билет у этого партнёра. Номер с неверной контрольной цифрой — 422 `card_number_invalid`."""
    outcome = card_check(partner=request.auth.partner, presented=body.card, token=request.auth)
    return {"state": outcome.state, "holder": outcome.holder}


@api.post(
    "/purchases",
    response={201: PurchaseOut, 200: PurchaseOut, 409: ErrorOut, **ERRORS},
    tags=["Покупки"],
    summary="Оформить покупку",
)
def purchase_create(request, body: PurchaseIn):
    """Покупка по действующему билету; кешбэк ожидает подтверждения до конца срока удержания. 201 — покупка
    оформлена; 200 — этот чек с тем же билетом и суммой уже оформлен (повтор вызова), в ответе первая покупка;
    409 `duplicate_receipt` — чек уже оформлен с другими данными."""
    outcome = purchase_record(
        partner=partner_current(request.auth), presented=body.card, receipt_id=body.receipt_id, amount=body.amount,
        channel=Purchase.Channel.API, token=request.auth,
    )  # fmt: skip
    return Status(201 if outcome.created else 200, _purchase_body(outcome.purchase))


@api.get("/purchases", response={200: PurchasePage, **ERRORS}, tags=["Покупки"], summary="Свои покупки")
def purchase_list(request, paging: Query[PageParams]):
    """Покупки партнёра, новые первыми, по страницам."""
    purchases = purchases_of_partner(partner=request.auth.partner)
    count = purchases.count()
    start = (paging.page - 1) * paging.page_size
    rows = list(purchases[start : start + paging.page_size])
    partner_api_read_log(token=request.auth, read="purchases", page=paging.page, rows=len(rows))
    return {
        "count": count,
        "next": _page_url(request, paging, paging.page + 1) if start + len(rows) < count else None,
        "previous": _page_url(request, paging, paging.page - 1) if paging.page > 1 else None,
        "results": [_purchase_body(purchase) for purchase in rows],
    }


def _page_url(request, paging: PageParams, page: int) -> str:
    return request.build_absolute_uri(f"{request.path}?page={page}&page_size={paging.page_size}")


@api.post(
    "/purchases/{path:receipt_id}/reverse",
    response={200: PurchaseOut, 404: ErrorOut, 409: ErrorOut, **ERRORS},
    tags=["Покупки"],
    summary="Оформить возврат",
)
def purchase_return(request, receipt_id: str):
    """Возврат покупки в срок удержания: её кешбэк снимается. Повторный вызов возвращает ту же покупку. После
    срока — 409 `hold_expired`. Номер чека с косой чертой или # передаётся в адресе закодированным (%2F, %23)."""
    purchase = get_purchase_for_partner(partner=request.auth.partner, receipt_id=receipt_id)
    return _purchase_body(purchase_reverse(purchase=purchase, token=request.auth))


@api.get(
    "/purchases/{path:receipt_id}",
    response={200: PurchaseOut, 404: ErrorOut, **ERRORS},
    tags=["Покупки"],
    summary="Покупка по номеру чека",
)
def purchase_detail(request, receipt_id: str):
    """Своя покупка по номеру чека; чужая или несуществующая — 404."""
    purchase = get_purchase_for_partner(partner=request.auth.partner, receipt_id=receipt_id)
    partner_api_read_log(token=request.auth, read="purchase", receipt=purchase.receipt_id, purchase=purchase.pk)
    return _purchase_body(purchase)
