"""The member's card page as an installable web app that shows the last loaded card without a network.

The service worker is served by a view from under the card page's own address (/cards/my/sw.js), because a worker
controls only the pages below the folder it is served from, and /static/ does not cover /cards/my/. Both the worker
and the manifest are public: they hold no personal data, and a browser fetches the manifest without cookies.
"""

import hashlib
import json
from functools import cache

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# The card page answers with this header; the worker keeps a page only when it carries it, so a login page, a 403
# or a 404 fetched in its place (session expired, another user signed in) makes the worker forget the saved card.
CARD_PAGE_HEADER = "X-Union-Card"

# What the card page needs to draw itself offline. The first page load is not yet controlled by the worker, so
# the worker fetches these when it is installed rather than catching them as the page loads them.
CARD_PAGE_ASSETS = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/fonts/pt-sans-cyrillic-400-normal.woff2",
    "vendor/fonts/pt-sans-cyrillic-700-normal.woff2",
    "vendor/fonts/pt-sans-latin-400-normal.woff2",
    "vendor/fonts/pt-sans-latin-700-normal.woff2",
    "css/app.css",
    "css/card-app.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "js/app.js",
    "js/card-app.js",
    "icons/card-192.png",
)

THEME_COLOR = "#083a73"  # the left end of the navigation bar's gradient
BACKGROUND_COLOR = "#f3f5f9"  # the page background

# (file under static/icons/, size, purpose); made by `manage.py card_app_icons`.
ICONS = (
    ("card-192.png", 192, "any"),
    ("card-512.png", 512, "any"),
    ("card-maskable-192.png", 192, "maskable"),
    ("card-maskable-512.png", 512, "maskable"),
)
APPLE_TOUCH_ICON = ("card-apple-180.png", 180)


def mark_card_page(response: HttpResponse) -> HttpResponse:
    """The member's card page: never kept by the browser's HTTP cache (it is personal), kept by the worker."""
    response[CARD_PAGE_HEADER] = "1"
    response["Cache-Control"] = "private, no-store"
    return response


@cache
def _assets() -> tuple[list[str], str]:
    """The assets' addresses and a version that changes with them (hashed names when static files are collected
    with a manifest), so that a new set of assets installs a new worker that fetches them again."""
    urls = [static(path) for path in CARD_PAGE_ASSETS]
    return urls, hashlib.sha256("\n".join(urls).encode()).hexdigest()[:12]


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    urls, version = _assets()
    script = render_to_string(
        "cards/card_sw.js",
        {
            "page_url": json.dumps(reverse("cards:my_card")),
            "assets": json.dumps(urls),
            "version": version,
            "header": json.dumps(CARD_PAGE_HEADER),
            "offline_page": json.dumps(render_to_string("cards/card_offline_missing.html")),
        },
    )
    return HttpResponse(script, content_type="text/javascript; charset=utf-8")


@require_GET
@cache_control(max_age=60 * 60)
def manifest(request):
    page = reverse("cards:my_card")
    icons = [
        {"src": static(f"icons/{name}"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
        for name, size, purpose in ICONS
    ]
    data = {
        "id": page,
        "name": _("Профсоюзный билет"),
        "short_name": _("Билет"),
        "description": _("Электронный профсоюзный билет Общероссийского Профсоюза образования"),
        "lang": request.LANGUAGE_CODE,
        "start_url": page,
        "scope": page,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": icons,
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
