"""« Indicateurs » (issue 12 §5): visits and opportunities per month, the funnel of statuses,
offers, départements and typologies of this laptop, as bars with their numbers.

What the monthly CM–AT meeting looks at per zone (seed 000, « Gouvernance — POINT CM - AT
1x/mois / zone (Est/Ouest) »). `p` cycles the period (3 derniers mois, 12 derniers mois,
Tout), `z` the zone (Toutes, Est, Ouest); Échap returns. Thin: the store reads the grouped
records once (`store.indicators`), `domain.indicators.compute` does the rest for each
filter without reading the database again; the charts scroll at 80×24 and stand two by two
from 110 columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.indicators import (
    PERIODS,
    ZONES,
    Indicators,
    Period,
    compute,
    count_text,
    figures,
    next_period,
    next_zone,
    statuses_of,
)
from at_tui.widgets.charts import BarChart
from at_tui.widgets.key_bar import KeyBar

WIDE = 110  # from this width, two charts side by side
DEFAULT_PERIOD = PERIODS[1]  # « 12 derniers mois »
EMPTY = "Aucune sur cette période."


class IndicatorsScreen(Screen):
    AUTO_FOCUS = "#indicators-charts"  # ↓ ↑ and the page keys scroll the charts
    BINDINGS = [
        Binding("p", "cycle_period", "Période", id="indicators.period"),
        Binding("z", "cycle_zone", "Zone", id="indicators.zone"),
        Binding("escape", "close", "Retour", id="indicators.close"),
    ]

    DEFAULT_CSS = """
    IndicatorsScreen #indicators-title { margin: 1 2 0 2; height: auto; }
    IndicatorsScreen #indicators-charts { layout: grid; grid-size: 1; grid-rows: auto; grid-gutter: 1 3;
                                          padding: 1 2 0 2; width: 100%; height: 1fr; }
    IndicatorsScreen #indicators-charts.wide { grid-size: 2; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.period: Period = DEFAULT_PERIOD
        self.zone: str | None = None
        self.indicators: Indicators | None = None

    def compose(self) -> ComposeResult:
        """The figures are read and computed here, so that the widgets are born with them: the
        first frame is the full one (no second layout once mounted)."""
        from at_tui.store.indicators import indicator_records

        workspace = self.app.workspace
        self.statuses = statuses_of(workspace.lifecycle())
        self.records, self.visits = indicator_records(workspace.conn, workspace.territory)
        shown = self._compute()
        yield Header()
        yield Static(self._title(shown), id="indicators-title")
        # Two charts side by side from the start when the terminal is wide (no restyle on mount).
        with VerticalScroll(id="indicators-charts", classes="wide" if self.app.size.width >= WIDE else ""):
            for figure in figures(shown):
                yield BarChart(figure.title, figure.bars, empty=EMPTY, largest=figure.largest,
                               id=f"chart-{figure.key}")
        yield KeyBar()

    def on_resize(self) -> None:
        charts = self.query_one("#indicators-charts")
        wide = self.size.width >= WIDE
        if charts.has_class("wide") != wide:
            charts.set_class(wide, "wide")

    def _compute(self) -> Indicators:
        self.indicators = compute(self.records, self.visits, self.statuses, self.app.today(), self.period, self.zone)
        return self.indicators

    def _title(self, shown: Indicators) -> Content:
        return Content.from_markup(
            "[b]Indicateurs[/b] — période : [b]$period[/b] ([b]p[/b]) · zone : [b]$zone[/b] ([b]z[/b])\n"
            "$visits · $opportunities",
            period=self.period.label, zone=shown.zone_label,
            visits=count_text(shown.total_visits, "visite terminée", "visites terminées"),
            opportunities=count_text(shown.total_opportunities, "opportunité", "opportunités"))

    def show(self) -> None:
        """Compute the figures for the current period and zone and draw them."""
        shown = self._compute()
        self.query_one("#indicators-title", Static).update(self._title(shown))
        for figure in figures(shown):
            self.query_one(f"#chart-{figure.key}", BarChart).show(figure.title, figure.bars, largest=figure.largest)

    # -- actions -------------------------------------------------------------------------

    def action_cycle_period(self) -> None:
        self.set_filters(next_period(self.period), self.zone)

    def action_cycle_zone(self) -> None:
        self.set_filters(self.period, next_zone(self.zone))

    def set_filters(self, period: Period, zone: str | None) -> None:
        self.period, self.zone = period, zone
        self.show()

    def action_close(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The filters, offered by the app's command palette (at_tui.app)."""
        for period in PERIODS:
            yield SystemCommand(f"Indicateurs : période « {period.label} »", "Changer la période des indicateurs "
                                "(touche p)", lambda period=period: self.set_filters(period, self.zone))
        for zone in ZONES:
            yield SystemCommand(f"Indicateurs : zone « {zone or 'Toutes'} »", "Est, Ouest ou toute la région "
                                "(touche z)", lambda zone=zone: self.set_filters(self.period, zone))
