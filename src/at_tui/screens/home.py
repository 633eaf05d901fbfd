"""Accueil: visits in progress first (to resume), then finished ones, and « Nouvelle visite »."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.visit import STATUS_LABELS, format_date, format_timestamp
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.visit_list import Row, VisitList

# Fixed widths; « Structure » (0) takes what is left of the screen's width.
COLUMNS = (("Statut", 8), ("Structure", 0), ("Dépt", 4), ("Typologie", 11), ("Visite du", 10), ("Modifiée le", 16))
CELL_PADDING = 2
MIN_STRUCTURE_WIDTH = 14


class HomeScreen(Screen):
    BINDINGS = [
        Binding("n", "app.new_visit", "Nouvelle visite", id="home.new"),
        Binding("enter", "resume", "Reprendre", id="home.resume", priority=True),
        Binding("e", "app.export", "Exporter", id="home.export"),
        Binding("a", "app.argumentaire", "Argumentaire", id="home.argumentaire"),
        Binding("ctrl+q", "app.quit", "Quitter", id="home.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield VisitList(tuple(label for label, _ in COLUMNS), id="visits")
        yield Static("", id="home-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_visits()
        self.query_one(VisitList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_visits()

    def on_resize(self) -> None:
        self.refresh_visits()

    def refresh_visits(self) -> None:
        visits = sorted(self.app.workspace.visits.list(), key=lambda v: v.finished)  # stable: in progress first
        rows = [
            Row(v.id, (STATUS_LABELS[v.status], v.structure, v.departement, v.typologie,
                       format_date(v.visit_date), format_timestamp(v.updated_at)))
            for v in visits
        ]
        listing = self.query_one(VisitList)
        margins = 2  # #visits has one column of margin on each side
        rest = self.size.width - margins - sum(width + CELL_PADDING for _, width in COLUMNS) - CELL_PADDING
        listing.set_rows(rows, [width or max(MIN_STRUCTURE_WIDTH, rest) for _, width in COLUMNS])
        listing.display = bool(visits)
        in_progress = sum(not v.finished for v in visits)
        hint = self.query_one("#home-hint", Static)
        if not visits:
            hint.update("Aucune visite pour l'instant. Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
        else:
            hint.update(f"{in_progress} en cours · {len(visits) - in_progress} terminée(s) — "
                        "[b]Entrée[/b] reprend la visite sélectionnée, [b]n[/b] en commence une nouvelle.")

    def action_resume(self) -> None:
        visit_id = self.query_one(VisitList).selected
        if visit_id is None:
            self.notify("Aucune visite à reprendre : n pour en commencer une.", severity="warning")
            return
        self.app.open_visit(visit_id)

    def on_visit_list_chosen(self, event: VisitList.Chosen) -> None:
        self.app.open_visit(event.key)
