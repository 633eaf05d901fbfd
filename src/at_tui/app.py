"""The Textual application: screens, global keys, command palette."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.content import Content
from textual.screen import Screen

from at_tui.workspace import Workspace

SYNC_PROBE_SECONDS = 30.0
RETRY_SECONDS = 5.0  # unsaved values are tried again this often (and at each change)
CRASH_EXIT = 70  # an unexpected error (EX_SOFTWARE): the CLI prints at_tui.crash.crash_sentence
SYNC_PREFIX = "Synchronisation : "  # how at_tui.sync.background.Status.text() starts
HEADER_SIDES = 18  # the Header's icon (8 cells) and clock space (10)
# A save waits at most this long for another program's write lock (an import swapping its
# tables) before the value is kept as unsaved and retried: the screen never freezes for the
# store's 10 s, and nothing typed is lost meanwhile.
SAVE_BUSY_TIMEOUT_MS = 2000


class ATApp(App[str | None]):
    TITLE = "at-tui"
    SUB_TITLE = "Visites SPICO — GRADeS e-santé Occitanie"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("f1", "help", "Aide", id="help"),
        Binding("f3", "lookup", "Annuaire", id="lookup"),
        Binding("ctrl+q", "quit", "Quitter", id="quit", show=False),
    ]

    def __init__(self, db_path: Path, reference=None, today: Callable[[], dt.date] = dt.date.today,
                 busy_timeout_ms: int | None = SAVE_BUSY_TIMEOUT_MS) -> None:
        """`busy_timeout_ms`: how long a save waits for another program's write lock before the
        value is kept as unsaved and retried (tests shorten it)."""
        from at_tui.widgets import french

        french.install()
        super().__init__()
        self.today = today  # injectable so tests and snapshots do not depend on the date
        self.db_path = db_path
        self._reference = reference
        self._busy_timeout_ms = busy_timeout_ms
        self.workspace: Workspace | None = None
        self.crash_error: BaseException | None = None  # an unexpected error that ended the app
        self._instance_lock = None
        self._unsaved_text = ""  # what the header says while some values wait to be saved
        self._overdue_text = ""  # « 2 en retard »: overdue items of « À faire » (at_tui.screens.home)
        self._syncing = False
        self._online = False
        self.sync_status = None  # the last at_tui.sync.background.Status

    def on_mount(self) -> None:
        from at_tui.screens.home import HomeScreen

        if not self._take_instance_lock() or not self._open_workspace():
            return
        if self._reference is None and not self.check_data_files():
            return
        self.push_screen(HomeScreen())
        self.set_interval(RETRY_SECONDS, self.retry_unsaved)
        # Off the start-up path: the first F3 then answers at once.
        self.set_timer(1.5, lambda: self.run_worker(
            self.workspace.ensure_directory, thread=True, group="prewarm", exit_on_error=False))
        self.set_timer(2.0, self.request_sync)
        self.set_interval(SYNC_PROBE_SECONDS, self.request_sync)

    def _take_instance_lock(self) -> bool:
        """One app per data folder (at_tui.store.instance_lock); False when another holds it."""
        from at_tui.store.instance_lock import ALREADY_OPEN_EXIT, AlreadyOpen, InstanceLock

        lock = InstanceLock(self.db_path.parent)
        try:
            lock.acquire()
        except AlreadyOpen as error:
            self.exit(str(error), ALREADY_OPEN_EXIT)
            return False
        self._instance_lock = lock
        return True

    def _open_workspace(self) -> bool:
        """The database opened, or the app ends with the French reason (no traceback)."""
        from at_tui.store.db import StoreError
        from at_tui.store.errors import explain
        from at_tui.store.pending_writes import SAVE_ERRORS

        try:
            self.workspace = Workspace(self.db_path, reference=self._reference, busy_timeout_ms=self._busy_timeout_ms)
        except StoreError as error:
            self.exit(str(error), 1)
            return False
        except SAVE_ERRORS as error:
            self.exit(explain(error, "Ouverture de la base"), 1)
            return False
        return True

    # -- values that could not be saved ------------------------------------------

    def after_save(self) -> None:
        """After a save went through: if values were waiting, they were retried: say what is left.
        On the happy path this is one truth test."""
        if self._unsaved_text or self.workspace.pending:
            self.show_pending()

    def retry_unsaved(self) -> None:
        """The timer: try the unsaved values again, then say what is left (the message clears)."""
        if self.workspace is None or not self.workspace.pending:
            return
        self.workspace.retry_pending()
        self.show_pending()

    def show_pending(self) -> None:
        """The header and the current screen's fields say which values are not saved, and why."""
        pending = self.workspace.pending if self.workspace is not None else None
        if pending:
            count = len(pending)
            what = "1 saisie NON ENREGISTRÉE" if count == 1 else f"{count} saisies NON ENREGISTRÉES"
            # Short enough for the header at 80 columns; the field itself says it is retried.
            self._unsaved_text = f"{what} : {pending.last_error_cause()}"
        else:
            self._unsaved_text = ""
        self.mutate_reactive(ATApp.title)  # the header formats its title again (not sub_title: the Accueil watches it)
        refresh = getattr(self.screen, "show_pending", None)
        if refresh is not None:
            refresh()

    # -- background sync ---------------------------------------------------------

    def request_sync(self, force: bool = False) -> None:
        """Probe the central store in a worker thread; sync when it answers and something waits.

        Going back online, or `force` (a visit just finished), syncs even with nothing
        waiting, to bring the CMs' follow-up."""
        from at_tui.sync.background import held

        if self._syncing or held(self.sync_status):  # a Retry-After is honoured, even by a finished visit
            return
        self._syncing = True
        self.run_worker(lambda: self._sync_worker(force or not self._online), thread=True, group="sync",
                        exit_on_error=False)

    def _sync_worker(self, force: bool) -> None:
        from at_tui.sync.background import sync_once

        try:
            status = sync_once(self.db_path, self.workspace.reference, force=force)
        except Exception as error:  # never let a sync problem reach the AT's typing
            from at_tui.domain.redaction import safe

            status = None
            self.call_from_thread(self.notify, f"Synchronisation : {safe(error, limit=300)}", severity="warning",
                                  markup=False)
        self.call_from_thread(self._show_sync_status, status)

    def _show_sync_status(self, status) -> None:
        self._syncing = False
        if status is None:
            return
        self._online = status.online
        self.sync_status = status
        self.sub_title = status.text() or self.SUB_TITLE
        changed = getattr(self.screen, "central_changed", None)
        if status.received and changed is not None:  # the other side's entries, on the screen now
            changed()

    def refresh_sync_status(self) -> None:
        """The header's counts at once after the AT settled a conflict or sent a refusal again
        (the connection state stays the last probe's)."""
        from at_tui.sync.background import current_status

        last = self.sync_status
        if last is None or self.workspace is None:
            return  # no probe yet: the next one shows the counts
        self.sync_status = current_status(self.workspace.conn, last.online, last.configured, last.problem,
                                          last.hold_until)
        self.sub_title = self.sync_status.text() or self.SUB_TITLE

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header. When the sync status does not fit the terminal's width, the counts are kept:
        « at-tui — » and « Synchronisation : » go first, then the time of the last sync."""
        if self._unsaved_text:  # first, and alone if need be: the AT must see it
            unsaved = Content.styled(self._unsaved_text, "bold $text-error")
            rest = Content(f" · {sub_title}") if sub_title else Content("")
            room = self.size.width - HEADER_SIDES
            if unsaved.cell_length + rest.cell_length <= room:
                return unsaved + rest
            return unsaved
        room = self.size.width - HEADER_SIDES
        if self._overdue_text:  # « at-tui — 2 en retard · … », the count kept when room is short
            overdue = Content.styled(self._overdue_text, "bold $text-warning")
            full = Content.assemble(title, (" — ", "dim"), overdue, (" · ", "dim"), Content(sub_title).stylize("dim"))
            if full.cell_length <= room:
                return full
            return overdue + Content(" · ") + self._fit_sub_title(sub_title, room - overdue.cell_length - 3)
        full = super().format_title(title, sub_title)
        if full.cell_length <= room or not sub_title.startswith(SYNC_PREFIX):
            return full
        return self._fit_sub_title(sub_title, room)

    @staticmethod
    def _fit_sub_title(sub_title: str, room: int) -> Content:
        """The sync status in `room` cells: without « Synchronisation : », then without the last sync's time."""
        if len(sub_title) <= room or not sub_title.startswith(SYNC_PREFIX):
            return Content(sub_title)
        parts = sub_title.removeprefix(SYNC_PREFIX).split(" · ")
        if len(" · ".join(parts)) > room and len(parts) > 1 and parts[-1].startswith("synchro "):
            parts.pop()
        return Content(" · ".join(parts))

    def show_overdue(self, text: str) -> None:
        """The header's count of overdue items (« 2 en retard »), set by the Accueil's « À faire »."""
        if text != self._overdue_text:
            self._overdue_text = text
            self.mutate_reactive(ATApp.title)

    def on_resize(self) -> None:
        self.mutate_reactive(ATApp.sub_title)  # the header formats its title again for the new width

    def check_data_files(self) -> bool:
        """Validate the data files at start, unless these exact files already passed."""
        from at_tui.paths import fixtures_root
        from at_tui.reference.checked import already_checked, fingerprint, remember_checked

        print_ = fingerprint(fixtures_root())
        if already_checked(print_):
            return True  # loaded on first use, off the start-up path
        from at_tui.reference.loader import ReferenceDataError

        try:
            self.workspace.reference  # noqa: B018 - loads and validates
        except ReferenceDataError as error:
            self.exit(str(error), 2)
            return False
        remember_checked(print_)
        return True

    def on_unmount(self) -> None:
        if self.workspace is not None:
            self.workspace.close()
        if self._instance_lock is not None:
            self._instance_lock.release()

    # -- unexpected errors -------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected error ends the app without Textual's crash screen, which prints the
        traceback with local variables (names of the people visited) on the terminal.

        The error is kept in `crash_error`: the CLI writes the crash report (at_tui.crash, no
        locals, redacted) and prints one French line. Under Pilot the error is still re-raised
        at the end of run_test, so a test never passes over a crash."""
        if self.crash_error is None:
            self.crash_error = error
        self._return_code = CRASH_EXIT
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    def _fatal_error(self) -> None:
        """Never the rich traceback (show_locals=True): see _handle_exception."""
        self._return_code = CRASH_EXIT
        self._close_messages_no_wait()

    # -- navigation ------------------------------------------------------------

    def open_new_visit(self) -> None:
        from at_tui.screens.visit_form import VisitFormScreen

        self.push_screen(VisitFormScreen())

    def open_visit(self, visit_id: str, key: str | None = None) -> None:
        """Show a visit at `key` (default: where the AT left it), replacing any visit screen."""
        from at_tui.screens.visit_steps import screen_for_stop

        refusal = self.workspace.visit_refusal(visit_id)  # a CM does not edit an AT's visit
        if refusal is not None:
            self.notify(refusal, severity="warning", timeout=10, markup=False)
            return
        screen = screen_for_stop(self.workspace, visit_id, key)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(screen)

    def open_opportunity(self, opportunity_id: str) -> None:
        """The opportunity's screen (journal, steps 4 to 7), over the current one; Échap comes back."""
        from at_tui.screens.opportunity import OpportunityScreen

        if self.workspace is None or self.workspace.opportunities.get(opportunity_id) is None:
            self.notify("Opportunité introuvable : elle n'existe pas (ou plus) sur ce poste.", severity="warning")
            return
        self.push_screen(OpportunityScreen(self.workspace, opportunity_id))

    def go_home(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.screen.refresh_visits()  # type: ignore[attr-defined]

    def action_help_quit(self) -> None:
        # Textual's own hint is in English; ctrl+c no longer quits.
        if self.workspace is not None and self.workspace.pending:
            self.notify("Pour quitter : [b]Ctrl+Q[/b] — attention, des saisies ne sont pas encore enregistrées.",
                        title="Quitter ?", severity="warning")
            return
        self.notify("Pour quitter : [b]Ctrl+Q[/b] (tout est déjà enregistré).", title="Quitter ?")

    async def action_quit(self) -> None:
        """Quit; with values still unsaved after one more try, ask first and name them."""
        workspace = self.workspace
        if workspace is not None and workspace.pending:
            workspace.retry_pending()
            self.show_pending()
        if workspace is None or not workspace.pending:
            self.exit()
            return
        from at_tui.screens.unsaved_quit import UnsavedQuitScreen

        if isinstance(self.screen, UnsavedQuitScreen):
            return
        cause = workspace.pending.last_error_cause()
        self.push_screen(UnsavedQuitScreen(workspace.unsaved_summary(), cause),
                         lambda leave: self.exit() if leave else None)

    def action_help(self) -> None:
        from at_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "lookup":  # not offered again from the lookup itself
            return getattr(self.screen, "offers_lookup", True)
        return True

    def action_lookup(self) -> None:
        """The contacts lookup; from inside a visit, filtered on the visit's département."""
        from at_tui.screens.lookup import LookupScreen

        if not getattr(self.screen, "offers_lookup", True):
            return
        visit = getattr(self.screen, "visit", None)
        if visit is None:
            self.push_screen(LookupScreen())
            return
        self.push_screen(LookupScreen(visit.departement, context=f"filtré sur le {visit.departement} (visite en cours)"))

    def action_argumentaire(self, typology: str | None = None) -> None:
        """The general pages and the typology sheets; from a visit, on its typology's sheet."""
        from at_tui.screens.argumentaire import ArgumentaireScreen

        if not isinstance(self.screen, ArgumentaireScreen):
            reference = self.workspace.reference
            order = [t.label for t in reference.territory.offered_typologies] if reference.territory else []
            self.push_screen(ArgumentaireScreen(reference.argumentaire, typology, order))

    def action_resolve_conflicts(self) -> None:
        """Open the conflict screen on each conflicting visit in turn."""
        from at_tui.screens.conflict import ConflictScreen
        from at_tui.sync.outbox import conflicts

        pending = conflicts(self.workspace.conn)
        if not pending:
            from at_tui.screens.opportunity_conflict import OpportunityConflictScreen, next_opportunity_conflict

            found = next_opportunity_conflict(self.workspace.conn)  # then the opportunities' (issue 11 §3)
            if found is None:
                self.notify("Aucun conflit de synchronisation.")
                return
            self.push_screen(OpportunityConflictScreen(*found),
                             lambda settled: self.action_resolve_conflicts() if settled else None)
            return
        visit_id, central = pending[0]
        self.push_screen(ConflictScreen(visit_id, central),
                         lambda settled: self.action_resolve_conflicts() if settled else None)

    def action_sync_problems(self) -> None:
        """« Problèmes de synchronisation »: conflicts and refused visits, each with what settles it."""
        from at_tui.screens.sync_problems import SyncProblemsScreen

        if not isinstance(self.screen, SyncProblemsScreen):
            self.push_screen(SyncProblemsScreen())

    def action_new_visit(self) -> None:
        self.go_home()
        self.open_new_visit()

    def action_opportunities(self) -> None:
        """« Opportunités »: every opportunity, led or supported, its status and next due date."""
        from at_tui.screens.opportunities import OpportunitiesScreen

        if not isinstance(self.screen, OpportunitiesScreen):
            self.push_screen(OpportunitiesScreen())

    def action_indicators(self) -> None:
        """« Indicateurs »: visits and opportunities per month, by statut, offre, département, typologie."""
        from at_tui.screens.indicators import IndicatorsScreen

        if not isinstance(self.screen, IndicatorsScreen):
            self.push_screen(IndicatorsScreen())

    def action_resume_last(self) -> None:
        visits = [v for v in self.workspace.visits.list(archived=False) if not v.finished]
        if not visits:
            self.notify("Aucune visite en cours à reprendre.", severity="warning")
            return
        self.open_visit(visits[0].id)

    def action_visit_report(self, visit_id: str) -> None:
        """The visit's compte rendu, Markdown and HTML, under exports/ (issue 12 §3)."""
        from at_tui.screens.visit_report_action import write_visit_report

        write_visit_report(self, visit_id)

    def action_export_menu(self) -> None:
        """« Exporter » (`e`): the tracking spreadsheet, the CRM import, the CM–AT pack, the visits."""
        from at_tui.screens.export_menu import ExportMenuScreen

        if not isinstance(self.screen, ExportMenuScreen):
            self.push_screen(ExportMenuScreen(), lambda key: self.action_write_export(key) if key else None)

    def action_write_export(self, key: str) -> None:
        from at_tui.screens.export_menu import run_export

        run_export(self, key)

    def action_export(self, visit_id: str | None = None) -> None:
        """Write the visits (or one) to a JSON file under the data directory's exports/."""
        from at_tui.exchange import ExchangeError
        from at_tui.exchange.exporter import export_to_exports_folder

        try:
            path, count = export_to_exports_folder(self.workspace, visit_id)
        except ExchangeError as error:  # an unknown visit, a full disk: said, and the app goes on
            self.notify(str(error), severity="error", timeout=15, markup=False)
            return
        self.notify(f"{count} visite(s) exportée(s) dans {path}", title="Export JSON", timeout=10)

    # -- command palette ---------------------------------------------------------

    def action_command_palette(self) -> None:
        from at_tui.widgets.french import FrenchCommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(FrenchCommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        """« Changer de thème »: Textual's theme list names its themes in English."""
        from at_tui.widgets.french import theme_palette

        self.push_screen(theme_palette())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Nouvelle visite", "Commencer une nouvelle visite de structure", self.action_new_visit)
        yield SystemCommand(
            "Reprendre la dernière visite", "Reprendre la visite en cours la plus récente", self.action_resume_last
        )
        if self.workspace is not None:
            for visit in self.workspace.visits.list(archived=False):
                if not visit.finished:
                    yield SystemCommand(
                        f"Reprendre : {visit.structure}",
                        f"Visite en cours ({visit.departement}) — reprendre où elle en était",
                        lambda visit_id=visit.id: self.open_visit(visit_id),
                    )
        yield SystemCommand("Opportunités", "Toutes les opportunités : menées ou en soutien, statut, prochaine "
                            "échéance (touche o à l'accueil)", self.action_opportunities)
        yield SystemCommand("Indicateurs", "Visites et opportunités par mois, statut, offre, département, "
                            "typologie (touche i à l'accueil)", self.action_indicators)
        yield SystemCommand("Exporter les visites (JSON)", "Écrire toutes les visites dans un fichier JSON", self.action_export)
        from at_tui.screens.export_menu import CHOICES

        for choice in CHOICES:
            if choice.key != "json":  # the JSON export has its own command, just above
                yield SystemCommand(f"Exporter : {choice.label}", f"{choice.help} (touche e à l'accueil)",
                                    lambda key=choice.key: self.action_write_export(key))
        visit = getattr(screen, "visit", None)
        if visit is not None:
            yield SystemCommand(
                "Exporter cette visite (JSON)",
                f"Écrire la visite « {visit.structure} » dans un fichier JSON",
                lambda: self.action_export(visit.id),
            )
            yield SystemCommand(
                "Compte rendu de cette visite (Markdown + HTML)",
                "Le compte rendu à coller dans le CRM ou à imprimer, écrit dans le dossier des exports",
                lambda: self.action_visit_report(visit.id),
            )
        # A screen's own actions (e.g. the deliverables' two copies), offered here as well.
        yield from getattr(screen, "palette_commands", tuple)()
        yield SystemCommand(
            "Annuaire des contacts",
            "Référents DAC, animateurs, chargés de mission, projets, professionnels de santé",
            self.action_lookup,
        )
        typology = visit.typologie if visit is not None else None
        yield SystemCommand(
            "Argumentaire SPICO",
            "Présentation de SPICO, positionnement, maillage et fiches par typologie",
            lambda: self.action_argumentaire(typology),
        )
        if self.sync_status is not None and self.sync_status.conflicts:
            yield SystemCommand(
                f"Résoudre les conflits de synchronisation ({self.sync_status.conflicts})",
                "Comparer, champ par champ, la visite de ce poste et celle du central",
                self.action_resolve_conflicts,
            )
        yield SystemCommand(
            "Problèmes de synchronisation (conflits, envois refusés)",
            "Conflits à régler et visites refusées par le central : ouvrir, corriger, renvoyer",
            self.action_sync_problems,
        )
        yield SystemCommand("Accueil", "Revenir à la liste des visites", self.go_home)
        yield SystemCommand("Aide", "Les touches et le déroulé d'une visite", self.action_help)
        yield SystemCommand("Changer de thème", "Choisir les couleurs de l'application", self.action_change_theme)
        unsaved = self.workspace is not None and bool(self.workspace.pending)
        yield SystemCommand("Quitter", "Fermer at-tui (des saisies ne sont pas enregistrées)" if unsaved
                            else "Fermer at-tui (tout est déjà enregistré)", self.action_quit)
