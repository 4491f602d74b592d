"""The project's URLs and, for the benchmark only, a bare view doing the verification's one indexed lookup."""

import json

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from discounts.services import card_by_number

BARE_LOOKUP_PATH = "/bench/card-lookup/"


@csrf_exempt
@require_POST
def card_lookup(request):
    """The floor of POST /api/v1/cards/verify: the same JSON body and the same query of the card by its number (the
    unique index) with its holder and the holder's partners' consent folded in (discounts.services.card_by_number),
    and nothing else: no key, no rate limit, no check record, no access log."""
    number = json.loads(request.body)["card"]
    card = card_by_number(number)
    return JsonResponse({"found": card is not None, "active": card is not None and card.is_active})


urlpatterns = [
    path(BARE_LOOKUP_PATH.strip("/") + "/", card_lookup),
    path("", include("config.urls")),
]
