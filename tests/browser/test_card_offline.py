"""The member's card as an app on the phone: saved by the service worker, shown without a network, forgotten on
logging out or when the session is gone."""

import io

import pytest
from PIL import Image

from cards.models import Card
from cards.services import card_block, card_issue
from tests.browser.conftest import PHONE
from tests.factories import TEST_PASSWORD, MemberFactory

pytestmark = pytest.mark.browser

# Is the worker active, and does its cache hold the card page?
CARD_SAVED = """async () => {
  const registration = await navigator.serviceWorker.getRegistration("/cards/my/");
  if (!registration || !registration.active || registration.active.state !== "activated") return false;
  return !!(await caches.match("/cards/my/", { cacheName: "union-card-page", ignoreVary: true }));
}"""
CARD_CACHE_EMPTY = """async () => !(await caches.match("/cards/my/", { ignoreVary: true }))"""


@pytest.fixture
def phone(browser, live_server):
    """A phone as the member holds it: 390×844 at two device pixels per CSS pixel, touch, mobile layout."""
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow", viewport=PHONE,
        device_scale_factor=2, is_mobile=True, has_touch=True,
    )  # fmt: skip
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def holder(users, union):
    member = MemberFactory(organization=union.primary_a1a, user=users.member, last_name="Алексеева", first_name="Анна", middle_name="Александровна", search_name="алексеева анна александровна", card_consents=True)  # fmt: skip
    return card_issue(member=member, by=users.chair)


def _open_saved_card(context, log_in, username):
    page = context.new_page()
    log_in(page, username, TEST_PASSWORD)
    page.goto("/cards/my/")
    page.wait_for_function(CARD_SAVED)
    page.get_by_test_id("card-saved").wait_for()
    return page


def _decode_barcode(page) -> list[str]:
    import zxingcpp

    picture = Image.open(io.BytesIO(page.get_by_test_id("card-barcode").screenshot()))
    return [result.text for result in zxingcpp.read_barcodes(picture)]


def test_saved_card_opens_offline_with_a_barcode_that_scans(phone, users, holder, log_in, screenshot):
    page = _open_saved_card(phone, log_in, users.member.username)
    checked = page.get_by_test_id("card-checked").inner_text()
    assert checked.startswith("Проверено ") and not page.get_by_test_id("card-offline").is_visible()
    cdp = phone.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/cards/my/manifest.webmanifest") and manifest["errors"] == []
    # Chromium would offer to install it; only Playwright's incognito-like context stands in the way.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [error["errorId"] for error in errors] in ([], ["in-incognito"])

    phone.set_offline(True)
    page.reload()
    assert page.get_by_test_id("card-offline").is_visible()  # the worker's copy, not the server's page
    assert page.get_by_test_id("card-number").inner_text() == holder.grouped_number
    assert page.get_by_test_id("card-checked").inner_text() == checked  # the time of the last check, kept
    assert _decode_barcode(page) == [holder.number]
    assert page.evaluate("document.fonts.check('700 16px \"PT Sans\"')")  # styles and fonts came from the cache
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # What the phone's screen shows, as at the till: the whole card without scrolling.
    assert page.get_by_test_id("card-checked").bounding_box()["y"] < PHONE["height"]
    screenshot.save_bytes("cards-offline-phone", page.screenshot())

    page.goto("/cards/my/")  # opened anew, as from the home screen
    assert page.get_by_test_id("card-number").inner_text() == holder.grouped_number


def test_card_blocked_at_the_last_check_stays_marked_blocked_offline(phone, users, holder, log_in):
    page = _open_saved_card(phone, log_in, users.member.username)
    assert page.get_by_test_id("card-barcode").is_visible()

    card_block(card=holder, by=users.chair, reason=Card.BlockReason.LOST)
    page.reload()
    assert page.get_by_test_id("card-blocked").is_visible() and page.get_by_test_id("card-barcode").count() == 0
    page.wait_for_function(
        """async () => (await (await caches.match("/cards/my/", { ignoreVary: true })).text()).includes("card-blocked")"""
    )

    phone.set_offline(True)
    page.reload()
    assert page.get_by_test_id("card-offline").is_visible()
    assert page.get_by_test_id("card-blocked").inner_text().startswith("Билет заблокирован")
    assert page.get_by_test_id("card-barcode").count() == 0


def test_logging_out_removes_the_card_from_the_phone(phone, users, holder, log_in):
    page = _open_saved_card(phone, log_in, users.member.username)
    page.get_by_role("button", name="Меню").click()
    page.get_by_role("button", name=users.member.display_name).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Выйти").click()
    assert page.url.endswith("/accounts/login/")
    page.wait_for_function(CARD_CACHE_EMPTY)

    phone.set_offline(True)
    _goto_offline(page, "/cards/my/")
    assert holder.grouped_number not in page.content()
    assert page.get_by_test_id("card-number").count() == 0


def test_expired_session_makes_the_worker_forget_the_card(phone, users, holder, log_in):
    page = _open_saved_card(phone, log_in, users.member.username)
    # Only the worker is tested here: the login page's own clean-up script is kept from loading.
    phone.route("**/js/card-forget.js", lambda route: route.abort())
    phone.clear_cookies()  # the session ended on the server's side
    page.goto("/cards/my/")
    assert "/accounts/login/" in page.url
    page.wait_for_function(CARD_CACHE_EMPTY)

    phone.set_offline(True)
    page.goto("/cards/my/")  # the worker is still there, with nothing saved: it says so
    assert page.get_by_test_id("card-offline-missing").is_visible()
    assert page.get_by_test_id("card-number").count() == 0


def test_login_page_removes_a_card_left_on_the_device(phone, users, holder, log_in):
    page = _open_saved_card(phone, log_in, users.member.username)
    phone.clear_cookies()
    page.goto("/accounts/login/")  # outside the worker's scope: only the page's script can do it
    page.wait_for_function(
        """async () => (await caches.keys()).length === 0 && (await navigator.serviceWorker.getRegistrations()).length === 0"""
    )

    phone.set_offline(True)
    _goto_offline(page, "/cards/my/")
    assert page.get_by_test_id("card-number").count() == 0


def _goto_offline(page, url):
    """Without a network and without a saved card the browser shows its own error page (or the worker its note)."""
    try:
        page.goto(url)
    except Exception as error:  # net::ERR_INTERNET_DISCONNECTED
        assert "ERR_INTERNET_DISCONNECTED" in str(error)
    # The browser may still be swapping in its error page: read the page only once it has settled.
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    page.wait_for_load_state()
