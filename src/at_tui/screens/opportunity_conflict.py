"""« Conflit sur l'opportunité »: a field of the opportunity (status, dates, CM in charge…) changed
here and on the central since this laptop last synced (issue 11 §3). Its journal is not in
conflict: entries are only ever added, and both sides' are already merged.

Only the conflicting fields are listed, named as the AT and the CM read them (at_tui.domain.
opportunity_fields.FIELD_LABELS), with their values as the screens show them (status label,
JJ/MM/AAAA dates). Per field: ← this laptop's value, → the central's; Ctrl+S writes the
choice and queues it on top of the central copy (at_tui.sync.opportunity_outbox.
resolve_opportunity_conflict), in one transaction.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from at_tui.domain.opportunity_fields import FIELD_LABELS
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

LOCAL, CENTRAL = "local", "central"
COLUMNS = (("Champ", 20), ("Sur ce poste", 0), ("Au central", 0), ("Garder", 10))
DATE_FIELDS = ("visit_date", "launch_date", "deployment_end")


class OpportunityConflictScreen(Screen):
    """Dismissed with True once settled, False on Échap (nothing written)."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        # Priority: the table would take ←/→ (and hide them from the key bar).
        Binding("left", "pick('local')", "Ce poste", id="opportunity_conflict.local", priority=True),
        Binding("right", "pick('central')", "Central", id="opportunity_conflict.central", priority=True),
        Binding("ctrl+s", "save", "Enregistrer", id="opportunity_conflict.save", priority=True),
        Binding("escape", "close", "Plus tard", id="opportunity_conflict.close"),
    ]

    def __init__(self, visit_id: str, local: dict[str, Any], central: dict[str, Any], fields: list[str],
                 resolve=None) -> None:
        """`resolve(conn, visit_id, chosen, lifecycle_for)`: the sync's (the default); tests give their own."""
        super().__init__()
        self.visit_id = visit_id
        self.local = local
        self.central = central
        # A name the laptop does not know is left out: it could not be written anyway.
        self.fields = [name for name in fields if name in FIELD_LABELS] or [
            name for name in FIELD_LABELS if local.get(name) != central.get(name)]
        self.choices: dict[str, str] = {name: LOCAL for name in self.fields}
        self._resolve = resolve

    def compose(self) -> ComposeResult:
        visit = self.app.workspace.visits.get(self.visit_id)
        name = markup(visit.structure) if visit is not None else markup(self.visit_id)
        yield Header()
        yield Static(
            f"[b]Conflit sur l'opportunité — {name}[/b]\n"
            "Ces champs ont été changés ici et au central (le journal, lui, est déjà fusionné). Pour chacun, "
            "choisissez la valeur à garder ([b]←[/b] ce poste, [b]→[/b] central), puis [b]Ctrl+S[/b].",
            id="opportunity-conflict-title",
        )
        yield DataTable(id="opportunity-conflict-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self._draw()
        self.query_one(DataTable).focus()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        rest = max(12, (self.size.width - 4 - (20 + 2) - (10 + 2) - 4) // 2)
        for label, width in COLUMNS:
            table.add_column(label, width=width or rest)
        for name in self.fields:
            side = "← ce poste" if self.choices[name] == LOCAL else "central →"
            table.add_row(FIELD_LABELS[name], markup(self.shown(name, self.local.get(name)), multiline=True),
                          markup(self.shown(name, self.central.get(name)), multiline=True), side, height=None)
        if self.fields:
            table.move_cursor(row=min(row or 0, len(self.fields) - 1))

    def shown(self, name: str, value: Any) -> str:
        """A value as the screens show it: the status's label, a date in JJ/MM/AAAA, « — » for none."""
        from at_tui.domain.visit import format_date

        if value is None or value == "":
            return "—"
        if name == "status":
            try:
                return self.app.workspace.lifecycle().status_label(str(value))
            except (KeyError, LookupError):
                return str(value)
        if name in DATE_FIELDS and isinstance(value, str):
            return format_date(value)
        if name == "offer":
            from at_tui.domain.classification import offer_label

            return offer_label(str(value))
        return str(value)

    def chosen(self) -> dict[str, Any]:
        """The value kept for each conflicting field."""
        return {name: (self.local if side == LOCAL else self.central).get(name) for name, side in self.choices.items()}

    def action_pick(self, side: str) -> None:
        if not self.fields:
            return
        name = self.fields[self.query_one(DataTable).cursor_row]
        self.choices[name] = CENTRAL if side == CENTRAL else LOCAL
        self._draw()

    def action_save(self) -> None:
        from at_tui.store.pending_writes import SAVE_ERRORS

        resolve = self._resolve
        if resolve is None:
            from at_tui.sync.opportunity_outbox import resolve_opportunity_conflict as resolve
        workspace = self.app.workspace
        try:
            resolve(workspace.conn, self.visit_id, self.chosen(), _lifecycle_for(workspace))
        except SAVE_ERRORS as error:
            from at_tui.store.errors import cause

            workspace.after_failed_write()
            self.notify(f"Choix non enregistré : {cause(error)}. Rien n'a été modifié : réessayez (Ctrl+S).",
                        severity="error", timeout=15, markup=False)
            return
        kept = sum(1 for side in self.choices.values() if side == CENTRAL)
        self.notify(f"Conflit réglé ({kept} valeur(s) du central gardée(s)) : l'opportunité sera renvoyée.")
        self.app.refresh_sync_status()  # the header's conflict count, at once
        self.dismiss(True)
        self.app.request_sync(force=True)

    def action_close(self) -> None:
        self.dismiss(False)


def _lifecycle_for(workspace):
    """The lifecycle of a playbook id, None for one this laptop does not know (« À faire » then left)."""

    def lifecycle(playbook_id: str):
        try:
            return workspace.lifecycle(playbook_id)
        except (KeyError, LookupError):
            return None

    return lifecycle


def next_opportunity_conflict(conn) -> tuple[str, dict, dict, list[str]] | None:
    """The oldest opportunity conflict still to settle, None when there is none."""
    from at_tui.sync.opportunity_outbox import opportunity_conflicts

    found = opportunity_conflicts(conn)
    return found[0] if found else None
