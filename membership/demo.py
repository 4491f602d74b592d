"""Демонстрационный реестр: a deterministic union of any size for the demo, the tests and the benchmark.

`demo_seed(members=N, seed=S)` builds, under the 85 regional organisations of `regions_load()`, local and
primary organisations, профбюро and профгруппы, chairs' cards, N members and one demo user per role, in the proportions of the
union's own reports (67.4 % working, 29.8 % students, 2.8 % non-working pensioners; ~52 members a primary
organisation, ~1,950 a local one). The same seed gives the same data: every random draw comes from
`random.Random` seeded from S, and every date is counted back from DEMO_REFERENCE_DATE, never from today.

It is built for four million members: organisations are planned in memory (tens of thousands of rows), members
are streamed primary by primary straight into `COPY` on PostgreSQL (constant memory) or into `bulk_create`
chunks on SQLite.
"""

import datetime
import functools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, User
from membership.models import Member, search_name_of
from registry.bulk import reserve_ids, uses_copy, write_rows
from registry.inn import inn_with_check_digit
from registry.models import PATH_SEGMENT_MAX, PATH_SEGMENT_WIDTH, Chair, ChairTraining, Organization, Region
from registry.services import regions_load

DEMO_PASSWORD = "Demo-2026-reestr"
# Every date in the demo is counted from this day, so that the same seed gives the same rows in any year.
DEMO_REFERENCE_DATE = datetime.date(2026, 1, 1)
# Addresses under our own domain: a demo database must never hold a stranger's real mailbox.
DEMO_EMAIL_DOMAIN = "demo.eseur.ru"

# The union's proportions (report for 2020): 3.9 million members, ~75,000 primary and ~2,000 local organisations.
MEMBERS_PER_PRIMARY = 52
MEMBERS_PER_LOCAL = 1950
SHARE_WORKING = 0.674
SHARE_STUDENTS = 0.298
# "Temporarily not working" members are counted among the working in the union's reports; taken out of them here.
SHARE_UNEMPLOYED = 0.004
SHARE_LEFT = 0.03
# Organisations whose chair's card is missing, and chairs whose term ran out with no new election recorded.
SHARE_WITHOUT_CHAIR = 0.06
SHARE_TERM_EXPIRED = 0.08
SHARE_PREVIOUS_CHAIR = 0.25
SHARE_CHAIRS_TRAINED = 0.45
CHAIR_TERM_YEARS = 5
# Below these sizes the demo is for browsing: a handful of organisations in every region, Moscow richer.
SMALL_DEMO_MEMBERS = 2000
MOSCOW_CODE = "77"
SAINT_PETERSBURG_CODE = "78"
FEDERAL_CITY_CODES = frozenset({"77", "78", "92"})
# Small regions that may keep no local level: their primary organisations sit directly under the region.
REGIONS_WITHOUT_LOCALS_CANDIDATES = ("04", "06", "08", "49", "79", "83", "87", "92")
REGIONS_WITHOUT_LOCALS = 5
# From this many members on (PostgreSQL), the member table's secondary indexes, unique constraints and foreign keys
# are dropped for the COPY and rebuilt after it: one sorted build per index is far cheaper than a row-by-row one.
INDEX_REBUILD_MIN_MEMBERS = 50_000
PROGRESS_MIN_MEMBERS = 100_000

Level = Organization.Level
Kind = Organization.InstitutionType
Category = Member.Category

DEMO_USERNAMES = ("central", "regional", "regional2", "local", "chair", "member", "cashier")


class DemoSeedError(Exception):
    """A refusal whose message is the Russian sentence shown to the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------------------------
# Reference data: regions, places, institutions, people
# ---------------------------------------------------------------------------------------------------------------

# fmt: off
# code: (administrative centre, its adjective, the region's adjective, population in millions as the weight)
REGION_PLACES: dict[str, tuple[str, str, str, float]] = {
    "01": ("Майкоп", "Майкопский", "Адыгейский", 0.50),
    "02": ("Уфа", "Уфимский", "Башкирский", 4.0),
    "03": ("Улан-Удэ", "Улан-Удэнский", "Бурятский", 0.98),
    "04": ("Горно-Алтайск", "Горно-Алтайский", "Горно-Алтайский", 0.22),
    "05": ("Махачкала", "Махачкалинский", "Дагестанский", 3.1),
    "06": ("Магас", "Магасский", "Ингушский", 0.51),
    "07": ("Нальчик", "Нальчикский", "Кабардино-Балкарский", 0.90),
    "08": ("Элиста", "Элистинский", "Калмыцкий", 0.27),
    "09": ("Черкесск", "Черкесский", "Карачаево-Черкесский", 0.47),
    "10": ("Петрозаводск", "Петрозаводский", "Карельский", 0.61),
    "11": ("Сыктывкар", "Сыктывкарский", "Сыктывкарский", 0.73),
    "12": ("Йошкар-Ола", "Йошкар-Олинский", "Марийский", 0.68),
    "13": ("Саранск", "Саранский", "Мордовский", 0.78),
    "14": ("Якутск", "Якутский", "Якутский", 1.0),
    "15": ("Владикавказ", "Владикавказский", "Северо-Осетинский", 0.69),
    "16": ("Казань", "Казанский", "Казанский", 4.0),
    "17": ("Кызыл", "Кызылский", "Тувинский", 0.34),
    "18": ("Ижевск", "Ижевский", "Удмуртский", 1.45),
    "19": ("Абакан", "Абаканский", "Хакасский", 0.53),
    "20": ("Грозный", "Грозненский", "Чеченский", 1.5),
    "21": ("Чебоксары", "Чебоксарский", "Чувашский", 1.2),
    "22": ("Барнаул", "Барнаульский", "Алтайский", 2.2),
    "23": ("Краснодар", "Краснодарский", "Кубанский", 5.8),
    "24": ("Красноярск", "Красноярский", "Красноярский", 2.85),
    "25": ("Владивосток", "Владивостокский", "Приморский", 1.85),
    "26": ("Ставрополь", "Ставропольский", "Ставропольский", 2.9),
    "27": ("Хабаровск", "Хабаровский", "Хабаровский", 1.3),
    "28": ("Благовещенск", "Благовещенский", "Амурский", 0.77),
    "29": ("Архангельск", "Архангельский", "Северный", 1.0),
    "30": ("Астрахань", "Астраханский", "Астраханский", 0.96),
    "31": ("Белгород", "Белгородский", "Белгородский", 1.53),
    "32": ("Брянск", "Брянский", "Брянский", 1.17),
    "33": ("Владимир", "Владимирский", "Владимирский", 1.34),
    "34": ("Волгоград", "Волгоградский", "Волгоградский", 2.5),
    "35": ("Вологда", "Вологодский", "Вологодский", 1.14),
    "36": ("Воронеж", "Воронежский", "Воронежский", 2.3),
    "37": ("Иваново", "Ивановский", "Ивановский", 0.98),
    "38": ("Иркутск", "Иркутский", "Иркутский", 2.37),
    "39": ("Калининград", "Калининградский", "Балтийский", 1.03),
    "40": ("Калуга", "Калужский", "Калужский", 1.0),
    "41": ("Петропавловск-Камчатский", "Камчатский", "Камчатский", 0.31),
    "42": ("Кемерово", "Кемеровский", "Кузбасский", 2.6),
    "43": ("Киров", "Кировский", "Вятский", 1.25),
    "44": ("Кострома", "Костромской", "Костромской", 0.63),
    "45": ("Курган", "Курганский", "Курганский", 0.83),
    "46": ("Курск", "Курский", "Курский", 1.1),
    "47": ("Гатчина", "Гатчинский", "Ленинградский", 2.0),
    "48": ("Липецк", "Липецкий", "Липецкий", 1.14),
    "49": ("Магадан", "Магаданский", "Магаданский", 0.14),
    "50": ("Красногорск", "Красногорский", "Московский областной", 8.5),
    "51": ("Мурманск", "Мурманский", "Мурманский", 0.67),
    "52": ("Нижний Новгород", "Нижегородский", "Нижегородский", 3.1),
    "53": ("Великий Новгород", "Новгородский", "Новгородский", 0.59),
    "54": ("Новосибирск", "Новосибирский", "Новосибирский", 2.8),
    "55": ("Омск", "Омский", "Омский", 1.85),
    "56": ("Оренбург", "Оренбургский", "Оренбургский", 1.9),
    "57": ("Орёл", "Орловский", "Орловский", 0.71),
    "58": ("Пенза", "Пензенский", "Пензенский", 1.27),
    "59": ("Пермь", "Пермский", "Пермский", 2.5),
    "60": ("Псков", "Псковский", "Псковский", 0.61),
    "61": ("Ростов-на-Дону", "Ростовский", "Донской", 4.2),
    "62": ("Рязань", "Рязанский", "Рязанский", 1.1),
    "63": ("Самара", "Самарский", "Самарский", 3.15),
    "64": ("Саратов", "Саратовский", "Саратовский", 2.4),
    "65": ("Южно-Сахалинск", "Южно-Сахалинский", "Сахалинский", 0.48),
    "66": ("Екатеринбург", "Екатеринбургский", "Уральский", 4.3),
    "67": ("Смоленск", "Смоленский", "Смоленский", 0.92),
    "68": ("Тамбов", "Тамбовский", "Тамбовский", 0.98),
    "69": ("Тверь", "Тверской", "Тверской", 1.23),
    "70": ("Томск", "Томский", "Томский", 1.07),
    "71": ("Тула", "Тульский", "Тульский", 1.5),
    "72": ("Тюмень", "Тюменский", "Тюменский", 1.55),
    "73": ("Ульяновск", "Ульяновский", "Ульяновский", 1.2),
    "74": ("Челябинск", "Челябинский", "Южно-Уральский", 3.4),
    "75": ("Чита", "Читинский", "Забайкальский", 1.05),
    "76": ("Ярославль", "Ярославский", "Ярославский", 1.25),
    "77": ("Москва", "Московский", "Московский", 12.6),
    "78": ("Санкт-Петербург", "Санкт-Петербургский", "Санкт-Петербургский", 5.4),
    "79": ("Биробиджан", "Биробиджанский", "Приамурский", 0.15),
    "83": ("Нарьян-Мар", "Нарьян-Марский", "Ненецкий", 0.044),
    "86": ("Ханты-Мансийск", "Ханты-Мансийский", "Югорский", 1.7),
    "87": ("Анадырь", "Анадырский", "Чукотский", 0.05),
    "89": ("Салехард", "Салехардский", "Ямальский", 0.55),
    "91": ("Симферополь", "Симферопольский", "Крымский", 1.9),
    "92": ("Севастополь", "Севастопольский", "Севастопольский", 0.55),
}

# Districts of a region's local organisations (adjectives, as Russian district names mostly are).
DISTRICTS = (
    "Кировский", "Ленинский", "Октябрьский", "Советский", "Центральный", "Первомайский", "Заводской",
    "Железнодорожный", "Калининский", "Красноармейский", "Пролетарский", "Заречный", "Приволжский", "Свердловский",
    "Фрунзенский", "Куйбышевский", "Дзержинский", "Индустриальный", "Промышленный", "Северный", "Южный",
    "Восточный", "Западный", "Берёзовский", "Ивановский", "Михайловский", "Александровский", "Никольский",
    "Покровский", "Троицкий", "Успенский", "Знаменский", "Каменский", "Сосновский", "Красногорский", "Подгоренский",
    "Лискинский", "Россошанский", "Бобровский", "Павловский", "Богучарский", "Калачеевский", "Ольховатский",
    "Петропавловский", "Кантемировский", "Терновский", "Грибановский", "Аннинский", "Бутурлиновский", "Эртильский",
    "Панинский", "Рамонский", "Семилукский", "Таловский", "Каширский", "Острогожский", "Репьёвский", "Хохольский",
    "Верхнехавский", "Новоусманский", "Богородский", "Вознесенский", "Мирнинский", "Ясногорский", "Озёрский",
    "Краснослободский", "Лесной", "Горный", "Приморский", "Приозёрный",
)
MOSCOW_DISTRICTS = (
    "Басманный", "Красносельский", "Мещанский", "Пресненский", "Таганский", "Тверской", "Арбат", "Хамовники",
    "Якиманка", "Замоскворечье", "Сокольники", "Преображенское", "Богородское", "Измайлово", "Перово",
    "Новогиреево", "Лефортово", "Марьино", "Люблино", "Текстильщики", "Кузьминки", "Выхино-Жулебино", "Царицыно",
    "Чертаново Северное", "Даниловский", "Донской", "Зюзино", "Черёмушки", "Ясенево", "Тёплый Стан", "Коньково",
    "Гагаринский", "Раменки", "Фили-Давыдково", "Кунцево", "Солнцево", "Митино", "Строгино", "Хорошёво-Мнёвники",
    "Щукино", "Аэропорт", "Беговой", "Савёловский", "Хорошёвский", "Дмитровский", "Бабушкинский", "Бибирево",
    "Останкинский", "Отрадное", "Ростокино", "Свиблово", "Марфино", "Алексеевский", "Лосиноостровский",
    "Ярославский", "Крюково", "Матушкино", "Силино", "Савёлки", "Старое Крюково",
)
SAINT_PETERSBURG_DISTRICTS = (
    "Адмиралтейский", "Василеостровский", "Выборгский", "Калининский", "Кировский", "Колпинский",
    "Красногвардейский", "Красносельский", "Кронштадтский", "Курортный", "Московский", "Невский", "Петроградский",
    "Петродворцовый", "Приморский", "Пушкинский", "Фрунзенский", "Центральный",
)
SEVASTOPOL_DISTRICTS = ("Гагаринский", "Ленинский", "Нахимовский", "Балаклавский")
VILLAGES = (
    "с. Никольское", "с. Покровское", "с. Александровка", "с. Ивановка", "с. Михайловка", "с. Петровка",
    "с. Сосновка", "с. Берёзовка", "с. Каменка", "с. Знаменка", "с. Троицкое", "с. Успенское", "с. Вознесенское",
    "с. Богородское", "с. Красное", "с. Садовое", "с. Луговое", "с. Новоселье", "п. Заречный", "п. Октябрьский",
    "п. Первомайский", "д. Малиновка", "с. Васильевка", "с. Ольховка", "с. Рождествено", "с. Спасское",
    "с. Воскресенское", "пгт Солнечный", "п. Лесной", "с. Дубовка", "с. Липовка", "с. Раздолье",
)
STREETS = (
    "ул. Ленина", "ул. Советская", "ул. Мира", "ул. Молодёжная", "ул. Школьная", "ул. Садовая", "ул. Центральная",
    "ул. Лесная", "ул. Набережная", "ул. Октябрьская", "ул. Гагарина", "ул. Пушкина", "ул. Кирова",
    "ул. Комсомольская", "ул. Первомайская", "пр-т Победы", "ул. Заводская", "ул. Новая", "ул. Солнечная",
    "ул. Строителей", "ул. Юбилейная", "ул. Горького", "ул. Чехова", "ул. Лермонтова", "ул. Маяковского",
    "пр-т Мира", "ул. Профсоюзная", "ул. Учительская", "бул. Космонавтов", "ул. Калинина",
)
KINDERGARTEN_NAMES = (
    "Солнышко", "Колокольчик", "Ромашка", "Берёзка", "Светлячок", "Теремок", "Родничок", "Сказка", "Радуга",
    "Улыбка", "Звёздочка", "Золотой ключик", "Алёнушка", "Журавушка", "Ласточка", "Малышок", "Ручеёк",
    "Золотая рыбка", "Рябинка", "Дюймовочка", "Буратино", "Чебурашка", "Кораблик", "Гнёздышко", "Капелька",
    "Незабудка", "Василёк", "Одуванчик", "Семицветик", "Подснежник",
)
UNIVERSITY_NAMES = (
    "{region} государственный университет", "{city} государственный педагогический университет",
    "{city} государственный медицинский университет", "{city} государственный технический университет",
    "{region} государственный аграрный университет", "{city} государственный институт культуры",
    "{city} государственный экономический университет",
    "{city} государственный архитектурно-строительный университет",
    "{region} государственный университет физической культуры и спорта",
    "{city} государственный университет путей сообщения", "{city} политехнический университет",
    "{region} государственный гуманитарно-педагогический университет",
)
COLLEGE_NAMES = (
    "{place} педагогический колледж", "{place} политехнический колледж", "{place} медицинский колледж",
    "{place} строительный техникум", "{place} аграрный техникум", "{place} колледж культуры и искусств",
    "{place} технологический колледж", "{place} колледж экономики и права", "{place} музыкальный колледж",
    "{place} индустриальный техникум", "{place} торгово-экономический колледж", "{place} многопрофильный колледж",
)
ADDITIONAL_NAMES = (
    "Дом детского творчества", "Центр детского творчества", "Детско-юношеская спортивная школа",
    "Детская школа искусств", "Станция юных техников", "Центр дополнительного образования",
    "Дворец детского и юношеского творчества", "Центр развития творчества детей и юношества",
    "Станция юных натуралистов", "Детская музыкальная школа",
)
OTHER_NAMES = (
    "Информационно-методический центр", "Централизованная бухгалтерия учреждений образования",
    "Центр психолого-педагогической, медицинской и социальной помощи", "Детский дом",
    "Центр диагностики и консультирования", "Хозяйственно-эксплуатационная служба учреждений образования",
    "Санаторная школа-интернат", "Загородный оздоровительный лагерь",
)
# Abbreviation of the legal form and the same form in the genitive, as it stands after "Первичная профсоюзная
# организация ...".
LEGAL_FORMS = {
    "МБОУ": "муниципального бюджетного общеобразовательного учреждения",
    "МАОУ": "муниципального автономного общеобразовательного учреждения",
    "МКОУ": "муниципального казённого общеобразовательного учреждения",
    "ГБОУ": "государственного бюджетного общеобразовательного учреждения",
    "МБДОУ": "муниципального бюджетного дошкольного образовательного учреждения",
    "МАДОУ": "муниципального автономного дошкольного образовательного учреждения",
    "ГБДОУ": "государственного бюджетного дошкольного образовательного учреждения",
    "МБУ ДО": "муниципального бюджетного учреждения дополнительного образования",
    "МАУ ДО": "муниципального автономного учреждения дополнительного образования",
    "ГБУ ДО": "государственного бюджетного учреждения дополнительного образования",
    "ГБПОУ": "государственного бюджетного профессионального образовательного учреждения",
    "ГАПОУ": "государственного автономного профессионального образовательного учреждения",
    "ФГБОУ ВО": "федерального государственного бюджетного образовательного учреждения высшего образования",
    "МБУ": "муниципального бюджетного учреждения",
    "МКУ": "муниципального казённого учреждения",
    "ГКУ": "государственного казённого учреждения",
}
FACULTIES = (
    "факультета иностранных языков", "физико-математического факультета", "исторического факультета",
    "филологического факультета", "факультета психологии", "факультета начального образования",
    "экономического факультета", "юридического факультета", "факультета физической культуры",
    "института информационных технологий", "естественно-географического факультета", "студентов первого курса",
)
STAFF_GROUPS = {
    Kind.SCHOOL: (
        "Профгруппа начальной школы", "Профгруппа учителей естественно-научного цикла",
        "Профгруппа учителей гуманитарного цикла", "Профгруппа обслуживающего персонала",
    ),
    Kind.KINDERGARTEN: ("Профгруппа воспитателей", "Профгруппа младшего обслуживающего персонала"),
    Kind.COLLEGE: (
        "Профгруппа мастеров производственного обучения", "Профгруппа преподавателей общеобразовательных дисциплин",
        "Профбюро студентов",
    ),
}
STAFF_GROUPS_DEFAULT = ("Профгруппа педагогических работников", "Профгруппа обслуживающего персонала")
TRAININGS = (
    ("Школа профсоюзного актива", 36),
    ("Основы трудового законодательства для председателей первичных организаций", 24),
    ("Охрана труда в образовательной организации", 40), ("Цифровой Профсоюз: ведение электронного реестра", 16),
    ("Социальное партнёрство и коллективный договор", 24),
    ("Финансовая работа в первичной профсоюзной организации", 16),
    ("Информационная работа и мотивация профсоюзного членства", 16),
    ("Защита профессиональных прав педагогических работников", 72),
)
TRAINING_PROVIDERS = (
    "Учебный центр Общероссийского Профсоюза образования",
    "Региональная организация Профсоюза: учебно-методический центр", "Институт развития образования",
)

# (position, teaching staff) by institution type; a title repeated weighs more in the draw.
POSITIONS: dict[str, tuple[tuple[str, bool], ...]] = {
    Kind.SCHOOL: (
        *[("учитель начальных классов", True)] * 4, *[("учитель русского языка и литературы", True)] * 3,
        *[("учитель математики", True)] * 3, ("учитель истории и обществознания", True),
        ("учитель английского языка", True), ("учитель физики", True), ("учитель химии и биологии", True),
        ("учитель географии", True), ("учитель информатики", True), ("учитель физической культуры", True),
        ("учитель музыки", True), ("учитель технологии", True), ("педагог-психолог", True),
        ("социальный педагог", True), ("учитель-логопед", True), ("педагог-организатор", True),
        ("советник директора по воспитанию", True), ("заместитель директора по учебно-воспитательной работе", True),
        ("директор", False), ("библиотекарь", False), ("секретарь учебной части", False),
        ("заведующий хозяйством", False), ("уборщик служебных помещений", False), ("повар", False),
    ),
    Kind.KINDERGARTEN: (
        *[("воспитатель", True)] * 8, ("старший воспитатель", True), ("музыкальный руководитель", True),
        ("инструктор по физической культуре", True), ("учитель-логопед", True), ("педагог-психолог", True),
        *[("помощник воспитателя", False)] * 2, ("заведующий", False), ("повар", False),
        ("медицинская сестра", False), ("кастелянша", False),
    ),
    Kind.COLLEGE: (
        *[("преподаватель", True)] * 6, *[("мастер производственного обучения", True)] * 2, ("методист", True),
        ("педагог-организатор", True), ("заведующий отделением", True), ("бухгалтер", False), ("лаборант", False),
        ("секретарь учебной части", False), ("вахтёр", False),
    ),
    Kind.UNIVERSITY: (
        *[("доцент кафедры", True)] * 4, *[("старший преподаватель", True)] * 3, ("профессор кафедры", True),
        ("ассистент кафедры", True), ("заведующий кафедрой", True), ("инженер", False),
        ("специалист учебного отдела", False), ("лаборант", False), ("документовед", False),
        ("библиотекарь", False),
    ),
    Kind.ADDITIONAL: (
        *[("педагог дополнительного образования", True)] * 5, ("тренер-преподаватель", True),
        ("концертмейстер", True), ("методист", True), ("преподаватель", True), ("директор", False),
        ("бухгалтер", False), ("сторож", False),
    ),
    Kind.MANAGEMENT: (
        ("главный специалист", False), ("ведущий специалист", False), ("начальник отдела", False),
        ("специалист первой категории", False), ("методист", False), ("заместитель начальника", False),
    ),
    Kind.OTHER: (
        ("воспитатель", True), ("педагог-психолог", True), ("методист", True), ("учитель-дефектолог", True),
        ("бухгалтер", False), ("экономист", False), ("водитель", False), ("рабочий по обслуживанию зданий", False),
    ),
}
STUDY_GROUP_CODES = {
    Kind.COLLEGE: ("ПД", "ДО", "ПНК", "ТМ", "ЭК", "МС", "ИС", "СП", "ПК", "ТОР"),
    Kind.UNIVERSITY: ("ИВТ", "ПИ", "ФМ", "ИЯ", "ИСТ", "ФИЛ", "ПСХ", "ЭК", "ЮР", "БИО", "НО", "ФК"),
}
LEAVING_REASONS = {
    Category.WORKING: ("voluntary",) * 4 + ("end_of_work",) * 3 + ("transfer",) * 2 + ("excluded",),
    Category.UNEMPLOYED: ("voluntary",) * 2 + ("end_of_work",) * 2,
    Category.STUDENT: ("end_of_work",) * 6 + ("voluntary",) * 2 + ("transfer",),
    Category.PENSIONER: ("voluntary",) * 3 + ("death",) * 2,
}

# Names by frequency, most frequent first: the draw weighs them by rank. Two generations, because a teacher born
# in 1965 and a student born in 2005 are not called alike.
MALE_NAMES_OLDER = (
    "Александр", "Сергей", "Андрей", "Алексей", "Дмитрий", "Владимир", "Игорь", "Евгений", "Николай", "Михаил",
    "Юрий", "Олег", "Виктор", "Иван", "Павел", "Валерий", "Анатолий", "Геннадий", "Василий", "Вячеслав",
    "Константин", "Роман", "Максим", "Денис", "Виталий", "Борис", "Леонид", "Пётр", "Григорий", "Владислав",
    "Станислав", "Вадим", "Антон", "Илья", "Артём", "Кирилл", "Георгий", "Фёдор", "Степан", "Эдуард",
)
MALE_NAMES_YOUNGER = (
    "Александр", "Дмитрий", "Максим", "Артём", "Иван", "Кирилл", "Никита", "Михаил", "Егор", "Илья", "Андрей",
    "Алексей", "Даниил", "Матвей", "Тимофей", "Роман", "Владислав", "Ярослав", "Глеб", "Марк", "Лев", "Сергей",
    "Павел", "Денис", "Антон", "Евгений", "Георгий", "Степан", "Фёдор", "Тимур", "Арсений", "Богдан",
)
FEMALE_NAMES_OLDER = (
    "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Марина", "Галина", "Людмила", "Надежда", "Анна",
    "Юлия", "Екатерина", "Валентина", "Любовь", "Оксана", "Лариса", "Нина", "Вера", "Тамара", "Евгения",
    "Маргарита", "Инна", "Алла", "Жанна", "Лидия", "Раиса", "Зинаида", "Антонина", "Валерия", "Виктория", "Мария",
    "Анастасия", "Яна", "Кристина", "Ксения", "Римма", "Эльвира", "Алёна", "Олеся",
)
FEMALE_NAMES_YOUNGER = (
    "Анастасия", "Мария", "Дарья", "Анна", "Екатерина", "Полина", "Виктория", "Елизавета", "Алина", "Ксения",
    "Софья", "Валерия", "Юлия", "Александра", "Арина", "Вероника", "Алёна", "Кристина", "Диана", "Карина", "Ольга",
    "Елена", "Татьяна", "Милана", "Варвара", "Ульяна", "Ангелина", "Яна", "Маргарита", "Евгения",
)
# Father's name: (patronymic of a son, patronymic of a daughter).
PATRONYMICS = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Владимирович", "Владимировна"),
    ("Николаевич", "Николаевна"), ("Иванович", "Ивановна"), ("Викторович", "Викторовна"),
    ("Михайлович", "Михайловна"), ("Юрьевич", "Юрьевна"), ("Анатольевич", "Анатольевна"),
    ("Васильевич", "Васильевна"), ("Алексеевич", "Алексеевна"), ("Андреевич", "Андреевна"),
    ("Петрович", "Петровна"), ("Дмитриевич", "Дмитриевна"), ("Евгеньевич", "Евгеньевна"), ("Игоревич", "Игоревна"),
    ("Валерьевич", "Валерьевна"), ("Геннадьевич", "Геннадьевна"), ("Олегович", "Олеговна"),
    ("Павлович", "Павловна"), ("Борисович", "Борисовна"), ("Григорьевич", "Григорьевна"),
    ("Леонидович", "Леонидовна"), ("Фёдорович", "Фёдоровна"), ("Константинович", "Константиновна"),
    ("Вячеславович", "Вячеславовна"), ("Романович", "Романовна"), ("Витальевич", "Витальевна"),
    ("Степанович", "Степановна"), ("Аркадьевич", "Аркадьевна"), ("Ильич", "Ильинична"), ("Никитич", "Никитична"),
    ("Львович", "Львовна"), ("Яковлевич", "Яковлевна"), ("Максимович", "Максимовна"), ("Денисович", "Денисовна"),
    ("Эдуардович", "Эдуардовна"), ("Станиславович", "Станиславовна"),
)
# Surnames in the masculine form; the feminine one is derived by `_feminine_surname`.
SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
    "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
    "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
    "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров",
    "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
    "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов",
    "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев",
    "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков",
    "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
    "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
    "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
    "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов",
    "Софронов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков",
    "Сафонов", "Плотников", "Дёмин", "Хохлов", "Жданов", "Островский", "Вишневский", "Покровский", "Чайковский",
    "Толстой", "Шевченко", "Бондаренко", "Коваленко", "Ткаченко", "Кравченко", "Ковальчук", "Мельничук", "Белых",
    "Черных", "Седых", "Садыков", "Галиев", "Хабибуллин", "Сафин", "Ахметов", "Исмаилов", "Алиев", "Гаджиев",
    "Магомедов", "Цой", "Ким",
)
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "i",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", " ": "-",
})
# fmt: on


def _translit(text: str) -> str:
    return text.lower().translate(_TRANSLIT)


def _searchable(word: str) -> str:
    """One name as it stands in Member.search_name; the three are joined with single spaces as search_name_of does."""
    return search_name_of(word, "")


def _feminine_surname(surname: str) -> str:
    for masculine, feminine in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")):
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname  # Шевченко, Ковальчук, Белых, Ким: the same for women


def _adjective(masculine: str, *, case: str) -> str:
    """Decline a masculine adjective (every word of it): case is "fem" (nominative) or "gen" (genitive)."""
    endings = {
        "fem": (("ский", "ская"), ("цкий", "цкая"), ("ской", "ская"), ("ный", "ная"), ("ой", "ая"), ("ий", "яя")),
        "gen": (("ский", "ского"), ("цкий", "цкого"), ("ской", "ского"), ("ный", "ного"), ("ой", "ого"), ("ий", "его")),
    }[case]
    words = []
    for word in masculine.split():
        for ending, replacement in endings:
            if word.endswith(ending):
                word = word[: -len(ending)] + replacement
                break
        words.append(word)
    return " ".join(words)


def _is_adjective(name: str) -> bool:
    return name.endswith(("ский", "цкий", "ской", "ный", "ой", "ий"))


def _ranked_pool(names: Sequence[str], *, size: int = 600) -> tuple[str, ...]:
    """A list in which each name appears in proportion to 1 / (rank + 4): drawing from it is one index lookup."""
    weights = [1 / (rank + 4) for rank in range(len(names))]
    total = sum(weights)
    return tuple(
        name for name, weight in zip(names, weights, strict=True) for _ in range(max(1, round(size * weight / total)))
    )


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder): the sum is exactly `total`."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    quotas = [total * weight / weight_sum for weight in weights]
    counts = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: quotas[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# ---------------------------------------------------------------------------------------------------------------
# The plan: organisations in memory, with the paths the registry would have given them
# ---------------------------------------------------------------------------------------------------------------

# Shares of primary organisations by type of institution.
PRIMARY_KIND_SHARES = {
    Kind.SCHOOL: 0.42,
    Kind.KINDERGARTEN: 0.33,
    Kind.ADDITIONAL: 0.07,
    Kind.COLLEGE: 0.05,
    Kind.UNIVERSITY: 0.012,
    Kind.MANAGEMENT: 0.03,
    Kind.OTHER: 0.088,
}
# Shares of the working (and retired) members by type of institution, and of the students by type. Fixed shares,
# not per-organisation weights: a small demo gives every region a university, and per-organisation weights would
# then put most teachers into universities.
WORKING_SHARE = {
    Kind.SCHOOL: 0.55,
    Kind.KINDERGARTEN: 0.22,
    Kind.COLLEGE: 0.08,
    Kind.UNIVERSITY: 0.055,
    Kind.ADDITIONAL: 0.04,
    Kind.MANAGEMENT: 0.01,
    Kind.OTHER: 0.045,
}
STUDENT_SHARE = {Kind.UNIVERSITY: 0.6, Kind.COLLEGE: 0.4}
# Whose place a region's university takes when the region is too small to have one by its share.
UNIVERSITY_DONORS = (Kind.OTHER, Kind.MANAGEMENT, Kind.ADDITIONAL, Kind.COLLEGE, Kind.KINDERGARTEN, Kind.SCHOOL)
# Share of women among working members by type (schools and kindergartens are mostly women); ~80 % overall.
WOMEN_SHARE = {Kind.SCHOOL: 0.87, Kind.KINDERGARTEN: 0.96, Kind.UNIVERSITY: 0.62, Kind.COLLEGE: 0.74}
WOMEN_SHARE_DEFAULT = 0.8
WOMEN_SHARE_STUDENTS = 0.68
WOMEN_SHARE_PENSIONERS = 0.86


@dataclass(eq=False, slots=True)
class PlannedOrg:
    """One organisation of the demo union before it is written (or an existing regional one it hangs under)."""

    parent: "PlannedOrg | None"
    level: str
    name: str
    path: str
    region_id: int | None
    short_name: str = ""
    institution_type: str = ""
    inn: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    employees_count: int | None = None
    students_count: int | None = None
    id: int | None = None
    last_segment: int = 0
    # Members to generate (primary organisations only).
    working: int = 0
    unemployed: int = 0
    students: int = 0
    pensioners: int = 0

    @property
    def member_count(self) -> int:
        return self.working + self.unemployed + self.students + self.pensioners

    def add_child(self, *, level: str, name: str, **fields) -> "PlannedOrg":
        """Give the child the next path under this organisation, exactly as registry.services._next_child_path."""
        if self.last_segment >= PATH_SEGMENT_MAX:
            raise DemoSeedError(f"В организации «{self.name}» не помещается столько подразделений.")
        self.last_segment += 1
        return PlannedOrg(
            parent=self,
            level=level,
            name=name,
            path=f"{self.path}{self.last_segment:0{PATH_SEGMENT_WIDTH}d}",
            region_id=self.region_id,
            **fields,
        )


@dataclass(eq=False, slots=True)
class PlannedChair:
    org: PlannedOrg
    last_name: str
    first_name: str
    middle_name: str
    phone: str
    email: str
    term_start: datetime.date
    term_end: datetime.date
    is_full_time: bool
    elected_protocol: str
    id: int | None = None
    trainings: list[tuple[str, str, datetime.date, int, str]] = field(default_factory=list)


@dataclass(eq=False)
class UnionPlan:
    central: Organization
    regions: list["RegionPlan"]
    organizations: list[PlannedOrg]  # the new ones, in path order
    primaries: list[PlannedOrg]
    chairs: list[PlannedChair]
    demo_local: PlannedOrg | None
    demo_school: PlannedOrg | None


@dataclass(eq=False)
class RegionPlan:
    """A region while it is being planned: its organisation and what names and numbers it has used."""

    region: Region
    org: PlannedOrg
    capital: str
    capital_adjective: str
    region_adjective: str
    weight: float
    has_locals: bool
    postcode_prefix: int
    phone_code: str
    inn_serial: int = 0
    used_titles: set[str] = field(default_factory=set)
    locals: list[PlannedOrg] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.region.code

    @property
    def is_federal_city(self) -> bool:
        return self.code in FEDERAL_CITY_CODES


@dataclass(frozen=True)
class Place:
    """Where the institutions of a local organisation stand, for their names and addresses."""

    adjective: str  # "Кировский" or the region's centre's adjective
    genitive: str  # "Кировского муниципального района", for the name of the education authority
    district: str = ""  # "Кировский район", part of a rural address
    rural: bool = False


class _Planner:
    """Draws the whole demo union from one random generator, region by region."""

    def __init__(self, *, members: int, seed: int):
        self.members = members
        self.rng = random.Random(f"eseur-demo-plan:{seed}")
        self.organizations: list[PlannedOrg] = []
        self.primaries: list[PlannedOrg] = []

    def plan(self) -> UnionPlan:
        central = Organization.objects.filter(level=Level.CENTRAL, depth=1).order_by("path").first()
        regions = self._regions()
        primaries_by_region, locals_by_region = self._sizes(regions)
        for region_plan, primaries, locals_count in zip(regions, primaries_by_region, locals_by_region, strict=True):
            self._plan_region(region_plan, primaries=primaries, locals_count=locals_count)
        self._apportion_members()
        demo_local, demo_school = self._demo_places(regions)
        # Units show in the demo even when it is small: under the chair user's school and Moscow's first university.
        showcase = {demo_school, self._first_university(regions, MOSCOW_CODE)}
        for primary in self.primaries:
            self._plan_units(primary, always=primary in showcase)
        self.organizations.sort(key=lambda org: org.path)
        chairs = _ChairPlanner(rng=self.rng).plan(
            [region_plan.org for region_plan in regions] + self.organizations, must_have=demo_school
        )
        return UnionPlan(
            central=central,
            regions=regions,
            organizations=self.organizations,
            primaries=self.primaries,
            chairs=chairs,
            demo_local=demo_local,
            demo_school=demo_school,
        )

    # -- scale ------------------------------------------------------------------------------------------------

    def _regions(self) -> list[RegionPlan]:
        regional_orgs = list(
            Organization.objects.filter(level=Level.REGIONAL, region__isnull=False)
            .select_related("region")
            .order_by("path")
        )
        last_child = dict(
            Organization.objects.filter(parent__in=regional_orgs)
            .values("parent_id")
            .annotate(last=Max("path"))
            .values_list("parent_id", "last")
        )
        codes = [org.region.code for org in regional_orgs]
        candidates = [code for code in REGIONS_WITHOUT_LOCALS_CANDIDATES if code in codes]
        without_locals = set(self.rng.sample(candidates, k=min(REGIONS_WITHOUT_LOCALS, len(candidates))))
        plans = []
        for org in regional_orgs:
            code = org.region.code
            capital, capital_adjective, region_adjective, weight = REGION_PLACES.get(
                code, (org.region.name, "Городской", "Региональный", 1.0)
            )
            planned = PlannedOrg(
                parent=None,
                level=Level.REGIONAL,
                name=org.name,
                path=org.path,
                region_id=org.region_id,
                short_name=org.short_name,
                id=org.pk,
                last_segment=int(last_child[org.pk][-PATH_SEGMENT_WIDTH:]) if org.pk in last_child else 0,
            )
            region_plan = RegionPlan(
                region=org.region,
                org=planned,
                capital=capital,
                capital_adjective=capital_adjective,
                region_adjective=region_adjective,
                weight=weight,
                has_locals=code not in without_locals,
                postcode_prefix=self.rng.randrange(101, 694),
                phone_code={"77": "495", "78": "812"}.get(code, str(self.rng.randrange(342, 872))),
                inn_serial=self.rng.randrange(1000, 40000),
            )
            # regions.csv gives regional organisations no contacts: the demo fills the blank ones (see the writer).
            contacts = self._contacts(
                region_plan, place=Place(adjective=capital_adjective, genitive=""), email_prefix="ro"
            )
            planned.inn = org.inn or contacts["inn"]
            planned.address = org.address or contacts["address"]
            planned.phone = org.phone or contacts["phone"]
            planned.email = org.email or contacts["email"]
            plans.append(region_plan)
        return plans

    def _sizes(self, regions: list[RegionPlan]) -> tuple[list[int], list[int]]:
        """Primary and local organisations per region: proportional to the region, never fewer than a handful."""
        small = self.members < SMALL_DEMO_MEMBERS
        weights = [region.weight for region in regions]
        primaries = _apportion(round(self.members / MEMBERS_PER_PRIMARY), weights)
        locals_ = _apportion(
            round(self.members / MEMBERS_PER_LOCAL),
            [w if r.has_locals else 0 for w, r in zip(weights, regions, strict=True)],
        )
        for i, region in enumerate(regions):
            moscow = region.code == MOSCOW_CODE
            min_primaries = (4 if small else 12) if moscow else (2 if small else 3)
            primaries[i] = max(primaries[i], min_primaries)
            if region.has_locals:
                min_locals = (2 if small else 3) if moscow else 1
                # Every local organisation has at least one primary organisation under it.
                locals_[i] = min(max(locals_[i], min_locals), max(1, primaries[i] - 1))
            else:
                locals_[i] = 0
        return primaries, locals_

    # -- one region ---------------------------------------------------------------------------------------------

    def _plan_region(self, region: RegionPlan, *, primaries: int, locals_count: int) -> None:
        kinds = self._primary_kinds(primaries)
        places = self._local_places(region, locals_count)
        for place in places:
            region.locals.append(self._add_local(region, place))
        # Universities are primary organisations "with territorial rights", directly under the region, and so is
        # the regional education authority; everything else stands under a local organisation where there is one.
        territorial = [kind for kind in kinds if kind == Kind.UNIVERSITY]
        rest = [kind for kind in kinds if kind != Kind.UNIVERSITY]
        if Kind.MANAGEMENT in rest and region.locals:
            rest.remove(Kind.MANAGEMENT)
            territorial.append(Kind.MANAGEMENT)
        capital_place = Place(adjective=region.capital_adjective, genitive="")
        for kind in territorial:
            self._add_primary(region, parent=region.org, place=capital_place, kind=kind, regional=True)
        if not region.locals:
            for kind in rest:
                self._add_primary(region, parent=region.org, place=capital_place, kind=kind)
            return
        # Schools first, one to every local organisation, so that each has at least one and begins with a school.
        rest.sort(key=lambda kind: kind != Kind.SCHOOL)
        local_weights = [3.0 if i == 0 else self.rng.lognormvariate(0, 0.5) for i in range(len(region.locals))]
        owners = list(range(len(region.locals)))
        owners += self.rng.choices(range(len(region.locals)), weights=local_weights, k=max(0, len(rest) - len(owners)))
        by_local: dict[int, list[str]] = {}
        for owner, kind in zip(owners, rest, strict=False):
            by_local.setdefault(owner, []).append(kind)
        for i, local in enumerate(region.locals):
            for kind in by_local.get(i, []):
                self._add_primary(region, parent=local, place=places[i], kind=kind)

    def _primary_kinds(self, count: int) -> list[str]:
        kinds = list(PRIMARY_KIND_SHARES)
        counts = dict(zip(kinds, _apportion(count, list(PRIMARY_KIND_SHARES.values())), strict=True))
        # Every region has its university, so that students have somewhere to belong even in a small demo.
        if count >= 2 and counts[Kind.UNIVERSITY] == 0:
            donor = next(kind for kind in UNIVERSITY_DONORS if counts[kind] > 0)
            counts[donor] -= 1
            counts[Kind.UNIVERSITY] += 1
        result = [kind for kind in kinds for _ in range(counts[kind])]
        self.rng.shuffle(result)
        return result

    def _local_places(self, region: RegionPlan, count: int) -> list[Place]:
        if count == 0:
            return []
        if region.code == MOSCOW_CODE:
            names = list(MOSCOW_DISTRICTS)
        elif region.code == SAINT_PETERSBURG_CODE:
            names = list(SAINT_PETERSBURG_DISTRICTS)
        elif region.code == "92":
            names = list(SEVASTOPOL_DISTRICTS)
        else:
            names = list(DISTRICTS)
        self.rng.shuffle(names)
        places = []
        if not region.is_federal_city:
            # The first local organisation of a region is the city organisation of its centre.
            places.append(Place(adjective=region.capital_adjective, genitive=f"городского округа «{region.capital}»"))
        for i in range(count - len(places)):
            name = names[i % len(names)]
            if _is_adjective(name):
                genitive = f"{_adjective(name, case='gen')} района"
                district = f"{name} район"
            else:
                genitive, district = f"района {name}", f"район {name}"
            places.append(
                Place(
                    adjective=name if _is_adjective(name) else "",
                    genitive=genitive + (f" ({i // len(names) + 1})" if i >= len(names) else ""),
                    district=district,
                    rural=not region.is_federal_city,
                )
            )
        return places

    def _add_local(self, region: RegionPlan, place: Place) -> PlannedOrg:
        if place.genitive.startswith("городского округа"):
            name = (
                f"{_adjective(place.adjective, case='fem')} городская организация Общероссийского Профсоюза образования"
            )
            short_name = f"{_adjective(place.adjective, case='fem')} городская организация Профсоюза"
        elif place.adjective:
            suffix = place.genitive.rpartition(" района")[2]
            name = f"{_adjective(place.adjective, case='fem')} районная организация Общероссийского Профсоюза образования{suffix}"
            short_name = f"{_adjective(place.adjective, case='fem')} районная организация Профсоюза{suffix}"
        else:
            name = f"Территориальная организация Общероссийского Профсоюза образования {place.genitive}"
            short_name = f"Территориальная организация Профсоюза {place.genitive}"
        local = region.org.add_child(
            level=Level.LOCAL,
            name=name,
            short_name=short_name,
            institution_type=Kind.OTHER,
            **self._contacts(region, place=place, email_prefix="to"),
        )
        self.organizations.append(local)
        return local

    def _add_primary(self, region: RegionPlan, *, parent: PlannedOrg, place: Place, kind: str, regional: bool = False):
        legal_form, title, short_name = self._institution(region, place=place, kind=kind, regional=regional)
        if legal_form:
            name = f"Первичная профсоюзная организация {LEGAL_FORMS[legal_form]} «{title}»"
        else:
            name = f"Первичная профсоюзная организация: {title}"
        if kind == Kind.UNIVERSITY:
            name = name.replace("организация", "организация работников и обучающихся", 1)
        primary = parent.add_child(
            level=Level.PRIMARY,
            name=name,
            short_name=short_name,
            institution_type=kind,
            **self._contacts(region, place=place, email_prefix="ppo"),
        )
        self.organizations.append(primary)
        self.primaries.append(primary)
        return primary

    def _institution(self, region: RegionPlan, *, place: Place, kind: str, regional: bool) -> tuple[str, str, str]:
        """(legal form, title, short name) of an institution, e.g. ("МБОУ", "Средняя ... школа № 12", "МБОУ СОШ № 12")."""
        rng = self.rng
        federal = region.is_federal_city
        number = self._number(region, kind)
        if kind == Kind.SCHOOL:
            form = "ГБОУ" if federal else rng.choices(("МБОУ", "МАОУ", "МКОУ"), weights=(7, 2, 1))[0]
            if region.code == MOSCOW_CODE:
                return form, f"Школа № {number}", f"{form} Школа № {number}"
            if place.rural and rng.random() < 0.3:
                village = self._unique(region, rng.choice(VILLAGES))
                return form, f"Средняя общеобразовательная школа {village}", f"{form} «СОШ {village}»"
            variant = rng.random()
            if variant < 0.12:
                return form, f"Гимназия № {number}", f"{form} «Гимназия № {number}»"
            if variant < 0.22:
                return form, f"Лицей № {number}", f"{form} «Лицей № {number}»"
            if variant < 0.32:
                return form, f"Основная общеобразовательная школа № {number}", f"{form} ООШ № {number}"
            return form, f"Средняя общеобразовательная школа № {number}", f"{form} СОШ № {number}"
        if kind == Kind.KINDERGARTEN:
            form = "ГБДОУ" if federal else rng.choices(("МБДОУ", "МАДОУ"), weights=(4, 1))[0]
            nickname = rng.choice(KINDERGARTEN_NAMES)
            return form, f"Детский сад № {number} «{nickname}»", f"{form} детский сад № {number} «{nickname}»"
        if kind == Kind.UNIVERSITY:
            pattern = rng.choice(UNIVERSITY_NAMES)
            title = self._unique(region, pattern.format(city=region.capital_adjective, region=region.region_adjective))
            return "ФГБОУ ВО", title, f"ФГБОУ ВО «{title}»"
        if kind == Kind.COLLEGE:
            form = rng.choice(("ГБПОУ", "ГАПОУ"))
            if region.code == MOSCOW_CODE and rng.random() < 0.6:
                title = f"Колледж № {number}"
            else:
                title = self._unique(
                    region, rng.choice(COLLEGE_NAMES).format(place=place.adjective or region.capital_adjective)
                )
            return form, title, f"{form} «{title}»"
        if kind == Kind.ADDITIONAL:
            form = "ГБУ ДО" if federal else rng.choice(("МБУ ДО", "МАУ ДО"))
            title = self._unique(region, rng.choice(ADDITIONAL_NAMES))
            return form, title, f"{form} «{title}»"
        if kind == Kind.MANAGEMENT:
            if regional or not place.genitive:
                title = {
                    "77": "Департамент образования и науки города Москвы",
                    "78": "Комитет по образованию Санкт-Петербурга",
                    "92": "Департамент образования и науки города Севастополя",
                }.get(region.code, f"Министерство образования ({region.region.name})")
                return "", title, title
            title = f"Управление образования администрации {place.genitive}"
            return "", title, title
        form = "ГКУ" if federal else rng.choice(("МБУ", "МКУ"))
        title = self._unique(region, rng.choice(OTHER_NAMES))
        return form, title, f"{form} «{title}»"

    def _number(self, region: RegionPlan, kind: str) -> int:
        """A school or kindergarten number not yet used in the region (Moscow's schools go up to four digits)."""
        top = 2200 if region.code == MOSCOW_CODE else 400
        for _ in range(20):
            number = self.rng.randrange(1, top)
            key = f"{kind}#{number}"
            if key not in region.used_titles:
                region.used_titles.add(key)
                return number
        top = len(region.used_titles) + top
        region.used_titles.add(f"{kind}#{top}")
        return top

    def _unique(self, region: RegionPlan, title: str) -> str:
        """A second "Дом детского творчества" in one region becomes "Дом детского творчества № 2"."""
        candidate, n = title, 1
        while candidate in region.used_titles:
            n += 1
            candidate = f"{title} № {n}"
        region.used_titles.add(candidate)
        return candidate

    def _contacts(self, region: RegionPlan, *, place: Place, email_prefix: str) -> dict:
        rng = self.rng
        region.inn_serial += 1
        office = rng.randrange(1, 40)
        inn = inn_with_check_digit(f"{region.code}{office:02d}{region.inn_serial % 100000:05d}")
        street = f"{rng.choice(STREETS)}, д. {rng.randrange(1, 160)}"
        postcode = f"{region.postcode_prefix}{rng.randrange(0, 1000):03d}"
        if region.is_federal_city:
            address = f"{postcode}, г. {region.capital}, {street}"
        elif place.rural and rng.random() < 0.6:
            address = f"{postcode}, {region.region.name}, {place.district}, {rng.choice(VILLAGES)}, {street}"
        else:
            address = f"{postcode}, {region.region.name}, г. {region.capital}, {street}"
        number = rng.randrange(0, 10_000_000)
        phone = f"+7 ({region.phone_code}) {number // 10000:03d}-{number // 100 % 100:02d}-{number % 100:02d}"
        email = f"{email_prefix}{region.inn_serial}.r{region.code}@{DEMO_EMAIL_DOMAIN}"
        return {"inn": inn, "address": address, "phone": phone, "email": email}

    # -- members and units --------------------------------------------------------------------------------------

    def _apportion_members(self) -> None:
        """Exact category totals, spread over the primary organisations by their kind and a random size."""
        total = self.members
        working_all = round(total * SHARE_WORKING)
        students = round(total * SHARE_STUDENTS)
        pensioners = total - working_all - students
        unemployed = round(total * SHARE_UNEMPLOYED)
        lognormal = self.rng.lognormvariate
        size = [lognormal(0, 0.45) for _ in self.primaries]
        size_of_kind: dict[str, float] = {}
        for org, org_size in zip(self.primaries, size, strict=True):
            size_of_kind[org.institution_type] = size_of_kind.get(org.institution_type, 0) + org_size
        work_weights = [
            WORKING_SHARE[org.institution_type] * org_size / size_of_kind[org.institution_type]
            for org, org_size in zip(self.primaries, size, strict=True)
        ]
        student_weights = [
            STUDENT_SHARE.get(org.institution_type, 0) * org_size / size_of_kind[org.institution_type]
            for org, org_size in zip(self.primaries, size, strict=True)
        ]
        if not any(student_weights):
            student_weights = work_weights
        working_counts = _apportion(working_all, work_weights)
        unemployed_counts = _apportion(unemployed, working_counts)
        for org, working, out_of_work, studying, retired in zip(
            self.primaries,
            working_counts,
            unemployed_counts,
            _apportion(students, student_weights),
            _apportion(pensioners, work_weights),
            strict=True,
        ):
            org.working, org.unemployed, org.students, org.pensioners = (
                working - out_of_work,
                out_of_work,
                studying,
                retired,
            )
            # Coverage (members / employees) runs from about half to nearly all in the union's reports.
            org.employees_count = round((working + 1) / self.rng.uniform(0.5, 0.97))
            if org.institution_type in STUDENT_SHARE:
                org.students_count = round((studying + 1) / self.rng.uniform(0.25, 0.75))

    def _demo_places(self, regions: list[RegionPlan]) -> tuple[PlannedOrg | None, PlannedOrg | None]:
        """The local organisation and the school of the `local`, `chair` and `member` demo users: Moscow's first."""
        moscow = next((region for region in regions if region.code == MOSCOW_CODE), None)
        if moscow is None or not moscow.locals:
            return None, None
        local = moscow.locals[0]
        school = next(
            (org for org in self.primaries if org.parent is local and org.institution_type == Kind.SCHOOL), None
        )
        return local, school

    def _first_university(self, regions: list[RegionPlan], code: str) -> PlannedOrg | None:
        region = next((region for region in regions if region.code == code), None)
        if region is None:
            return None
        return next(
            (org for org in self.primaries if org.parent is region.org and org.institution_type == Kind.UNIVERSITY),
            None,
        )

    def _plan_units(self, primary: PlannedOrg, *, always: bool) -> None:
        """A few primary organisations have профбюро (faculties of a university) or профгруппы (a school's staff)."""
        rng = self.rng
        if primary.institution_type == Kind.UNIVERSITY and (primary.member_count >= 150 or always):
            names = rng.sample(FACULTIES, k=min(len(FACULTIES), 2 + primary.member_count // 400))
            names = [f"Профбюро {faculty}" for faculty in names]
        elif always or (primary.member_count >= 30 and rng.random() < 0.03):
            groups = STAFF_GROUPS.get(primary.institution_type, STAFF_GROUPS_DEFAULT)
            names = rng.sample(groups, k=min(len(groups), 2 if always else rng.randrange(1, 4)))
        else:
            return
        for unit_name in names:
            self.organizations.append(primary.add_child(level=Level.UNIT, name=unit_name, short_name=unit_name))


class _ChairPlanner:
    """Chairs' cards: most current, some expiring, some expired without re-election, some missing."""

    def __init__(self, *, rng: random.Random):
        self.rng = rng
        self.people = _People(rng)

    def plan(self, orgs: Iterable[PlannedOrg], *, must_have: PlannedOrg | None) -> list[PlannedChair]:
        rng = self.rng
        ref = DEMO_REFERENCE_DATE
        chairs: list[PlannedChair] = []
        for org in orgs:
            if org.level == Level.UNIT:
                continue
            if org is not must_have and org.level != Level.REGIONAL and rng.random() < SHARE_WITHOUT_CHAIR:
                continue
            if org is not must_have and rng.random() < SHARE_TERM_EXPIRED:
                # Elected more than a term ago and never re-elected: the card index shows the term as expired.
                start = ref - datetime.timedelta(days=CHAIR_TERM_YEARS * 365 + rng.randrange(30, 700))
            else:
                start = ref - datetime.timedelta(days=rng.randrange(0, CHAIR_TERM_YEARS * 365))
            if rng.random() < SHARE_PREVIOUS_CHAIR:
                previous_start = start - datetime.timedelta(days=CHAIR_TERM_YEARS * 365 + rng.randrange(0, 60))
                chairs.append(self._chair(org, previous_start, start - datetime.timedelta(days=1)))
            end = start + datetime.timedelta(days=CHAIR_TERM_YEARS * 365 - 1)
            chairs.append(self._chair(org, start, end))
        return chairs

    def _chair(self, org: PlannedOrg, start: datetime.date, end: datetime.date) -> PlannedChair:
        rng = self.rng
        women = 0.55 if org.level == Level.REGIONAL else 0.82
        person = self.people.adult(female=rng.random() < women)
        body = "профсоюзного собрания" if org.level == Level.PRIMARY else "отчётно-выборной конференции"
        chair = PlannedChair(
            org=org,
            last_name=person[0],
            first_name=person[1],
            middle_name=person[2],
            phone=self.people.mobile(),
            email=f"{_translit(person[0])}.{_translit(person[1][0])}{_translit(person[2][0])}@{DEMO_EMAIL_DOMAIN}",
            term_start=start,
            term_end=end,
            is_full_time=org.level != Level.PRIMARY or org.institution_type == Kind.UNIVERSITY,
            elected_protocol=f"Протокол {body} № {rng.randrange(1, 12)} от {start:%d.%m.%Y}",
        )
        if rng.random() < SHARE_CHAIRS_TRAINED:
            for _ in range(rng.randrange(1, 3)):
                title, hours = rng.choice(TRAININGS)
                completed = min(
                    DEMO_REFERENCE_DATE, start + datetime.timedelta(days=rng.randrange(30, CHAIR_TERM_YEARS * 365))
                )
                certificate = f"{org.path[5:10]}-{completed.year}/{rng.randrange(1, 100000):05d}"
                chair.trainings.append((title, rng.choice(TRAINING_PROVIDERS), completed, hours, certificate))
        return chair


class _People:
    """Russian names drawn by frequency; shared by chairs and the member generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.male_older = _ranked_pool(MALE_NAMES_OLDER)
        self.male_younger = _ranked_pool(MALE_NAMES_YOUNGER)
        self.female_older = _ranked_pool(FEMALE_NAMES_OLDER)
        self.female_younger = _ranked_pool(FEMALE_NAMES_YOUNGER)
        self.surnames = _ranked_pool(SURNAMES, size=2000)
        self.surnames_female = tuple(_feminine_surname(name) for name in self.surnames)
        self.patronymics = _ranked_pool(PATRONYMICS, size=600)

    def adult(self, *, female: bool, younger: bool = False) -> tuple[str, str, str]:
        rng = self.rng
        i = int(rng.random() * len(self.surnames))
        if female:
            first = self.female_younger if younger else self.female_older
            return self.surnames_female[i], rng.choice(first), rng.choice(self.patronymics)[1]
        first = self.male_younger if younger else self.male_older
        return self.surnames[i], rng.choice(first), rng.choice(self.patronymics)[0]

    def mobile(self) -> str:
        digits = f"{int(self.rng.random() * 1e9):09d}"
        return f"+7 9{digits[:2]} {digits[2:5]}-{digits[5:7]}-{digits[7:]}"


# ---------------------------------------------------------------------------------------------------------------
# Members: a stream of rows, primary organisation by primary organisation
# ---------------------------------------------------------------------------------------------------------------

MEMBER_COLUMNS = (
    "id",
    "organization_id",
    "last_name",
    "first_name",
    "middle_name",
    "search_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "category",
    "position",
    "is_teaching_staff",
    "union_joined_on",
    "org_joined_on",
    "dues_application",
    "status",
    "left_on",
    "leaving_reason",
    "is_committee_member",
    "is_audit_member",
    "is_group_organiser",
    "is_safety_rep",
    "created_at",
    "updated_at",
)
YEAR_DAYS = 365.25
# (category, youngest age, oldest age, share of women) of each kind of member.
MEMBER_AGES = {
    Category.WORKING: (22, 65),
    Category.UNEMPLOYED: (25, 60),
    Category.STUDENT: (17, 25),
    Category.PENSIONER: (60, 85),
}


@functools.cache
def _iso_days() -> tuple[int, tuple[str, ...]]:
    """ISO text of every day from 1935 to the reference date: a date is then one list lookup, not an object."""
    first = datetime.date(1935, 1, 1).toordinal()
    return first, tuple(
        datetime.date.fromordinal(day).isoformat() for day in range(first, DEMO_REFERENCE_DATE.toordinal() + 1)
    )


def _study_groups(kind: str) -> tuple[str, ...]:
    codes = STUDY_GROUP_CODES.get(kind, ("ГР",))
    return tuple(f"группа {code}-{course}{number:02d}" for code in codes for course in range(1, 5) for number in (1, 2))


def demo_member_rows(
    *, plan: UnionPlan, seed: int, created_at: datetime.datetime, first_id: int = 1
) -> Iterator[tuple]:
    """The member rows of the plan, in MEMBER_COLUMNS order, one primary organisation after another.

    Ids run from `first_id` (see _reserve_ids): an explicit id is cheaper for COPY than the identity default.

    Values are what COPY takes fastest: text (dates as ISO text), booleans and None. Everything here runs four
    million times, so the loop draws from precomputed pools with `random()` and index arithmetic only.
    """
    rng = random.Random(f"eseur-demo-members:{seed}")
    rand = rng.random
    people = _People(rng)
    # Each name with its forms precomputed: (as written, as searched (search_name_of), Latin for the e-mail).
    surnames = tuple((name, _searchable(name), _translit(name)) for name in people.surnames)
    surnames_female = tuple((name, _searchable(name), _translit(name)) for name in people.surnames_female)
    first_names = {
        (female, younger): tuple((name, _searchable(name), _translit(name[0])) for name in pool)
        for female, younger, pool in (
            (True, True, people.female_younger),
            (True, False, people.female_older),
            (False, True, people.male_younger),
            (False, False, people.male_older),
        )
    }
    patronymics = tuple(
        ((son, _searchable(son)), (daughter, _searchable(daughter))) for son, daughter in people.patronymics
    )
    n_surnames, n_patronymics = len(surnames), len(patronymics)
    day0, iso = _iso_days()
    today = DEMO_REFERENCE_DATE.toordinal()
    youth_from = datetime.date(1990, 1, 1).toordinal()
    created = created_at.isoformat()
    email_tail = f"@{DEMO_EMAIL_DOMAIN}"
    positions_by_kind = {kind: POSITIONS[kind] for kind in POSITIONS}
    groups_by_kind = {kind: _study_groups(kind) for kind in POSITIONS}
    ages = {
        category: (round(low * YEAR_DAYS), round((high + 1) * YEAR_DAYS) - 1)
        for category, (low, high) in MEMBER_AGES.items()
    }

    member_id = first_id - 1
    for primary in plan.primaries:
        org_id = primary.id
        kind = primary.institution_type
        positions = positions_by_kind[kind]
        n_positions = len(positions)
        groups = groups_by_kind[kind]
        n_groups = len(groups)
        size = primary.member_count or 1
        # A profkom of a few people, an audit commission of up to three, one group organiser per ~20 members and
        # a labour-safety representative per hundred: the activists the annual report counts.
        p_committee = min(0.5, (3 + size // 25) / size)
        p_audit = min(0.3, (1 if size < 15 else 3) / size)
        p_organiser = 0.05 if size >= 20 else 0.0
        p_safety = min(0.2, (1 + size // 100) / size)
        for category, count, women in (
            (Category.WORKING, primary.working, WOMEN_SHARE.get(kind, WOMEN_SHARE_DEFAULT)),
            (Category.UNEMPLOYED, primary.unemployed, WOMEN_SHARE_DEFAULT),
            (Category.STUDENT, primary.students, WOMEN_SHARE_STUDENTS),
            (Category.PENSIONER, primary.pensioners, WOMEN_SHARE_PENSIONERS),
        ):
            youngest, oldest = ages[category]
            span = oldest - youngest
            reasons = LEAVING_REASONS[category]
            category_text = category.value
            working = category == Category.WORKING
            studying = category == Category.STUDENT
            for _ in range(count):
                female = rand() < women
                if working or category == Category.UNEMPLOYED:
                    # Teachers' ages bunch in the middle of the career: the mean of two draws.
                    birth = today - youngest - int((rand() + rand()) * 0.5 * span)
                    joined = birth + 7670  # 21 years: the first job
                    union_joined = joined + int(rand() * (today - joined))
                    org_joined = union_joined + int(rand() * (today - union_joined))
                elif studying:
                    birth = today - youngest - int(rand() * span)
                    enrolled = max(birth + youngest, today - 1800)  # at 17, or five years ago at most
                    union_joined = org_joined = enrolled + int(rand() * (today - enrolled))
                else:
                    birth = today - youngest - int(rand() * span)
                    union_joined = birth + 7670 + int(rand() * 3650)
                    org_joined = union_joined + int(rand() * (today - 730 - union_joined))
                birth_text = iso[birth - day0]
                if female:
                    last_name, last_search, last_latin = surnames_female[int(rand() * n_surnames)]
                    pool = first_names[True, birth >= youth_from]
                    first_name, first_search, initial = pool[int(rand() * len(pool))]
                    middle_name, middle_search = patronymics[int(rand() * n_patronymics)][1]
                else:
                    last_name, last_search, last_latin = surnames[int(rand() * n_surnames)]
                    pool = first_names[False, birth >= youth_from]
                    first_name, first_search, initial = pool[int(rand() * len(pool))]
                    middle_name, middle_search = patronymics[int(rand() * n_patronymics)][0]
                if rand() < 0.85:
                    digits = f"{int(rand() * 1e9):09d}"
                    phone = f"+7 9{digits[:2]} {digits[2:5]}-{digits[5:7]}-{digits[7:]}"
                else:
                    phone = ""
                email = f"{last_latin}.{initial}{birth_text[2:4]}{email_tail}" if rand() < 0.6 else ""
                if working:
                    position, teaching = positions[int(rand() * n_positions)]
                    dues = rand() < 0.93
                elif studying:
                    position, teaching, dues = groups[int(rand() * n_groups)], False, rand() < 0.7
                else:
                    position, teaching, dues = "", False, False
                if rand() < SHARE_LEFT:
                    status = "left"
                    left_on = iso[org_joined + int(rand() * (today - org_joined)) - day0]
                    reason = reasons[int(rand() * len(reasons))]
                    committee = audit = organiser = safety = False
                else:
                    status, left_on, reason = "active", None, ""
                    active_worker = working or studying
                    committee = active_worker and rand() < p_committee
                    audit = active_worker and rand() < p_audit
                    organiser = working and rand() < p_organiser
                    safety = working and rand() < p_safety
                member_id += 1
                yield (
                    member_id,
                    org_id,
                    last_name,
                    first_name,
                    middle_name,
                    f"{last_search} {first_search} {middle_search}",
                    birth_text,
                    "f" if female else "m",
                    phone,
                    email,
                    category_text,
                    position,
                    teaching,
                    iso[union_joined - day0],
                    iso[org_joined - day0],
                    dues,
                    status,
                    left_on,
                    reason,
                    committee,
                    audit,
                    organiser,
                    safety,
                    created,
                    created,
                )


# ---------------------------------------------------------------------------------------------------------------
# Writing: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------------------------------------------

ORGANIZATION_COLUMNS = (
    "id",
    "parent_id",
    "path",
    "depth",
    "level",
    "region_id",
    "name",
    "short_name",
    "institution_type",
    "inn",
    "address",
    "phone",
    "email",
    "website",
    "employees_count",
    "students_count",
    "is_active",
    "created_at",
    "updated_at",
)
CHAIR_COLUMNS = (
    "id",
    "organization_id",
    "last_name",
    "first_name",
    "middle_name",
    "phone",
    "email",
    "term_start",
    "term_end",
    "is_full_time",
    "elected_protocol",
    "notes",
    "created_at",
    "updated_at",
)
TRAINING_COLUMNS = ("chair_id", "title", "provider", "completed_on", "hours", "certificate_number", "created_at")


def _organizations_write(plan: UnionPlan, *, now: datetime.datetime) -> None:
    for org, pk in zip(plan.organizations, reserve_ids(Organization, len(plan.organizations)), strict=True):
        org.id = pk
    rows = (
        (
            org.id,
            org.parent.id,
            org.path,
            len(org.path) // PATH_SEGMENT_WIDTH,
            org.level,
            org.region_id,
            org.name,
            org.short_name,
            org.institution_type,
            org.inn,
            org.address,
            org.phone,
            org.email,
            "",
            org.employees_count,
            org.students_count,
            True,
            now,
            now,
        )
        for org in plan.organizations
    )
    write_rows(Organization, columns=ORGANIZATION_COLUMNS, rows=rows)
    _regional_passports_fill(plan)


def _regional_passports_fill(plan: UnionPlan) -> None:
    """Write the contacts planned for regional organisations (planning kept any field someone had filled)."""
    planned = {region.org.id: region.org for region in plan.regions}
    fields = ("inn", "address", "phone", "email")
    changed = []
    for org in Organization.objects.filter(pk__in=planned):
        if any(getattr(org, name) != getattr(planned[org.pk], name) for name in fields):
            for name in fields:
                setattr(org, name, getattr(planned[org.pk], name))
            changed.append(org)
    Organization.objects.bulk_update(changed, fields)


def _chairs_write(plan: UnionPlan, *, now: datetime.datetime) -> int:
    already_chaired = set(
        Chair.objects.filter(organization_id__in=[region.org.id for region in plan.regions]).values_list(
            "organization_id", flat=True
        )
    )
    chairs = [chair for chair in plan.chairs if chair.org.id not in already_chaired]
    for chair, pk in zip(chairs, reserve_ids(Chair, len(chairs)), strict=True):
        chair.id = pk
    rows = (
        (
            chair.id,
            chair.org.id,
            chair.last_name,
            chair.first_name,
            chair.middle_name,
            chair.phone,
            chair.email,
            chair.term_start,
            chair.term_end,
            chair.is_full_time,
            chair.elected_protocol,
            "",
            now,
            now,
        )
        for chair in chairs
    )
    write_rows(Chair, columns=CHAIR_COLUMNS, rows=rows)
    trainings = ((chair.id, *training, now) for chair in chairs for training in chair.trainings)
    write_rows(ChairTraining, columns=TRAINING_COLUMNS, rows=trainings)
    return len(chairs)


def _progress_every_tenth(rows: Iterator[tuple], *, total: int, say: Callable[[str], None]) -> Iterator[tuple]:
    step = max(1, total // 10)
    next_mark = step
    for done, row in enumerate(rows, start=1):
        yield row
        if done == next_mark:
            say(f"  членов Профсоюза: {_grouped(done)} из {_grouped(total)} ({done * 100 // total} %)")
            next_mark += step


@contextmanager
def _member_indexes_deferred(*, enabled: bool, report: "DemoSeedReport", say: Callable[[str], None]):
    """Drop the member table's indexes, unique constraints and foreign keys for the COPY, rebuild them after it.

    The definitions are read back from the catalogue (pg_get_indexdef, pg_get_constraintdef) and replayed under
    the same names, so the table ends exactly as the migrations left it. The primary key stays (other tables'
    foreign keys hang on it), and so does the cheap check constraint. All of it is one transaction: a failure
    rolls the drop back too.
    """
    if not enabled:
        yield
        return
    table = Member._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
            [table],
        )
        indexes = cursor.fetchall()
        # Unique constraints first, foreign keys after them; a unique key another table refers to is left alone.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint k "
            "WHERE conrelid = %s::regclass AND (contype = 'f' OR contype = 'u' AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = k.conindid AND r.conrelid <> k.conrelid"
            ")) ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()
        # Deferred checks queued by the organisation COPY would forbid altering the tables they touch.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    say("  индексы и ключи таблицы членов Профсоюза строятся заново…")
    with report.timed("member_indexes"), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _members_write(plan: UnionPlan, *, seed: int, now: datetime.datetime, report: "DemoSeedReport", say) -> None:
    total = sum(primary.member_count for primary in plan.primaries)
    ids = reserve_ids(Member, total)
    rows = demo_member_rows(plan=plan, seed=seed, created_at=now, first_id=ids.start if total else 1)
    if total >= PROGRESS_MIN_MEMBERS:
        rows = _progress_every_tenth(rows, total=total, say=say)
    with (
        _member_indexes_deferred(enabled=report.member_indexes_rebuilt, report=report, say=say),
        report.timed("members_copy"),
    ):
        write_rows(Member, columns=MEMBER_COLUMNS, rows=rows)


# ---------------------------------------------------------------------------------------------------------------
# Demo users
# ---------------------------------------------------------------------------------------------------------------


@functools.cache
def _demo_password_hash() -> str:
    # PBKDF2 is slow on purpose; seven users (and every test that seeds) share one hash.
    return make_password(DEMO_PASSWORD)


def _demo_users_write(plan: UnionPlan) -> int:
    regions = {region.code: region for region in plan.regions}
    accounts: list[tuple[str, str, int | None, tuple[str, str, str]]] = [
        ("central", Role.CENTRAL, plan.central.pk if plan.central else None, ("Смирнова", "Ирина", "Викторовна"))
    ]
    if MOSCOW_CODE in regions:
        accounts.append(("regional", Role.REGIONAL, regions[MOSCOW_CODE].org.id, ("Кузнецов", "Андрей", "Николаевич")))
    if SAINT_PETERSBURG_CODE in regions:
        accounts.append(
            ("regional2", Role.REGIONAL, regions[SAINT_PETERSBURG_CODE].org.id, ("Лебедева", "Ольга", "Сергеевна"))
        )
    if plan.demo_local is not None:
        accounts.append(("local", Role.LOCAL, plan.demo_local.id, ("Морозова", "Елена", "Александровна")))
    member = None
    if plan.demo_school is not None:
        # The chair user is the person on the school's current chair card.
        chair = next(chair for chair in reversed(plan.chairs) if chair.org is plan.demo_school)
        accounts.append(
            ("chair", Role.CHAIR, plan.demo_school.id, (chair.last_name, chair.first_name, chair.middle_name))
        )
        member = (
            Member.objects.filter(
                organization_id=plan.demo_school.id, status=Member.Status.ACTIVE, category=Category.WORKING
            )
            .order_by("id")
            .first()
        )
        if member is not None:
            accounts.append(("member", Role.MEMBER, None, (member.last_name, member.first_name, member.middle_name)))
    accounts.append(("cashier", Role.CASHIER, None, ("Соколов", "Дмитрий", "Игоревич")))
    users = {}
    for username, role, organization_id, (last_name, first_name, middle_name) in accounts:
        if role != Role.CASHIER and role != Role.MEMBER and organization_id is None:
            continue
        users[username], _created = User.objects.update_or_create(
            username=username,
            defaults={
                "password": _demo_password_hash(),
                "role": role,
                "organization_id": organization_id,
                "last_name": last_name,
                "first_name": first_name,
                "middle_name": middle_name,
                "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
                "is_active": True,
            },
        )
    if member is not None:
        member.user = users["member"]
        member.save(update_fields=["user", "updated_at"])
    return len(users)


def demo_logins() -> list[tuple[str, str, str]]:
    """(role in Russian, login, where) of each demo user present in the database, in DEMO_USERNAMES order."""
    users = {
        user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES).select_related("organization")
    }
    member_orgs = dict(
        Member.objects.filter(user__in=list(users.values()))
        .select_related("organization")
        .values_list("user_id", "organization__short_name")
    )
    rows = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        if user.organization is not None:
            where = user.organization.display_name
        elif user.pk in member_orgs:
            where = member_orgs[user.pk]
        else:
            where = "проверка карт у партнёра программы скидок"
        rows.append((str(Role(user.role).label), username, where))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------------------------


TOP_LEVEL_PHASES = ("regions", "plan", "organizations", "chairs", "members", "users", "analyze")


@dataclass
class DemoSeedReport:
    """What a seeding wrote and how long each phase took (seconds by phase), for the command and the benchmark."""

    members: int
    seed: int
    organizations: dict[str, int] = field(default_factory=dict)
    chairs: int = 0
    trainings: int = 0
    users: int = 0
    member_indexes_rebuilt: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str):
        started = time.perf_counter()
        yield
        self.seconds[phase] = time.perf_counter() - started

    @property
    def total_seconds(self) -> float:
        # "members" already contains its parts "members_copy" and "member_indexes".
        return sum(seconds for phase, seconds in self.seconds.items() if phase in TOP_LEVEL_PHASES)


def _grouped(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def demo_exists() -> bool:
    """The demo (or real data) is there: any member, or the `central` demo user."""
    return Member.objects.exists() or User.objects.filter(username="central").exists()


def demo_plan(*, members: int, seed: int) -> UnionPlan:
    """The union `demo_seed` would write, without writing it (the regional organisations must exist)."""
    return _Planner(members=members, seed=seed).plan()


def demo_seed(
    *,
    members: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
    rebuild_member_indexes: bool | None = None,
) -> DemoSeedReport:
    """Fill an empty register with the demo union of `members` members; the same seed gives the same union.

    `rebuild_member_indexes` (PostgreSQL only) drops and rebuilds the member indexes around the COPY; by default
    from INDEX_REBUILD_MIN_MEMBERS members on.
    """
    if members < 0:
        raise DemoSeedError("Число членов Профсоюза не может быть отрицательным.")
    say = progress or (lambda message: None)
    if rebuild_member_indexes is None:
        rebuild_member_indexes = members >= INDEX_REBUILD_MIN_MEMBERS
    report = DemoSeedReport(members=members, seed=seed, member_indexes_rebuilt=rebuild_member_indexes and uses_copy())
    now = timezone.now()
    with transaction.atomic():
        if Member.objects.exists():
            raise DemoSeedError(
                "В реестре уже есть члены Профсоюза: демонстрационные данные заводятся только в пустой реестр. "
                "Чтобы ничего не менять в заполненном реестре, добавьте --if-empty."
            )
        with report.timed("regions"):
            regions_load()
        if uses_copy():
            with connection.cursor() as cursor:
                # Paths are planned from what is there now: nobody may open an organisation until this commits.
                cursor.execute("LOCK TABLE registry_organization IN SHARE ROW EXCLUSIVE MODE")
        with report.timed("plan"):
            plan = demo_plan(members=members, seed=seed)
        say(f"Организаций: {_grouped(len(plan.organizations))}, председателей: {_grouped(len(plan.chairs))}.")
        with report.timed("organizations"):
            _organizations_write(plan, now=now)
        with report.timed("chairs"):
            report.chairs = _chairs_write(plan, now=now)
            report.trainings = sum(len(chair.trainings) for chair in plan.chairs if chair.id is not None)
        with report.timed("members"):
            _members_write(plan, seed=seed, now=now, report=report, say=say)
        with report.timed("users"):
            report.users = _demo_users_write(plan)
        if uses_copy():
            with report.timed("analyze"), connection.cursor() as cursor:
                # Fresh statistics, or the planner takes a four-million-row table for an empty one.
                cursor.execute(
                    "ANALYZE registry_organization, registry_chair, registry_chairtraining, membership_member"
                )
    for org in plan.organizations:
        report.organizations[org.level] = report.organizations.get(org.level, 0) + 1
    return report
