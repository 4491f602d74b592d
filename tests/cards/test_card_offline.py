"""The member's card page as an installable app: manifest, service worker, the page it saves, logging out.

What the browser does with them (install, offline, forgetting) is in tests/browser/test_card_offline.py.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from PIL import Image

from cards.models import Card
from cards.offline import CARD_PAGE_HEADER
from cards.services import card_block, card_issue, card_reissue
from tests.factories import MemberFactory, UserFactory

STAFF_AND_CASHIER = ["central", "regional", "local", "chair", "cashier", "other_regional", "other_chair"]


@pytest.fixture
def holder(users, union):
    member = MemberFactory(organization=union.primary_a1a, user=users.member, last_name="Алексеева", first_name="Анна", search_name="алексеева анна", card_consents=True)  # fmt: skip
    return card_issue(member=member, by=users.chair)


def test_service_worker_is_javascript_served_from_under_the_card_page(client):
    worker_url, page_url = reverse("cards:app_worker"), reverse("cards:my_card")
    # A worker controls only pages below its own folder: /static/ could not cover the card page.
    assert worker_url.rsplit("/", 1)[0] + "/" == page_url == "/cards/my/"
    response = client.get(worker_url)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in {"text/javascript", "application/javascript"}
    assert "Service-Worker-Allowed" not in response  # its default scope is already the card page's folder
    assert "no-cache" in response["Cache-Control"]  # a new version is picked up at the next visit
    script = response.content.decode()
    assert f"const PAGE_URL = {json.dumps(page_url)};" in script and CARD_PAGE_HEADER in script
    assert "http://" not in script and "https://" not in script  # nothing from a third-party service


def test_service_worker_precaches_only_our_static_files_that_exist(client):
    script = client.get(reverse("cards:app_worker")).content.decode()
    assets = json.loads(script.split("const ASSETS = ", 1)[1].split(";\n", 1)[0])
    assert len(assets) >= 10
    for url in assets:
        assert url.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL)
        assert finders.find(url.split(settings.STATIC_URL.strip("/") + "/", 1)[1]), url
    assert any(url.endswith("/css/app.css") for url in assets) and any(url.endswith(".woff2") for url in assets)


def test_manifest_makes_the_card_page_an_installable_app(client):
    response = client.get(reverse("cards:app_manifest"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "Профсоюзный билет"
    assert manifest["start_url"] == manifest["scope"] == manifest["id"] == "/cards/my/"
    assert manifest["display"] == "standalone" and manifest["theme_color"] == "#083a73"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].split("/static/", 1)[1])
        assert path, icon["src"]
        with Image.open(Path(path)) as picture:
            assert picture.format == "PNG" and f"{picture.width}x{picture.height}" == icon["sizes"]


@pytest.mark.parametrize("role", [None, "member", *STAFF_AND_CASHIER])
def test_manifest_and_worker_are_public_and_carry_no_personal_data(client, users, holder, role):
    # The browser fetches the manifest without cookies, and the worker is the same code for everyone.
    card = holder
    if role:
        client.force_login(users.by_role(role))
    for name in ("cards:app_worker", "cards:app_manifest"):
        response = client.get(reverse(name))
        body = response.content.decode()
        assert response.status_code == 200
        assert card.member.last_name not in body and card.number not in body and card.grouped_number not in body


def test_card_page_is_marked_for_the_worker_and_kept_from_the_http_cache(client, users, holder):
    card = holder
    client.force_login(users.member)
    response = client.get(reverse("cards:my_card"))
    page = response.content.decode()
    assert response.status_code == 200 and response[CARD_PAGE_HEADER] == "1"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert card.grouped_number in page and 'data-card-source="network"' in page and 'data-testid="card-barcode"' in page
    assert f'<link rel="manifest" href="{reverse("cards:app_manifest")}">' in page
    assert f'data-worker="{reverse("cards:app_worker")}"' in page and 'data-scope="/cards/my/"' in page
    assert "Проверено " in page


def test_manifest_and_worker_live_on_the_card_page_only(client, users, holder):
    client.force_login(users.member)
    page = client.get(reverse("membership:my_cabinet"), follow=True).content.decode()
    assert 'rel="manifest"' not in page and "card-app.js" not in page


@pytest.mark.parametrize("role", STAFF_AND_CASHIER)
def test_staff_have_no_card_page_of_their_own(client, users, holder, role):
    client.force_login(users.by_role(role))
    response = client.get(reverse("cards:my_card"))
    assert response.status_code == 403 and CARD_PAGE_HEADER not in response


def test_anonymous_visitor_is_sent_to_log_in_and_the_worker_forgets_the_card(client, holder):
    response = client.get(reverse("cards:my_card"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert CARD_PAGE_HEADER not in response


def test_member_account_without_a_member_record_gets_404(client, db):
    client.force_login(UserFactory(username="member_without_record", role="member"))
    response = client.get(reverse("cards:my_card"))
    assert response.status_code == 404 and CARD_PAGE_HEADER not in response


def test_a_member_sees_only_their_own_card(client, users, union, holder):
    """The page takes no member id: there is no address at which one member could ask for another's card."""
    card = holder
    other_user = UserFactory(username="member_b1a", role="member")
    other = MemberFactory(
        organization=union.primary_b1a,
        user=other_user,
        last_name="Борисова",
        search_name="борисова",
        card_consents=True,
    )
    other_card = card_issue(member=other, by=users.other_chair)

    client.force_login(other_user)
    page = client.get(reverse("cards:my_card")).content.decode()
    assert other_card.grouped_number in page and "Борисова" in page
    assert card.grouped_number not in page and "Алексеева" not in page


def test_blocked_card_is_shown_blocked_without_codes_to_scan(client, users, holder):
    card = holder
    card_block(card=card, by=users.chair, reason=Card.BlockReason.LOST)
    client.force_login(users.member)
    response = client.get(reverse("cards:my_card"))
    page = response.content.decode()
    assert response[CARD_PAGE_HEADER] == "1"  # the worker replaces the saved card with this one
    assert 'data-testid="card-blocked"' in page and "Билет заблокирован" in page and "утерян" in page
    assert card.grouped_number in page and "<svg" not in page  # no barcode, no QR code
    assert "Проверено " in page


def test_reissued_card_replaces_the_old_one(client, users, holder):
    card = holder
    new_card = card_reissue(card=card, by=users.chair)
    client.force_login(users.member)
    page = client.get(reverse("cards:my_card")).content.decode()
    assert new_card.grouped_number in page and card.grouped_number not in page
    assert 'data-testid="card-blocked"' not in page


def test_logout_clears_the_site_data_on_the_device(client, users):
    client.force_login(users.member)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_login_page_forgets_a_saved_card(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "js/card-forget.js" in page and "data-forget-now" in page


def test_icons_are_drawn_with_rounded_corners_or_full_bleed_for_masks():
    from cards.management.commands.card_app_icons import icon

    rounded = icon(192, full_bleed=False, content_scale=0.62)
    maskable = icon(192, full_bleed=True, content_scale=0.5)
    assert rounded.size == maskable.size == (192, 192)
    assert rounded.getpixel((0, 0))[3] == 0 and maskable.getpixel((0, 0))[3] == 255
    assert rounded.getpixel((96, 96))[3] == 255
