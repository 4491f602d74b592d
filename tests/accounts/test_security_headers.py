"""The security headers a browser reads: the Content-Security-Policy, HSTS over HTTPS, frame denial, referrer
policy, no MIME sniffing, the opener policy; on a staff page, the login page, the partner API and its docs.

Also the markup the policy would refuse: no template may carry an inline script, an on…= handler or a style=""
attribute (tests/browser/test_csp.py watches the pages themselves in Chromium for violations).
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

HSTS_YEAR = 365 * 24 * 60 * 60


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def pages(client, users):
    """name -> a function answering that page: a staff page signed in, the login page, the API, the API's docs."""
    return {
        "staff page": lambda: client.get(reverse("registry:org_detail", args=[users.regional.organization_id])),
        "login page": lambda: client.get(reverse("accounts:login")),
        "API call": lambda: client.post(
            "/api/v1/cards/verify", {"card": "1"}, content_type="application/json", HTTP_AUTHORIZATION="Bearer x"
        ),
        "API schema": lambda: client.get("/api/v1/schema/"),
        "API docs": lambda: client.get("/api/v1/docs/"),
    }


PAGE_NAMES = ["staff page", "login page", "API call", "API schema", "API docs"]


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_answer_carries_the_policy_and_the_headers(client, users, pages, page):
    if page == "staff page":
        client.force_login(users.regional)
    response = pages[page]()
    assert response.status_code in {200, 401}

    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # plain HTTP: HSTS means nothing there


@pytest.fixture
def behind_https_proxy(settings):
    """The production settings of SECURE_COOKIES=1 (config/settings.py), before the test client's first request."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = HSTS_YEAR
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_over_https_browsers_are_told_to_stay_on_https(client, users, pages, page, behind_https_proxy):
    client.defaults["HTTP_X_FORWARDED_PROTO"] = "https"
    if page == "staff page":
        client.force_login(users.regional)
    response = pages[page]()
    assert response.status_code in {200, 401}
    assert response["Strict-Transport-Security"] == f"max-age={HSTS_YEAR}; includeSubDomains"


def test_plain_http_through_the_proxy_is_sent_to_https(client, db, behind_https_proxy):
    response = client.get(reverse("accounts:login"), HTTP_HOST="localhost")
    assert response.status_code == 301
    assert response["Location"] == "https://localhost/accounts/login/"


def test_login_cookies_are_https_only_behind_the_proxy(client, users, behind_https_proxy):
    from tests.factories import TEST_PASSWORD

    response = client.post(
        reverse("accounts:login"), {"username": "local_a1", "password": TEST_PASSWORD}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True


# --- markup the policy refuses --------------------------------------------------------------------------------------

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# The page the member's card app shows without network and without a saved card: the service worker answers it
# itself (cards/offline.py), as a response of its own without the policy header, and no stylesheet can be fetched.
SERVED_BY_THE_SERVICE_WORKER = {"cards/card_offline_missing.html"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def templates() -> list[str]:
    return sorted(
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*.html")
        if str(path.relative_to(TEMPLATES_DIR)) not in SERVED_BY_THE_SERVICE_WORKER
    )


@pytest.mark.parametrize("name", templates())
def test_templates_carry_no_inline_script_handler_or_style(name):
    text = (TEMPLATES_DIR / name).read_text()
    assert not INLINE_SCRIPT.findall(text), "inline <script>: move it to static/js/"
    assert not EVENT_HANDLER.findall(text), "on…= handler: use a data- attribute and static/js/app.js"
    assert not STYLE_ATTRIBUTE.findall(text), 'style="": use a class in static/css/app.css'
    assert not STYLE_ELEMENT.findall(text), "<style>: use static/css/app.css"
