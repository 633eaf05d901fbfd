"""Accueil: visits in progress first (to resume), then finished ones, and « Nouvelle visite »."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from at_tui.domain.visit import STATUS_LABELS, format_date, format_timestamp

# Fixed widths; « Structure » takes what is left of the screen's width.
COLUMNS = (("Statut", 8), ("Structure", 0), ("Dépt", 4), ("Typologie", 11), ("Visite du", 10), ("Modifiée le", 16))
CELL_PADDING = 2  # DataTable pads each cell by one on both sides
MIN_STRUCTURE_WIDTH = 14


class HomeScreen(Screen):
    BINDINGS = [
        Binding("n", "app.new_visit", "Nouvelle visite", id="home.new"),
        Binding("enter", "resume", "Reprendre", id="home.resume", priority=True),
        Binding("e", "app.export", "Exporter", id="home.export"),
        Binding("ctrl+q", "app.quit", "Quitter", id="home.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="visits", cursor_type="row", zebra_stripes=True)
        yield Static("", id="home-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_visits()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_visits()

    def on_resize(self) -> None:
        self.refresh_visits()

    def refresh_visits(self) -> None:
        visits = sorted(self.app.workspace.visits.list(), key=lambda v: v.finished)  # stable: in progress first
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        available = (table.size.width or self.size.width - 2) - 1  # one column spare for a scrollbar
        rest = available - sum(width + CELL_PADDING for _, width in COLUMNS) - CELL_PADDING
        for label, width in COLUMNS:
            table.add_column(label, width=width or max(MIN_STRUCTURE_WIDTH, rest))
        for visit in visits:
            table.add_row(
                STATUS_LABELS[visit.status], visit.structure, visit.departement, visit.typologie,
                format_date(visit.visit_date), format_timestamp(visit.updated_at), key=visit.id,
            )
        in_progress = sum(not v.finished for v in visits)
        hint = self.query_one("#home-hint", Static)
        if not visits:
            hint.update("Aucune visite pour l'instant. Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
        else:
            hint.update(f"{in_progress} en cours · {len(visits) - in_progress} terminée(s) — "
                        "[b]Entrée[/b] reprend la visite sélectionnée, [b]n[/b] en commence une nouvelle.")
        table.display = bool(visits)
        table.move_cursor(row=min(cursor, max(0, len(visits) - 1)))

    def action_resume(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.notify("Aucune visite à reprendre : n pour en commencer une.", severity="warning")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        self.app.open_visit(row_key.value)
