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
SYNC_PREFIX = "Synchronisation : "  # how at_tui.sync.background.Status.text() starts
HEADER_SIDES = 18  # the Header's icon (8 cells) and clock space (10)


class ATApp(App[str | None]):
    TITLE = "at-tui"
    SUB_TITLE = "Visites SPICO — GRADeS e-santé Occitanie"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("f1", "help", "Aide", id="help"),
        Binding("f3", "lookup", "Annuaire", id="lookup"),
        Binding("ctrl+q", "quit", "Quitter", id="quit", show=False),
    ]

    def __init__(self, db_path: Path, reference=None, today: Callable[[], dt.date] = dt.date.today) -> None:
        from at_tui.widgets import french

        french.install()
        super().__init__()
        self.today = today  # injectable so tests and snapshots do not depend on the date
        self.db_path = db_path
        self._reference = reference
        self.workspace: Workspace | None = None
        self._syncing = False
        self._online = False
        self.sync_status = None  # the last at_tui.sync.background.Status

    def on_mount(self) -> None:
        from at_tui.screens.home import HomeScreen

        self.workspace = Workspace(self.db_path, reference=self._reference)
        if self._reference is None and not self.check_data_files():
            return
        self.push_screen(HomeScreen())
        # Off the start-up path: the first F3 then answers at once.
        self.set_timer(1.5, lambda: self.run_worker(
            self.workspace.ensure_directory, thread=True, group="prewarm", exit_on_error=False))
        self.set_timer(2.0, self.request_sync)
        self.set_interval(SYNC_PROBE_SECONDS, self.request_sync)

    # -- background sync ---------------------------------------------------------

    def request_sync(self, force: bool = False) -> None:
        """Probe the central store in a worker thread; sync when it answers and something waits.

        Going back online, or `force` (a visit just finished), syncs even with nothing
        waiting, to bring the CMs' follow-up."""
        if self._syncing:
            return
        self._syncing = True
        self.run_worker(lambda: self._sync_worker(force or not self._online), thread=True, group="sync",
                        exit_on_error=False)

    def _sync_worker(self, force: bool) -> None:
        from at_tui.sync.background import sync_once

        try:
            status = sync_once(self.db_path, self.workspace.reference, force=force)
        except Exception as error:  # never let a sync problem reach the AT's typing
            from at_tui.sync.credentials import redact

            status = None
            self.call_from_thread(self.notify, redact(f"Synchronisation : {error}"), severity="warning")
        self.call_from_thread(self._show_sync_status, status)

    def _show_sync_status(self, status) -> None:
        self._syncing = False
        if status is None:
            return
        self._online = status.online
        self.sync_status = status
        self.sub_title = status.text() or self.SUB_TITLE

    def refresh_sync_status(self) -> None:
        """The header's counts at once after the AT settled a conflict or sent a refusal again
        (the connection state stays the last probe's)."""
        from at_tui.sync.background import current_status

        last = self.sync_status
        if last is None or self.workspace is None:
            return  # no probe yet: the next one shows the counts
        self.sync_status = current_status(self.workspace.conn, last.online, last.configured, last.problem)
        self.sub_title = self.sync_status.text() or self.SUB_TITLE

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header. When the sync status does not fit the terminal's width, the counts are kept:
        « at-tui — » and « Synchronisation : » go first, then the time of the last sync."""
        full = super().format_title(title, sub_title)
        room = self.size.width - HEADER_SIDES
        if full.cell_length <= room or not sub_title.startswith(SYNC_PREFIX):
            return full
        parts = sub_title.removeprefix(SYNC_PREFIX).split(" · ")
        if len(" · ".join(parts)) > room and len(parts) > 1 and parts[-1].startswith("synchro "):
            parts.pop()
        return Content(" · ".join(parts))

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

    # -- navigation ------------------------------------------------------------

    def open_new_visit(self) -> None:
        from at_tui.screens.visit_form import VisitFormScreen

        self.push_screen(VisitFormScreen())

    def open_visit(self, visit_id: str, key: str | None = None) -> None:
        """Show a visit at `key` (default: where the AT left it), replacing any visit screen."""
        from at_tui.screens.visit_steps import screen_for_stop

        screen = screen_for_stop(self.workspace, visit_id, key)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(screen)

    def go_home(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.screen.refresh_visits()  # type: ignore[attr-defined]

    def action_help_quit(self) -> None:
        # Textual's own hint is in English; ctrl+c no longer quits.
        self.notify("Pour quitter : [b]Ctrl+Q[/b] (tout est déjà enregistré).", title="Quitter ?")

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
            order = [t.label for t in reference.territory.typologies] if reference.territory else []
            self.push_screen(ArgumentaireScreen(reference.argumentaire, typology, order))

    def action_resolve_conflicts(self) -> None:
        """Open the conflict screen on each conflicting visit in turn."""
        from at_tui.screens.conflict import ConflictScreen
        from at_tui.sync.outbox import conflicts

        pending = conflicts(self.workspace.conn)
        if not pending:
            self.notify("Aucun conflit de synchronisation.")
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

    def action_resume_last(self) -> None:
        visits = [v for v in self.workspace.visits.list() if not v.finished]
        if not visits:
            self.notify("Aucune visite en cours à reprendre.", severity="warning")
            return
        self.open_visit(visits[0].id)

    def action_export(self, visit_id: str | None = None) -> None:
        """Write the visits (or one) to a JSON file under the data directory's exports/."""
        from at_tui.exchange import ExchangeError, dumps, export_visits
        from at_tui.files import write_atomically
        from at_tui.paths import exports_dir

        try:
            envelope = export_visits(self.workspace, visit_id)
        except ExchangeError as error:
            self.notify(str(error), severity="error")
            return
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = exports_dir() / f"visites-{stamp}.json"
        write_atomically(path, dumps(envelope) + "\n")
        count = len(envelope["visits"])
        self.notify(f"{count} visite(s) exportée(s) dans {path}", title="Export JSON", timeout=10)

    # -- command palette ---------------------------------------------------------

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder="Rechercher une commande…"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Nouvelle visite", "Commencer une nouvelle visite de structure", self.action_new_visit)
        yield SystemCommand(
            "Reprendre la dernière visite", "Reprendre la visite en cours la plus récente", self.action_resume_last
        )
        if self.workspace is not None:
            for visit in self.workspace.visits.list():
                if not visit.finished:
                    yield SystemCommand(
                        f"Reprendre : {visit.structure}",
                        f"Visite en cours ({visit.departement}) — reprendre où elle en était",
                        lambda visit_id=visit.id: self.open_visit(visit_id),
                    )
        yield SystemCommand("Exporter les visites (JSON)", "Écrire toutes les visites dans un fichier JSON", self.action_export)
        visit = getattr(screen, "visit", None)
        if visit is not None:
            yield SystemCommand(
                "Exporter cette visite (JSON)",
                f"Écrire la visite « {visit.structure} » dans un fichier JSON",
                lambda: self.action_export(visit.id),
            )
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
        yield SystemCommand("Quitter", "Fermer at-tui (tout est déjà enregistré)", self.action_quit)
