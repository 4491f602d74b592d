"""The discount programme on top of the small union of tests/conftest.py.

partner_a      cashback 5 %, Moscow (region A) only, managed by region A, hold 14 days, the fixture cashier's
partner_union  discount 10 % and cashback 3 %, union-wide, managed by central office
partner_b      cashback 7 %, St Petersburg (region B) only, managed by region B
Members: holder_a (the `member` user, primary A1a, an active card), holder_b (primary B1a, an active card).
"""

import datetime
from dataclasses import dataclass

import pytest

from cards.models import Card
from cards.services import card_issue
from discounts.models import Cashier, Partner
from membership.models import Member
from tests.factories import MemberFactory


@dataclass
class Programme:
    partner_a: Partner
    partner_union: Partner
    partner_b: Partner
    holder_a: Member
    card_a: Card
    holder_b: Member
    card_b: Card


def partner_create(*, name: str, regions=(), managed_by=None, union_wide=False, **fields) -> Partner:
    fields = {"category": Partner.Category.FOOD, "active_from": datetime.date(2024, 1, 1), **fields}
    partner = Partner.objects.create(name=name, managed_by=managed_by, is_union_wide=union_wide, **fields)
    partner.regions.set(regions)
    return partner


@pytest.fixture
def programme(union, users) -> Programme:
    partner_a = partner_create(
        name="Книжный дом «Азбука»", regions=[union.region_a.region], managed_by=union.region_a, cashback_bp=500,
        category=Partner.Category.EDUCATION,
    )  # fmt: skip
    partner_union = partner_create(
        name="Санаторий «Учитель»", union_wide=True, discount_bp=1000, cashback_bp=300,
        category=Partner.Category.TRAVEL,
    )  # fmt: skip
    partner_b = partner_create(
        name="Аптека «Невская»", regions=[union.region_b.region], managed_by=union.region_b, cashback_bp=700,
        category=Partner.Category.HEALTH,
    )  # fmt: skip
    Cashier.objects.create(user=users.cashier, partner=partner_a)
    holder_a = MemberFactory(
        user=users.member, organization=union.primary_a1a, last_name="Смирнова", first_name="Ольга", card_consents=True
    )
    holder_b = MemberFactory(
        organization=union.primary_b1a, last_name="Кузнецов", first_name="Пётр", card_consents=True
    )
    card_a = card_issue(member=holder_a, by=users.chair)
    card_b = card_issue(member=holder_b, by=users.other_chair)
    return Programme(partner_a, partner_union, partner_b, holder_a, card_a, holder_b, card_b)
