import datetime

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Role, User
from membership.models import Consent, Member
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
        skip_postgeneration_save = True  # the consents hang on the member; the member itself is not changed

    last_name = factory.Sequence(lambda n: f"Членов{n}")
    first_name = "Мария"
    middle_name = "Ивановна"
    birth_date = datetime.date(1985, 5, 17)
    sex = Member.Sex.FEMALE
    category = Member.Category.WORKING
    union_joined_on = datetime.date(2010, 9, 1)
    org_joined_on = datetime.date(2015, 9, 1)

    class Params:
        # A member who signed the forms for the plastic card's vendor and for the partners' programme:
        # MemberFactory(card_consents=True). A bare MemberFactory() has given no consent, as after admission.
        card_consents = factory.Trait(
            vendor_consent=factory.RelatedFactory(
                "tests.factories.ConsentFactory", factory_related_name="member", purpose=Consent.Purpose.CARD_VENDOR
            ),
            partner_consent=factory.RelatedFactory(
                "tests.factories.ConsentFactory", factory_related_name="member", purpose=Consent.Purpose.PARTNERS
            ),
        )


CONSENT_GIVEN_ON = datetime.date(2024, 9, 2)


class ConsentFactory(factory.django.DjangoModelFactory):
    """A valid consent signed on paper: ConsentFactory(member=..., purpose=Consent.Purpose.PARTNERS)."""

    class Meta:
        model = Consent

    purpose = Consent.Purpose.PROCESSING
    text_version = "2025-09"
    given_on = CONSENT_GIVEN_ON
    method = Consent.Method.SIGNED_FORM


def consents_give(member: Member, *purposes: str, given_on: datetime.date = CONSENT_GIVEN_ON) -> list[Consent]:
    """Valid consents of these purposes for a member made anyhow (a factory, a service, a page), signed on paper."""
    return Consent.objects.bulk_create(
        Consent(member=member, purpose=purpose, text_version="2025-09", given_on=given_on,
                method=Consent.Method.SIGNED_FORM)
        for purpose in purposes
    )  # fmt: skip


def card_consents_give(member: Member) -> list[Consent]:
    """The consents a plastic card and the partners' programme need (the CARD_VENDOR and PARTNERS purposes)."""
    return consents_give(member, Consent.Purpose.CARD_VENDOR, Consent.Purpose.PARTNERS)
