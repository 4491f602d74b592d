"""No card number and no surname in a URL that reaches a server log (issue 10), except the staff's own search boxes.

A URL is written by the HTTPS proxy's and gunicorn's access logs (config/gunicorn.py leaves out the query string,
but a proxy may not). So:
- every URL pattern takes ids and fixed words only, never a number or a name;
- every GET form on the portal's pages (its fields end up in the query string) asks for nothing personal, except the
  search boxes where staff look people up by surname: the member list, the chairs' card index and the staff list;
- the links, form targets and redirects of the pages that show a member and the card carry neither the card number
  nor the surname.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# URL parameters that are not ids: what each one carries.
TEXT_PARAMETERS = {
    "fmt": "a file format: pdf, xlsx, csv, json",
    "action": "a fixed verb of a card or a request: block, reissue, approve, …",
    "purpose": "the purpose of a consent form",
    "token": "a signed random key (card verification) or Django's password-reset token",
    "uidb64": "Django's password reset: the account's id",
    "receipt_id": "the partner's own receipt number (API)",
}
# Where a GET form may ask for a surname: staff looking people up in their own subtree.
STAFF_SEARCH_PAGES = {"membership:member_list", "registry:chair_list", "registry:staff_user_list"}
PERSONAL_FIELD = re.compile(r"фамили|фио|номер билета|card|surname|last_name|first_name|birth|phone|email", re.I)


def url_patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # Django's admin: object ids only, for superusers
                yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.pattern


def test_url_patterns_carry_ids_and_fixed_words_only():
    for route, pattern in url_patterns():
        if isinstance(pattern, RoutePattern):
            parameters = {name: type(converter).__name__ for name, converter in pattern.converters.items()}
        else:
            parameters = {name: "regex" for name in pattern.regex.groupindex}
        for name, kind in parameters.items():
            if kind == "IntConverter" or (kind == "regex" and name == "pk"):
                continue
            assert name in TEXT_PARAMETERS, f"{route}: <{name}> is neither an id nor a known fixed word"


# --- GET forms ------------------------------------------------------------------------------------------------------


FREE_TEXT_INPUTS = {"text", "search", "number", "tel", "email"}


class FormFields(HTMLParser):
    """The forms of a page: method and, for each field a person types into, its name with its label, placeholder and
    aria-label (selects, dates and hidden fields carry the page's own fixed values)."""

    def __init__(self, html: str):
        super().__init__()
        self.forms, self._form, self._labels, self._label_for, self._label_text = [], None, {}, None, []
        self.feed(html)
        for form in self.forms:
            form["fields"] = [f"{name} {hint} {self._labels.get(field_id, '')}" for name, hint, field_id in form["raw"]]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = {"method": (attributes.get("method") or "get").lower(), "raw": []}
            self.forms.append(self._form)
        elif tag in {"input", "textarea"} and self._form is not None and attributes.get("name"):
            if tag == "input" and attributes.get("type", "text") not in FREE_TEXT_INPUTS:
                return  # a choice, a date, a hidden id: nothing a person typed
            hint = f"{attributes.get('placeholder') or ''} {attributes.get('aria-label') or ''}"
            self._form["raw"].append((attributes["name"], hint, attributes.get("id")))
        elif tag == "label":
            self._label_for, self._label_text = attributes.get("for"), []

    def handle_data(self, data):
        if self._label_for is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "label" and self._label_for is not None:
            self._labels[self._label_for] = "".join(self._label_text)
            self._label_for = None


def pages_with_get_forms(union, users, programme):
    """(url name, URL, role) of every page template that holds a GET form."""
    member = programme.holder_a
    return [
        ("membership:member_list", reverse("membership:member_list"), users.chair),
        ("membership:member_transfer", reverse("membership:member_transfer", args=[member.pk]), users.chair),
        ("cards:card_requests", reverse("cards:card_requests") + "?status=requested", users.regional),
        ("cards:settlement_balance", reverse("cards:settlement_balance"), users.central),
        ("cards:settlement_region", reverse("cards:settlement_region", args=[union.region_a.pk]), users.regional),
        ("cards:settlement_primary", reverse("cards:settlement_primary", args=[union.primary_a1a.pk]), users.regional),
        ("discounts:catalogue", reverse("discounts:catalogue"), users.member),
        ("discounts:partner_list", reverse("discounts:partner_list"), users.central),
        ("discounts:cashier", reverse("discounts:cashier"), users.cashier),
        ("discounts:fraud_report", reverse("discounts:fraud_report"), users.central),
        ("registry:chair_list", reverse("registry:chair_list"), users.regional),
        ("registry:staff_user_list", reverse("registry:staff_user_list"), users.regional),
        ("registry:org_detail", reverse("registry:org_detail", args=[union.local_a1.pk]), users.regional),
        ("statistics:report_list", reverse("statistics:report_list"), users.regional),
        ("accounts:access_log", reverse("accounts:access_log"), users.central),
    ]


def templates_with_get_forms() -> set[str]:
    templates_dir = Path(settings.BASE_DIR) / "templates"
    return {
        str(path.relative_to(templates_dir))
        for path in templates_dir.rglob("*.html")
        if re.search(r"<form\b[^>]*method=\"get\"", path.read_text(), re.I)
    }


def test_get_forms_ask_for_no_card_number_or_surname_outside_the_staff_search(client, union, users, programme):
    rendered_templates = set()
    for url_name, url, user in pages_with_get_forms(union, users, programme):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        rendered_templates |= {template.name for template in response.templates}
        get_forms = [form for form in FormFields(response.content.decode()).forms if form["method"] == "get"]
        personal = [field for form in get_forms for field in form["fields"] if PERSONAL_FIELD.search(field)]
        if url_name in STAFF_SEARCH_PAGES:
            assert personal and all(field.startswith("q ") for field in personal), url_name
        else:
            assert personal == [], f"{url_name}: {personal}"
        client.logout()

    # Every template with a GET form was among the pages looked at: a new one is audited here too.
    assert templates_with_get_forms() <= rendered_templates


def test_the_card_number_travels_only_in_post_bodies(client_for, users, programme):
    html = client_for(users.cashier).get(reverse("discounts:cashier")).content.decode()
    card_forms = [form for form in FormFields(html).forms if any(f.startswith("card ") for f in form["fields"])]

    assert card_forms and all(form["method"] == "post" for form in card_forms)


# --- links and redirects --------------------------------------------------------------------------------------------

URL_ATTRIBUTE = re.compile(r'\s(?:href|src|action|formaction|data-[a-z-]*url[a-z-]*)="([^"]*)"', re.I)


def urls_of(html: str) -> list[str]:
    return [unquote(url) for url in URL_ATTRIBUTE.findall(html)]


def assert_no_card_number_or_surname(urls: list[str], programme, where: str):
    number, surname = programme.card_a.number, programme.holder_a.last_name
    for url in urls:
        assert number not in re.sub(r"\D", "", url), f"{where}: card number in {url}"
        assert surname.lower() not in url.lower(), f"{where}: surname in {url}"


# The others show no name: the fraud report masks the number, the cashback page lists the member's own purchases.
PAGES_SHOWING_THE_MEMBER = {"member_detail", "member_card", "member_list", "my_card", "my_cabinet"}


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("chair", "member_detail"),
        ("chair", "member_card"),
        ("chair", "member_list"),
        ("regional", "member_detail"),
        ("central", "fraud_card"),
        ("central", "fraud_report"),
        ("member", "my_card"),
        ("member", "my_cabinet"),
        ("member", "cashback"),
    ],
)
def test_pages_showing_the_member_link_by_ids(client_for, users, programme, role, page):
    member, card = programme.holder_a, programme.card_a
    url = {
        "member_detail": reverse("membership:member_detail", args=[member.pk]),
        "member_card": reverse("cards:member_card", args=[member.pk]),
        "member_list": reverse("membership:member_list") + f"?org={member.organization_id}",
        "fraud_card": reverse("discounts:fraud_card", args=[card.pk]),
        "fraud_report": reverse("discounts:fraud_report"),
        "my_card": reverse("cards:my_card"),
        "my_cabinet": reverse("membership:my_cabinet"),
        "cashback": reverse("discounts:cashback"),
    }[page]
    response = client_for(users.by_role(role)).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    if page in PAGES_SHOWING_THE_MEMBER:
        assert member.last_name in html or card.number[-4:] in html
    assert_no_card_number_or_surname(urls_of(html), programme, page)


def test_after_a_cashiers_check_the_redirect_and_the_page_carry_no_number(client_for, users, programme):
    client = client_for(users.cashier)
    checked = client.post(reverse("discounts:cashier_check"), {"card": programme.card_a.number})

    assert checked.status_code == 302
    assert_no_card_number_or_surname([checked["Location"]], programme, "check redirect")
    page = client.get(checked["Location"]).content.decode()
    assert "Ольга С." in page
    assert_no_card_number_or_surname(urls_of(page), programme, "cashier page")


def test_card_actions_redirect_by_member_id(client_for, users, programme):
    response = client_for(users.chair).post(
        reverse("cards:card_action", args=[programme.holder_a.pk, "block"]), {"reason": "Утерян"}
    )

    assert response.status_code == 302
    assert_no_card_number_or_surname([response["Location"]], programme, "card action redirect")
