"""What the dashboards, the digitalisation progress and the passport's analysis show.

Every read here is of RollupSnapshot rows, never of the members table: a dashboard of the whole union costs the
same few queries as a dashboard of one primary organisation. Percentages are computed from absolute numbers (a
totals line from the sums of its rows), never averaged. Every function checks that the user may see the
organisation, so the exports can call the table builders directly. The dashboard's children table, hundreds of
rows at a region, is rendered once per snapshot build and kept in the project's cache (dashboard_children_html).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from registry.models import Organization
from registry.selectors import org_is_visible_to
from union_statistics.indicators import (
    AGE_GROUPS,
    END,
    LEFT_KEYS,
    TENURE_GROUPS,
    WOMEN,
    Figures,
    Period,
    figure,
    figures_derive,
    figures_sum,
    percent,
    sum_known,
    vector_to_figures,
)
from union_statistics.models import RollupSnapshot
from union_statistics.selectors import snapshots_with_current_build
from union_statistics.tables import INTEGER, PERCENT, TEXT, Column, StatTable

REGISTER = RollupSnapshot.Variant.REGISTER
ACCEPTED = RollupSnapshot.Variant.ACCEPTED


def _ensure_visible(user: User, org: Organization) -> None:
    if not org_is_visible_to(user, org):
        raise Http404


def snapshot_figures(snapshot: RollupSnapshot) -> Figures:
    """The snapshot's figures with the computed lines (totals, coverage) added."""
    return figures_derive(vector_to_figures(snapshot.vector))


def _left(figures: Figures) -> int | None:
    """Left the union in the year (voluntarily, excluded, other reasons); transfers inside the union are not leaving."""
    return sum_known(*(figure(figures, key) for key in LEFT_KEYS))


def _has_data(snapshot: RollupSnapshot) -> bool:
    """A rollup of accepted reports for a year without any accepted report is all zeros: not a figure to show."""
    return snapshot.variant != ACCEPTED or bool((snapshot.build.source or {}).get("accepted_reports"))


def snapshot_provenance(snapshot: RollupSnapshot) -> str:
    """«рассчитано 29.11.2026 03:00 по данным реестра на 29.11.2026»: when and from what the figures were built."""
    build = snapshot.build
    built_at = timezone.localtime(build.finished_at or build.started_at)
    when = date_format(built_at, "d.m.Y H:i")
    source = build.source or {}
    if snapshot.variant == REGISTER and source.get("register_end"):
        period = Period(
            year=snapshot.year,
            start=datetime.date.fromisoformat(source["register_start"]),
            end=datetime.date.fromisoformat(source["register_end"]),
        )
        return _("рассчитано %(when)s по данным реестра на %(date)s") % {
            "when": when,
            "date": date_format(period.end_label_date, "d.m.Y"),
        }
    if snapshot.variant == ACCEPTED:
        return _("рассчитано %(when)s по принятым отчётам (%(count)s)") % {
            "when": when,
            "count": source.get("accepted_reports", 0),
        }
    return _("рассчитано %(when)s") % {"when": when}


# ---------------------------------------------------------------------------------------------------------------
# Tables as pages and exports show them
# ---------------------------------------------------------------------------------------------------------------

DASHBOARD_COLUMNS = (
    Column("members", gettext_lazy("Членов Профсоюза")),
    Column("working_members", gettext_lazy("Работающих")),
    Column("student_members", gettext_lazy("Обучающихся")),
    Column("pensioners", gettext_lazy("Пенсионеров")),
    Column("coverage", gettext_lazy("Охват, %"), PERCENT),
    Column("youth_share", gettext_lazy("Молодёжь, %"), PERCENT),
    Column("women_share", gettext_lazy("Женщин, %"), PERCENT),
    Column("joined", gettext_lazy("Принято за год")),
    Column("left", gettext_lazy("Выбыло за год")),
    Column("cards_share", gettext_lazy("Эл. билеты, %"), PERCENT),
    Column("reports_accepted", gettext_lazy("Отчётов принято")),
    Column("reports_expected", gettext_lazy("Отчётов ожидается")),
)


def dashboard_row(figures: Figures) -> dict:
    """One organisation's line of the dashboard table, from its derived figures."""
    members = figure(figures, "members")
    return {
        "members": members,
        "working_members": figure(figures, "working_members"),
        "student_members": figure(figures, "student_members"),
        "pensioners": figure(figures, "pensioners"),
        "coverage": figure(figures, "coverage"),
        "youth_share": percent(figure(figures, "youth"), members),
        "women_share": percent(figure(figures, "members", WOMEN), members),
        "joined": figure(figures, "joined"),
        "left": _left(figures),
        "cards_share": percent(figure(figures, "cards_valid"), members),
        "reports_accepted": figure(figures, "reports_accepted"),
        "reports_expected": figure(figures, "reports_expected"),
    }


def _name_columns(org: Organization) -> list[Column]:
    columns = [Column("name", gettext_lazy("Организация"), TEXT)]
    if org.level == Organization.Level.CENTRAL:
        columns.append(Column("region", gettext_lazy("Субъект РФ"), TEXT))
    return columns


def _name_cells(child: Organization, *, with_region: bool) -> dict:
    # Badges are shown on the page, not exported: the name's (closed) and the region's (pilot of 2018).
    row = {"name": child.display_name, "name_badges": [_("закрыта")] if not child.is_active else []}
    if with_region:
        region = child.region
        row["region"] = region.name if region else ""
        row["region_badges"] = [_("пилот 2018")] if region and region.pilot_2018 else []
    return row


def _children_snapshots(*, org: Organization, year: int, variant: str) -> list[RollupSnapshot]:
    """The children's snapshots with what their rows show of the organisations. The build shown is the year's
    latest, the same for every row: read once, when the note asks for it, rather than joined to each row."""
    return list(
        RollupSnapshot.objects.filter(organization__parent=org, year=year, variant=variant)
        .select_related("organization__region")
        .only(
            "year",
            "variant",
            "figures",
            "build_id",
            "organization__name",
            "organization__short_name",
            "organization__is_active",
            "organization__region__name",
            "organization__region__pilot_2018",
        )
        .order_by("organization__name", "organization_id")
    )


def dashboard_url(org_id: int, *, year: int | None = None, variant: str | None = None) -> str:
    url = reverse("statistics:dashboard", args=[org_id])
    query = "&".join(f"{name}={value}" for name, value in (("year", year), ("variant", variant)) if value)
    return f"{url}?{query}" if query else url


def progress_url(org_id: int) -> str:
    return f"{reverse('statistics:progress')}?org={org_id}"


def dashboard_children_table(*, user: User, org: Organization, year: int, variant: str) -> StatTable:
    """The organisation's children, one row each, with a totals line of the sums (percentages from the sums)."""
    _ensure_visible(user, org)
    return _children_table(org=org, year=year, variant=variant)


def _children_table(*, org: Organization, year: int, variant: str) -> StatTable:
    snapshots = _children_snapshots(org=org, year=year, variant=variant)
    with_region = org.level == Organization.Level.CENTRAL
    table = StatTable(
        title=_("%(org)s: организации в составе, %(year)s год") % {"org": org.display_name, "year": year},
        columns=[*_name_columns(org), *DASHBOARD_COLUMNS],
    )
    children_figures = []
    for snapshot in snapshots:
        raw = vector_to_figures(snapshot.vector)
        children_figures.append(raw)
        child = snapshot.organization
        table.rows.append({**_name_cells(child, with_region=with_region), **dashboard_row(figures_derive(raw))})
        table.links.append(dashboard_url(child.pk, year=year, variant=variant))
    if snapshots:
        table.totals = {"name": _("Итого"), **dashboard_row(figures_derive(figures_sum(children_figures)))}
        table.note = snapshot_provenance(snapshots_with_current_build(snapshots[:1])[0])
    return table


PROGRESS_COLUMNS = (
    Column("rank", gettext_lazy("Место")),
    Column("name", gettext_lazy("Организация"), TEXT),
    Column("members", gettext_lazy("В реестре")),
    Column("reported_members", gettext_lazy("По последним отчётам")),
    Column("register_share", gettext_lazy("Внесено в реестр, %"), PERCENT),
    Column("cards_valid", gettext_lazy("Действующих эл. билетов")),
    Column("cards_share", gettext_lazy("Эл. билеты, %"), PERCENT),
    Column("plastic_issued", gettext_lazy("Выдано пластиковых")),
    Column("chairs_trained", gettext_lazy("Председателей обучено за 3 года")),
    Column("chairs", gettext_lazy("Председателей")),
    Column("chairs_trained_share", gettext_lazy("Обучено, %"), PERCENT),
    Column("passports_filled", gettext_lazy("Паспортов заполнено")),
    Column("primary_orgs", gettext_lazy("ППО")),
    Column("passports_share", gettext_lazy("Паспорта, %"), PERCENT),
)


def progress_row(figures: Figures) -> dict:
    members = figure(figures, "members")
    reported = figure(figures, "reported_members")
    chairs = figure(figures, "chairs")
    primary_orgs = figure(figures, "primary_orgs")
    return {
        "members": members,
        "reported_members": reported,
        "register_share": percent(members, reported),
        "cards_valid": figure(figures, "cards_valid"),
        "cards_share": percent(figure(figures, "cards_valid"), members),
        "plastic_issued": figure(figures, "plastic_issued"),
        "chairs_trained": figure(figures, "chairs_trained"),
        "chairs": chairs,
        "chairs_trained_share": percent(figure(figures, "chairs_trained"), chairs),
        "passports_filled": figure(figures, "passports_filled"),
        "primary_orgs": primary_orgs,
        "passports_share": percent(figure(figures, "passports_filled"), primary_orgs),
    }


def _latest_register_snapshot(org: Organization) -> RollupSnapshot | None:
    """The register snapshot of the current year, or of the latest year before it that has one."""
    snapshot = (
        RollupSnapshot.objects.filter(organization=org, variant=REGISTER, year__lte=timezone.localdate().year)
        .order_by("-year")
        .first()
    )
    return snapshots_with_current_build([snapshot])[0] if snapshot else None


def _progress_rank_key(row: dict):
    # Over 100 % means organisations without an accepted report, not a register more complete than complete.
    share, cards = row["register_share"], row["cards_share"]
    return (share is None, -min(share or 0, 100), cards is None, -(cards or 0), row["name"])


def _progress_table(*, org: Organization, snapshot: RollupSnapshot | None) -> StatTable:
    year = snapshot.year if snapshot else timezone.localdate().year
    table = StatTable(
        title=_("%(org)s: прогресс цифровизации, %(year)s год") % {"org": org.display_name, "year": year},
        columns=list(PROGRESS_COLUMNS),
    )
    if snapshot is None:
        return table
    snapshots = _children_snapshots(org=org, year=snapshot.year, variant=REGISTER)
    ranked = []
    for child_snapshot in snapshots:
        raw = vector_to_figures(child_snapshot.vector)
        child = child_snapshot.organization
        row = {**_name_cells(child, with_region=False), **progress_row(figures_derive(raw))}
        ranked.append((row, raw, progress_url(child.pk)))
    # Ranked by how much of the last reports' membership is in the register: the one share every other depends on.
    ranked.sort(key=lambda item: _progress_rank_key(item[0]))
    for rank, (row, _raw, link) in enumerate(ranked, start=1):
        row["rank"] = rank
        table.rows.append(row)
        table.links.append(link)
    if ranked:
        table.totals = {"name": _("Итого"), **progress_row(figures_derive(figures_sum(raw for _r, raw, _l in ranked)))}
    table.note = _(
        "Места — по доле членов Профсоюза, внесённых в реестр, от численности по последним принятым отчётам "
        "(больше 100 % считается как 100 %: в реестре есть организации без принятого отчёта); при равенстве "
        "или без принятых отчётов — по доле действующих электронных билетов."
    )
    table.note += " " + snapshot_provenance(snapshot)
    return table


def progress_table(*, user: User, org: Organization) -> StatTable:
    """Digitalisation progress of the organisation's children, ranked by register completeness."""
    _ensure_visible(user, org)
    return _progress_table(org=org, snapshot=_latest_register_snapshot(org))


# ---------------------------------------------------------------------------------------------------------------
# Cards and charts
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Kpi:
    label: str
    value: int | Decimal | None
    kind: str = INTEGER
    detail: str = ""
    icon: str = "bi-bar-chart"


def _number(value: int | None) -> str:
    return "—" if value is None else intcomma(value)


def _members_share_kpi(label: str, figures: Figures, key: str, column: int = END, *, icon: str) -> Kpi:
    """A part of the members: its share of all members, and how many people it is."""
    part = figure(figures, key, column)
    return Kpi(
        label,
        percent(part, figure(figures, "members")),
        PERCENT,
        _("%(count)s чел.") % {"count": _number(part)},
        icon=icon,
    )


def _chart_number(value) -> float | int | None:
    return float(value) if isinstance(value, Decimal) else value


def _dataset(label, values) -> dict:
    return {"label": str(label), "data": [_chart_number(value) for value in values]}


def categories_chart(figures: Figures) -> dict:
    keys = (
        ("working_members", _("Работающие")),
        ("student_members", _("Обучающиеся")),
        ("pensioners", _("Неработающие пенсионеры")),
        ("unemployed", _("Временно неработающие")),
    )
    return {
        "type": "doughnut",
        "labels": [label for _key, label in keys],
        "datasets": [_dataset(_("Членов Профсоюза"), [figure(figures, key) or 0 for key, _label in keys])],
    }


def _groups_chart(figures: Figures, groups, label: str, *, horizontal: bool = False) -> dict:
    return {
        "type": "bar",
        "horizontal": horizontal,
        "labels": [str(group_label) for _key, group_label, *_rest in groups],
        "datasets": [_dataset(label, [figure(figures, key) or 0 for key, *_rest in groups])],
    }


def age_chart(figures: Figures, *, horizontal: bool = False) -> dict:
    return _groups_chart(figures, AGE_GROUPS, _("Членов Профсоюза"), horizontal=horizontal)


def tenure_chart(figures: Figures, *, horizontal: bool = False) -> dict:
    return _groups_chart(figures, TENURE_GROUPS, _("Членов Профсоюза"), horizontal=horizontal)


def _trend_charts(by_year: dict[int, Figures]) -> dict:
    years = sorted(by_year)
    rows = [dashboard_row(by_year[year]) for year in years]
    labels = [str(year) for year in years]
    return {
        "trend": {
            "type": "line",
            "labels": labels,
            "datasets": [
                _dataset(_("Членов на конец года"), [row["members"] for row in rows]),
                _dataset(_("Принято"), [row["joined"] for row in rows]),
                _dataset(_("Выбыло"), [row["left"] for row in rows]),
            ],
        },
        "shares": {
            "type": "line",
            "percent": True,
            "labels": labels,
            "datasets": [
                _dataset(_("Эл. билеты"), [row["cards_share"] for row in rows]),
                _dataset(_("Молодёжь до 35 лет"), [row["youth_share"] for row in rows]),
                _dataset(_("Женщины"), [row["women_share"] for row in rows]),
                _dataset(_("Охват"), [row["coverage"] for row in rows]),
            ],
        },
    }


def dashboard_kpis(figures: Figures) -> list[Kpi]:
    row = dashboard_row(figures)
    members = row["members"]
    return [
        Kpi(_("Членов Профсоюза"), members, detail=_("на конец периода"), icon="bi-people"),
        Kpi(
            _("Охват членством"),
            row["coverage"],
            PERCENT,
            _("%(members)s из %(total)s работающих и обучающихся")
            % {"members": _number(figure(figures, "total_members")), "total": _number(figure(figures, "total"))}
            if figure(figures, "total")
            else _("численность работающих и обучающихся не указана в паспортах организаций"),
            icon="bi-pie-chart",
        ),
        _members_share_kpi(_("Молодёжь до 35 лет"), figures, "youth", icon="bi-mortarboard"),
        _members_share_kpi(_("Женщины"), figures, "members", WOMEN, icon="bi-gender-female"),
        Kpi(
            _("Принято за год"),
            row["joined"],
            detail=_("выбыло %(left)s") % {"left": _number(row["left"])},
            icon="bi-arrow-left-right",
        ),
        Kpi(
            _("Электронные билеты"),
            row["cards_share"],
            PERCENT,
            _("%(cards)s действующих") % {"cards": _number(figure(figures, "cards_valid"))},
            icon="bi-credit-card-2-front",
        ),
        Kpi(
            _("Отчёты приняты"),
            percent(row["reports_accepted"], row["reports_expected"]),
            PERCENT,
            _("%(accepted)s из %(expected)s")
            % {"accepted": _number(row["reports_accepted"]), "expected": _number(row["reports_expected"])},
            icon="bi-clipboard-check",
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Live counters: members now, joined this month, valid cards
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class LiveCounters:
    members: int | None
    joined_month: int | None
    cards_valid: int | None
    provenance: str
    snapshot_id: int


def _live_counters(snapshot: RollupSnapshot | None) -> LiveCounters | None:
    """From the current year's register snapshot, rebuilt every night: no member is counted per page view."""
    if snapshot is None:
        return None
    figures = vector_to_figures(snapshot.vector)
    return LiveCounters(
        members=figure(figures, "members"),
        joined_month=figure(figures, "joined_month"),
        cards_valid=figure(figures, "cards_valid"),
        provenance=snapshot_provenance(snapshot),
        snapshot_id=snapshot.pk,
    )


# ---------------------------------------------------------------------------------------------------------------
# The dashboard page
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    org: Organization
    year: int
    variant: str
    years: list[int]
    snapshot: RollupSnapshot | None
    kpis: list[Kpi]
    charts: dict
    counters: LiveCounters | None
    provenance: str

    @property
    def variant_label(self) -> str:
        return RollupSnapshot.Variant(self.variant).label

    @cached_property
    def children(self) -> StatTable:
        """Read when first asked for: a page whose table is in the cache never reads the children's snapshots."""
        return _children_table(org=self.org, year=self.year, variant=self.variant)


def dashboard(*, user: User, org: Organization, year: int | None, variant: str) -> Dashboard:
    """The organisation's figures of a year in one variant, its trend over the years and its children.

    One query: the organisation's snapshots of every year and variant; the children's table is read on demand
    (Dashboard.children, dashboard_children_html).
    """
    _ensure_visible(user, org)
    own = snapshots_with_current_build(RollupSnapshot.objects.filter(organization=org).order_by("year"))
    of_variant = {snapshot.year: snapshot for snapshot in own if snapshot.variant == variant and _has_data(snapshot)}
    years = sorted(of_variant, reverse=True)
    this_year = timezone.localdate().year
    if year is None:
        year = years[0] if years else this_year
    snapshot = of_variant.get(year)
    by_year = {snapshot_year: snapshot_figures(item) for snapshot_year, item in of_variant.items()}
    figures = by_year.get(year)
    register_now = next(
        (item for item in own if item.variant == REGISTER and item.year == this_year),
        None,
    )
    charts = _trend_charts(by_year) if by_year else {}
    if figures is not None:
        charts["categories"] = categories_chart(figures)
        charts["age"] = age_chart(figures)
    return Dashboard(
        org=org,
        year=year,
        variant=variant,
        years=years,
        snapshot=snapshot,
        kpis=dashboard_kpis(figures) if figures is not None else [],
        charts=charts,
        counters=_live_counters(register_now),
        provenance=snapshot_provenance(snapshot) if snapshot else "",
    )


STAT_TABLE_TEMPLATE = "union_statistics/includes/stat_table.html"
# Snapshot rows never change within a build, so the key is exact; the time only bounds what stale keys occupy.
CHILDREN_CACHE_SECONDS = 24 * 60 * 60


def _children_cache_key(board: Dashboard) -> str:
    """What the rendered children's table depends on: the build of the figures (its id, and its digest and time
    so that a database rebuilt from scratch, whose ids start again, never meets a table of the old one), what the
    registry says of the children (names, closures, regions, pilot flags: they change without a rollup), the
    language and the time zone."""
    build = board.snapshot.build
    registry = Organization.objects.filter(parent=board.org).order_by("id")
    names = registry.values_list("id", "name", "short_name", "is_active", "region__name", "region__pilot_2018")
    content = repr((list(names), build.digest, (build.finished_at or build.started_at).isoformat()))
    return ":".join(
        (
            "statistics:dashboard-children:v1",
            str(board.org.pk),
            str(board.year),
            board.variant,
            str(build.pk),
            get_language() or "",
            timezone.get_current_timezone_name(),
            hashlib.sha256(content.encode()).hexdigest()[:32],
        )
    )


def dashboard_children_html(board: Dashboard) -> SafeString:
    """The children's sortable table as HTML, from the project's cache when this build was shown already.

    The caller has checked that the user may see the organisation; the table is the same for everyone who may.
    """
    if board.snapshot is None:
        return render_to_string(STAT_TABLE_TEMPLATE, {"table": board.children})
    key = _children_cache_key(board)
    html = cache.get(key)
    if html is None:
        html = render_to_string(STAT_TABLE_TEMPLATE, {"table": board.children})
        cache.set(key, str(html), CHILDREN_CACHE_SECONDS)
    return mark_safe(html)  # rendered by the template above, with autoescaping


# ---------------------------------------------------------------------------------------------------------------
# Digitalisation progress
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    org: Organization
    snapshot: RollupSnapshot | None
    kpis: list[Kpi]
    table: StatTable
    provenance: str


def progress_kpis(figures: Figures) -> list[Kpi]:
    row = progress_row(figures)
    return [
        Kpi(
            _("Внесено в реестр"),
            row["register_share"],
            PERCENT,
            _("%(members)s из %(reported)s по последним отчётам")
            % {"members": _number(row["members"]), "reported": _number(row["reported_members"])}
            if row["reported_members"]
            else _("%(members)s в реестре; принятых отчётов ещё нет") % {"members": _number(row["members"])},
            icon="bi-database-check",
        ),
        Kpi(
            _("Электронные билеты"),
            row["cards_share"],
            PERCENT,
            _("%(cards)s действующих") % {"cards": _number(row["cards_valid"])},
            icon="bi-credit-card-2-front",
        ),
        Kpi(_("Пластиковых билетов выдано"), row["plastic_issued"], icon="bi-credit-card"),
        Kpi(
            _("Председатели с обучением за 3 года"),
            row["chairs_trained_share"],
            PERCENT,
            _("%(trained)s из %(chairs)s")
            % {"trained": _number(row["chairs_trained"]), "chairs": _number(row["chairs"])},
            icon="bi-person-badge",
        ),
        Kpi(
            _("Паспорта ППО заполнены"),
            row["passports_share"],
            PERCENT,
            _("%(filled)s из %(orgs)s")
            % {"filled": _number(row["passports_filled"]), "orgs": _number(row["primary_orgs"])},
            icon="bi-card-text",
        ),
    ]


def progress(*, user: User, org: Organization) -> Progress:
    _ensure_visible(user, org)
    snapshot = _latest_register_snapshot(org)
    table = _progress_table(org=org, snapshot=snapshot)
    return Progress(
        org=org,
        snapshot=snapshot,
        kpis=progress_kpis(snapshot_figures(snapshot)) if snapshot else [],
        table=table,
        provenance=snapshot_provenance(snapshot) if snapshot else "",
    )


# ---------------------------------------------------------------------------------------------------------------
# The passport page's analysis of the members (a panel registry shows; see apps.py)
# ---------------------------------------------------------------------------------------------------------------

PASSPORT_PANEL_TEMPLATE = "union_statistics/includes/passport_panel.html"


def org_passport_panel(user: User, org: Organization) -> tuple[str, dict] | None:
    """Age groups, categories, teaching staff, youth, women and years in the union from the register snapshot."""
    if not org_is_visible_to(user, org):
        return None
    snapshot = _latest_register_snapshot(org)
    if snapshot is None:
        return PASSPORT_PANEL_TEMPLATE, {"snapshot": None, "dashboard_url": dashboard_url(org.pk)}
    figures = snapshot_figures(snapshot)
    members = figure(figures, "members")
    kpis = [
        Kpi(_("Членов Профсоюза"), members, icon="bi-people"),
        _members_share_kpi(_("Педагогические работники"), figures, "teaching", icon="bi-easel"),
        _members_share_kpi(_("Молодёжь до 35 лет"), figures, "youth", icon="bi-mortarboard"),
        _members_share_kpi(_("Женщины"), figures, "members", WOMEN, icon="bi-gender-female"),
    ]
    return PASSPORT_PANEL_TEMPLATE, {
        "snapshot": snapshot,
        "kpis": kpis,
        "charts": {
            "categories": categories_chart(figures),
            "age": age_chart(figures, horizontal=True),
            "tenure": tenure_chart(figures, horizontal=True),
        },
        "provenance": snapshot_provenance(snapshot),
        "dashboard_url": dashboard_url(org.pk, year=snapshot.year, variant=REGISTER),
    }


MY_CABINET_PANEL_TEMPLATE = "union_statistics/includes/my_cabinet_counters.html"


def member_cabinet_panel(user: User, member) -> tuple[str, dict] | None:
    """The member's home page: the live counters of the member's primary organisation, from its snapshot."""
    org = member.organization
    if org.level == Organization.Level.UNIT:
        org = Organization.objects.ancestors_of(org).filter(level=Organization.Level.PRIMARY).last() or org
    counters = _live_counters(_latest_register_snapshot(org))
    if counters is None:
        return None
    return MY_CABINET_PANEL_TEMPLATE, {"counters": counters, "organization": org}
