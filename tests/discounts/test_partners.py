"""The staff's partner pages: the partners themselves, their logos, cashiers and API keys; every URL for every role.

Rules the expectations come from:
- partners are managed by central office (all of them) and by regional staff (the partners their own organisation
  manages); local staff, chairs, members and cashiers get 403; a partner the user does not manage does not exist
  for them (404), so another region's partners are not even confirmed;
- API keys are central office's alone: regional staff get 403 even for their own partners;
- a partner's logo is shown to anyone signed in (the catalogue, the cashier's page);
- anonymous visitors are sent to the login page.
"""

import datetime
import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import AccessLog, Role, User
from discounts import services
from discounts.forms import PartnerForm, basis_points_from_percent
from discounts.models import Cashier, Partner, PartnerToken
from discounts.services import DiscountError
from tests.discounts.conftest import partner_create

OK, DENY, HIDDEN, NOT_ALLOWED = 200, 403, 404, 405


@dataclass(frozen=True)
class Redirect:
    """A 302: to the login page, or back to the partner's page after an action."""

    to: str


LOGIN = Redirect("login")
BACK = Redirect("partner")
ROLES = ("central", "regional", "other_regional", "local", "chair", "member", "cashier", "anonymous")

# fmt: off
# url name, object ("partner:<programme attr>", "cashier", "token", "card", or None), method,
#   then the answer for: central, regional (A), other regional (B), local, chair, member, cashier, anonymous
MATRIX = [
    ("discounts:partner_list",               None,                    "get",  OK, OK, OK, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_create",             None,                    "get",  OK, OK, OK, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_detail",             "partner:partner_a",     "get",  OK, OK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_detail",             "partner:partner_union", "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_detail",             "partner:partner_b",     "get",  OK, HIDDEN, OK, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_edit",               "partner:partner_a",     "get",  OK, OK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_edit",               "partner:partner_union", "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_edit",               "partner:partner_b",     "post", OK, HIDDEN, OK, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_deactivate",         "partner:partner_a",     "get",  *[NOT_ALLOWED] * 8),
    ("discounts:partner_deactivate",         "partner:partner_a",     "post", BACK, BACK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_deactivate",         "partner:partner_union", "post", BACK, HIDDEN, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_logo",               "partner:partner_a",     "get",  OK, OK, OK, OK, OK, OK, OK, LOGIN),
    ("discounts:partner_logo",               "partner:partner_b",     "get",  *[HIDDEN] * 7, LOGIN),
    ("discounts:partner_cashier_create",     "partner:partner_a",     "get",  OK, OK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_cashier_create",     "partner:partner_b",     "get",  OK, HIDDEN, OK, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_cashier_set_active", "cashier",               "get",  *[NOT_ALLOWED] * 8),
    ("discounts:partner_cashier_set_active", "cashier",               "post", BACK, BACK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_cashier_invite",     "cashier",               "post", BACK, BACK, HIDDEN, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_token_issue",        "partner:partner_a",     "get",  *[NOT_ALLOWED] * 8),
    ("discounts:partner_token_issue",        "partner:partner_a",     "post", OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_token_rotate",       "token",                 "post", OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:partner_token_revoke",       "token",                 "post", BACK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:fraud_report",               None,                    "get",  OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:fraud_card",                 "card",                  "get",  OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:fraud_partner",              "partner:partner_a",     "get",  OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("discounts:fraud_partner",              "partner:partner_b",     "get",  OK, DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
]
# fmt: on
CASES = [
    pytest.param(url, obj, method, role, expected, id=f"{url.split(':')[1]}-{obj}-{method}-{role}")
    for url, obj, method, *answers in MATRIX
    for role, expected in zip(ROLES, answers, strict=True)
]


def png_bytes(width: int, height: int, mode: str = "RGB", color=(11, 79, 156)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color if mode != "1" else 0).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def matrix_objects(programme, users):
    """A logo for partner A, an API key of partner A, the fixture cashier's row."""
    services.partner_update(
        partner=programme.partner_a, by=users.central, managed_by=programme.partner_a.managed_by,
        regions=list(programme.partner_a.regions.all()), logo=upload("logo.png", png_bytes(120, 60)),
        **_fields_of(programme.partner_a),
    )  # fmt: skip
    token, _raw_key = services.partner_token_issue(partner=programme.partner_a, by=users.central, name="касса")
    return {"cashier": Cashier.objects.get(user=users.cashier), "token": token, "card": programme.card_a}


def _fields_of(partner: Partner) -> dict:
    return {name: getattr(partner, name) for name in services.PARTNER_FIELDS}


def _url(url_name: str, obj, programme, objects) -> str:
    if obj is None:
        return reverse(url_name)
    if obj.startswith("partner:"):
        return reverse(url_name, args=[getattr(programme, obj.split(":")[1]).pk])
    if obj == "cashier":
        cashier = objects["cashier"]
        return reverse(url_name, args=[cashier.partner_id, cashier.pk])
    if obj == "token":
        return reverse(url_name, args=[objects["token"].partner_id, objects["token"].pk])
    return reverse(url_name, args=[objects[obj].pk])


@pytest.mark.parametrize(("url_name", "obj", "method", "role", "expected"), CASES)
def test_role_matrix(client, users, programme, matrix_objects, url_name, obj, method, role, expected):
    if role != "anonymous":
        client.force_login(users.by_role(role))
    url = _url(url_name, obj, programme, matrix_objects)

    response = client.post(url) if method == "post" else client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    elif expected == BACK:
        assert response.status_code == 302
        assert re.fullmatch(r"/discounts/partners/\d+/", response["Location"]), response["Location"]
    else:
        assert response.status_code == expected


# --- who manages which partner ---------------------------------------------------------------------------------------


def test_the_list_shows_each_user_the_partners_they_manage(client_for, users, programme):
    central_page = client_for(users.central).get(reverse("discounts:partner_list")).content.decode()
    regional_page = client_for(users.regional).get(reverse("discounts:partner_list")).content.decode()

    assert all(name in central_page for name in ("Азбука", "Учитель", "Невская"))
    assert "Азбука" in regional_page
    assert "Невская" not in regional_page  # region B's partner
    assert "Учитель" not in regional_page  # central office's partner


def test_the_list_filters_by_category_region_state_and_name(client_for, users, union, programme):
    partner_create(
        name="Кинотеатр «Октябрь»", regions=[union.region_a.region], category=Partner.Category.CULTURE,
        cashback_bp=100, active_until=datetime.date(2024, 12, 31),
    )  # fmt: skip
    client = client_for(users.central)

    def names(**query) -> set[str]:
        page = client.get(reverse("discounts:partner_list"), query).context["page"]
        return {partner.name for partner in page}

    assert names(category="health") == {"Аптека «Невская»"}
    assert names(region=union.region_b.region.pk) == {"Аптека «Невская»", "Санаторий «Учитель»"}  # + union-wide
    assert names(state="inactive") == {"Кинотеатр «Октябрь»"}
    assert "Кинотеатр «Октябрь»" not in names(state="active")
    assert names(q="Санатор") == {"Санаторий «Учитель»"}


def test_the_list_takes_a_fixed_number_of_queries(client_for, users, union, django_assert_max_num_queries):
    for number in range(30):
        partner_create(name=f"Партнёр {number}", regions=[union.region_a.region], cashback_bp=100)
    client = client_for(users.central)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("discounts:partner_list"))

    assert len(response.context["page"]) == 30


def _form_data(**changes) -> dict:
    data = {
        "name": "Магазин «Учебник»", "category": "education", "discount_percent": "5,55", "cashback_percent": "",
        "hold_days": "14", "active_from": "2025-01-01", "active_until": "", "daily_purchases_per_card": "5",
        "daily_amount": "49 999,99", "terms": "Скидка по билету на всё, кроме подписки.",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_regional_staff_create_a_partner_of_their_own_region(client_for, users, union):
    response = client_for(users.regional).post(
        reverse("discounts:partner_create"), _form_data(regions=[union.region_a.region.pk], is_union_wide="on")
    )

    partner = Partner.objects.get(name="Магазин «Учебник»")
    assert response.status_code == 302
    assert partner.managed_by == union.region_a
    assert partner.is_union_wide is False  # the field is not theirs to set: ignored
    assert list(partner.regions.all()) == [union.region_a.region]
    assert AccessLog.objects.filter(action=AccessLog.Action.CREATE, object_id=str(partner.pk)).exists()


def test_regional_staff_cannot_choose_another_region(client_for, users, union):
    response = client_for(users.regional).post(
        reverse("discounts:partner_create"), _form_data(regions=[union.region_b.region.pk])
    )

    assert response.status_code == 200
    assert "regions" in response.context["form"].errors
    assert not Partner.objects.filter(name="Магазин «Учебник»").exists()


def test_central_office_makes_a_union_wide_partner(client_for, users, union):
    client_for(users.central).post(reverse("discounts:partner_create"), _form_data(is_union_wide="on"))

    partner = Partner.objects.get(name="Магазин «Учебник»")
    assert partner.is_union_wide is True
    assert partner.managed_by is None


def test_central_office_cannot_hand_a_union_wide_partner_to_a_region(client_for, users, union):
    response = client_for(users.central).post(
        reverse("discounts:partner_create"), _form_data(is_union_wide="on", managed_by=union.region_a.pk)
    )

    assert "is_union_wide" in response.context["form"].errors


@pytest.mark.parametrize(
    ("managed_by", "regions", "union_wide", "code"),
    [
        ("region_b", "region_b", False, "forbidden"),  # another organisation's partner
        ("region_a", "", True, "partner_scope"),  # union-wide
        ("region_a", "region_b", False, "partner_scope"),  # valid in another region
        ("region_a", "", False, "partner_regions"),  # valid nowhere
    ],
)
def test_the_service_refuses_regional_staff_beyond_their_region(users, union, managed_by, regions, union_wide, code):
    fields = {"name": "Тест", "category": "food", "cashback_bp": 100, "active_from": datetime.date(2025, 1, 1)}
    with pytest.raises(DiscountError) as refusal:
        services.partner_create(
            by=users.regional, managed_by=getattr(union, managed_by),
            regions=[getattr(union, regions).region] if regions else [], is_union_wide=union_wide, **fields,
        )  # fmt: skip

    assert refusal.value.code == code


def test_another_regions_staff_cannot_update_the_partner(users, programme):
    with pytest.raises(DiscountError) as refusal:
        services.partner_update(
            partner=programme.partner_a, by=users.other_regional, managed_by=programme.partner_a.managed_by,
            regions=list(programme.partner_a.regions.all()), **_fields_of(programme.partner_a),
        )  # fmt: skip

    assert refusal.value.code == "forbidden"


def test_an_update_is_logged_with_what_changed(client_for, users, union, programme):
    partner = programme.partner_a
    client_for(users.regional).post(
        reverse("discounts:partner_edit", args=[partner.pk]),
        _form_data(name=partner.name, cashback_percent="6", discount_percent="", regions=[union.region_a.region.pk]),
    )

    partner.refresh_from_db()
    entry = AccessLog.objects.filter(action=AccessLog.Action.CHANGE, object_id=str(partner.pk)).get()
    assert partner.cashback_bp == 600
    assert entry.details["changes"]["cashback_bp"] == [500, 600]
    assert any("кешбэк" in line for line in entry.details_lines)


# --- percentages and roubles as people type them -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "basis_points"), [("5", 500), ("5,5", 550), ("5,55", 555), ("0,01", 1), ("100", 10_000), ("7.25", 725)]
)
def test_percentages_become_basis_points(users, union, typed, basis_points):
    form = PartnerForm(_form_data(discount_percent=typed, regions=[union.region_a.region.pk]), user=users.regional)

    assert form.is_valid(), form.errors
    assert form.service_arguments()["discount_bp"] == basis_points


@pytest.mark.parametrize("typed", ["100,01", "5,555", "-1", "пять"])
def test_percentages_out_of_range_or_too_precise_are_refused(users, union, typed):
    form = PartnerForm(_form_data(discount_percent=typed, regions=[union.region_a.region.pk]), user=users.regional)

    assert not form.is_valid()
    assert "discount_percent" in form.errors


def test_a_partner_with_neither_discount_nor_cashback_is_refused(users, union):
    form = PartnerForm(
        _form_data(discount_percent="0", cashback_percent="", regions=[union.region_a.region.pk]), user=users.regional
    )

    assert not form.is_valid()
    assert form.errors["discount_percent"] == ["Укажите скидку или кешбэк."]


@pytest.mark.parametrize(
    ("typed", "kopecks"), [("49 999,99", 4_999_999), ("50000", 5_000_000), ("0", 0), ("1\u202f000,50", 100_050)]
)
def test_the_daily_amount_is_typed_in_roubles_and_kept_in_kopecks(users, union, typed, kopecks):
    form = PartnerForm(_form_data(daily_amount=typed, regions=[union.region_a.region.pk]), user=users.regional)

    assert form.is_valid(), form.errors
    assert form.service_arguments()["daily_amount_per_card"] == kopecks


@pytest.mark.parametrize("typed", ["10,001", "-5", "много", "10000000,01"])
def test_a_wrong_daily_amount_is_refused(users, union, typed):
    form = PartnerForm(_form_data(daily_amount=typed, regions=[union.region_a.region.pk]), user=users.regional)

    assert "daily_amount" in form.errors


def test_the_edit_form_shows_the_stored_values_as_people_typed_them(client_for, users, programme):
    programme.partner_a.discount_bp = 555
    programme.partner_a.daily_amount_per_card = 4_999_999
    programme.partner_a.save()

    page = client_for(users.central).get(reverse("discounts:partner_edit", args=[programme.partner_a.pk]))

    html = page.content.decode()
    assert 'value="5,55"' in html
    assert 'value="49999,99"' in html
    assert basis_points_from_percent(Decimal("5.55")) == 555


def test_the_period_must_be_in_order(users, union):
    form = PartnerForm(
        _form_data(active_from="2025-05-01", active_until="2025-04-30", regions=[union.region_a.region.pk]),
        user=users.regional,
    )

    assert "active_until" in form.errors


# --- the logo ---------------------------------------------------------------------------------------------------------


def test_a_real_png_is_fitted_into_400_and_stored_as_webp(client_for, users, union):
    data = _form_data(regions=[union.region_a.region.pk])
    data["logo"] = upload("logo.png", png_bytes(1200, 600))

    client_for(users.regional).post(reverse("discounts:partner_create"), data)

    partner = Partner.objects.get(name="Магазин «Учебник»")
    with partner.logo.open("rb") as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("WEBP", (400, 200))
    assert partner.logo.name.startswith("partner-logos/")


def test_a_small_logo_is_not_blown_up_and_transparency_survives(users):
    prepared = services.partner_logo_prepare(upload("small.png", png_bytes(64, 32, "RGBA", (0, 0, 0, 0))))

    with Image.open(io.BytesIO(prepared.content)) as image:
        assert image.size == (64, 32)
        assert image.mode == "RGBA"


def test_a_text_file_named_png_is_refused_in_russian(client_for, users, union):
    data = _form_data(regions=[union.region_a.region.pk])
    data["logo"] = upload("logo.png", "Это не картинка, а текст.".encode())

    response = client_for(users.regional).post(reverse("discounts:partner_create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["logo"] == [
        "Файл не похож на изображение: загрузите логотип в формате PNG, JPEG, WebP или GIF."
    ]
    assert not Partner.objects.filter(name="Магазин «Учебник»").exists()


def test_an_image_with_too_many_pixels_is_refused(client_for, users, union):
    """5000 × 5000 one-bit pixels pack into a few kilobytes and would unpack to 75 MB of RGB: a decompression bomb."""
    data = _form_data(regions=[union.region_a.region.pk])
    bomb = png_bytes(5000, 5000, mode="1")
    data["logo"] = upload("logo.png", bomb)

    response = client_for(users.regional).post(reverse("discounts:partner_create"), data)

    assert len(bomb) < 100_000
    assert "слишком большое" in response.context["form"].errors["logo"][0]


def test_an_image_in_another_format_is_refused(users):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "BMP")

    with pytest.raises(DiscountError) as refusal:
        services.partner_logo_prepare(upload("logo.png", buffer.getvalue(), "image/bmp"))

    assert refusal.value.code == "logo_invalid"


def test_a_replaced_logo_is_deleted_from_storage(users, programme, django_capture_on_commit_callbacks):
    partner = programme.partner_a
    arguments = {"partner": partner, "by": users.central, "managed_by": partner.managed_by,
                 "regions": list(partner.regions.all()), **_fields_of(partner)}  # fmt: skip
    services.partner_update(**arguments, logo=upload("a.png", png_bytes(10, 10)))
    partner.refresh_from_db()
    first = partner.logo.name

    with django_capture_on_commit_callbacks(execute=True):
        services.partner_update(**arguments, logo=upload("b.png", png_bytes(20, 20)))

    partner.refresh_from_db()
    assert partner.logo.name != first
    assert partner.logo.storage.exists(partner.logo.name)
    assert not partner.logo.storage.exists(first)


def test_the_logo_is_served_with_its_type(client_for, users, programme, matrix_objects):
    response = client_for(users.member).get(reverse("discounts:partner_logo", args=[programme.partner_a.pk]))

    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


# --- deactivation -----------------------------------------------------------------------------------------------------


def test_deactivation_ends_participation_today(client_for, users, programme):
    client_for(users.regional).post(reverse("discounts:partner_deactivate", args=[programme.partner_a.pk]))

    programme.partner_a.refresh_from_db()
    assert programme.partner_a.active_until == timezone.localdate() - datetime.timedelta(days=1)
    assert not programme.partner_a.is_active
    with pytest.raises(DiscountError) as refusal:
        services.card_check(partner=programme.partner_a, presented=programme.card_a.number, by=users.cashier)
    assert refusal.value.code == "partner_inactive"


def test_a_partner_not_yet_started_is_not_deactivated_but_explained(client_for, users, programme):
    programme.partner_a.active_from = timezone.localdate() + datetime.timedelta(days=10)
    programme.partner_a.save()

    response = client_for(users.regional).post(
        reverse("discounts:partner_deactivate", args=[programme.partner_a.pk]), follow=True
    )

    programme.partner_a.refresh_from_db()
    assert programme.partner_a.active_until is None
    assert "измените даты участия" in response.content.decode()


# --- cashiers ---------------------------------------------------------------------------------------------------------


def _cashier_data(**changes) -> dict:
    return {"last_name": "Кассирова", "first_name": "Нина", "email": "nina@shop.example", "username": "nina.k",
            **changes}  # fmt: skip


def test_a_cashier_is_invited_to_set_a_password(
    client, client_for, users, programme, mailoutbox, django_capture_on_commit_callbacks
):
    staff = client_for(users.regional)
    with django_capture_on_commit_callbacks(execute=True):
        created = staff.post(
            reverse("discounts:partner_cashier_create", args=[programme.partner_a.pk]), _cashier_data()
        )

    account = User.objects.get(username="nina.k")
    assert created.status_code == 302
    assert account.role == Role.CASHIER
    assert account.cashier.partner == programme.partner_a
    assert not account.has_usable_password()
    assert mailoutbox[0].to == ["nina@shop.example"]
    assert programme.partner_a.name in mailoutbox[0].body
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mailoutbox[0].body).group(0)

    client.logout()
    form_page = client.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_password_url, {"new_password1": "12345", "new_password2": "12345"})
    strong = client.post(
        set_password_url, {"new_password1": "Kassa-Nevskaya-2025", "new_password2": "Kassa-Nevskaya-2025"}
    )

    assert weak.status_code == 200 and weak.context["form"].errors  # Django's password validators
    assert strong.status_code == 302
    account.refresh_from_db()
    assert account.check_password("Kassa-Nevskaya-2025")


def test_a_taken_username_is_refused(client_for, users, programme):
    response = client_for(users.central).post(
        reverse("discounts:partner_cashier_create", args=[programme.partner_a.pk]),
        _cashier_data(username=users.cashier.username.upper()),
    )

    assert "username" in response.context["form"].errors


def test_a_deactivated_cashier_can_no_longer_work(client, client_for, users, programme):
    cashier = Cashier.objects.get(user=users.cashier)
    client_for(users.regional).post(
        reverse("discounts:partner_cashier_set_active", args=[programme.partner_a.pk, cashier.pk]), {"active": "0"}
    )

    users.cashier.refresh_from_db()
    client.logout()
    client.force_login(users.cashier)
    assert users.cashier.is_active is False
    assert client.get(reverse("discounts:cashier")).status_code == 302  # the session no longer authenticates
    assert AccessLog.objects.filter(object_type="accounts.user", object_id=str(users.cashier.pk)).exists()


def test_a_cashier_is_reached_only_through_its_own_partner(client_for, users, programme):
    cashier = Cashier.objects.get(user=users.cashier)  # partner A's

    response = client_for(users.central).post(
        reverse("discounts:partner_cashier_set_active", args=[programme.partner_b.pk, cashier.pk]), {"active": "0"}
    )

    users.cashier.refresh_from_db()
    assert response.status_code == 404
    assert users.cashier.is_active is True


# --- API keys ---------------------------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(client_for, users, programme):
    client = client_for(users.central)

    issued = client.post(reverse("discounts:partner_token_issue", args=[programme.partner_a.pk]), {"name": "касса 1"})

    raw_key = issued.context["raw_key"]
    token = PartnerToken.objects.get(partner=programme.partner_a)
    assert raw_key in issued.content.decode()
    assert "no-store" in issued["Cache-Control"]
    assert token.key_sha256 == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in str(list(PartnerToken.objects.values()))
    partner_page = client.get(reverse("discounts:partner_detail", args=[programme.partner_a.pk])).content.decode()
    assert token.prefix in partner_page
    assert raw_key not in partner_page
    assert services.partner_token_authenticate(raw_key) == token


def test_rotation_stops_the_old_key_and_shows_the_new_one(client_for, users, programme):
    old_token, old_key = services.partner_token_issue(partner=programme.partner_a, by=users.central, name="сайт")

    response = client_for(users.central).post(
        reverse("discounts:partner_token_rotate", args=[programme.partner_a.pk, old_token.pk])
    )

    new_key = response.context["raw_key"]
    assert services.partner_token_authenticate(old_key) is None
    assert services.partner_token_authenticate(new_key).name == "сайт"
    assert new_key in response.content.decode()


def test_a_revoked_key_stops_working(client_for, users, programme):
    token, raw_key = services.partner_token_issue(partner=programme.partner_a, by=users.central)

    client_for(users.central).post(reverse("discounts:partner_token_revoke", args=[programme.partner_a.pk, token.pk]))

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.partner_token_authenticate(raw_key) is None


def test_a_key_is_reached_only_through_its_own_partner(client_for, users, programme):
    token, raw_key = services.partner_token_issue(partner=programme.partner_b, by=users.central)

    response = client_for(users.central).post(
        reverse("discounts:partner_token_revoke", args=[programme.partner_a.pk, token.pk])
    )

    assert response.status_code == 404
    assert services.partner_token_authenticate(raw_key) == token


def test_regional_staff_do_not_see_the_keys(client_for, users, programme):
    services.partner_token_issue(partner=programme.partner_a, by=users.central, name="касса")

    page = client_for(users.regional).get(reverse("discounts:partner_detail", args=[programme.partner_a.pk]))

    assert page.context["tokens"] is None
    assert "Ключи API" not in page.content.decode()


# --- navigation -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "partners", "fraud"),
    [("central", True, True), ("regional", True, False), ("local", False, False), ("member", False, False)],
)
def test_the_menu_offers_the_pages_to_their_roles(client_for, users, programme, role, partners, fraud):
    html = client_for(users.by_role(role)).get(reverse("accounts:profile")).content.decode()

    assert (reverse("discounts:partner_list") in html) is partners
    assert (reverse("discounts:fraud_report") in html) is fraud
