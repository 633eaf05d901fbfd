"""The agency's indicators (issue 12 §5): visits and opportunities per month, by offre, by
statut (the funnel), by département and by typologie, over a period and a zone.

Seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) »: the monthly meeting
follows « l'état d'avancement des actions de chacun, suivi du déploiement », its « documentation
de base » being the deployment file; these counts are that follow-up at a glance, per zone. One
aggregation, two sources: the laptop's store (`store.indicators`, two plain queries, counted)
and the tracking rows of the laptop or the central (`records_from_rows`), so the Indicateurs
screen and the HTML charts (`documents.charts_html`) never disagree.

Pure: no I/O, no Textual; `today` is passed in (the app's injectable clock).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

# The offers in the order of the classification (simple → complexe → Dossiers).
OFFER_ORDER = ("discussions_simple", "discussions_complexe", "dossiers")
ZONES: tuple[str | None, ...] = (None, "Est", "Ouest")  # the territory's sectors; None: the whole region
ALL_ZONES = "Toutes"
FRENCH_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
# « Tout » over more than this many months is drawn per year: ten years of history stay readable.
MAX_MONTHS_SHOWN = 24


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    label: str
    months: int | None  # None: everything recorded


PERIODS: tuple[Period, ...] = (
    Period("3m", "3 derniers mois", 3),
    Period("12m", "12 derniers mois", 12),
    Period("tout", "Tout", None),
)


class OpportunityRecord(NamedTuple):
    """What the indicators need of an opportunity (or of `count` identical ones: the store groups).
    A named tuple, not a frozen dataclass: thousands are made each time the screen opens."""

    month: str  # the visit's « AAAA-MM »; "" when the date is unknown
    offer: str
    status: str
    departement: str  # code
    departement_name: str
    typologie: str
    zone: str  # the département's sector, "" when unknown
    count: int = 1


class VisitRecord(NamedTuple):
    """Finished visits of one month and département (with or without an opportunity)."""

    month: str
    departement: str
    zone: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Bar:
    key: str  # the month « AAAA-MM », the offer, status, département code or typologie
    label: str  # as shown
    value: int


@dataclass(frozen=True, slots=True)
class Indicators:
    period: Period
    zone: str | None
    today: dt.date
    per_year: bool  # the time series are per year (« Tout » over a long history), not per month
    visits: tuple[Bar, ...]  # per month (or year), oldest first, empty months included
    opportunities: tuple[Bar, ...]
    by_offer: tuple[Bar, ...]
    by_status: tuple[Bar, ...]  # the lifecycle's order: the funnel
    by_departement: tuple[Bar, ...]
    by_typologie: tuple[Bar, ...]  # the most frequent first
    # Every one kept by the filters: under « Tout », those with an unreadable date too (in no month).
    total_visits: int
    total_opportunities: int

    @property
    def zone_label(self) -> str:
        return self.zone or ALL_ZONES

    @property
    def time_unit(self) -> str:
        return "année" if self.per_year else "mois"


def compute(records: Iterable[OpportunityRecord], visits: Iterable[VisitRecord],
            statuses: Sequence[tuple[str, str]], today: dt.date, period: Period = PERIODS[0],
            zone: str | None = None, offer_labels: Mapping[str, str] | None = None) -> Indicators:
    """Every figure over `period` (ending with `today`'s month) and `zone` (None: the region).

    `statuses`: (id, label) of the lifecycle's statuses, in its order — the funnel keeps it,
    statuses the lifecycle does not know (an older playbook) come after. An opportunity or a
    visit falls in the month of its visit; one whose date is unknown counts only under « Tout »,
    one dated after `today`'s month (a typing slip) in no period: it has not happened yet."""
    last = _month(today)
    first = _shift(last, -(period.months - 1)) if period.months else None
    opportunities = [r for r in records if _kept(r.month, r.zone, first, last, zone, period)]
    finished = [v for v in visits if _kept(v.month, v.zone, first, last, zone, period)]
    if first is None:  # « Tout »: from the oldest month recorded
        first = min((m for m in (*(r.month for r in opportunities), *(v.month for v in finished)) if m),
                    default=last)
    months = _months(first, last)
    per_year = len(months) > MAX_MONTHS_SHOWN
    labels = offer_labels if offer_labels is not None else _offer_labels()

    def series(counts: Counter) -> tuple[Bar, ...]:
        if per_year:
            years = Counter()
            for month, value in counts.items():
                years[month[:4]] += value
            return tuple(Bar(y, y, years[y]) for y in sorted({m[:4] for m in months}))
        return tuple(Bar(m, month_label(m), counts[m]) for m in months)

    visit_months: Counter = Counter()
    for v in finished:
        visit_months[v.month] += v.count
    opp_months: Counter = Counter()
    offers: Counter = Counter()
    by_status: Counter = Counter()
    departements: Counter = Counter()
    names: dict[str, str] = {}
    typologies: Counter = Counter()
    for r in opportunities:
        opp_months[r.month] += r.count
        offers[r.offer] += r.count
        by_status[r.status] += r.count
        departements[r.departement] += r.count
        names.setdefault(r.departement, r.departement_name)
        typologies[r.typologie] += r.count
    known = [s for s, _ in statuses]
    funnel = [Bar(s, label, by_status[s]) for s, label in statuses]
    funnel += [Bar(s, s, by_status[s]) for s in sorted(by_status) if s not in known]
    offer_keys = [o for o in OFFER_ORDER if o in offers] + sorted(o for o in offers if o not in OFFER_ORDER)
    return Indicators(
        period=period, zone=zone, today=today, per_year=per_year,
        visits=series(visit_months), opportunities=series(opp_months),
        by_offer=tuple(Bar(o, labels.get(o, o), offers[o]) for o in offer_keys),
        by_status=tuple(funnel),
        by_departement=tuple(Bar(d, f"{d} {names[d]}".strip() if names[d] != d else d, departements[d])
                             for d in sorted(departements)),
        by_typologie=tuple(Bar(t, t or "(sans typologie)", n)
                           for t, n in sorted(typologies.items(), key=lambda item: (-item[1], item[0]))),
        total_visits=sum(visit_months.values()), total_opportunities=sum(opp_months.values()),
    )


@dataclass(frozen=True, slots=True)
class Figure:
    """One chart: what it is called, what its bars count, and the column heading of its labels."""

    key: str
    title: str
    heading: str  # « Mois », « Statut »…
    bars: tuple[Bar, ...]
    largest: int  # the scale: per-month visits and opportunities share theirs, to be compared


def figures(indicators: Indicators) -> tuple[Figure, ...]:
    """The charts in the order shown, titled in French: the screen and the HTML outputs draw these."""
    unit = indicators.time_unit
    heading = "Année" if indicators.per_year else "Mois"
    per_time = max((b.value for b in (*indicators.visits, *indicators.opportunities)), default=0)

    def own(bars: tuple[Bar, ...]) -> int:
        return max((b.value for b in bars), default=0)

    return (
        Figure("visites", f"Visites terminées par {unit}", heading, indicators.visits, per_time),
        Figure("opportunites", f"Opportunités par {unit} de visite", heading, indicators.opportunities, per_time),
        Figure("statut", "Opportunités par statut", "Statut", indicators.by_status, own(indicators.by_status)),
        Figure("offre", "Opportunités par offre SPICO", "Offre", indicators.by_offer, own(indicators.by_offer)),
        Figure("departement", "Opportunités par département", "Département", indicators.by_departement,
               own(indicators.by_departement)),
        Figure("typologie", "Opportunités par typologie", "Typologie", indicators.by_typologie,
               own(indicators.by_typologie)),
    )


def count_text(number: int, one: str, many: str) -> str:
    """« 0 visite terminée », « 1 opportunité », « 12 opportunités » (French: 0 and 1 are singular)."""
    return f"{number} {one if number <= 1 else many}"


def records_from_rows(rows: Iterable) -> list[OpportunityRecord]:
    """The input records of `domain.tracking.TrackingRow`s: the central's (or the laptop's
    tracking file's) opportunities go through the same aggregation as the store's."""
    return [OpportunityRecord(month=row.visit_date.strftime("%Y-%m") if row.visit_date else "",
                              offer=row.offer, status=row.status, departement=row.departement,
                              departement_name=row.departement_name, typologie=row.typologie, zone=row.zone)
            for row in rows]


def visits_from_rows(rows: Iterable) -> list[VisitRecord]:
    """The visits that opened these rows' opportunities: what a source without the visits
    themselves (the central's tracking rows) knows of the visits per month."""
    return [VisitRecord(month=row.visit_date.strftime("%Y-%m") if row.visit_date else "",
                        departement=row.departement, zone=row.zone) for row in rows]


def indicators_from_rows(rows: Iterable, lifecycle, today: dt.date, period: Period = PERIODS[1],
                         zone: str | None = None) -> Indicators:
    """The indicators of tracking rows (the central's, a region's file): the visits are those
    that opened the rows' opportunities. For the HTML outputs (`documents.charts_html`)."""
    rows = list(rows)
    return compute(records_from_rows(rows), visits_from_rows(rows), statuses_of(lifecycle), today, period, zone)


def statuses_of(lifecycle) -> list[tuple[str, str]]:
    """(id, label) of a `domain.lifecycle.Lifecycle`'s statuses in its order (none without one)."""
    return [(s.id, s.label) for s in lifecycle.statuses] if lifecycle is not None else []


def month_of(day: str | None) -> str:
    """« AAAA-MM » of a stored ISO day, "" when it is not one."""
    try:
        return dt.date.fromisoformat(day).strftime("%Y-%m") if day else ""
    except (TypeError, ValueError):
        return ""


def month_label(month: str) -> str:
    """« nov. 2026 » for « 2026-11 »."""
    year, number = month.split("-")
    return f"{FRENCH_MONTHS[int(number) - 1]} {year}"


def next_period(period: Period) -> Period:
    return PERIODS[(PERIODS.index(period) + 1) % len(PERIODS)]


def next_zone(zone: str | None) -> str | None:
    return ZONES[(ZONES.index(zone) + 1) % len(ZONES)] if zone in ZONES else None


def _kept(month: str, record_zone: str, first: str | None, last: str, zone: str | None, period: Period) -> bool:
    if zone is not None and record_zone != zone:
        return False
    if not month:
        return period.months is None
    return month <= last and (first is None or first <= month)


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _shift(month: str, months: int) -> str:
    year, number = int(month[:4]), int(month[5:7]) - 1 + months
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _months(first: str, last: str) -> list[str]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = _shift(current, 1)
    return months


def _offer_labels() -> dict[str, str]:
    """« Discussions simple », « Discussions complexe », « Dossiers »: every offer is SPICO's,
    the charts' titles say so once."""
    from at_tui.domain.classification import OFFER_LABELS

    return {offer.value: label.removeprefix("SPICO ") for offer, label in OFFER_LABELS.items()}
