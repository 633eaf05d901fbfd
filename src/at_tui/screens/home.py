"""Accueil: visits in progress, finished visits, and « Nouvelle visite »."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from at_tui.domain.visit import format_date, format_timestamp


class HomeScreen(Screen):
    BINDINGS = [
        Binding("n", "app.new_visit", "Nouvelle visite", id="home.new"),
        Binding("enter", "resume", "Reprendre", id="home.resume", priority=True),
        Binding("e", "export", "Exporter", id="home.export"),
        Binding("tab", "switch_table", "Autre liste", id="home.switch", show=False),
        Binding("ctrl+q", "app.quit", "Quitter", id="home.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Visites en cours", classes="section-title", id="in-progress-title")
        yield DataTable(id="in-progress", cursor_type="row", zebra_stripes=True)
        yield Static("Visites terminées", classes="section-title", id="finished-title")
        yield DataTable(id="finished", cursor_type="row", zebra_stripes=True)
        yield Static("", id="empty-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_columns("Structure", "Dépt", "Typologie", "Visite du", "Modifiée le")
        self.refresh_visits()

    def on_screen_resume(self) -> None:
        self.refresh_visits()

    def refresh_visits(self) -> None:
        visits = self.app.workspace.visits.list()
        tables = {"en_cours": self.query_one("#in-progress", DataTable), "terminee": self.query_one("#finished", DataTable)}
        for table in tables.values():
            table.clear()
        for visit in visits:
            tables[visit.status].add_row(
                visit.structure, visit.departement, visit.typologie,
                format_date(visit.visit_date), format_timestamp(visit.updated_at), key=visit.id,
            )
        in_progress = tables["en_cours"].row_count
        hint = self.query_one("#empty-hint", Static)
        if not visits:
            hint.update("Aucune visite pour l'instant. Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
        else:
            hint.update(f"{in_progress} en cours · {len(visits) - in_progress} terminée(s) — "
                        "[b]Entrée[/b] reprend la visite sélectionnée, [b]n[/b] en commence une nouvelle.")
        tables["en_cours"].display = in_progress > 0 or not visits
        self.query_one("#in-progress-title").display = tables["en_cours"].display
        finished = tables["terminee"].row_count > 0
        tables["terminee"].display = finished
        self.query_one("#finished-title").display = finished
        target = tables["en_cours"] if in_progress else tables["terminee"]
        if not isinstance(self.focused, DataTable) or not self.focused.display:
            target.focus()

    def _selected_visit(self) -> str | None:
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is None or table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def action_resume(self) -> None:
        visit_id = self._selected_visit()
        if visit_id is None:
            self.notify("Aucune visite sélectionnée : n pour en commencer une.", severity="warning")
            return
        self.app.open_visit(visit_id)

    def action_export(self) -> None:
        self.app.action_export()

    def action_switch_table(self) -> None:
        tables = [t for t in self.query(DataTable) if t.display and t.row_count]
        if len(tables) < 2:
            return
        current = tables.index(self.focused) if self.focused in tables else -1
        tables[(current + 1) % len(tables)].focus()

