"""A hand-built year 2025 in the test union, with every figure counted by hand in the tests that use it.

primary A1a (its unit included) and primary A1b, year 2025 (start 01.01.2025, end 01.01.2026):

| member | A1a | what happens in 2025 |
|---|---|---|
| Анна, f, working, b. 1995, teaching, committee | start, end | — |
| Борис, m, working, b. 1970 | start, end | — |
| Вера, f, student, b. 2005 | end | joined the union 01.03.2025 |
| Галина, f, pensioner, b. 1955 | start | left voluntarily 01.06.2025 |
| Дмитрий, m, working, b. 1989 | start | excluded 01.09.2025 |
| Елена, f, working, b. 1988 | end | arrived from A1b 10.05.2025 (A1b: start, transferred out) |
| Зоя, f, working, b. 1992 | start | moved to A1b 01.08.2025 (A1b: arrived, end) |
| Иван, m, unemployed, b. 2000, in the unit | start, end | — |
| Кирилл, m, working | — | left in 2024: in no figure of 2025 |
| Лидия, f, working | — | joined in 2026: in no figure of 2025 |
"""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from membership.models import Member, MemberTransfer
from tests.factories import ChairFactory, MemberFactory

D = datetime.date
W, S, P, U = (Member.Category.WORKING, Member.Category.STUDENT, Member.Category.PENSIONER, Member.Category.UNEMPLOYED)
F, M = Member.Sex.FEMALE, Member.Sex.MALE
USUAL_JOINING = D(2015, 9, 1)


def _transfer(member, *, from_org, to_org, on: datetime.date, by) -> MemberTransfer:
    moment = timezone.make_aware(datetime.datetime.combine(on, datetime.time(12, 0)))
    transfer = MemberTransfer.objects.create(
        member=member, from_organization=from_org, to_organization=to_org, requested_by=by,
        status=MemberTransfer.Status.ACCEPTED, decided_by=by, decided_at=moment,
    )  # fmt: skip
    return transfer


@dataclass
class Year2025:
    members: dict


@pytest.fixture
def year_2025(union, users) -> Year2025:
    a1a, a1b, unit = union.primary_a1a, union.primary_a1b, union.unit_a1a

    def member(name, sex, category, born, *, org=a1a, joined=USUAL_JOINING, org_joined=None, **fields):
        return MemberFactory(
            organization=org, first_name=name, last_name="Тестова" if sex == F else "Тестов", sex=sex,
            category=category, birth_date=born, union_joined_on=joined, org_joined_on=org_joined or joined, **fields,
        )  # fmt: skip

    members = {
        "anna": member("Анна", F, W, D(1995, 6, 1), is_teaching_staff=True, is_committee_member=True),
        "boris": member("Борис", M, W, D(1970, 2, 2), joined=D(2000, 9, 1)),
        "vera": member("Вера", F, S, D(2005, 4, 4), joined=D(2025, 3, 1)),
        "galina": member(
            "Галина", F, P, D(1955, 5, 5), joined=D(1980, 9, 1),
            status=Member.Status.LEFT, left_on=D(2025, 6, 1), leaving_reason=Member.LeavingReason.VOLUNTARY,
        ),
        "dmitry": member(
            "Дмитрий", M, W, D(1989, 3, 3), joined=D(2010, 9, 1),
            status=Member.Status.LEFT, left_on=D(2025, 9, 1), leaving_reason=Member.LeavingReason.EXCLUDED,
        ),
        "elena": member("Елена", F, W, D(1988, 8, 8), joined=D(2012, 9, 1), org_joined=D(2025, 5, 10)),
        "zoya": member("Зоя", F, W, D(1992, 9, 9), org=a1b, joined=D(2014, 9, 1), org_joined=D(2025, 8, 1)),
        "ivan": member("Иван", M, U, D(2000, 1, 10), org=unit, joined=D(2020, 9, 1)),
        "kirill": member(
            "Кирилл", M, W, D(1980, 1, 1), joined=D(2005, 9, 1),
            status=Member.Status.LEFT, left_on=D(2024, 3, 1), leaving_reason=Member.LeavingReason.VOLUNTARY,
        ),
        "lidia": member("Лидия", F, W, D(1999, 1, 1), joined=D(2026, 2, 1)),
    }  # fmt: skip
    _transfer(members["elena"], from_org=a1b, to_org=a1a, on=D(2025, 5, 10), by=users.chair)
    _transfer(members["zoya"], from_org=a1a, to_org=a1b, on=D(2025, 8, 1), by=users.chair)
    ChairFactory(
        organization=a1a, middle_name="Петровна", is_full_time=True, term_start=D(2023, 3, 1), term_end=D(2028, 3, 1)
    )
    return Year2025(members=members)
