from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registry.inn import validate_inn

# Materialised path: every node's path is its parent's path plus a fixed-width decimal segment.
# Decimal digits only, so that the byte order equals the collation order on every database and
# a subtree is a plain index range scan: path >= node.path AND path < next_sibling_bound(node.path).
PATH_SEGMENT_WIDTH = 5
PATH_SEGMENT_MAX = 10**PATH_SEGMENT_WIDTH - 2  # keeps the upper bound of the last child inside the width


# The central council is the root (depth 1); regional organisations are its children.
REGIONAL_DEPTH = 2


def path_upper_bound(path: str) -> str:
    """The smallest path that sorts after every descendant of `path` (its next sibling's path)."""
    head, last = path[:-PATH_SEGMENT_WIDTH], int(path[-PATH_SEGMENT_WIDTH:])
    return f"{head}{last + 1:0{PATH_SEGMENT_WIDTH}d}"


class Region(models.Model):
    """Субъект Российской Федерации (85 записей из regions.csv)."""

    code = models.CharField(_("код"), max_length=2, unique=True, validators=[RegexValidator(r"^\d{2}$")])
    name = models.CharField(_("название"), max_length=128)
    federal_district = models.CharField(_("федеральный округ"), max_length=8)
    pilot_2018 = models.BooleanField(_("в пилоте 2018 года"), default=False)

    class Meta:
        verbose_name = _("субъект РФ")
        verbose_name_plural = _("субъекты РФ")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OrganizationQuerySet(models.QuerySet):
    def subtree_of(self, org: "Organization", *, include_self: bool = True) -> "OrganizationQuerySet":
        qs = self.filter(path__gte=org.path, path__lt=path_upper_bound(org.path))
        return qs if include_self else qs.exclude(pk=org.pk)

    def ancestors_of(self, org: "Organization") -> "OrganizationQuerySet":
        prefixes = [org.path[:end] for end in range(PATH_SEGMENT_WIDTH, len(org.path), PATH_SEGMENT_WIDTH)]
        return self.filter(path__in=prefixes).order_by("depth")

    def active(self) -> "OrganizationQuerySet":
        return self.filter(is_active=True)


class Organization(models.Model):
    """Организация Профсоюза любого уровня: центральный совет, региональная, местная, первичная (ППО), профбюро."""

    class Level(models.TextChoices):
        CENTRAL = "central", _("Центральный совет")
        REGIONAL = "regional", _("Региональная организация")
        LOCAL = "local", _("Местная (территориальная) организация")
        PRIMARY = "primary", _("Первичная профсоюзная организация")
        UNIT = "unit", _("Профбюро / профгруппа")

    class InstitutionType(models.TextChoices):
        SCHOOL = "school", _("Школа")
        KINDERGARTEN = "kindergarten", _("Детский сад")
        COLLEGE = "college", _("Колледж, техникум")
        UNIVERSITY = "university", _("Вуз")
        ADDITIONAL = "additional", _("Дополнительное образование")
        MANAGEMENT = "management", _("Орган управления образованием")
        OTHER = "other", _("Другое")

    # Which levels may hang under which: the depth is not fixed (a university's ППО "with territorial
    # rights" sits directly under its region, a region may have no local level).
    ALLOWED_PARENT_LEVELS = {
        Level.CENTRAL: set(),
        Level.REGIONAL: {Level.CENTRAL},
        Level.LOCAL: {Level.REGIONAL},
        Level.PRIMARY: {Level.REGIONAL, Level.LOCAL},
        Level.UNIT: {Level.PRIMARY, Level.UNIT},
    }

    parent = models.ForeignKey(
        "self",
        verbose_name=_("вышестоящая организация"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # unique=True gives the B-tree index that every subtree range scan uses.
    path = models.CharField(_("путь в дереве"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("глубина"), editable=False)
    level = models.CharField(_("уровень"), max_length=16, choices=Level.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("субъект РФ"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("полное название"), max_length=500)
    short_name = models.CharField(_("краткое название"), max_length=200, blank=True)
    institution_type = models.CharField(_("тип учреждения"), max_length=16, choices=InstitutionType.choices, blank=True)
    inn = models.CharField(_("ИНН"), max_length=12, blank=True, validators=[validate_inn])
    address = models.CharField(_("адрес"), max_length=500, blank=True)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("сайт"), blank=True)
    employees_count = models.PositiveIntegerField(
        _("работников в учреждении"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    students_count = models.PositiveIntegerField(
        _("обучающихся в учреждении"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    is_active = models.BooleanField(_("действует"), default=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("организация")
        verbose_name_plural = _("организации")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "name"], name="org_children_by_name"),
            models.Index(fields=["level", "region"], name="org_level_region"),
            models.Index(fields=["inn"], name="org_inn"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:org_detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_primary(self) -> bool:
        return self.level == self.Level.PRIMARY

    @property
    def has_territorial_rights(self) -> bool:
        """ППО с правами территориальной: стоит прямо под региональной организацией."""
        return self.level == self.Level.PRIMARY and self.depth == REGIONAL_DEPTH + 1

    def is_in_subtree_of(self, other: "Organization") -> bool:
        return self.path.startswith(other.path)

    def ancestor_paths(self) -> list[str]:
        """Paths of the organisation and of everything above it, from the top."""
        return [self.path[:end] for end in range(PATH_SEGMENT_WIDTH, len(self.path) + 1, PATH_SEGMENT_WIDTH)]


class Chair(models.Model):
    """Учётная карточка председателя: кто возглавляет организацию, срок полномочий, обучение."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("организация"), on_delete=models.CASCADE, related_name="chairs"
    )
    last_name = models.CharField(_("фамилия"), max_length=150)
    first_name = models.CharField(_("имя"), max_length=150)
    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    term_start = models.DateField(_("начало полномочий"))
    term_end = models.DateField(_("окончание полномочий"), null=True, blank=True)
    is_full_time = models.BooleanField(_("освобождённый председатель"), default=False)
    elected_protocol = models.CharField(_("протокол избрания"), max_length=200, blank=True)
    notes = models.TextField(_("примечания"), blank=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    class Meta:
        verbose_name = _("учётная карточка председателя")
        verbose_name_plural = _("картотека председателей")
        ordering = ["organization__path", "-term_start"]
        indexes = [
            models.Index(fields=["organization", "-term_start"], name="chair_org_term"),
            models.Index(fields=["term_end"], name="chair_term_end"),
            models.Index(fields=["last_name", "first_name"], name="chair_name"),
        ]
        constraints = [
            models.CheckConstraint(
                name="chair_term_end_after_start",
                condition=models.Q(term_end__isnull=True) | models.Q(term_end__gte=models.F("term_start")),
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("registry:chair_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def is_current_on(self, day) -> bool:
        return self.term_start <= day and (self.term_end is None or self.term_end >= day)


class ChairTraining(models.Model):
    """Запись об обучении председателя (курсы, семинары, школы профактива)."""

    chair = models.ForeignKey(Chair, verbose_name=_("председатель"), on_delete=models.CASCADE, related_name="trainings")
    title = models.CharField(_("программа обучения"), max_length=300)
    provider = models.CharField(_("кто проводил"), max_length=300, blank=True)
    completed_on = models.DateField(_("дата окончания"))
    hours = models.PositiveSmallIntegerField(_("часов"), null=True, blank=True)
    certificate_number = models.CharField(_("номер удостоверения"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("добавлена"), auto_now_add=True)

    class Meta:
        verbose_name = _("обучение председателя")
        verbose_name_plural = _("обучение председателей")
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return f"{self.title} ({self.completed_on:%d.%m.%Y})"
