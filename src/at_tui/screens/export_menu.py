"""« Exporter » (`e` at the Accueil): which file to write — the visits (JSON), the SPICO tracking
spreadsheet, the CRM import, the monthly CM–AT pack (issue 12).

The screen only chooses; `run_export` writes with the same functions as `at-tui export` and
`at-tui point-cm-at`, in a worker thread on its own connection (a region's file takes seconds:
the app keeps answering), and says where the file went, or why not, in one notification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from at_tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from at_tui.workspace import Workspace


@dataclass(frozen=True)
class ExportChoice:
    key: str
    label: str
    help: str
    write: Callable[[Workspace], str]  # writes the file(s); returns the French sentence saying where


def _tracking(workspace: Workspace) -> str:
    from at_tui.documents.tracking_file import write_laptop_tracking_file, written_sentence

    return written_sentence(write_laptop_tracking_file(workspace))


def _crm(depuis: str | None) -> Callable[[Workspace], str]:
    def write(workspace: Workspace) -> str:
        from at_tui.documents.crm_export import export_crm
        from at_tui.domain.redaction import safe

        done = export_crm(workspace, None, depuis)
        note = f"{done.note} " if done.note else ""
        return (f"{note}Import CRM écrit dans {safe(str(done.folder))} : opportunites.csv ({done.opportunities}) "
                f"et activites.csv ({done.activities}).")
    return write


def _pack(zone: str) -> Callable[[Workspace], str]:
    def write(workspace: Workspace) -> str:
        from at_tui.documents.pack_file import write_laptop_pack
        from at_tui.domain.redaction import safe

        pack, path = write_laptop_pack(workspace, zone, "html")
        return f"{pack.title} : page écrite dans {safe(str(path))} (à ouvrir dans un navigateur, imprimable)."
    return write


def _json(workspace: Workspace) -> str:
    from at_tui.exchange.exporter import export_to_exports_folder

    path, count = export_to_exports_folder(workspace)
    return f"{count} visite(s) exportée(s) dans {path}"


CHOICES = (
    ExportChoice("suivi", "Fichier de suivi des déploiements SPICO (xlsx)",
                 "Une ligne par opportunité, une feuille Synthèse ; pour un tableur", _tracking),
    ExportChoice("crm", "Import CRM : ce qui a changé depuis le dernier export (csv)",
                 "opportunites.csv et activites.csv (tout, la première fois)", _crm("dernier")),
    ExportChoice("crm-tout", "Import CRM : toutes les opportunités (csv)", "opportunites.csv et activites.csv", _crm(None)),
    ExportChoice("point-est", "Point CM – AT, zone Est (page HTML)",
                 "Nouvelles, en mouvement, en retard, remontées terrain du mois", _pack("est")),
    ExportChoice("point-ouest", "Point CM – AT, zone Ouest (page HTML)",
                 "Nouvelles, en mouvement, en retard, remontées terrain du mois", _pack("ouest")),
    ExportChoice("json", "Visites (JSON)", "Pour une autre installation d'at-tui (at-tui import)", _json),
)


class ExportMenuScreen(ModalScreen[str | None]):
    """Returns the key of the chosen export, None when closed."""

    CSS_PATH = "screens.tcss"
    DEFAULT_CSS = """
    ExportMenuScreen { align: center middle; }
    ExportMenuScreen #dialog { max-height: 100%; }
    ExportMenuScreen OptionList { height: auto; max-height: 16; }
    ExportMenuScreen KeyBar { min-height: 2; }  /* covers the Accueil's keys, which do nothing here */
    """
    BINDINGS = [
        Binding("escape", "close", "Fermer", id="export.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("[b]Exporter[/b]", classes="section-title")
            yield OptionList(*(Option(f"{c.label}\n  [dim]{c.help}[/dim]", id=c.key) for c in CHOICES),
                             id="export-choices")
            yield Static("Entrée : écrire dans le dossier exports/ des données (lisible par vous seul).",
                         classes="form-hint")
        yield KeyBar()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


def run_export(app, key: str) -> None:
    """Write the chosen export in a worker thread, on a connection of its own; notify the outcome."""
    choice = next(c for c in CHOICES if c.key == key)
    app.notify(f"{choice.label} : écriture en cours…", title="Exporter", timeout=4)
    db_path, reference = app.workspace.db_path, app.workspace.reference

    def work() -> None:
        sentence, severity = _written(choice, db_path, reference)
        app.call_from_thread(app.notify, sentence, title="Exporter", severity=severity, timeout=15, markup=False)

    app.run_worker(work, thread=True, group="export", exit_on_error=False)


def _written(choice: ExportChoice, db_path, reference) -> tuple[str, str]:
    """The sentence to show, and its severity: every failure is one French sentence."""
    from at_tui.domain.redaction import safe
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain
    from at_tui.workspace import Workspace

    try:
        workspace = Workspace(db_path, reference=reference)
        try:
            return choice.write(workspace), "information"
        finally:
            workspace.close()
    except (StoreError, TargetRefused) as error:
        return safe(str(error)), "error"
    except Exception as error:  # noqa: BLE001 - an export must never take the app down
        import sqlite3

        if isinstance(error, (OSError, sqlite3.Error)):
            return f"{explain(error, choice.label)} Rien n'a été écrit.", "error"
        if _is_explained(error):
            return safe(str(error)), "error"
        from at_tui.crash import write_crash_report

        report = write_crash_report(error, f"export {choice.key}")
        where = f" Rapport : {report}" if report else ""
        return f"Erreur inattendue pendant l'export : rien n'a été écrit.{where}", "error"


def _is_explained(error: Exception) -> bool:
    """Errors that already carry a French sentence (reference data, an export's own refusals)."""
    from at_tui.domain.territory import UnknownZone
    from at_tui.domain.text import FieldError
    from at_tui.exchange.errors import ExchangeError
    from at_tui.reference.loader import ReferenceDataError

    return isinstance(error, (ExchangeError, ReferenceDataError, UnknownZone, FieldError))
