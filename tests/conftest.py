"""A small union in which "another organisation's data" always exists.

central
├── region A (77)
│   ├── local A1
│   │   ├── primary A1a (+ unit)
│   │   └── primary A1b
│   └── primary A-univ (territorial rights, directly under the region)
└── region B (78)
    └── local B1
        └── primary B1a
"""

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from registry.models import Chair, Organization
from tests.factories import ChairFactory, RegionFactory, UserFactory, org_create
from tests.second_factor import session_second_factor_pass

Level = Organization.Level


@dataclass
class Union:
    central: Organization
    region_a: Organization
    local_a1: Organization
    primary_a1a: Organization
    unit_a1a: Organization
    primary_a1b: Organization
    university_a: Organization
    region_b: Organization
    local_b1: Organization
    primary_b1a: Organization


@pytest.fixture
def union(db) -> Union:
    central = org_create(parent=None, level=Level.CENTRAL, name="Общероссийский Профсоюз образования")
    region_77 = RegionFactory(code="77", name="Москва")
    region_78 = RegionFactory(code="78", name="Санкт-Петербург")
    region_a = org_create(
        parent=central, level=Level.REGIONAL, name="Московская городская организация", region=region_77
    )
    local_a1 = org_create(parent=region_a, level=Level.LOCAL, name="Районная организация А1")
    primary_a1a = org_create(parent=local_a1, level=Level.PRIMARY, name="ППО школы № 1", institution_type="school")
    unit_a1a = org_create(parent=primary_a1a, level=Level.UNIT, name="Профгруппа начальной школы")
    primary_a1b = org_create(parent=local_a1, level=Level.PRIMARY, name="ППО детского сада № 5")
    university_a = org_create(
        parent=region_a, level=Level.PRIMARY, name="ППО университета", institution_type="university"
    )
    region_b = org_create(
        parent=central, level=Level.REGIONAL, name="Санкт-Петербургская организация", region=region_78
    )
    local_b1 = org_create(parent=region_b, level=Level.LOCAL, name="Районная организация Б1")
    primary_b1a = org_create(parent=local_b1, level=Level.PRIMARY, name="ППО гимназии № 7")
    return Union(
        central, region_a, local_a1, primary_a1a, unit_a1a, primary_a1b, university_a, region_b, local_b1, primary_b1a
    )


@dataclass
class Users:
    central: User
    regional: User
    local: User
    chair: User
    member: User
    cashier: User
    other_regional: User
    other_chair: User

    def by_role(self, role: str) -> User:
        return getattr(self, role)


@pytest.fixture
def users(union) -> Users:
    return Users(
        central=UserFactory(username="central", role=Role.CENTRAL, organization=union.central),
        regional=UserFactory(username="regional_a", role=Role.REGIONAL, organization=union.region_a),
        local=UserFactory(username="local_a1", role=Role.LOCAL, organization=union.local_a1),
        chair=UserFactory(username="chair_a1a", role=Role.CHAIR, organization=union.primary_a1a),
        member=UserFactory(username="member_a1a", role=Role.MEMBER),
        cashier=UserFactory(username="cashier", role=Role.CASHIER),
        other_regional=UserFactory(username="regional_b", role=Role.REGIONAL, organization=union.region_b),
        other_chair=UserFactory(username="chair_b1a", role=Role.CHAIR, organization=union.primary_b1a),
    )


@pytest.fixture(autouse=True)
def force_login_passes_the_second_factor(monkeypatch):
    """client.force_login(user) (and client_for) signs in as a person who has also passed the second step: staff of
    central and regional organisations must have it (accounts/middleware.py) and would otherwise meet only its page.
    The step itself is tested through the login form (tests/accounts/test_two_factor.py), which this leaves alone."""
    force_login = Client.force_login

    def force_login_with_second_factor(self, user, backend=None):
        force_login(self, user, backend)
        session_second_factor_pass(self, user)

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client signed in as that user (both sign-in steps passed)."""

    def sign_in(user: User):
        client.force_login(user)
        return client

    return sign_in


@dataclass
class Chairs:
    """Current chairs (учётные карточки председателей) on both sides of the regional border."""

    a1a: Chair  # primary A1a, region A
    local_a1: Chair  # local A1, region A
    b1a: Chair  # primary B1a, region B


@pytest.fixture
def chairs(union) -> Chairs:
    today = timezone.localdate()
    term = {"term_start": today - datetime.timedelta(days=400), "term_end": today + datetime.timedelta(days=4 * 365)}
    return Chairs(
        a1a=ChairFactory(organization=union.primary_a1a, last_name="Алексеева", first_name="Анна", **term),
        local_a1=ChairFactory(organization=union.local_a1, last_name="Борисов", first_name="Олег", **term),
        b1a=ChairFactory(organization=union.primary_b1a, last_name="Васильева", first_name="Вера", **term),
    )


@pytest.fixture(autouse=True)
def celery_inline_unless_marked_redis(request, settings):
    """Tasks run inline in tests, as in the embedded set-up, even when REDIS_URL is set (CI): no worker listens.

    Only tests marked `redis` send tasks through the broker, to a worker they start themselves.
    """
    if request.node.get_closest_marker("redis"):
        yield
        return
    from config.celery import app

    was_eager = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was_eager


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: cached tree counts must not outlive the database they came from."""
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need PostgreSQL (COPY, sequences, row locks, EXPLAIN): skip them on the embedded SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL; this run is on SQLite")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def media_root_in_tmp(settings, tmp_path_factory):
    """Files a test writes (a demo seeding's payout register, an upload) go to a temporary directory, never to the
    developer's media/; a module that wants to look at them sets MEDIA_ROOT to its own tmp_path."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
