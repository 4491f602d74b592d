"""The role matrix: every page of the portal, for every role, with the answer the product rules give.

Roles and scoping live in the registry (STYLE.md), so the matrix covers the accounts pages and `home` too.
Rules the expectations come from:
- registry pages are for staff (central, regional, local, chair); members and cashiers get 403;
- an organisation or chair outside the user's subtree does not exist for the user (404), checked after the role;
- the apparatus (central, regional, local) keeps the chairs' card index; a chair gets 403 there;
- a user may not close or reopen the organisation they work in (403);
- only central office reads the access log;
- anonymous visitors are sent to the login page.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.models import AccessLog, User
from registry.models import Chair, Organization

ROLES = ("central", "regional", "local", "chair", "member", "cashier", "anonymous")


@dataclass(frozen=True)
class Redirect:
    """A 302 to: login, home, profile, org_tree, statistics_home, cashier, staff_list, recovery_codes, own_org (the
    user's organisation) or target (the object)."""

    to: str


OK = 200
DENY = 403
HIDDEN = 404  # outside the user's subtree
POST_ONLY = 405
LOGIN = Redirect("login")
TO_HOME = Redirect("home")
TO_TREE = Redirect("org_tree")
TO_STATS = Redirect("statistics_home")
TO_CASHIER = Redirect("cashier")
TO_OWN_ORG = Redirect("own_org")
TO_PROFILE = Redirect("profile")
TO_LOGIN_PAGE = Redirect("login_page")  # after logout: the login page itself, without ?next=
BACK = Redirect("target")
TO_STAFF = Redirect("staff_list")
TO_CODES = Redirect("recovery_codes")

BAD_RESET_LINK = ("MQ", "bad-token")

# fmt: off
# url name, object (org:<union attr>, chair:<chairs attr>, user:<users attr>, literal args or None), method,
#   then the expected answer for: central, regional (A), local (A1), chair (A1a), member, cashier, anonymous
MATRIX = [
    # Staff start on the statistics dashboard, a cashier at the till (the apps register their home pages).
    ("home",                           None,               "get",  TO_STATS, TO_STATS, TO_STATS, TO_STATS, TO_PROFILE, TO_CASHIER, LOGIN),
    ("accounts:login",                 None,               "get",  TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME, OK),
    ("accounts:logout",                None,               "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("accounts:logout",                None,               "post", TO_LOGIN_PAGE, TO_LOGIN_PAGE, TO_LOGIN_PAGE, TO_LOGIN_PAGE, TO_LOGIN_PAGE, TO_LOGIN_PAGE, TO_LOGIN_PAGE),
    ("accounts:profile",               None,               "get",  OK, OK, OK, OK, OK, OK, LOGIN),
    ("accounts:password_change",       None,               "get",  OK, OK, OK, OK, OK, OK, LOGIN),
    ("accounts:password_change_done",  None,               "get",  OK, OK, OK, OK, OK, OK, LOGIN),
    ("accounts:password_reset",        None,               "get",  OK, OK, OK, OK, OK, OK, OK),
    ("accounts:password_reset_done",   None,               "get",  OK, OK, OK, OK, OK, OK, OK),
    ("accounts:password_reset_confirm", BAD_RESET_LINK,    "get",  OK, OK, OK, OK, OK, OK, OK),
    ("accounts:password_reset_complete", None,             "get",  OK, OK, OK, OK, OK, OK, OK),
    ("accounts:access_log",            None,               "get",  OK, DENY, DENY, DENY, DENY, DENY, LOGIN),
    # The second sign-in step, with the session past it (central and regional) or owing none (the others): the code
    # page sends on; anyone may add an app; new recovery codes need an app, and are shown once, on the next page.
    ("accounts:two_factor_verify",     None,               "get",  TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME, LOGIN),
    ("accounts:two_factor_setup",      None,               "get",  OK, OK, OK, OK, OK, OK, LOGIN),
    ("accounts:two_factor_recovery_codes", None,           "get",  TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, LOGIN),
    ("accounts:two_factor_recovery_codes_issue", None,     "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("accounts:two_factor_recovery_codes_issue", None,     "post", TO_CODES, TO_CODES, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, LOGIN),
    ("accounts:two_factor_disable",    None,               "get",  OK, OK, OK, OK, OK, OK, LOGIN),

    ("registry:org_tree",              None,               "get",  TO_OWN_ORG, TO_OWN_ORG, TO_OWN_ORG, TO_OWN_ORG, DENY, DENY, LOGIN),

    ("registry:org_detail",            "org:central",      "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:region_a",     "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:local_a1",     "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:primary_a1a",  "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:unit_a1a",     "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:primary_a1b",  "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:university_a", "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:region_b",     "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_detail",            "org:primary_b1a",  "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),

    ("registry:org_edit",              "org:central",      "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:region_a",     "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    # The chair's parent local organisation lies outside the chair's subtree: 404, not 403 (see the report).
    ("registry:org_edit",              "org:local_a1",     "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:primary_a1a",  "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:unit_a1a",     "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:university_a", "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:region_b",     "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_edit",              "org:primary_b1a",  "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),

    ("registry:org_add_child",         "org:central",      "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:region_a",     "get",  OK, OK, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:local_a1",     "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:primary_a1a",  "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:unit_a1a",     "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:region_b",     "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_add_child",         "org:primary_b1a",  "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),

    # POST active=1 on an open organisation: allowed users are sent back to it and nothing changes.
    ("registry:org_set_active",        "org:primary_a1a",  "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("registry:org_set_active",        "org:central",      "post", DENY, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_set_active",        "org:region_a",     "post", BACK, DENY, HIDDEN, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_set_active",        "org:local_a1",     "post", BACK, BACK, DENY, HIDDEN, DENY, DENY, LOGIN),
    ("registry:org_set_active",        "org:primary_a1a",  "post", BACK, BACK, BACK, DENY, DENY, DENY, LOGIN),
    ("registry:org_set_active",        "org:unit_a1a",     "post", BACK, BACK, BACK, BACK, DENY, DENY, LOGIN),
    ("registry:org_set_active",        "org:region_b",     "post", BACK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),

    ("registry:chair_create",          "org:central",      "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:chair_create",          "org:region_a",     "get",  OK, OK, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:chair_create",          "org:local_a1",     "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_create",          "org:primary_a1a",  "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_create",          "org:primary_b1a",  "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),

    ("registry:chair_list",            None,               "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),

    ("registry:chair_detail",          "chair:a1a",        "get",  OK, OK, OK, OK, DENY, DENY, LOGIN),
    ("registry:chair_detail",          "chair:local_a1",   "get",  OK, OK, OK, HIDDEN, DENY, DENY, LOGIN),
    ("registry:chair_detail",          "chair:b1a",        "get",  OK, HIDDEN, HIDDEN, HIDDEN, DENY, DENY, LOGIN),

    ("registry:chair_edit",            "chair:a1a",        "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_edit",            "chair:local_a1",   "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_edit",            "chair:b1a",        "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),

    ("registry:chair_training_add",    "chair:a1a",        "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_training_add",    "chair:local_a1",   "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:chair_training_add",    "chair:b1a",        "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),

    ("registry:staff_user_list",       None,               "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),

    # An account's role must match its organisation's level; nobody is given a role for a профбюро.
    ("registry:staff_user_create",     "org:central",      "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_create",     "org:region_a",     "get",  OK, OK, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_create",     "org:local_a1",     "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_create",     "org:primary_a1a",  "get",  OK, OK, OK, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_create",     "org:unit_a1a",     "get",  DENY, DENY, DENY, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_create",     "org:primary_b1a",  "get",  OK, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),

    # POST active=1 to an account that is active: allowed users go back to the list and nothing changes.
    # Nobody blocks their own account (403); members' accounts are not staff accounts (404).
    ("registry:staff_user_set_active", "user:chair",       "get",  POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("registry:staff_user_set_active", "user:central",     "post", DENY, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_set_active", "user:regional",    "post", TO_STAFF, DENY, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_set_active", "user:local",       "post", TO_STAFF, TO_STAFF, DENY, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_set_active", "user:chair",       "post", TO_STAFF, TO_STAFF, TO_STAFF, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_set_active", "user:other_chair", "post", TO_STAFF, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_set_active", "user:member",      "post", HIDDEN, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),

    ("registry:staff_user_resend_invitation", "user:chair", "get", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY),
    ("registry:staff_user_resend_invitation", "user:central", "post", DENY, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_resend_invitation", "user:regional", "post", TO_STAFF, DENY, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_resend_invitation", "user:local", "post", TO_STAFF, TO_STAFF, DENY, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_resend_invitation", "user:chair", "post", TO_STAFF, TO_STAFF, TO_STAFF, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_resend_invitation", "user:other_chair", "post", TO_STAFF, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
    ("registry:staff_user_resend_invitation", "user:member", "post", HIDDEN, HIDDEN, HIDDEN, DENY, DENY, DENY, LOGIN),
]
# fmt: on

CASES = [
    pytest.param(url_name, target, method, role, expected, id=f"{url_name}-{target}-{method}-{role}")
    for url_name, target, method, *expected_by_role in MATRIX
    for role, expected in zip(ROLES, expected_by_role, strict=True)
]


def _resolve(target, union, users, chairs) -> tuple[tuple, Organization | Chair | User | None]:
    if target is None:
        return (), None
    if isinstance(target, tuple):
        return target, None
    kind, name = target.split(":")
    obj = getattr({"org": union, "chair": chairs, "user": users}[kind], name)
    return (obj.pk,), obj


def _expected_location(redirect: Redirect, user, obj) -> str:
    if redirect.to == "own_org":
        return reverse("registry:org_detail", args=[user.organization_id])
    if redirect.to == "target":
        return obj.get_absolute_url()
    if redirect.to == "recovery_codes":
        return f"{reverse('accounts:two_factor_recovery_codes')}?next={reverse('accounts:profile')}"
    url_name = {
        "home": "home",
        "profile": "accounts:profile",
        "org_tree": "registry:org_tree",
        "statistics_home": "statistics:home",
        "cashier": "discounts:cashier",
        "staff_list": "registry:staff_user_list",
    }.get(redirect.to)
    return reverse(url_name or "accounts:login")


@pytest.mark.parametrize(("url_name", "target", "method", "role", "expected"), CASES)
def test_role_matrix(client, union, users, chairs, url_name, target, method, role, expected):
    args, obj = _resolve(target, union, users, chairs)
    url = reverse(url_name, args=args)
    user = None if role == "anonymous" else users.by_role(role)
    if user is not None:
        client.force_login(user)
    data = {"active": "1"} if url_name.endswith("_set_active") else {}

    response = getattr(client, method)(url, data)

    if isinstance(expected, Redirect):
        assert response.status_code == 302, response.content[:500]
        if expected is LOGIN:
            assert response.url == f"{reverse('accounts:login')}?next={url}"
        else:
            assert response.url == _expected_location(expected, user, obj)
    else:
        assert response.status_code == expected


def test_every_view_is_in_the_matrix():
    """A new page without rows in the matrix would go unchecked: the matrix must name every URL."""
    from accounts.urls import urlpatterns as accounts_urls
    from registry.urls import urlpatterns as registry_urls

    url_names = {"home"} | {f"accounts:{p.name}" for p in accounts_urls} | {f"registry:{p.name}" for p in registry_urls}
    assert url_names - {row[0] for row in MATRIX} == set()


@pytest.mark.parametrize(
    ("role", "url_name", "target", "data"),
    [
        # A chair writing to the parent local organisation's passport.
        ("chair", "registry:org_edit", "local_a1", {"name": "Захвачено", "inn": ""}),
        # Region A's staff writing into region B.
        ("regional", "registry:org_edit", "region_b", {"name": "Захвачено", "inn": ""}),
        ("regional", "registry:org_add_child", "region_b", {"level": "local", "name": "Захвачено"}),
        ("local", "registry:org_add_child", "region_a", {"level": "local", "name": "Захвачено"}),
        ("regional", "registry:org_set_active", "primary_b1a", {"active": "0"}),
        ("chair", "registry:org_set_active", "primary_a1a", {"active": "0"}),
        ("member", "registry:org_set_active", "unit_a1a", {"active": "0"}),
        (
            "chair",
            "registry:chair_create",
            "primary_a1a",
            {"last_name": "Захватов", "first_name": "И", "term_start": "2020-01-01"},
        ),
        (
            "regional",
            "registry:chair_create",
            "primary_b1a",
            {"last_name": "Захватов", "first_name": "И", "term_start": "2020-01-01"},
        ),
    ],
)
def test_refused_writes_change_nothing(client, union, users, chairs, role, url_name, target, data):
    """A refused POST is refused before anything is written: the tree, the card index and the log stay as they were."""
    client.force_login(users.by_role(role))
    orgs_before = list(Organization.objects.values_list("id", "name", "is_active").order_by("id"))
    chairs_before = Chair.objects.count()
    log_before = AccessLog.objects.exclude(action=AccessLog.Action.LOGIN).count()
    arg_name = "org_pk" if url_name == "registry:chair_create" else "pk"

    response = client.post(reverse(url_name, kwargs={arg_name: getattr(union, target).pk}), data)

    assert response.status_code in (403, 404)
    assert list(Organization.objects.values_list("id", "name", "is_active").order_by("id")) == orgs_before
    assert Chair.objects.count() == chairs_before
    assert AccessLog.objects.exclude(action=AccessLog.Action.LOGIN).count() == log_before
