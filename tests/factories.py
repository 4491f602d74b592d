import datetime

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Role, User
from membership.models import Member
from registry.models import Chair, Organization, Region
from registry.services import _insert_organization

TEST_PASSWORD = "Testovyi-parol-2025"
# Hashing once keeps the suite fast; every factory user shares this password.
_PASSWORD_HASH = make_password(TEST_PASSWORD)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{(n % 89) + 10:02d}")
    name = factory.LazyAttribute(lambda o: f"Регион {o.code}")
    federal_district = "ЦФО"


def org_create(*, parent: Organization | None, level: str, name: str, region: Region | None = None, **fields):
    """Organisations get their path from the same allocation code the product uses."""
    return _insert_organization(parent=parent, level=level, region=region, name=name, **fields)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Тестов{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = _PASSWORD_HASH
    role = Role.MEMBER


class ChairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chair

    last_name = factory.Sequence(lambda n: f"Председателев{n}")
    first_name = "Анна"
    middle_name = "Петровна"
    term_start = datetime.date(2023, 3, 1)
    term_end = datetime.date(2028, 3, 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    last_name = factory.Sequence(lambda n: f"Членов{n}")
    first_name = "Мария"
    middle_name = "Ивановна"
    birth_date = datetime.date(1985, 5, 17)
    sex = Member.Sex.FEMALE
    category = Member.Category.WORKING
    union_joined_on = datetime.date(2010, 9, 1)
    org_joined_on = datetime.date(2015, 9, 1)
