"""« Compte rendu de cette visite »: the TUI's way to the report files (issue 12 §3).

One function for the deliverables screen's key (`w`) and the command palette (at_tui.app):
both write the Markdown and the HTML under the data's exports/ folder, exactly as
`at-tui export --format rapport` does, and say where in a notification.
"""

from __future__ import annotations


def write_visit_report(app, visit_id: str) -> None:
    """Write the visit's compte rendu; every failure is one French notification, never a crash."""
    from at_tui.documents.visit_report import ReportError, export_report
    from at_tui.domain.redaction import safe
    from at_tui.files import TargetRefused
    from at_tui.paths import exports_dir
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain
    from at_tui.store.pending_writes import SAVE_ERRORS

    try:
        md_path, html_path = export_report(app.workspace, visit_id, exports_dir())
    except (ReportError, TargetRefused, StoreError) as error:
        app.notify(safe(str(error)), title="Compte rendu", severity="error", timeout=15, markup=False)
        return
    except SAVE_ERRORS as error:  # sqlite3.Error, OSError (disk full, read-only folder)
        app.notify(f"{explain(error, 'Écriture du compte rendu')} Rien n'a été écrit.", title="Compte rendu",
                   severity="error", timeout=15, markup=False)
        return
    app.notify(f"Compte rendu écrit dans {safe(str(md_path.parent))} :\n{md_path.name} (Markdown)\n"
               f"{html_path.name} (HTML, à imprimer)", title="Compte rendu", timeout=12, markup=False)
