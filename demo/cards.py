"""Union cards of the demo: electronic cards for about 60 % of the active members, and plastic-card requests.

Cards are drawn member by member in id order from a generator of their own seeded from the seed, so the same seed
gives the same cards whatever ids the rows got. Numbers are real ones (region code + 13-digit serial + Luhn digit,
as cards.numbers composes them); each region's serials run from its counter on, and the region's
CardSerialCounter is left at the last one, so that the registry's own allocation goes on without a gap or a reuse.
Dates are counted from DEMO_REFERENCE_DATE: cards since 2019, more of them every year, never before the member
joined; the card of a member who left is blocked on the day of leaving.

Members are read back in chunks by id, and each chunk's cards and requests are written by COPY (PostgreSQL) or
bulk_create (SQLite); from INDEX_REBUILD_MIN_MEMBERS members on, the card tables' indexes and keys are dropped
first and rebuilt after the last chunk.
"""

import datetime
import functools
import random
from contextlib import contextmanager
from dataclasses import dataclass

from accounts.models import User
from cards.models import Card, CardRequest, CardSerialCounter
from demo.plan import DEMO_REFERENCE_DATE, UnionPlan
from demo.report import PROGRESS_MIN_MEMBERS, DemoSeedReport, Say, grouped
from demo.tables import indexes_deferred
from membership.models import Member
from registry.bulk import reserve_ids, write_rows
from registry.models import Organization, Region

# The first year of the electronic card.
CARDS_SINCE = datetime.date(2019, 1, 1)
# Share of active members with a card: each region draws its own from this range, about 60 % over the union.
CARD_SHARE_RANGE = (0.4, 0.8)
# A member who was in the union when the card came got it some day since, drawn as CARDS_SINCE + span *
# random() ** ISSUE_SKEW (below 1, later days weigh more: every year issues more cards than the one before); a member
# who joined later got it within ISSUE_WITHIN_DAYS of joining.
ISSUE_SKEW = 0.75
ISSUE_WITHIN_DAYS = 120
# Card holders whose card was lost or damaged and replaced by a new number, and those with a lost card not replaced.
SHARE_REISSUED = 0.03
SHARE_LOST = 0.01
REISSUE_REASONS = (Card.BlockReason.LOST.value,) * 3 + (Card.BlockReason.DAMAGED.value,)
# Holders of a valid card who asked for a plastic one, and the requests the region turned down.
SHARE_PLASTIC = 0.3
SHARE_REJECTED = 0.03
REJECT_REASONS = (
    "Фамилия в заявке не совпадает с учётной карточкой: исправьте данные и подайте заявку снова.",
    "Пластиковый билет этому члену Профсоюза уже выдан в этом году.",
    "Нет фотографии для билета: приложите её к новой заявке.",
)
Request = CardRequest.Status
# How far a request has got, by the days since it was made; older ones have been handed out (issued).
REQUESTED, APPROVED, PRODUCED, DELIVERED, ISSUED, REJECTED = (
    status.value for status in (Request.REQUESTED, Request.APPROVED, Request.PRODUCED, Request.DELIVERED,
                                Request.ISSUED, Request.REJECTED)
)  # fmt: skip
REQUEST_STAGES = ((10, REQUESTED), (30, APPROVED), (50, PRODUCED), (75, DELIVERED))
# Working hours in Moscow (no summer time since 2014), minutes from midnight.
WORKDAY_MINUTES = (9 * 60, 18 * 60)
MOSCOW_OFFSET = "+03:00"
MEMBER_CHUNK = 50_000

CARD_COLUMNS = (
    "id",
    "number",
    "verification_key",
    "member_id",
    "organization_id",
    "status",
    "issued_at",
    "issued_by_id",
    "blocked_at",
    "block_reason",
    "replaces_id",
    "plastic_issued_at",
)
# Places in a drawn card row: CARD_COLUMNS, then the day (ordinal) and minute of issue that a request counts from.
ID, MEMBER, ORGANIZATION, STATUS, BLOCKED_AT, BLOCK_REASON, REPLACES, PLASTIC_ISSUED_AT, DAY, MINUTE = (
    0, 3, 4, 5, 8, 9, 10, 11, 12, 13
)  # fmt: skip
REQUEST_COLUMNS = (
    "member_id",
    "card_id",
    "status",
    "requested_by_id",
    "requested_at",
    "decided_by_id",
    "decided_at",
    "reject_reason",
    "issued_at",
    "organization_id",
)
ACTIVE, BLOCKED = Card.Status.ACTIVE.value, Card.Status.BLOCKED.value
LEFT_REASON, LOST_REASON = Card.BlockReason.LEFT.value, Card.BlockReason.LOST.value
LEFT = Member.Status.LEFT.value
# Luhn: what a digit adds when it is doubled (the digit sum of its double).
DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
# A UUID is random bits with version 4 and the RFC 4122 variant stamped in.
UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
UUID_STAMP = (0x4000 << 64) | (0x8000 << 48)


def _luhn_sum(digits: str, *, position: int) -> int:
    """The Luhn sum of `digits` whose last digit stands `position` places from the right of the number's body
    (region code + serial; the check digit not counted), where every even place is doubled."""
    return sum(DOUBLED[int(char)] if (position + i) % 2 == 0 else int(char) for i, char in enumerate(reversed(digits)))


@functools.cache
def _low_sums() -> tuple[int, ...]:
    """The Luhn sums of a serial's last four digits, by those digits: most of a number's check is a lookup."""
    return tuple(_luhn_sum(f"{low:04d}", position=0) for low in range(10_000))


@functools.cache
def _days_text() -> tuple[int, tuple[str, ...]]:
    """ISO text of every day from CARDS_SINCE to the reference date (the timestamps are written as text)."""
    first = CARDS_SINCE.toordinal()
    return first, tuple(
        datetime.date.fromordinal(day).isoformat() for day in range(first, DEMO_REFERENCE_DATE.toordinal() + 1)
    )


class _RegionNumbers:
    """The next card numbers of one region, composed as cards.numbers.card_number_compose does, ten times faster:
    the Luhn sum of the high digits changes once in 10,000 serials."""

    __slots__ = ("code", "first_serial", "high", "high_sum", "low_sums", "serial", "share")

    def __init__(self, *, code: str, last_serial: int, share: float):
        self.code = code
        self.share = share
        self.first_serial = self.serial = last_serial
        self.high = self.high_sum = -1
        self.low_sums = _low_sums()

    def next_number(self) -> str:
        # The widths are cards.numbers.SERIAL_DIGITS (13) and its part above the last four digits (9), written out:
        # a nested width would cost a tenth of the whole draw.
        self.serial = serial = self.serial + 1
        high, low = divmod(serial, 10_000)
        if high != self.high:
            self.high = high
            self.high_sum = _luhn_sum(f"{self.code}{high:09d}", position=4)
        return f"{self.code}{serial:013d}{-(self.high_sum + self.low_sums[low]) % 10}"


@dataclass(frozen=True)
class _Staff:
    """Who, among the demo users, issues cards and asks for plastic ones in an organisation, and who decides."""

    requester_id: int | None
    decider_id: int | None


def _staff_by_org() -> dict[int, _Staff]:
    """The nearest demo staff user above each organisation (the demo school's chair, the local, the regional staff
    of Moscow and Saint Petersburg, the central office elsewhere); requests are decided in the region or centrally."""
    users = (
        User.objects.filter(username__in=("central", "regional", "regional2", "local", "chair"))
        .exclude(organization=None)
        .select_related("organization")
    )
    # Deepest first, so that the first prefix found is the nearest one.
    staff = sorted(((user.organization.path, user) for user in users), key=lambda pair: len(pair[0]), reverse=True)
    deciders = [(path, user) for path, user in staff if user.username in ("central", "regional", "regional2")]
    result = {}
    for org_id, path in Organization.objects.exclude(region=None).values_list("id", "path"):
        requester = next((user.pk for prefix, user in staff if path.startswith(prefix)), None)
        decider = next((user.pk for prefix, user in deciders if path.startswith(prefix)), None)
        result[org_id] = _Staff(requester, decider)
    return result


@contextmanager
def _drawn_dates_kept():
    """On SQLite write_rows goes through bulk_create, whose auto_now_add would stamp today over the drawn dates
    (COPY writes them as they are); switched off for the seeding's writes only."""
    fields = [Card._meta.get_field("issued_at"), CardRequest._meta.get_field("requested_at")]
    for date_field in fields:
        date_field.auto_now_add = False
    try:
        yield
    finally:
        for date_field in fields:
            date_field.auto_now_add = True


class _CardDraw:
    """Cards and requests of the members, drawn one member after another from one generator.

    Millions of members go through `chunk`, so it keeps to local names, list rows and text timestamps (a day's ISO
    text plus a minute's), as the member generator does.
    """

    def __init__(self, *, seed: int):
        self.rng = random.Random(f"eseur-demo-cards:{seed}")
        self.today = DEMO_REFERENCE_DATE.toordinal()
        self.since = CARDS_SINCE.toordinal()
        self.day0, self.days = _days_text()
        self.minutes = tuple(f" {minute // 60:02d}:{minute % 60:02d}:00{MOSCOW_OFFSET}" for minute in range(24 * 60))
        counters = dict(CardSerialCounter.objects.values_list("region__code", "last_serial"))
        self.regions = {
            code: _RegionNumbers(
                code=code, last_serial=counters.get(code, 0), share=self.rng.uniform(*CARD_SHARE_RANGE)
            )
            for code in Region.objects.order_by("code").values_list("code", flat=True)
        }
        self.region_of_org = {
            org_id: self.regions[code]
            for org_id, code in Organization.objects.exclude(region=None).values_list("id", "region__code")
        }
        self.staff_of_org = _staff_by_org()

    def moment(self, day: int) -> str:
        """A time of the working day `day` (an ordinal), as timestamp text."""
        low, high = WORKDAY_MINUTES
        return self.days[day - self.day0] + self.minutes[low + int(self.rng.random() * (high - low))]

    def chunk(self, members: list[tuple]) -> tuple[list[list], list[list]]:
        """The cards and requests of members given as (id, organization, status, joined, left, user id).

        Card rows are lists in CARD_COLUMNS order with ids counted from 0 within the chunk (`_chunk_write`
        shifts them into the reserved block), followed by the day and minute of issue; requests are tuples in
        REQUEST_COLUMNS order pointing at those ids.
        """
        rand, bits = self.rng.random, self.rng.getrandbits
        days, day0, minutes = self.days, self.day0, self.minutes
        today, since = self.today, self.since
        low, span = WORKDAY_MINUTES[0], WORKDAY_MINUTES[1] - WORKDAY_MINUTES[0]
        region_of_org, staff_of_org = self.region_of_org, self.staff_of_org
        cards: list[list] = []
        requests: list[tuple] = []

        def issue(member_id: int, org_id: int, region: _RegionNumbers, staff: _Staff, day: int, minute: int) -> list:
            key, issued_at = f"{bits(128) & UUID_CLEAR | UUID_STAMP:032x}", days[day - day0] + minutes[minute]
            card = [len(cards), region.next_number(), key, member_id, org_id, ACTIVE, issued_at, staff.requester_id,
                    None, "", None, None, day, minute]  # fmt: skip
            cards.append(card)
            return card

        for member_id, org_id, status, joined, left_on, user_id in members:
            region = region_of_org[org_id]
            # The demo `member` user always has a card, to show on its own page.
            if rand() >= region.share and user_id is None:
                continue
            joined_day = joined.toordinal()
            left = status == LEFT
            end = left_on.toordinal() if left else today
            if end - max(joined_day, since) < 2:
                continue  # left before cards were issued, or joined yesterday
            if joined_day < since:
                day = since + int((end - since) * rand() ** ISSUE_SKEW)
            else:
                day = joined_day + int(rand() * min(ISSUE_WITHIN_DAYS, end - joined_day))
            staff = staff_of_org[org_id]
            card = issue(member_id, org_id, region, staff, day, low + int(rand() * span))
            if left:
                blocked_at = days[end - day0] + minutes[low + int(rand() * span)]
                card[STATUS], card[BLOCKED_AT], card[BLOCK_REASON] = BLOCKED, blocked_at, LEFT_REASON
                continue
            fate = rand()
            if user_id is None and fate < SHARE_LOST + SHARE_REISSUED and day < today - 1:
                day += 1 + int(rand() * (today - day - 1))
                minute = low + int(rand() * span)
                lost = fate < SHARE_LOST
                reason = LOST_REASON if lost else REISSUE_REASONS[int(rand() * len(REISSUE_REASONS))]
                card[STATUS], card[BLOCKED_AT], card[BLOCK_REASON] = BLOCKED, days[day - day0] + minutes[minute], reason
                if lost:
                    continue
                # The new number a minute after the old one was blocked, as card_reissue does it.
                replaced = card[ID]
                card = issue(member_id, org_id, region, staff, day, minute + 1)
                card[REPLACES] = replaced
            if staff.decider_id is not None and rand() < SHARE_PLASTIC:
                requests.append(self.request(card, staff=staff))
        return cards, requests

    def request(self, card: list, *, staff: _Staff) -> tuple:
        """A plastic-card request for the member's valid card, as far along as its age says; the card of a plastic
        handed out records the day."""
        rand = self.rng.random
        card_day, card_minute = card[DAY], card[MINUTE]
        day = card_day + int(rand() * (self.today - card_day))
        if day == card_day:
            requested_at = self.days[day - self.day0] + self.minutes[min(card_minute + 5, WORKDAY_MINUTES[1])]
        else:
            requested_at = self.moment(day)
        age = self.today - day
        if age <= REQUEST_STAGES[0][0]:
            return (
                card[MEMBER],
                None,
                REQUESTED,
                staff.requester_id,
                requested_at,
                None,
                None,
                "",
                None,
                card[ORGANIZATION],
            )
        card_id, reason, handed_at = None, "", None
        if rand() < SHARE_REJECTED:
            status, reason = REJECTED, REJECT_REASONS[int(rand() * len(REJECT_REASONS))]
        else:
            card_id = card[ID]  # approval gives the request the member's valid card
            status = ISSUED
            for days, stage in REQUEST_STAGES:
                if age <= days:
                    status = stage
                    break
        decided_at = self.moment(day + 1 + int(rand() * 5))
        if status == ISSUED:
            handed_at = card[PLASTIC_ISSUED_AT] = self.moment(day + 30 + int(rand() * 40))
        return (card[MEMBER], card_id, status, staff.requester_id, requested_at, staff.decider_id, decided_at, reason,
                handed_at, card[ORGANIZATION])  # fmt: skip

    def counters_write(self) -> None:
        """Each region's counter at its last serial: the next card the registry issues takes the one after."""
        region_ids = dict(Region.objects.values_list("code", "id"))
        for region in self.regions.values():
            if region.serial > region.first_serial:
                CardSerialCounter.objects.update_or_create(
                    region_id=region_ids[region.code], defaults={"last_serial": region.serial}
                )


def _chunk_write(cards: list[list], requests: list[tuple]) -> None:
    """Write a chunk's cards, their ids shifted into a freshly reserved block, and the requests pointing at them."""
    first = reserve_ids(Card, len(cards)).start if cards else 0
    write_rows(
        Card,
        columns=CARD_COLUMNS,
        rows=(
            (first + card[ID], *card[ID + 1 : REPLACES], None if card[REPLACES] is None else first + card[REPLACES],
             card[PLASTIC_ISSUED_AT])
            for card in cards
        ),
    )  # fmt: skip
    write_rows(
        CardRequest,
        columns=REQUEST_COLUMNS,
        rows=((row[0], None if row[1] is None else first + row[1], *row[2:]) for row in requests),
    )


def cards_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "cards": electronic cards of the members written so far, blocked ones, plastic-card requests."""
    draw = _CardDraw(seed=plan.seed)
    members = Member.objects.order_by("id").values_list(
        "id", "organization_id", "status", "union_joined_on", "left_on", "user_id"
    )
    total = report.members if report.members >= PROGRESS_MIN_MEMBERS else 0
    deferred = {"enabled": report.indexes_rebuilt, "report": report, "say": say}
    with (
        indexes_deferred(Card, phase="card_indexes", what="профсоюзных билетов", **deferred),
        indexes_deferred(CardRequest, phase="card_request_indexes", what="заявок на пластиковые билеты", **deferred),
        report.timed("cards_copy", part=True),
        _drawn_dates_kept(),
    ):
        last_id, done, next_mark = 0, 0, total // 10
        while chunk := list(members.filter(id__gt=last_id)[:MEMBER_CHUNK]):
            cards, requests = draw.chunk(chunk)
            _chunk_write(cards, requests)
            report.cards += len(cards)
            report.card_requests += len(requests)
            last_id, done = chunk[-1][0], done + len(chunk)
            if total and done >= next_mark:
                say(f"  билетов: {grouped(report.cards)}, членов Профсоюза просмотрено {done * 100 // total} %")
                next_mark += total // 10
        draw.counters_write()
