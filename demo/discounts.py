"""The discount and cashback programme of the demo: partners, their cashiers, members' purchases, the cashback
ledger and a paid payout register.

Thirty partners: union-wide ones run by central office (sanatoriums, a tour operator, online shops), and regional
ones in Moscow, Saint Petersburg, Tatarstan, the Sverdlovsk, Novosibirsk and Krasnodar regions, run by their regional
organisations; one partner's contract has ended. The demo cashiers (`cashier`, `cashier2`, `cashier3`) work at a
Moscow bookshop, a Saint Petersburg pharmacy and the union-wide sanatorium chain.

Purchases: a sample of members with a valid card (a few thousand purchases even at four million members; the
sample is drawn by card id, so it costs a few indexed lookups), each buying at partners of their region or
union-wide ones over the last months. Cashback states are live state that the hourly beat moves against the clock,
so purchase times are counted back from the seeding moment (`now`), not from DEMO_REFERENCE_DATE: the last two weeks'
cashback is still on hold, older is confirmed, a few purchases were returned. The offsets come from a generator
seeded from the seed, so the same seed gives the same purchases relative to the day of seeding.

The ledger is written as `discounts.services` would have posted it (accrual, return, confirmation, payout, a
payment the bank returned), and each account's balances are the sums of its entries. The register of the month
before last was formed on the 1st, sent and paid by the bank; its file is built by the service that builds every
register. Last month's register is left for central office to form with the page's button.

The demo `member` has cashback in every state: paid in that register, confirmed since, and pending.
"""

import datetime
import random
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Max, Min

from accounts.models import User
from cards.models import Card
from demo.consents import partner_consents_write
from demo.plan import DemoSeedError, UnionPlan
from demo.report import DemoSeedReport, Say, grouped
from discounts.models import (
    CashbackAccount,
    CashbackEntry,
    Cashier,
    Partner,
    PayoutBatch,
    PayoutLine,
    Purchase,
)
from discounts.money import cashback_for
from discounts.services import payout_batch_build, payout_month_previous, purchase_fingerprint
from membership.models import Member
from registry.bulk import reserve_ids, write_rows
from registry.models import Organization, Region

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
Category = Partner.Category
CASHIER_USERNAMES = ("cashier", "cashier2", "cashier3")
# Buyers: one member in BUYERS_PER_MEMBERS, at least BUYERS_MIN, at most BUYERS_MAX; each makes 1 to 6 purchases.
BUYERS_PER_MEMBERS = 50
BUYERS_MIN, BUYERS_MAX = 40, 1_500
PURCHASES_PER_BUYER = (1, 6)
HISTORY_DAYS = 180
SHARE_REVERSED = 0.03
SHARE_WITH_PAYOUT_DETAILS = 0.75
# Per draw round, this many card ids are drawn for every buyer still wanted (some ids are blocked cards or gaps).
DRAW_FACTOR = 3
DRAW_ROUNDS = 6
ID_CHUNK = 900  # ids per IN query: SQLite's old limit on the variables of a statement
MINIMUM_PAYOUT = 10_000  # kopecks; the register of the demo uses the programme's default
BANKS = ("Сбербанк", "ВТБ", "Т-Банк", "Альфа-Банк", "Газпромбанк", "Совкомбанк", "Почта Банк", "Россельхозбанк")
# What one purchase costs in each category, roubles: drawn uniformly on a log scale between the two.
PRICE_RANGE = {
    Category.FOOD: (250, 3_500), Category.CLOTHES: (1_500, 14_000), Category.HEALTH: (300, 7_000),
    Category.EDUCATION: (300, 4_500), Category.TRAVEL: (12_000, 95_000), Category.CULTURE: (500, 4_500),
    Category.SPORT: (2_000, 18_000), Category.HOME: (3_000, 65_000), Category.SERVICES: (500, 6_000),
    Category.AUTO: (1_500, 25_000), Category.ONLINE: (600, 9_000),
}  # fmt: skip


@dataclass(frozen=True)
class DemoPartner:
    name: str
    category: str
    regions: tuple[str, ...]  # region codes; empty for a union-wide partner
    discount_bp: int = 0
    cashback_bp: int = 0
    hold_days: int = 14
    promo_code: str = ""
    online_url: str = ""
    description: str = ""
    terms: str = ""
    active_from: datetime.date = datetime.date(2024, 3, 1)
    active_until: datetime.date | None = None
    cashier: str = ""  # the demo cashier's username, if the partner has one


UNION_WIDE = ()
TERMS_CARD = "Покажите на кассе электронный профсоюзный билет (QR-код в личном кабинете) или пластиковую карту."
PARTNERS = (
    # Union-wide, run by central office.
    DemoPartner("Санатории «Профкурорт»", Category.TRAVEL, UNION_WIDE, discount_bp=1_000, cashback_bp=300, hold_days=30,
                description="Сеть санаториев в Кисловодске, Ессентуках, Анапе и Подмосковье: лечение, отдых с детьми.",
                terms="Скидка 10 % на путёвки от 7 дней и кешбэк 3 % после окончания заезда. " + TERMS_CARD,
                cashier="cashier3"),
    DemoPartner("Туроператор «Радуга-Тур»", Category.TRAVEL, UNION_WIDE, cashback_bp=400, hold_days=30,
                promo_code="PROFSOYUZ26", online_url="https://raduga-tur.example.ru/",
                description="Туры по России: Алтай, Байкал, Карелия, Золотое кольцо; школьные экскурсии.",
                terms="Кешбэк 4 % от стоимости тура. Онлайн — с промокодом при оплате на сайте."),
    DemoPartner("Интернет-магазин «Книжная полка»", Category.ONLINE, UNION_WIDE, cashback_bp=700,
                promo_code="UCHITEL7", online_url="https://knizhnaya-polka.example.ru/",
                description="Учебная и методическая литература, детские книги, доставка по всей России.",
                terms="Кешбэк 7 % на весь ассортимент, кроме подарочных сертификатов."),
    DemoPartner("Онлайн-школа «Педагог XXI»", Category.EDUCATION, UNION_WIDE, discount_bp=2_000,
                promo_code="PED-XXI-20", online_url="https://pedagog21.example.ru/",
                description="Курсы повышения квалификации с удостоверением установленного образца.",
                terms="Скидка 20 % на курсы по промокоду; удостоверение — как при полной оплате."),
    DemoPartner("Аптеки «Здоровье плюс»", Category.HEALTH, UNION_WIDE, cashback_bp=500,
                description="Аптечная сеть в 40 регионах: лекарства, медицинская техника, ортопедия.",
                terms="Кешбэк 5 %, кроме рецептурных препаратов по льготным рецептам. " + TERMS_CARD),
    DemoPartner("«ОфисМаркет» — канцтовары", Category.ONLINE, UNION_WIDE, cashback_bp=600,
                promo_code="SHKOLA6", online_url="https://officemarket.example.ru/",
                description="Канцелярия, бумага, наглядные пособия для класса и детского сада.",
                terms="Кешбэк 6 %; к началу учебного года — дополнительная скидка по промокоду."),
    DemoPartner("Салоны оптики «Ясный взгляд»", Category.HEALTH, UNION_WIDE, discount_bp=1_500, cashback_bp=200,
                description="Проверка зрения, очки и контактные линзы.",
                terms="Скидка 15 % на оправы и линзы и кешбэк 2 %. Проверка зрения — бесплатно."),
    DemoPartner("Кинотеатры «КиноМир»", Category.CULTURE, UNION_WIDE, discount_bp=2_000,
                description="Кинотеатры в 25 городах.", terms="Скидка 20 % на билеты в будни до 17:00. " + TERMS_CARD),
    DemoPartner("Магазины электроники «Техносфера»", Category.HOME, UNION_WIDE, cashback_bp=200,
                online_url="https://technosfera.example.ru/",
                description="Ноутбуки, проекторы, бытовая техника.",
                terms="Кешбэк 2 % на технику, кроме товаров со скидкой больше 20 %."),
    # Moscow, run by the Moscow organisation.
    DemoPartner("Книжный магазин «Переплёт»", Category.EDUCATION, ("77",), cashback_bp=500,
                description="Книжный магазин у метро «Чистые пруды»: педагогика, детская литература, настольные игры.",
                terms="Кешбэк 5 % на всё. " + TERMS_CARD, cashier="cashier"),
    DemoPartner("Пирожковая «На Арбате»", Category.FOOD, ("77",), cashback_bp=800, hold_days=7,
                description="Выпечка и домашние обеды.", terms="Кешбэк 8 % на обеды в будни."),
    DemoPartner("Фитнес-клуб «Олимп»", Category.SPORT, ("77",), discount_bp=1_500, cashback_bp=300,
                description="Тренажёрный зал, бассейн, групповые занятия.",
                terms="Скидка 15 % на годовой абонемент и кешбэк 3 %."),
    DemoPartner("Театральная касса «Антракт»", Category.CULTURE, ("77",), cashback_bp=400,
                description="Билеты в театры и на концерты Москвы.", terms="Кешбэк 4 % на билеты, кроме премьер."),
    DemoPartner("Автосервис «Мотор»", Category.AUTO, ("77",), cashback_bp=500,
                description="Техническое обслуживание и шиномонтаж.", terms="Кешбэк 5 % на работы и запчасти."),
    DemoPartner("Химчистка «Белоснежка»", Category.SERVICES, ("77",), cashback_bp=1_000, hold_days=7,
                description="Химчистка и ремонт одежды.", terms="Кешбэк 10 % на чистку и ремонт."),
    # Saint Petersburg.
    DemoPartner("Аптека «На Литейном»", Category.HEALTH, ("78",), cashback_bp=600,
                description="Аптека с собственным рецептурно-производственным отделом.",
                terms="Кешбэк 6 %, кроме льготных рецептов. " + TERMS_CARD, cashier="cashier2"),
    DemoPartner("Пекарня «Ладожская»", Category.FOOD, ("78",), cashback_bp=700, hold_days=7,
                description="Хлеб, выпечка и кофе.", terms="Кешбэк 7 %."),
    DemoPartner("Бассейн «Нева-Спорт»", Category.SPORT, ("78",), cashback_bp=500,
                description="Бассейн 25 метров, секции для детей.", terms="Кешбэк 5 % на абонементы."),
    DemoPartner("Экскурсионное бюро «Белые ночи»", Category.TRAVEL, ("78",), discount_bp=1_000, cashback_bp=500,
                description="Пешеходные, автобусные и водные экскурсии по Петербургу и пригородам.",
                terms="Скидка 10 % и кешбэк 5 %; для групп школьников — отдельные условия."),
    DemoPartner("Ателье «Петроградская мода»", Category.CLOTHES, ("78",), cashback_bp=500,
                description="Пошив и ремонт одежды, деловые костюмы.", terms="Кешбэк 5 %."),
    # Tatarstan, the Sverdlovsk, Novosibirsk and Krasnodar regions.
    DemoPartner("Кондитерская «Казанские сладости»", Category.FOOD, ("16",), cashback_bp=600, hold_days=7,
                description="Чак-чак, торты на заказ.", terms="Кешбэк 6 %."),
    DemoPartner("Санаторий «Волжские зори»", Category.TRAVEL, ("16",), cashback_bp=500, hold_days=30,
                description="Санаторий на берегу Волги.", terms="Кешбэк 5 % на путёвки."),
    DemoPartner("Магазин «Уральский книжный»", Category.EDUCATION, ("66",), cashback_bp=600,
                description="Книги и учебные пособия.", terms="Кешбэк 6 %. " + TERMS_CARD),
    DemoPartner("Лыжная база «Уктус»", Category.SPORT, ("66",), discount_bp=2_000,
                description="Прокат лыж и коньков.", terms="Скидка 20 % на прокат в будни."),
    DemoPartner("Обувь «Сибирский шаг»", Category.CLOTHES, ("54",), cashback_bp=500,
                description="Зимняя обувь.", terms="Кешбэк 5 %, кроме товаров по распродаже."),
    DemoPartner("Стоматология «Улыбка»", Category.HEALTH, ("54",), cashback_bp=400, hold_days=30,
                description="Лечение и профилактика.", terms="Кешбэк 4 % на лечение."),
    DemoPartner("Фермерская лавка «Кубанский фермер»", Category.FOOD, ("23",), cashback_bp=500, hold_days=7,
                description="Мясо, молочные продукты, овощи от фермеров края.", terms="Кешбэк 5 %."),
    DemoPartner("Автомойка «Блеск»", Category.AUTO, ("23",), cashback_bp=800, hold_days=7,
                description="Мойка и химчистка салона.", terms="Кешбэк 8 %."),
    # Several regions, run by central office.
    DemoPartner("Школьная форма «Отличник»", Category.CLOTHES, ("77", "50", "78"), cashback_bp=700,
                description="Школьная форма и деловая одежда для учителей.", terms="Кешбэк 7 %. " + TERMS_CARD),
    # A contract that has ended: not in the catalogue, its old purchases stay.
    DemoPartner("Ресторан «Старый город»", Category.FOOD, ("77",), cashback_bp=500,
                description="Ресторан русской кухни.", terms="Программа завершена.",
                active_from=datetime.date(2023, 9, 1), active_until=datetime.date(2025, 6, 30)),
)  # fmt: skip
# The demo member's own purchases: (partner index, roubles, days before the payout register was formed or, with
# None, days before seeding, a return). The first two are confirmed before the register and paid in it.
MEMBER_PURCHASES = (
    (0, 48_000, 45, False), (9, 2_350, 25, False),  # paid in the register
    (9, 1_280, None, False), (4, 3_100, None, False),  # confirmed since
    (9, 890, None, False), (0, 36_000, None, False),  # still on hold
    (8, 24_990, None, True),  # returned to the shop
)  # fmt: skip
MEMBER_DAYS_BEFORE_SEEDING = (24, 20, 3, 5, 8)


@dataclass
class _Ledger:
    """Entries of the accounts as the services would have posted them, in time order."""

    # (created_at, member_id, bucket, kind, amount, purchase index, payout line index)
    entries: list[tuple] = field(default_factory=list)

    def post(self, when, member_id, kind, moves: dict[str, int], *, purchase=None, payout=None) -> None:
        for bucket, amount in moves.items():
            if amount:
                self.entries.append((when, member_id, bucket, kind, amount, purchase, payout))


@dataclass
class _Buyer:
    card_id: int
    member_id: int
    region_id: int
    issued_at: datetime.datetime


def _moment(rng: random.Random, day: datetime.date) -> datetime.datetime:
    """A moment of a shop's working day (9:00 to 21:00, Moscow)."""
    minute = 9 * 60 + rng.randrange(12 * 60)
    return datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60, rng.randrange(60)), tzinfo=MOSCOW)


def _price(rng: random.Random, category: str) -> int:
    low, high = PRICE_RANGE[category]
    roubles = low * (high / low) ** rng.random()
    return int(roubles * 100) if rng.random() < 0.6 else int(roubles) * 100


def _partners_write() -> list[Partner]:
    regions = dict(Region.objects.values_list("code", "id"))
    regional_orgs = dict(
        Organization.objects.filter(level=Organization.Level.REGIONAL).values_list("region__code", "id")
    )
    partners = []
    for spec in PARTNERS:
        own_region = spec.regions[0] if len(spec.regions) == 1 else None
        partners.append(
            Partner(
                name=spec.name, category=spec.category, description=spec.description, terms=spec.terms,
                managed_by_id=regional_orgs.get(own_region), is_union_wide=not spec.regions,
                discount_bp=spec.discount_bp, cashback_bp=spec.cashback_bp, promo_code=spec.promo_code,
                online_url=spec.online_url, active_from=spec.active_from, active_until=spec.active_until,
                hold_days=spec.hold_days,
            )
        )  # fmt: skip
    partners = Partner.objects.bulk_create(partners)
    Partner.regions.through.objects.bulk_create(
        Partner.regions.through(partner_id=partner.pk, region_id=regions[code])
        for partner, spec in zip(partners, PARTNERS, strict=True)
        for code in spec.regions
        if code in regions
    )
    cashiers = {user.username: user for user in User.objects.filter(username__in=CASHIER_USERNAMES)}
    Cashier.objects.bulk_create(
        Cashier(user=cashiers[spec.cashier], partner=partner)
        for partner, spec in zip(partners, PARTNERS, strict=True)
        if spec.cashier in cashiers
    )
    return partners


def _buyers(rng: random.Random, *, wanted: int, exclude_member: int | None) -> list[_Buyer]:
    """Members with a valid card, drawn by card id: a few indexed lookups whatever the size of the union."""
    bounds = Card.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None or wanted <= 0:
        return []
    valid = Card.objects.filter(
        status=Card.Status.ACTIVE, member__status=Member.Status.ACTIVE, member__processing_blocked_on__isnull=True
    ).exclude(member_id=exclude_member)
    columns = ("id", "member_id", "organization__region_id", "issued_at")
    low, high = bounds["low"], bounds["high"]
    found: dict[int, _Buyer] = {}
    if high - low + 1 <= wanted * DRAW_FACTOR:
        every = [_Buyer(*row) for row in valid.order_by("id").values_list(*columns)]
        return rng.sample(every, min(wanted, len(every)))
    for _round in range(DRAW_ROUNDS):
        missing = wanted - len(found)
        if missing <= 0:
            break
        drawn = sorted({rng.randint(low, high) for _ in range(missing * DRAW_FACTOR)} - set(found))
        for start in range(0, len(drawn), ID_CHUNK):
            for row in valid.filter(id__in=drawn[start : start + ID_CHUNK]).order_by("id").values_list(*columns):
                if len(found) < wanted:
                    found[row[0]] = _Buyer(*row)
    return list(found.values())


def _partners_by_region(partners: list[Partner], today: datetime.date) -> tuple[list[Partner], dict[int, list]]:
    """Partners with cashback that are open today: the union-wide ones, and each region's own."""
    regions_of = {}
    for partner_id, region_id in Partner.regions.through.objects.values_list("partner_id", "region_id"):
        regions_of.setdefault(partner_id, []).append(region_id)
    union_wide, by_region = [], {}
    for partner in partners:
        if not partner.cashback_bp or not partner.is_active_on(today):
            continue
        if partner.is_union_wide:
            union_wide.append(partner)
        for region_id in regions_of.get(partner.pk, ()):
            by_region.setdefault(region_id, []).append(partner)
    return union_wide, by_region


class _PurchaseDraw:
    """Purchases and their ledger entries, drawn buyer by buyer."""

    def __init__(self, *, rng, now, cashier_users, formed_at):
        self.rng, self.now, self.formed_at = rng, now, formed_at
        self.cashier_users = cashier_users  # partner id → the demo cashier's user id
        self.receipts: dict[int, int] = {}
        self.purchases: list[dict] = []
        self.ledger = _Ledger()

    def purchase(self, *, buyer: _Buyer, partner: Partner, amount: int, at: datetime.datetime, returned: bool):
        rng = self.rng
        # Each partner's receipts count up from a number of its own, with the other customers' receipts between.
        number = self.receipts.get(partner.pk, 1000 + rng.randrange(9000)) + rng.randint(1, 40)
        self.receipts[partner.pk] = number
        cashback = cashback_for(amount_kopecks=amount, rate_bp=partner.cashback_bp)
        hold_until = at + datetime.timedelta(days=partner.hold_days)
        row = {
            "id": len(self.purchases), "partner_id": partner.pk, "card_id": buyer.card_id,
            "member_id": buyer.member_id, "receipt_id": f"{number:06d}", "amount": amount,
            "cashback_bp": partner.cashback_bp, "cashback": cashback, "status": Purchase.Status.ACCEPTED.value,
            "channel": Purchase.Channel.CASHIER.value if partner.pk in self.cashier_users else Purchase.Channel.API.value,
            "recorded_by_id": self.cashier_users.get(partner.pk), "created_at": at, "hold_until": hold_until,
            "confirmed_at": None, "reversed_at": None,
            "request_fingerprint": purchase_fingerprint(card_id=buyer.card_id, amount=amount),
        }  # fmt: skip
        self.purchases.append(row)
        self.ledger.post(at, buyer.member_id, CashbackEntry.Kind.ACCRUAL, {"pending": cashback}, purchase=row["id"])
        if returned:
            last = min(hold_until, self.now)
            row["status"] = Purchase.Status.REVERSED.value
            row["reversed_at"] = at + (last - at) * rng.uniform(0.05, 0.9)
            self.ledger.post(row["reversed_at"], buyer.member_id, CashbackEntry.Kind.REVERSAL, {"pending": -cashback},
                             purchase=row["id"])  # fmt: skip
        elif hold_until <= self.now:
            # The hourly beat (at :15) confirmed it within the hour after the hold ended.
            row["confirmed_at"] = min(hold_until + datetime.timedelta(minutes=rng.randint(1, 60)), self.now)
            self.ledger.post(row["confirmed_at"], buyer.member_id, CashbackEntry.Kind.CONFIRMATION,
                             {"pending": -cashback, "confirmed": cashback}, purchase=row["id"])  # fmt: skip

    def buyer_purchases(self, buyer: _Buyer, choices: list[Partner]) -> None:
        rng = self.rng
        earliest = max(self.now - datetime.timedelta(days=HISTORY_DAYS), buyer.issued_at + datetime.timedelta(days=1))
        span_days = (self.now - earliest).days
        if span_days < 1:
            return
        for _ in range(rng.randint(*PURCHASES_PER_BUYER)):
            partner = rng.choice(choices)
            day = (earliest + datetime.timedelta(days=rng.randrange(span_days))).astimezone(MOSCOW).date()
            at = min(_moment(rng, day), self.now - datetime.timedelta(minutes=rng.randint(5, 600)))
            self.purchase(buyer=buyer, partner=partner, amount=_price(rng, partner.category), at=at,
                          returned=rng.random() < SHARE_REVERSED)  # fmt: skip


def _payout(draw: _PurchaseDraw, *, details: dict[int, tuple[str, str]], demo_member_id: int | None):
    """The register formed at `formed_at`: every account with at least MINIMUM_PAYOUT confirmed by then and payout
    details; one payment (not the demo member's) came back from the bank."""
    formed_at = draw.formed_at
    confirmed: dict[int, int] = {}
    for when, member_id, bucket, _kind, amount, _purchase, _payout in draw.ledger.entries:
        if bucket == "confirmed" and when <= formed_at:
            confirmed[member_id] = confirmed.get(member_id, 0) + amount
    due = [(member_id, amount) for member_id, amount in sorted(confirmed.items()) if amount >= MINIMUM_PAYOUT]
    paid = [(member_id, amount) for member_id, amount in due if member_id in details]
    lines = [
        {"id": index, "member_id": member_id, "amount": amount, "phone": details[member_id][0],
         "bank": details[member_id][1], "returned": False}
        for index, (member_id, amount) in enumerate(paid)
    ]  # fmt: skip
    others = [line for line in lines if line["member_id"] != demo_member_id]
    if len(others) >= 3:
        draw.rng.choice(others)["returned"] = True
    paid_at = formed_at + datetime.timedelta(days=3, hours=6)
    for line in lines:
        draw.ledger.post(formed_at, line["member_id"], CashbackEntry.Kind.PAYOUT,
                         {"confirmed": -line["amount"], "paid": line["amount"]}, payout=line["id"])  # fmt: skip
        if line["returned"]:
            draw.ledger.post(paid_at, line["member_id"], CashbackEntry.Kind.PAYOUT_RETURNED,
                             {"paid": -line["amount"], "confirmed": line["amount"]}, payout=line["id"])  # fmt: skip
    return lines, len(due) - len(paid), paid_at


def _demo_member_purchases(draw: _PurchaseDraw, *, member_id: int, partners: list[Partner]) -> _Buyer | None:
    card = (
        Card.objects.filter(member_id=member_id, status=Card.Status.ACTIVE)
        .values_list("id", "member_id", "organization__region_id", "issued_at")
        .first()
    )
    if card is None:
        return None
    buyer = _Buyer(*card)
    recent = iter(MEMBER_DAYS_BEFORE_SEEDING)
    for number, (index, roubles, days_before_register, returned) in enumerate(MEMBER_PURCHASES):
        if days_before_register is not None:
            day = draw.formed_at - datetime.timedelta(days=days_before_register)
        else:
            day = draw.now - datetime.timedelta(days=next(recent))
        # In the afternoon of that day (Moscow), never later than an hour before the seeding.
        afternoon = datetime.time(12 + number, 5 * number + 10)
        at = min(datetime.datetime.combine(day.astimezone(MOSCOW).date(), afternoon, tzinfo=MOSCOW),
                 draw.now - datetime.timedelta(hours=1))  # fmt: skip
        draw.purchase(buyer=buyer, partner=partners[index], amount=roubles * 100, at=max(at, buyer.issued_at),
                      returned=returned)  # fmt: skip
    return buyer


def _phone(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


def discounts_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "discounts": partners and cashiers, purchases with their cashback, and a paid payout register."""
    rng = random.Random(f"eseur-demo-discounts:{plan.seed}")
    partners = _partners_write()
    report.partners = len(partners)
    cashier_users = dict(Cashier.objects.values_list("partner_id", "user_id"))
    month = payout_month_previous(today=payout_month_previous(today=now.astimezone(MOSCOW).date()))
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    formed_at = datetime.datetime.combine(next_month, datetime.time(6, 0), tzinfo=MOSCOW)
    draw = _PurchaseDraw(rng=rng, now=now, cashier_users=cashier_users, formed_at=formed_at)
    union_wide, by_region = _partners_by_region(partners, now.astimezone(MOSCOW).date())

    demo_member_id = Member.objects.filter(user__username="member").values_list("id", flat=True).first()
    buyers = []
    if demo_member_id is not None:
        demo_buyer = _demo_member_purchases(draw, member_id=demo_member_id, partners=partners)
        buyers += [demo_buyer] if demo_buyer else []
    wanted = min(BUYERS_MAX, max(BUYERS_MIN, report.members // BUYERS_PER_MEMBERS))
    for buyer in _buyers(rng, wanted=wanted, exclude_member=demo_member_id):
        draw.buyer_purchases(buyer, union_wide + by_region.get(buyer.region_id, []))
        buyers.append(buyer)

    # Each buyer takes part in the programme: the consent, signed the day the card was issued (before any purchase).
    report.consents += partner_consents_write(
        ((buyer.member_id, buyer.issued_at.astimezone(MOSCOW).date()) for buyer in buyers), now=now
    )
    details = {buyer.member_id: (_phone(rng), rng.choice(BANKS)) for buyer in buyers
               if rng.random() < SHARE_WITH_PAYOUT_DETAILS}  # fmt: skip
    if demo_member_id is not None:
        details[demo_member_id] = ("+79001234567", "Сбербанк")
    lines, skipped, paid_at = _payout(draw, details=details, demo_member_id=demo_member_id)
    _write(draw, buyers=buyers, details=details, lines=lines, skipped=skipped, month=month, paid_at=paid_at)
    report.purchases = len(draw.purchases)
    say(f"Партнёров программы скидок: {len(partners)}, покупок по билетам: {grouped(report.purchases)}.")


def _write(draw: _PurchaseDraw, *, buyers, details, lines, skipped, month, paid_at) -> None:
    """Accounts, purchases, the register and its lines, and the ledger; balances are the sums of the entries."""
    members = sorted({buyer.member_id for buyer in buyers})
    account_ids = dict(zip(members, reserve_ids(CashbackAccount, len(members)), strict=True))
    balances = {member_id: {"pending": 0, "confirmed": 0, "paid": 0} for member_id in members}
    for _when, member_id, bucket, _kind, amount, _purchase, _payout in draw.ledger.entries:
        balances[member_id][bucket] += amount
    write_rows(
        CashbackAccount,
        columns=("id", "member_id", "pending", "confirmed", "paid", "payout_phone", "payout_bank"),
        rows=(
            (account_ids[member_id], member_id, *balances[member_id].values(), *details.get(member_id, ("", "")))
            for member_id in members
        ),
    )
    purchase_ids = reserve_ids(Purchase, len(draw.purchases))
    if draw.purchases:
        write_rows(
            Purchase,
            columns=tuple(draw.purchases[0]),
            rows=((purchase_ids[row["id"]], *list(row.values())[1:]) for row in draw.purchases),
        )
    line_ids = range(0)
    if lines:
        batch = PayoutBatch.objects.create(
            month=month, status=PayoutBatch.Status.BUILDING, line_count=len(lines),
            total=sum(line["amount"] for line in lines), skipped_count=skipped,
        )  # fmt: skip
        line_ids = reserve_ids(PayoutLine, len(lines))
        write_rows(
            PayoutLine,
            columns=("id", "batch_id", "account_id", "amount", "status", "payout_phone", "payout_bank"),
            rows=(
                (line_ids[line["id"]], batch.pk, account_ids[line["member_id"]], line["amount"],
                 PayoutLine.Status.INCLUDED.value, line["phone"], line["bank"])
                for line in lines
            ),
        )  # fmt: skip
    entries = sorted(draw.ledger.entries, key=lambda entry: entry[0])
    write_rows(
        CashbackEntry,
        columns=("account_id", "bucket", "kind", "amount", "purchase_id", "payout_id", "created_at"),
        rows=(
            (account_ids[member_id], bucket, kind, amount, None if purchase is None else purchase_ids[purchase],
             None if payout is None else line_ids[payout], when)
            for when, member_id, bucket, kind, amount, purchase, payout in entries
        ),
    )  # fmt: skip
    if lines:
        _register_paid(batch, formed_at=draw.formed_at, paid_at=paid_at, returned=[
            line_ids[line["id"]] for line in lines if line["returned"]
        ])  # fmt: skip


def _register_paid(batch: PayoutBatch, *, formed_at, paid_at, returned: list[int]) -> None:
    """The register's file as the build task writes it, then the bank's steps: sent, paid, one payment returned."""
    batch = payout_batch_build(batch_id=batch.pk)
    if batch.status != PayoutBatch.Status.READY:
        raise DemoSeedError(f"Реестр выплат демонстрационного Профсоюза не собран: {batch.failure}")
    PayoutBatch.objects.filter(pk=batch.pk).update(
        status=PayoutBatch.Status.PAID, created_at=formed_at, status_changed_at=paid_at
    )
    batch.lines.update(status=PayoutLine.Status.PAID)
    batch.lines.filter(pk__in=returned).update(status=PayoutLine.Status.RETURNED)
