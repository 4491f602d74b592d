"""The annual report's figures counted from the register: one grouped scan of the members table per period.

Every count is a FILTER of a single `GROUP BY organization_id` over the members, so the union's four million
members are read once, whatever the number of indicators. The register keeps the current state of each member
plus the dates of joining, leaving and transfers; a member's state on a past date is rebuilt from those dates:

* on the register of organisation X on date D: placed on X's register before D and not left before D;
* a member who has moved since D (an accepted transfer dated D or later) counted on D in the organisation of the
  earliest such transfer, so that a member who moved in the year is counted once, in one organisation, on each date;
* category, sex, the teaching and activist flags are the member's current ones (the register keeps no history of
  them), the age is the age on D.

These are reads; they live apart from selectors.py because they are the report's definition, shared by the
report form, the rollups, the demo and the benchmark.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from cards.models import Card
from membership.models import YOUTH_AGE_LIMIT, Member, MemberTransfer
from registry.models import Chair, ChairTraining
from union_statistics.indicators import (
    AGE_GROUPS,
    END,
    START,
    TENURE_GROUPS,
    VECTOR_POSITION,
    VECTOR_WIDTH,
    WOMEN,
    Figures,
    Period,
    vector_to_figures,
    years_before,
)

CHAIR_TRAINING_YEARS = 3

# The member flags behind the activist lines of the form.
STOCK_FLAGS = {
    "teaching": "is_teaching_staff",
    "committee": "is_committee_member",
    "audit": "is_audit_member",
    "group_organisers": "is_group_organiser",
    "safety_reps": "is_safety_rep",
}
STOCK_CATEGORIES = {
    "working_members": Member.Category.WORKING,
    "student_members": Member.Category.STUDENT,
    "pensioners": Member.Category.PENSIONER,
    "unemployed": Member.Category.UNEMPLOYED,
}
LEFT_REASONS = {
    "left_voluntary": [Member.LeavingReason.VOLUNTARY],
    "excluded": [Member.LeavingReason.EXCLUDED],
    "left_other": [Member.LeavingReason.DEATH, Member.LeavingReason.END_OF_WORK, Member.LeavingReason.TRANSFER],
}
# Chairs' cards carry no sex; the patronymic does (-вна, -чна; -кызы for Turkic patronymics).
FEMALE_PATRONYMIC = Q(middle_name__iendswith="вна") | Q(middle_name__iendswith="чна") | Q(middle_name__iendswith="кызы")


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _stock_conditions(prefix: str, day: datetime.date) -> dict[str, Q]:
    """Each stock line's condition on a member already known to be on the register on `day`."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    conditions = {"members": Q()}
    for key, category in STOCK_CATEGORIES.items():
        conditions[key] = q(category=category)
    conditions["youth"] = q(birth_date__gt=years_before(day, YOUTH_AGE_LIMIT))
    for key, flag in STOCK_FLAGS.items():
        conditions[key] = q(**{flag: True})
    return conditions


def _extra_conditions(prefix: str, day: datetime.date, month_start: datetime.date) -> dict[str, Q]:
    """The analysis beyond the form (age, years in the union, joined this month) on the end date."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    conditions = {}
    for groups, field in ((AGE_GROUPS, "birth_date"), (TENURE_GROUPS, "union_joined_on")):
        for key, _label, low, high in groups:
            condition = q(**{f"{field}__lte": years_before(day, low)}) if low else Q()
            if high is not None:
                condition &= q(**{f"{field}__gt": years_before(day, high)})
            conditions[key] = condition
    conditions["joined_month"] = q(union_joined_on__gte=month_start)
    return conditions


def _on_register(prefix: str, day: datetime.date, *, joined_field: str) -> Q:
    return Q(**{f"{prefix}{joined_field}__lt": day}) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": day})
    )


def _female(prefix: str) -> Q:
    return Q(**{f"{prefix}sex": Member.Sex.FEMALE})


def _stock_aggregates(prefix: str, period: Period, present: dict[str, Q]) -> dict[str, Count]:
    """Count(FILTER …) expressions of every stock line at the start, at the end and women at the end."""
    aggregates = {}
    for column, day in ((START, period.start), (END, period.end)):
        for key, condition in _stock_conditions(prefix, day).items():
            aggregates[f"{key}__{column}"] = Count("id", filter=present[column] & condition)
            if column == END:
                aggregates[f"{key}__{WOMEN}"] = Count("id", filter=present[END] & condition & _female(prefix))
    month_start = period.end_label_date.replace(day=1)
    for key, condition in _extra_conditions(prefix, period.end, month_start).items():
        aggregates[f"{key}__{END}"] = Count("id", filter=present[END] & condition)
    return aggregates


def member_aggregates(period: Period) -> dict[str, Count]:
    """The report's counts over the members table, grouped by organisation (also what the benchmark's raw SQL is)."""
    present = {
        START: _on_register("", period.start, joined_field="org_joined_on"),
        END: _on_register("", period.end, joined_field="org_joined_on"),
    }
    aggregates = _stock_aggregates("", period, present)
    in_year = Q(union_joined_on__gte=period.start, union_joined_on__lt=period.end)
    arrived = Q(org_joined_on__gte=period.start, org_joined_on__lt=period.end, union_joined_on__lt=period.start)
    flows = {"joined": in_year, "arrived": arrived}
    left_in_year = Q(status=Member.Status.LEFT, left_on__gte=period.start, left_on__lt=period.end)
    for key, reasons in LEFT_REASONS.items():
        flows[key] = left_in_year & Q(leaving_reason__in=reasons)
    for key, condition in flows.items():
        aggregates[f"{key}__{END}"] = Count("id", filter=condition)
        aggregates[f"{key}__{WOMEN}"] = Count("id", filter=condition & _female(""))
    return aggregates


Vectors = dict[int, list[int]]


def _grouped_into(vectors: Vectors, queryset: QuerySet) -> None:
    """Add the rows of `queryset` (one grouping field, then aggregates named "key__column") into the vectors.

    Read through a plain cursor: seventy-seven thousand rows of some sixty counts each are placed by position,
    without a per-value converter or a per-value name lookup.
    """
    positions = [VECTOR_POSITION[name] for name in queryset.query.annotation_select]
    zero_slot = len(positions)
    # For a new organisation the vector is gathered in one C-level pass: each place takes its count or the zero.
    gather = [zero_slot] * VECTOR_WIDTH
    for index, position in enumerate(positions):
        gather[position] = index
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(10_000):
            for org_id, *counts in rows:
                vector = vectors.get(org_id)
                if vector is None:
                    counts.append(0)
                    vectors[org_id] = list(map(counts.__getitem__, gather))
                else:
                    for position, count in zip(positions, counts, strict=True):
                        vector[position] += count


def members_scope(members: QuerySet[Member], org_ids: Iterable[int] | None) -> QuerySet[Member]:
    return members if org_ids is None else members.filter(organization_id__in=list(org_ids))


def register_vectors_by_org(*, period: Period, org_ids: Iterable[int] | None = None) -> Vectors:
    """The counts of the members, chairs and cards registered directly in each organisation (not rolled up), as
    flat lists in the snapshot's layout. `org_ids` limits the count to those organisations (one report); none
    counts the whole union."""
    org_ids = None if org_ids is None else list(org_ids)
    vectors: Vectors = {}
    members = members_scope(Member.objects.all(), org_ids)
    _grouped_into(vectors, members.order_by().values("organization_id").annotate(**member_aggregates(period)))
    _moved_members_into(vectors, period=period, org_ids=org_ids)
    _transfers_into(vectors, period=period, org_ids=org_ids)
    _chairs_into(vectors, period=period, org_ids=org_ids)
    _cards_into(vectors, period=period, org_ids=org_ids)
    return vectors


def register_figures_by_org(*, period: Period, org_ids: Iterable[int] | None = None) -> dict[int, Figures]:
    """register_vectors_by_org as figures ({key: [start, end, women]}), for a few organisations at a time."""
    return {
        org_id: vector_to_figures(vector)
        for org_id, vector in register_vectors_by_org(period=period, org_ids=org_ids).items()
    }


def _moved_members_into(vectors: Vectors, *, period: Period, org_ids) -> None:
    """Members who have moved since a date, counted on that date where they were (the earliest later transfer)."""
    accepted = MemberTransfer.objects.filter(status=MemberTransfer.Status.ACCEPTED)
    for column, day in ((START, period.start), (END, period.end)):
        since = _local_midnight(day)
        earlier_move = accepted.filter(
            member=OuterRef("member"), decided_at__gte=since, decided_at__lt=OuterRef("decided_at")
        )
        moved = accepted.filter(decided_at__gte=since).exclude(Exists(earlier_move))
        if org_ids is not None:
            moved = moved.filter(from_organization_id__in=org_ids)
        present = {column: _on_register("member__", day, joined_field="union_joined_on")}
        aggregates = {}
        for key, condition in _stock_conditions("member__", day).items():
            aggregates[f"{key}__{column}"] = Count("id", filter=present[column] & condition)
            if column == END:
                aggregates[f"{key}__{WOMEN}"] = Count("id", filter=present[END] & condition & _female("member__"))
        if column == END:
            month_start = period.end_label_date.replace(day=1)
            for key, condition in _extra_conditions("member__", day, month_start).items():
                aggregates[f"{key}__{END}"] = Count("id", filter=present[END] & condition)
        rows = moved.order_by().values("from_organization_id").annotate(**aggregates)
        _grouped_into(vectors, rows)


def _transfers_into(vectors: Vectors, *, period: Period, org_ids) -> None:
    """Transfers of the year: out of each organisation, and into it for members who have moved on since."""
    in_year = MemberTransfer.objects.filter(
        status=MemberTransfer.Status.ACCEPTED,
        decided_at__gte=_local_midnight(period.start),
        decided_at__lt=_local_midnight(period.end),
    )
    female = _female("member__")
    outgoing = in_year if org_ids is None else in_year.filter(from_organization_id__in=org_ids)
    rows = (
        outgoing.order_by()
        .values("from_organization_id")
        .annotate(**{f"transferred_out__{END}": Count("id"), f"transferred_out__{WOMEN}": Count("id", filter=female)})
    )
    _grouped_into(vectors, rows)
    # Those still in the receiving organisation are already "arrived" by their date of joining it.
    passed_through = in_year.exclude(member__organization=F("to_organization"))
    if org_ids is not None:
        passed_through = passed_through.filter(to_organization_id__in=org_ids)
    rows = (
        passed_through.order_by()
        .values("to_organization_id")
        .annotate(**{f"arrived__{END}": Count("id"), f"arrived__{WOMEN}": Count("id", filter=female)})
    )
    _grouped_into(vectors, rows)


def _chairs_into(vectors: Vectors, *, period: Period, org_ids) -> None:
    chairs = Chair.objects.all() if org_ids is None else Chair.objects.filter(organization_id__in=org_ids)
    aggregates = {}
    for column, day in ((START, period.start), (END, period.end)):
        last_day = day - datetime.timedelta(days=1)
        current = Q(term_start__lte=last_day) & (Q(term_end__isnull=True) | Q(term_end__gte=last_day))
        aggregates[f"chairs__{column}"] = Count("id", filter=current)
        aggregates[f"chairs_full_time__{column}"] = Count("id", filter=current & Q(is_full_time=True))
        if column == END:
            aggregates[f"chairs__{WOMEN}"] = Count("id", filter=current & FEMALE_PATRONYMIC)
            aggregates[f"chairs_full_time__{WOMEN}"] = Count(
                "id", filter=current & Q(is_full_time=True) & FEMALE_PATRONYMIC
            )
            trained = ChairTraining.objects.filter(
                chair=OuterRef("pk"),
                completed_on__gt=years_before(last_day, CHAIR_TRAINING_YEARS),
                completed_on__lte=last_day,
            )
            aggregates[f"chairs_trained__{END}"] = Count("id", filter=current & Exists(trained))
    _grouped_into(vectors, chairs.order_by().values("organization_id").annotate(**aggregates))


def _cards_into(vectors: Vectors, *, period: Period, org_ids) -> None:
    """Cards valid at the end of the period, and of them those whose plastic card was in the holder's hands,
    counted where the holder is registered (kept on the card: no join with the members)."""
    end = _local_midnight(period.end)
    cards = Card.objects.filter(issued_at__lt=end).filter(Q(blocked_at__isnull=True) | Q(blocked_at__gte=end))
    if org_ids is not None:
        cards = cards.filter(organization_id__in=org_ids)
    rows = (
        cards.order_by()
        .values("organization_id")
        .annotate(
            **{
                f"cards_valid__{END}": Count("id"),
                f"plastic_issued__{END}": Count("id", filter=Q(plastic_issued_at__lt=end)),
            }
        )
    )
    _grouped_into(vectors, rows)
