"""Accueil: « À faire » (what is due on the opportunities, overdue first), then the visits in
progress (to resume), then finished ones, and « Nouvelle visite ».

« À faire » (issue 11, seed 000 steps 4 to 7) shows a few rows, the list scrolls through the
rest; Tab goes there and back, Entrée opens the opportunity, `o` lists every opportunity.
It reads the local store only: it works offline.

On a CM's laptop (sync_state « role » = 'cm', issue 11 §3) the Accueil shows first « À prendre
en charge » — the opportunities a CM leads that no CM has taken, oldest visit first, `z`
filtering on a zone (Est / Ouest, fixtures/territory.toml) — then « Mes projets », the ones
this CM leads, most urgent first (at_tui.store.cm_queue: one query each, no pydantic).

`v` switches to the archived visits (hidden from the Accueil, kept, exported) and back;
`x` archives the selected visit after a confirmation naming it, or restores it in the
archived view. Archiving deletes nothing (at_tui.store.visits.VisitStore.set_archived).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.markup import escape
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.redaction import printable
from at_tui.domain.visit import STATUS_LABELS, format_date, format_timestamp
from at_tui.sync.parked import followups
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.todo_list import overdue_text, todo_summary, todo_table
from at_tui.widgets.visit_list import LazyRows, Row, VisitList

# Fixed widths; « Structure » (0) takes what is left of the screen's width.
COLUMNS = (("Statut", 8), ("Structure", 0), ("Dépt", 4), ("Typologie", 11), ("Visite du", 10), ("Modifiée le", 16))
# The CM's follow-up, a column only when some visit has one and the screen is wide enough.
FOLLOWUP_COLUMN = ("Suivi CM", 10)
CELL_PADDING = 2
MIN_STRUCTURE_WIDTH = 14
MIN_STRUCTURE_WITH_FOLLOWUP = 20
# « À faire »: the rows read (the header counts every overdue item past it), and the rows shown at
# once, from the screen's height (3 at 24 lines, 6 at 36): the visits stay usable below.
TODO_LIMIT = 100
MIN_TODO_ROWS, MAX_TODO_ROWS = 2, 8
# The lines around the visits when « À faire » is shown: header, margins, hint, keys.
VISITS_CHROME = 9
# The CM's lists (« À prendre en charge », « Mes projets »): the rows of each shown at once, and
# the lines around them and the visits (header, two titles with their margin, the visits'
# margin, a hint of two lines with its padding, keys on up to three lines, one spare).
MIN_CM_ROWS, MAX_CM_ROWS = 2, 8
CM_CHROME = 14
OPPORTUNITY_LISTS = ("todo", "queue", "mine")  # Entrée opens the opportunity
ZONES = (None, "Est", "Ouest")  # the sectors of fixtures/territory.toml; None: the whole region


class HomeScreen(Screen):
    BINDINGS = [
        Binding("n", "app.new_visit", "Nouvelle visite", id="home.new"),
        Binding("enter", "open_todo", "Ouvrir", id="home.open_todo", priority=True),
        Binding("enter", "resume", "Reprendre", id="home.resume", priority=True),
        Binding("o", "opportunities", "Opportunités", id="home.opportunities"),
        Binding("i", "app.indicators", "Indicateurs", id="home.indicators"),
        Binding("z", "zone", "Zone", id="home.zone"),
        Binding("e", "app.export_menu", "Exporter", id="home.export"),
        Binding("a", "app.argumentaire", "Argumentaire", id="home.argumentaire"),
        Binding("s", "app.sync_problems", "Synchro", id="home.sync"),
        Binding("x", "archive", "Archiver", id="home.archive"),
        Binding("x", "restore", "Restaurer", id="home.restore"),
        Binding("v", "show_archived(True)", "Archivées", id="home.archived"),
        Binding("v", "show_archived(False)", "Non archivées", id="home.unarchived"),
        Binding("escape", "show_archived(False)", "Non archivées", id="home.unarchived_escape", show=False),
        Binding("ctrl+q", "app.quit", "Quitter", id="home.quit"),
    ]

    DEFAULT_CSS = """
    HomeScreen #home-title { margin: 1 2 0 2; height: auto; color: $text-warning; }
    HomeScreen #todo-title { margin: 1 2 0 2; height: 1; }
    HomeScreen #todo { margin: 0 1; height: auto; }
    HomeScreen #queue-title { margin: 1 2 0 2; height: 1; }
    HomeScreen #queue { margin: 0 1; height: auto; }
    HomeScreen #mine-title { margin: 1 2 0 2; height: 1; }
    HomeScreen #mine { margin: 0 1; height: auto; }
    """

    archived_view = False  # showing the archived visits instead of the Accueil's
    cm = False  # a CM's laptop (at_tui.workspace.Workspace.role): « À prendre en charge », « Mes projets »

    def compose(self) -> ComposeResult:
        yield Header()
        todo_title = Static("", id="todo-title")
        todo = VisitList(("Quand",), id="todo")
        todo_title.display = todo.display = False
        yield todo_title
        yield todo
        self.cm = self.app.workspace.role() == "CM"
        if self.cm:
            yield from _cm_widgets()
        title = Static("", id="home-title")
        title.display = False
        yield title
        yield VisitList(tuple(label for label, _ in COLUMNS), id="visits")
        yield Static("", id="home-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.followups = {}
        self._visits_stamp: tuple | None = None
        self._visits_cache = None  # store.visits.SummaryPages of the current view
        self._drawn_width = -1
        self._resumed = False
        self.todo_names: list[str] = []  # « structure — what is due » of each row of « À faire », for the hint
        self.zone: str | None = None  # the CM's zone filter on « À prendre en charge »
        self._zone_departements: dict[str, set[str]] | None = None  # read on the first `z`
        self.cm_names: dict[str, list[str]] = {"queue": [], "mine": []}  # each row, for the hint
        self.refresh_visits()
        listing = self.query_one("#visits", VisitList)
        listing.focus()
        if self.cm:
            self._focus_cm_list()
        self.watch(listing, "cursor", self._show_hint, init=False)
        self.watch(self.query_one("#todo", VisitList), "cursor", self._show_hint, init=False)
        # After the first frame: opening the opportunities of visits finished elsewhere (an
        # import, an older version) may read the reference data, which the Accueil does not need.
        self.call_after_refresh(self._ensure_opportunities)
        # A new sync status: a pull may have brought follow-ups, the problems line may change.
        self.watch(self.app, "sub_title", self.refresh_visits, init=False)

    def on_screen_resume(self) -> None:
        self.app.refresh_sync_status()  # back from a visit: its changes wait to be sent
        if not self._resumed:  # the first showing: on_mount has just read everything
            self._resumed = True
            return
        self._ensure_opportunities(refresh=False)  # a visit just finished opens its opportunity
        self.refresh_visits()

    def on_descendant_focus(self) -> None:
        self._show_hint()

    def _ensure_opportunities(self, refresh: bool = True) -> None:
        """Open the opportunity of each finished visit that has none yet (at_tui.workspace);
        a single query when none is missing. A failed write is said, the Accueil goes on."""
        from at_tui.store.db import StoreError
        from at_tui.store.pending_writes import SAVE_ERRORS

        workspace = self.app.workspace
        if not workspace.opportunities.missing_for_finished_visits():
            return
        try:
            opened = workspace.ensure_opportunities()
        except (StoreError, *SAVE_ERRORS) as error:
            from at_tui.store.errors import explain

            workspace.after_failed_write()
            self.notify(str(error) if isinstance(error, StoreError) else explain(error, "Ouverture des opportunités"),
                        severity="error", timeout=15, markup=False)
            return
        if opened and refresh:
            self.refresh_visits()

    def on_resize(self) -> None:
        if self.size.width != self._drawn_width:  # the columns follow the width only
            self.refresh_visits()

    def refresh_visits(self) -> None:
        self._drawn_width = self.size.width
        self._follow_role()
        if self.cm:
            self.refresh_cm()
        else:
            self.refresh_todo()
        visits = self._visits()
        self.followups = followups(self.app.workspace.conn)
        margins = 2  # #visits has one column of margin on each side
        columns = COLUMNS
        rest = self.size.width - margins - sum(width + CELL_PADDING for _, width in COLUMNS) - CELL_PADDING
        with_followup = bool(self.followups) and rest - FOLLOWUP_COLUMN[1] - CELL_PADDING >= MIN_STRUCTURE_WITH_FOLLOWUP
        if with_followup:
            columns = (*COLUMNS[:2], FOLLOWUP_COLUMN, *COLUMNS[2:])
            rest -= FOLLOWUP_COLUMN[1] + CELL_PADDING
        listing = self.query_one("#visits", VisitList)
        listing.headers = tuple(label for label, _ in columns)
        rows = LazyRows(visits, lambda v: self._row(v, with_followup))
        listing.set_rows(rows, [width or max(MIN_STRUCTURE_WIDTH, rest) for _, width in columns])
        listing.display = bool(visits)
        self.in_progress = visits.in_progress
        self.visit_count = len(visits)
        self._show_hint()

    def _visits(self) -> list:
        """The visits of the current view, read again only when some changed (a stamp of the
        table): the Accueil refreshes on every resize and sync status, and an AT's history
        may hold thousands of visits."""
        conn = self.app.workspace.conn
        stamp = (self.archived_view, *conn.execute(
            "SELECT count(*), max(updated_at), count(archived_at), max(archived_at) FROM visits").fetchone())
        if stamp != self._visits_stamp:
            self._visits_cache = self.app.workspace.visits.summaries(archived=self.archived_view)
            self._visits_stamp = stamp
        return self._visits_cache

    def _row(self, v, with_followup: bool) -> Row:
        """A visit's cells, built only when the row is drawn (LazyRows)."""
        cells = [STATUS_LABELS.get(v.status) or _shown(v.status), _shown(v.structure), _shown(v.departement),
                 _shown(v.typologie), format_date(v.visit_date), format_timestamp(v.updated_at)]
        if with_followup:
            followup = self.followups.get(v.id)
            cells.insert(2, _shown(followup.label) if followup else "")
        return Row(v.id, tuple(cells))

    def _summary(self, visit_id: str):
        from at_tui.store.visits import VisitSummary

        pages = self._visits_cache if self._visits_cache is not None else self._visits()
        return pages.by_id(visit_id) or VisitSummary(visit_id, "", "", "", "", "", "")

    def _visit_structure(self, visit_id: str) -> str:
        return _shown(self._summary(visit_id).structure)

    def _visit_name(self, visit_id: str) -> str:
        v = self._summary(visit_id)
        return f"{_shown(v.structure)} ({_shown(v.departement)}, visite du {format_date(v.visit_date)})"

    def refresh_todo(self) -> None:
        """« À faire » from the store, grouped by the app's `today`; the header's overdue count.
        Hidden with nothing due, and in the archived view."""
        todo = self.query_one("#todo", VisitList)
        title = self.query_one("#todo-title", Static)
        visits = self.query_one("#visits", VisitList)
        due = self.app.workspace.opportunities.due(limit=TODO_LIMIT)
        more = len(due) >= TODO_LIMIT
        today = self.app.today()
        table = todo_table(due, today, self.size.width or 80)
        overdue = self.app.workspace.opportunities.overdue_count(today.isoformat()) if more else table.counts[0]
        self.app.show_overdue(overdue_text(overdue))
        self.todo_names = [f"{row.cells[2]} — {row.cells[4]}" for row in table.rows]
        shown = bool(due) and not self.archived_view
        if not shown:
            if todo.has_focus:
                visits.focus()
            todo.display = title.display = False
            visits.styles.max_height = None  # the CSS's again
            return
        height = self.size.height or 24
        window = max(MIN_TODO_ROWS, min(MAX_TODO_ROWS, (height - 12) // 4))
        todo.styles.max_height = window + 1  # its header line, then the rows
        visits.styles.max_height = max(4, height - VISITS_CHROME - window - 3)
        todo.headers = table.headers
        todo.set_rows(table.rows, table.widths)
        summary = todo_summary(table.counts, more)
        rest = len(due) - window
        title.update(f"[b]À faire[/b] — {summary}" + (f" [dim](+ {rest} : Tab puis ↓)[/]" if rest > 0 else ""))
        todo.display = title.display = True

    # -- a CM's Accueil -------------------------------------------------------------

    def _follow_role(self) -> None:
        """A first sync may make this laptop a CM's (the central said so at login): the CM's
        lists then come, without restarting."""
        cm = self.app.workspace.role() == "CM"
        if cm == self.cm:
            return
        self.cm = cm
        if cm and not self.query("#queue"):
            self.mount_all(list(_cm_widgets()), after=self.query_one("#todo"))
            self.call_after_refresh(self.refresh_visits)
        for widget in self.query("#queue-title, #queue, #mine-title, #mine"):
            widget.display = cm
        self.refresh_bindings()

    def refresh_cm(self) -> None:
        """« À prendre en charge » (in the zone chosen) and « Mes projets » from the store; the
        header counts what is overdue on the CM's projects. « À faire » of every opportunity
        of the region is not shown: the CM's own projects carry theirs."""
        from at_tui.store import cm_queue  # a CM's laptop only: not on an AT's start-up path
        from at_tui.widgets.cm_lists import projects_summary, projects_table, waiting_summary, waiting_table

        queue_list = self.query("#queue")
        if not queue_list:  # being mounted (_follow_role): drawn after the next refresh
            return
        todo = self.query_one("#todo", VisitList)
        todo.display = self.query_one("#todo-title").display = False
        conn = self.app.workspace.conn
        login = self.app.workspace.login()
        today = self.app.today()
        width = self.size.width or 80
        departements = self._zone_departements.get(self.zone) if self._zone_departements and self.zone else None
        waiting = cm_queue.waiting(conn, departements, limit=TODO_LIMIT)
        projects = cm_queue.my_projects(conn, login, limit=TODO_LIMIT)
        # Read whole up to TODO_LIMIT rows (a region's backlog may be long): the titles count all.
        waiting_total = len(waiting) if len(waiting) < TODO_LIMIT else cm_queue.waiting_count(conn, departements)
        projects_total = len(projects) if len(projects) < TODO_LIMIT else cm_queue.my_projects_count(conn, login)
        overdue = cm_queue.overdue_count(conn, login, today.isoformat())
        self.app.show_overdue(overdue_text(overdue))
        queue, mine = queue_list.first(VisitList), self.query_one("#mine", VisitList)
        shown = not self.archived_view
        for widget in (self.query_one("#queue-title"), self.query_one("#mine-title")):
            widget.display = shown
        queue.display, mine.display = shown and bool(waiting), shown and bool(projects)
        if not shown:
            if queue.has_focus or mine.has_focus:
                self.query_one("#visits", VisitList).focus()
            self.query_one("#visits", VisitList).styles.max_height = None
            return
        height = self.size.height or 24
        # The visits keep at least their header and three rows under both lists.
        window = max(MIN_CM_ROWS, min(MAX_CM_ROWS, (height - CM_CHROME - 4) // 3))
        table = waiting_table(waiting, today, width)
        queue.headers = table.headers
        queue.set_rows(table.rows, table.widths)
        queue.styles.max_height = window + 1
        self.cm_names["queue"] = [f"{row.cells[2]} ({row.cells[3]})" for row in table.rows]
        table = projects_table(projects, today, width)
        mine.headers = table.headers
        mine.set_rows(table.rows, table.widths)
        mine.styles.max_height = window + 1
        self.cm_names["mine"] = [f"{row.cells[2]} — {row.cells[4]}" for row in table.rows]
        self.query_one("#queue-title", Static).update(Content.from_markup(
            f"[b]À prendre en charge[/b] — $summary{_more(len(waiting), window)} [dim](z : zone)[/]",
            summary=waiting_summary(waiting_total, self.zone)))
        after = _more(len(projects), window) if projects else " [dim](m dans une opportunité la prend en charge)[/]"
        self.query_one("#mine-title", Static).update(Content.from_markup(
            f"[b]Mes projets[/b] — $summary{after}", summary=projects_summary(projects_total, overdue)))
        lists = sum(min(len(listing.rows), window) + 1 for listing in (queue, mine) if listing.display)
        self.query_one("#visits", VisitList).styles.max_height = max(4, height - CM_CHROME - lists)
        if self.focused is None or not self.focused.display:  # a list just emptied (the last one taken)
            self._focus_cm_list()

    def _focus_cm_list(self) -> None:
        """A CM starts on what waits to be taken, else on their projects, else the visits."""
        for name in ("queue", "mine"):
            found = self.query(f"#{name}")
            if found and found.first(VisitList).rows and found.first(VisitList).display:
                found.first(VisitList).focus()
                return
        self.query_one("#visits", VisitList).focus()

    def action_zone(self) -> None:
        """Toutes → Est → Ouest → Toutes: the zones of the region (fixtures/territory.toml),
        read on the first use (the Accueil's start-up does not load the reference data)."""
        if self._zone_departements is None:
            territory = self.app.workspace.territory
            zones: dict[str, set[str]] = {}
            for departement in territory.departements if territory is not None else ():
                zones.setdefault(departement.sector, set()).add(departement.code)
            self._zone_departements = zones
        order = [None, *sorted(self._zone_departements)]
        index = order.index(self.zone) if self.zone in order else 0
        self.set_zone(order[(index + 1) % len(order)])

    def set_zone(self, zone: str | None) -> None:
        if zone is not None and self._zone_departements is None:
            self.zone = None
            self.action_zone()  # reads the zones, then steps from « toutes » to the first
            if self.zone != zone:
                self.set_zone(zone)
            return
        self.zone = zone
        queue = self.query("#queue")
        if queue:
            queue.first(VisitList).cursor = 0
        self.refresh_visits()

    def _show_hint(self) -> None:
        hint = self.query_one("#home-hint", Static)
        focused = self.focused.id if self.focused is not None else None
        if self.cm and focused in ("queue", "mine") and not self.archived_view:
            self._show_cm_hint(hint, focused)
            return
        todo = self.query_one("#todo", VisitList)
        if todo.has_focus and todo.cursor < len(self.todo_names) and not self.archived_view:
            # Variables, not escaped markup: a CRM title « [M1] … » would read as a tag.
            hint.update(Content.from_markup(
                "« À faire » : [b]Entrée[/b] ouvre l'opportunité « $what », [b]Tab[/b] revient aux visites, "
                "[b]o[/b] liste toutes les opportunités.", what=self.todo_names[todo.cursor]))
            return
        if self.archived_view:
            self._show_archived_hint(hint)
            return
        if not self.visit_count:
            archived = len(self.app.workspace.visits.list(archived=True))
            if archived:
                hint.update(f"Aucune visite à l'accueil ({archived} archivée(s) : [b]v[/b] pour les voir). "
                            "Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
                return
            hint.update("Aucune visite pour l'instant. Appuyez sur [b]n[/b] pour commencer une nouvelle visite.")
            return
        text = (f"{self.in_progress} en cours · {self.visit_count - self.in_progress} terminée(s) — "
                "[b]Entrée[/b] reprend la visite sélectionnée, [b]n[/b] en commence une nouvelle.")
        if todo.display:
            text += " [b]Tab[/b] : « À faire »."
        selected = self.query_one("#visits", VisitList).selected
        followup = self.followups.get(selected) if selected else None
        values = {}
        if followup is not None:  # variables, not escaped markup: « [M1] » would read as a tag
            text += "\nSuivi du CM pour « $structure » : [b]$label[/b]" + (" — $comment" if followup.comment else "")
            values = {"structure": self._visit_structure(selected), "label": _shown(followup.label),
                      "comment": _shown(followup.comment)}
        problems = _sync_problems(getattr(self.app, "sync_status", None))
        if problems:
            text += f"\n[$text-warning]{problems} : [b]s[/b] pour les voir et les régler.[/]"
        hint.update(Content.from_markup(text, **values))

    def _show_cm_hint(self, hint: Static, focused: str) -> None:
        listing = self.query_one(f"#{focused}", VisitList)
        names = self.cm_names.get(focused, [])
        if listing.cursor >= len(names):  # an empty list keeps no focus (hidden): a refresh in between
            return
        if focused == "queue":
            text = ("« À prendre en charge » : [b]Entrée[/b] ouvre « $what », où [b]m[/b] la prend en charge · "
                    "[b]z[/b] : zone · [b]Tab[/b] : liste suivante.")
        else:
            text = "« Mes projets » : [b]Entrée[/b] ouvre « $what » · [b]Tab[/b] : liste suivante."
        hint.update(Content.from_markup(text, what=names[listing.cursor]))

    def _show_archived_hint(self, hint: Static) -> None:
        if not self.visit_count:
            hint.update("Aucune visite archivée. [b]v[/b] revient aux visites de l'accueil.")
            return
        hint.update(f"{self.visit_count} visite(s) archivée(s), gardées et exportées — [b]x[/b] restaure la visite "
                    "sélectionnée, [b]Entrée[/b] l'ouvre, [b]v[/b] revient aux visites de l'accueil.")

    # -- archives ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """One meaning per key in each view: `x` archives or restores, `v` goes there or back;
        Entrée opens the opportunity in « À faire », resumes the visit in the visits."""
        if action in ("open_todo", "resume"):
            return self._todo_focused() == (action == "open_todo")
        if action == "opportunities":  # the archived view's keys are about the archived visits
            return not self.archived_view
        if action == "zone":
            return self.cm and not self.archived_view
        if action == "archive":
            return not self.archived_view and not self._todo_focused()
        if action == "restore":
            return self.archived_view
        if action == "show_archived":
            return parameters[0] != self.archived_view
        return True

    def action_show_archived(self, archived: bool) -> None:
        """Switch between the Accueil's visits and the archived ones."""
        self.archived_view = archived
        title = self.query_one("#home-title", Static)
        title.update("[b]Visites archivées[/b] — hors de l'accueil, rien n'est supprimé")
        title.display = archived
        listing = self.query_one("#visits", VisitList)
        listing.cursor = 0
        self.refresh_visits()
        listing.focus()
        self.refresh_bindings()

    def action_archive(self) -> None:
        """Ask, naming the visit, then archive it."""
        from at_tui.screens.confirm import ArchiveVisitScreen

        visit_id = self.query_one("#visits", VisitList).selected
        if visit_id is None:
            self.notify("Aucune visite à archiver.", severity="warning")
            return
        name = self._visit_name(visit_id)
        self.app.push_screen(ArchiveVisitScreen(escape(name)),
                             lambda archive: self._set_archived(visit_id, name, True) if archive else None)

    def action_restore(self) -> None:
        visit_id = self.query_one("#visits", VisitList).selected
        if visit_id is None:
            self.notify("Aucune visite archivée à restaurer.", severity="warning")
            return
        self._set_archived(visit_id, self._visit_name(visit_id), False)

    def _set_archived(self, visit_id: str, name: str, archived: bool) -> None:
        from at_tui.store.db import StoreError
        from at_tui.store.pending_writes import SAVE_ERRORS

        try:
            self.app.workspace.visits.set_archived(visit_id, archived)
        except (StoreError, *SAVE_ERRORS) as error:
            from at_tui.store.errors import explain

            self.app.workspace.after_failed_write()
            what = "Archivage" if archived else "Restauration"
            self.notify(str(error) if isinstance(error, StoreError) else explain(error, what),
                        severity="error", timeout=15, markup=False)
            return
        if archived:
            self.notify(f"Visite « {escape(name)} » archivée : [b]v[/b] affiche les visites archivées.",
                        title="Archivée")
        else:
            self.notify(f"Visite « {escape(name)} » restaurée : elle revient dans l'accueil.", title="Restaurée")
        self.refresh_visits()
        self.app.refresh_sync_status()  # a restored visit never sent waits to be sent again

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The Accueil's archive commands, offered by the app's command palette (at_tui.app)."""
        selected = self.query_one("#visits", VisitList).selected
        if self.archived_view:
            if selected is not None:
                yield SystemCommand(f"Restaurer la visite archivée : {self._visit_structure(selected)}",
                                    "La remettre dans la liste de l'accueil (touche x)", self.action_restore)
            yield SystemCommand("Revenir aux visites de l'accueil", "Quitter la liste des visites archivées (touche v)",
                                lambda: self.action_show_archived(False))
            return
        if selected is not None:
            yield SystemCommand(f"Archiver la visite : {self._visit_structure(selected)}",
                                "La retirer de l'accueil, sans rien supprimer (touche x)", self.action_archive)
        yield SystemCommand("Visites archivées", "Voir, ouvrir ou restaurer les visites archivées (touche v)",
                            lambda: self.action_show_archived(True))
        if self.cm:
            for zone in ZONES:
                yield SystemCommand(f"À prendre en charge : zone {zone or 'toutes'}",
                                    "Les opportunités en attente d'un CM, d'une zone ou de toute la région (touche z)",
                                    lambda zone=zone: self.set_zone(zone))

    def action_opportunities(self) -> None:
        self.app.action_opportunities()

    def _todo_focused(self) -> bool:
        """The focus is on a list of opportunities (« À faire », a CM's two lists), not the visits."""
        return self.focused is not None and self.focused.id in OPPORTUNITY_LISTS

    def action_open_todo(self) -> None:
        """Entrée in « À faire » (or a CM's lists): the opportunity of the selected row."""
        listing = self.focused
        opportunity_id = listing.selected if isinstance(listing, VisitList) else None
        if opportunity_id is not None:
            self.app.open_opportunity(opportunity_id)

    def action_resume(self) -> None:
        visit_id = self.query_one("#visits", VisitList).selected
        if visit_id is None:
            self.notify("Aucune visite à reprendre : n pour en commencer une.", severity="warning")
            return
        self.app.open_visit(visit_id)

    def on_visit_list_chosen(self, event: VisitList.Chosen) -> None:
        if event.control is not None and event.control.id in OPPORTUNITY_LISTS:
            self.app.open_opportunity(event.key)
            return
        self.app.open_visit(event.key)


def _more(count: int, window: int) -> str:
    """« (+ 4 : ↓) » when a list has more rows than it shows at once."""
    rest = count - window
    return f" [dim](+ {rest} : ↓)[/]" if rest > 0 else ""


def _cm_widgets():
    """A CM's two lists and their titles, above the visits."""
    yield Static("", id="queue-title")
    yield VisitList(("Visite du",), id="queue")
    yield Static("", id="mine-title")
    yield VisitList(("Statut",), id="mine")


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
