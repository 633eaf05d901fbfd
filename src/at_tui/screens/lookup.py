"""« Annuaire »: type-ahead lookup of the contacts directory and the imported professionals.

Every keystroke starts a search in a worker thread (its own read connection);
a newer keystroke supersedes it and a result that no longer matches what is
typed and filtered is dropped, so typing never waits on a query.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Select, Static

from at_tui.domain.lookup import KIND_CHOICES, Entry, Query, Results
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

# (label, width); « Structure · rôle » (0) takes what the screen has left. Below
# WIDE columns the département goes (the card and the filter show it).
COLUMNS = (("Nom", 24), ("Type", 10), ("Structure · rôle", 0), ("Dépt", 6), ("E-mail", 30))
NARROW_COLUMNS = (("Nom", 20), ("Type", 8), ("Structure · rôle", 0), ("E-mail", 22))
WIDE = 110
CELL_PADDING = 2  # DataTable pads each cell by one column on each side
MIN_STRUCTURE_WIDTH = 12
KIND_SHORT = {
    "dac": "DAC", "at": "AT", "map": "MAP", "cm": "CM", "referent": "Référent", "projet": "Projet",
    "boite": "Boîte mail", "canal": "Canal", "professionnel": "Pro. santé",
}


class LookupScreen(Screen):
    CSS_PATH = "screens.tcss"
    offers_lookup = False  # F3 does nothing here: hidden from the key bar
    BINDINGS = [
        Binding("escape", "close", "Fermer", id="lookup.close"),
        Binding("enter", "open_card", "Fiche", id="lookup.card", priority=True),
        Binding("ctrl+y", "copy_email", "Copier l'e-mail", id="lookup.copy", priority=True),
        Binding("down", "move(1)", "Résultats", id="lookup.down", show=False, priority=True),
        Binding("up", "move(-1)", "", id="lookup.up", show=False, priority=True),
        Binding("ctrl+r", "reset", "Tout effacer", id="lookup.reset"),
    ]

    def __init__(self, departement: str | None = None, context: str | None = None) -> None:
        super().__init__()
        self.initial_departement = departement
        self.context = context  # « visite CPTS du Gers », shown when pre-filtered from a visit
        self.entries: tuple[Entry, ...] = ()
        self._wanted: Query | None = None

    def compose(self) -> ComposeResult:
        territory = self.app.workspace.territory
        yield Header()
        yield Input(placeholder="Rechercher : nom, structure, rôle, département, e-mail…", id="lookup-query")
        with Horizontal(id="lookup-filters"):
            yield Select(
                [(f"{d.code} — {d.name}", d.code) for d in territory.departements],
                prompt="Tous les départements", value=self.initial_departement or Select.NULL,
                id="lookup-departement", compact=True)
            yield Select([(label, kind) for kind, label in KIND_CHOICES.items()],
                         prompt="Tous les types", id="lookup-kind", compact=True)
        yield Static("", id="lookup-status")
        table = DataTable(id="lookup-results", cursor_type="row", zebra_stripes=True)
        table.can_focus = False  # the AT stays in the search field: ↑ ↓ move the selection
        yield table
        # The table cuts long names and e-mails at 80 columns: the selected contact, whole.
        yield Static("", id="lookup-selected")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#lookup-query", Input).focus()
        self.search()

    def on_resize(self) -> None:
        self._fill(self.entries)

    def _fill(self, entries: tuple[Entry, ...]) -> None:
        """(Re)draw the table, its columns sized to the screen's width."""
        table = self.query_one("#lookup-results", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        wide = self.size.width >= WIDE
        columns = COLUMNS if wide else NARROW_COLUMNS
        # The table has a margin of one column on each side and a 2-column scrollbar.
        rest = self.size.width - 4 - sum(width + CELL_PADDING for _, width in columns)
        for label, width in columns:
            table.add_column(label, width=width or max(MIN_STRUCTURE_WIDTH, rest))
        for entry in entries:
            cells = [entry.name, KIND_SHORT.get(entry.kind, entry.kind), _structure_cell(entry), _short_departements(entry),
                     entry.email or ""]
            if not wide:
                del cells[3]
            table.add_row(*(markup(cell) for cell in cells), key=entry.key)  # names are data: escaped markup
        if entries and row:
            table.move_cursor(row=min(row, len(entries) - 1))
        self._show_selected()

    # -- searching ----------------------------------------------------------------

    def current_query(self) -> Query:
        departement = self.query_one("#lookup-departement", Select).value
        kind = self.query_one("#lookup-kind", Select).value
        return Query.parse(
            self.query_one("#lookup-query", Input).value,
            departement=None if departement is Select.NULL else str(departement),
            kind=None if kind is Select.NULL else str(kind),
        )

    def search(self) -> None:
        self._wanted = self.current_query()
        self._run(self._wanted)

    @work(thread=True, exclusive=True, group="lookup", exit_on_error=False)
    def _run(self, query: Query) -> None:
        import sqlite3

        from at_tui.reference.loader import ReferenceDataError

        try:
            results = self.app.workspace.search_directory(query)
        except (sqlite3.Error, ReferenceDataError) as error:
            self.app.call_from_thread(self._failed, query, str(error))
            return
        self.app.call_from_thread(self._show, results)

    def _failed(self, query: Query, message: str) -> None:
        if query == self._wanted:
            self.query_one("#lookup-status", Static).update(f"[b $error]Recherche impossible :[/] {markup(message)}")

    def _show(self, results: Results) -> None:
        if results.query != self._wanted:
            return  # superseded by what the AT typed since
        self.entries = results.entries
        self.query_one("#lookup-results", DataTable).move_cursor(row=0)
        self._fill(results.entries)
        self.query_one("#lookup-status", Static).update(markup(_status(results, self.context)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        entry = self.selected()
        self.query_one("#lookup-selected", Static).update(_whole_text(entry) if entry else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.search()

    # -- actions --------------------------------------------------------------------

    def selected(self) -> Entry | None:
        table = self.query_one("#lookup-results", DataTable)
        if not self.entries or table.cursor_row is None or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Enter and arrows belong to an open Select list.
        if action in ("open_card", "move") and not isinstance(self.focused, Input | DataTable):
            return False
        return True

    def action_move(self, step: int) -> None:
        table = self.query_one("#lookup-results", DataTable)
        if self.entries:
            table.move_cursor(row=max(0, min(len(self.entries) - 1, table.cursor_row + step)))

    def action_open_card(self) -> None:
        from at_tui.screens.contact_card import ContactCard

        entry = self.selected()
        if entry is None:
            self.notify("Aucun contact sélectionné.", severity="warning")
            return
        self.app.push_screen(ContactCard(entry))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_card()

    def action_copy_email(self) -> None:
        from at_tui.screens.contact_card import copy_email

        copy_email(self.app, self.selected())

    def action_reset(self) -> None:
        self.query_one("#lookup-departement", Select).clear()
        self.query_one("#lookup-kind", Select).clear()
        query = self.query_one("#lookup-query", Input)
        query.value = ""
        query.focus()

    def action_close(self) -> None:
        self.app.pop_screen()


# The agency's own teams: their organisation is always the agency, their role says more.
AGENCY_KINDS = frozenset({"at", "map", "cm", "referent"})


def _structure_cell(entry: Entry) -> str:
    if entry.kind in AGENCY_KINDS or entry.organisation == entry.role:
        return entry.role
    return f"{entry.organisation} · {entry.role}"


def _whole_text(entry: Entry) -> str:
    """The selected contact, nothing cut: name, e-mail and phone first, then structure and role."""
    first = " · ".join(markup(part) for part in (entry.name, entry.email, entry.phone) if part)
    return f"{first}\n{markup(_structure_cell(entry))}"  # each part made safe (data), not the line break


def _short_departements(entry: Entry) -> str:
    if not entry.departements:
        return "Région"
    if len(entry.departements) > 2:
        return f"{len(entry.departements)} dépts"
    return ", ".join(entry.departements)


def _status(results: Results, context: str | None) -> str:
    shown = len(results.entries)
    more = "+" if results.truncated else ""
    parts = [f"{shown}{more} résultat(s)" if shown else "Aucun résultat"]
    if context:
        parts.append(context)
    if results.professionals_total:
        parts.append(f"{results.professionals_total:,} professionnels importés".replace(",", " "))
    elif results.query.kind == "professionnel":
        parts.append("aucun professionnel importé (at-tui import-annuaire FICHIER)")
    return " · ".join(parts)
