"""Accueil: visits in progress first (to resume), then finished ones, and « Nouvelle visite »."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.redaction import printable
from at_tui.domain.visit import STATUS_LABELS, format_date, format_timestamp
from at_tui.sync.parked import followups
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.visit_list import Row, VisitList

# Fixed widths; « Structure » (0) takes what is left of the screen's width.
COLUMNS = (("Statut", 8), ("Structure", 0), ("Dépt", 4), ("Typologie", 11), ("Visite du", 10), ("Modifiée le", 16))
# The CM's follow-up, a column only when some visit has one and the screen is wide enough.
FOLLOWUP_COLUMN = ("Suivi CM", 10)
CELL_PADDING = 2
MIN_STRUCTURE_WIDTH = 14
MIN_STRUCTURE_WITH_FOLLOWUP = 20


class HomeScreen(Screen):
    BINDINGS = [
        Binding("n", "app.new_visit", "Nouvelle visite", id="home.new"),
        Binding("enter", "resume", "Reprendre", id="home.resume", priority=True),
        Binding("e", "app.export", "Exporter", id="home.export"),
        Binding("a", "app.argumentaire", "Argumentaire", id="home.argumentaire"),
        Binding("s", "app.sync_problems", "Synchro", id="home.sync"),
        Binding("ctrl+q", "app.quit", "Quitter", id="home.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield VisitList(tuple(label for label, _ in COLUMNS), id="visits")
        yield Static("", id="home-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.followups = {}
        self.refresh_visits()
        listing = self.query_one(VisitList)
        listing.focus()
        self.watch(listing, "cursor", self._show_hint, init=False)
        # A new sync status: a pull may have brought follow-ups, the problems line may change.
        self.watch(self.app, "sub_title", self.refresh_visits, init=False)

    def on_screen_resume(self) -> None:
        self.app.refresh_sync_status()  # back from a visit: its changes wait to be sent
        self.refresh_visits()

    def on_resize(self) -> None:
        self.refresh_visits()

    def refresh_visits(self) -> None:
        visits = sorted(self.app.workspace.visits.list(), key=lambda v: v.finished)  # stable: in progress first
        self.followups = followups(self.app.workspace.conn)
        margins = 2  # #visits has one column of margin on each side
        columns = COLUMNS
        rest = self.size.width - margins - sum(width + CELL_PADDING for _, width in COLUMNS) - CELL_PADDING
        with_followup = bool(self.followups) and rest - FOLLOWUP_COLUMN[1] - CELL_PADDING >= MIN_STRUCTURE_WITH_FOLLOWUP
        if with_followup:
            columns = (*COLUMNS[:2], FOLLOWUP_COLUMN, *COLUMNS[2:])
            rest -= FOLLOWUP_COLUMN[1] + CELL_PADDING
        rows = []
        for v in visits:
            cells = [STATUS_LABELS.get(v.status) or _shown(v.status), _shown(v.structure), _shown(v.departement),
                     _shown(v.typologie), format_date(v.visit_date), format_timestamp(v.updated_at)]
            if with_followup:
                followup = self.followups.get(v.id)
                cells.insert(2, _shown(followup.label) if followup else "")
            rows.append(Row(v.id, tuple(cells)))
        listing = self.query_one(VisitList)
        listing.headers = tuple(label for label, _ in columns)
        listing.set_rows(rows, [width or max(MIN_STRUCTURE_WIDTH, rest) for _, width in columns])
        listing.display = bool(visits)
        self.in_progress = sum(not v.finished for v in visits)
        self.visit_count = len(visits)
        self.structures = {v.id: _shown(v.structure) for v in visits}
        self._show_hint()

    def _show_hint(self) -> None:
        hint = self.query_one("#home-hint", Static)
        if not self.visit_count:
            hint.update("Aucune visite pour l'instant. Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
            return
        text = (f"{self.in_progress} en cours · {self.visit_count - self.in_progress} terminée(s) — "
                "[b]Entrée[/b] reprend la visite sélectionnée, [b]n[/b] en commence une nouvelle.")
        selected = self.query_one(VisitList).selected
        followup = self.followups.get(selected) if selected else None
        if followup is not None:
            text += (f"\nSuivi du CM pour « {escape(self.structures[selected])} » : [b]{escape(_shown(followup.label))}[/b]"
                     + (f" — {escape(_shown(followup.comment))}" if followup.comment else ""))
        problems = _sync_problems(getattr(self.app, "sync_status", None))
        if problems:
            text += f"\n[$text-warning]{problems} : [b]s[/b] pour les voir et les régler.[/]"
        hint.update(text)

    def action_resume(self) -> None:
        visit_id = self.query_one(VisitList).selected
        if visit_id is None:
            self.notify("Aucune visite à reprendre : n pour en commencer une.", severity="warning")
            return
        self.app.open_visit(visit_id)

    def on_visit_list_chosen(self, event: VisitList.Chosen) -> None:
        self.app.open_visit(event.key)


def _shown(value: object) -> str:
    """A stored value as one line of plain text: it may come from a file, the central or another
    user (escape sequences and control characters removed), or be of an unexpected type."""
    return printable("" if value is None else str(value))


def _sync_problems(status) -> str:
    """« 2 visites refusées par le central, 1 conflit » from the last sync status; "" when none."""
    if status is None:
        return ""
    parts = []
    if status.rejected:
        parts.append("1 envoi refusé par le central" if status.rejected == 1
                     else f"{status.rejected} envois refusés par le central")
    if status.conflicts:
        parts.append("1 conflit" if status.conflicts == 1 else f"{status.conflicts} conflits")
    return ", ".join(parts)
