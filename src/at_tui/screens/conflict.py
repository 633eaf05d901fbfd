"""« Conflit de synchronisation »: the laptop's and the central values side by side, field by field.

The AT picks a side per field (← this laptop, → central); Ctrl+S writes the result
and queues it on top of the central revision (at_tui.sync.outbox.resolve_conflict).
Answers are named as the AT saw them (the question, the step's notes, the action), and
their values as chosen (choice labels); long values wrap in their row.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from at_tui.domain.conflicts import CENTRAL, LOCAL, differences, merge
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

COLUMNS = (("Champ", 22), ("Sur ce poste", 0), ("Au central", 0), ("Garder", 10))
MAX_SHOWN = 600  # characters of a value shown in its cell (a long note wraps, up to this)


class ConflictScreen(Screen):
    CSS_PATH = "screens.tcss"
    BINDINGS = [
        # Priority: the table would take ←/→ (and hide them from the key bar).
        Binding("left", "pick('local')", "Ce poste", id="conflict.local", priority=True),
        Binding("right", "pick('central')", "Central", id="conflict.central", priority=True),
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
            f"[b]Conflit de synchronisation — {markup(visit.structure)}[/b]\n"
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
        visit = self.app.workspace.visits.require(self.visit_id)
        for difference in self.differences:
            side = "← ce poste" if self.choices[difference.path] == LOCAL else "central →"
            label, shown = _describe(self.app.workspace, visit, difference)
            table.add_row(markup(label), markup(shown(difference.local), multiline=True),
                          markup(shown(difference.central), multiline=True), side,
                          height=None)
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
        self.app.refresh_sync_status()  # the header's conflict count, at once
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
        text = value.replace("\n", " ")
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _describe(workspace, visit, difference):
    """(label, how to show a value) of a difference: answers as the AT saw them in the visit."""
    if difference.path[0] != "answers":
        return difference.label, _shown
    key = difference.path[1]
    kind, _, rest = key.partition(":")
    try:
        if kind == "q":
            question = workspace.question_for(visit, rest)
            return question.label, lambda value: _shown(_choice_labels(question, value))
        playbook = workspace.playbook_for(visit)
        if kind == "notes":
            return f"Compte rendu — {playbook.step(rest).title}", _shown
        if kind == "check":
            step_id, _, action_id = rest.partition(":")
            for variant in playbook.step(step_id).variants:
                for action in variant.actions:
                    if action.id == action_id:
                        return f"Action — {action.label}", _shown
        if kind == "ack":
            sheet_id, _, guardrail_id = rest.partition(":")
            for guardrail in workspace.reference.argumentaire.sheet(sheet_id).guardrails:
                if guardrail.id == guardrail_id:
                    return f"Garde-fou lu — {guardrail.text}", _shown
    except (KeyError, LookupError, ValueError):
        pass  # not in the visit's playbook or questionnaire (any more): its key says what it is
    return key, _shown


def _choice_labels(question, value):
    if not question.choices:
        return value
    if isinstance(value, str):
        return question.choice_label(value)
    if isinstance(value, list):
        return ", ".join(question.choice_label(v) if isinstance(v, str) else str(v) for v in value)
    return value
