"""« Conflit de synchronisation »: the laptop's and the central values side by side, field by field.

The AT picks a side per field (← this laptop, → central); Ctrl+S writes the result
and queues it on top of the central revision (at_tui.sync.outbox.resolve_conflict).
"""

from __future__ import annotations

import json

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from at_tui.domain.conflicts import CENTRAL, LOCAL, differences, merge
from at_tui.widgets.key_bar import KeyBar

COLUMNS = (("Champ", 22), ("Sur ce poste", 0), ("Au central", 0), ("Garder", 10))


class ConflictScreen(Screen):
    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("left", "pick('local')", "Ce poste", id="conflict.local"),
        Binding("right", "pick('central')", "Central", id="conflict.central"),
        Binding("ctrl+s", "save", "Enregistrer", id="conflict.save", priority=True),
        Binding("escape", "close", "Plus tard", id="conflict.close"),
    ]

    def __init__(self, visit_id: str, central: dict) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.central = central
        self.choices: dict[tuple[str, ...], str] = {}

    def local_content(self) -> dict:
        from at_tui.exchange.exporter import visit_content

        workspace = self.app.workspace
        return visit_content(workspace, workspace.visits.require(self.visit_id))

    def compose(self) -> ComposeResult:
        visit = self.app.workspace.visits.require(self.visit_id)
        yield Header()
        yield Static(
            f"[b]Conflit de synchronisation — {escape(visit.structure)}[/b]\n"
            "La visite a été modifiée ici et au central. Pour chaque champ, choisissez la valeur à garder "
            "([b]←[/b] ce poste, [b]→[/b] central), puis [b]Ctrl+S[/b].",
            id="conflict-title",
        )
        yield DataTable(id="conflict-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.differences = differences(self.local_content(), self.central["content"])
        self.choices = {d.path: LOCAL for d in self.differences}
        self._draw()
        self.query_one(DataTable).focus()

    def _draw(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        rest = max(12, (self.size.width - 4 - (22 + 2) - (10 + 2) - 4) // 2)
        for label, width in COLUMNS:
            table.add_column(label, width=width or rest)
        for difference in self.differences:
            side = "← ce poste" if self.choices[difference.path] == LOCAL else "central →"
            table.add_row(difference.label, _shown(difference.local), _shown(difference.central), side)
        if self.differences:
            table.move_cursor(row=min(row or 0, len(self.differences) - 1))

    def on_resize(self) -> None:
        if hasattr(self, "differences"):
            self._draw()

    def action_pick(self, side: str) -> None:
        table = self.query_one(DataTable)
        if not self.differences:
            return
        self.choices[self.differences[table.cursor_row].path] = CENTRAL if side == CENTRAL else LOCAL
        self._draw()

    def action_save(self) -> None:
        from at_tui.sync.outbox import resolve_conflict

        merged = merge(self.local_content(), self.central["content"], self.choices)
        resolve_conflict(self.app.workspace.conn, self.visit_id, merged, int(self.central["rev"]))
        kept = sum(1 for side in self.choices.values() if side == CENTRAL)
        self.notify(f"Conflit réglé ({kept} valeur(s) du central gardée(s)) : la visite sera renvoyée.")
        self.dismiss(True)
        self.app.request_sync(force=True)

    def action_close(self) -> None:
        self.dismiss(False)


def _shown(value) -> str:
    if value is None:
        return "—"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, str):
        return value.replace("\n", " ")
    return json.dumps(value, ensure_ascii=False)
