"""`at-tui export --format rapport --visit ID [--output DOSSIER]`: a visit's compte rendu (issue 12 §3).

Two files in the folder (the data's exports/ by default): compte-rendu-<structure>-<AAAAMMJJ>.md,
to paste in the CRM's description, and the same name in .html, to print on A4 or send to the
structure. Both 0600 (they name people), each written atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_FAILED = 1
EXIT_USAGE = 2


def check_arguments(args) -> int | None:
    """What the report cannot honour, refused before the database is opened."""
    from at_tui.cli.output import fail

    if not getattr(args, "visit", None):
        return fail("Indiquez la visite du compte rendu : --visit ID (l'identifiant d'une visite, "
                    "donné par at-tui export --format json).", EXIT_USAGE)
    if getattr(args, "depuis", None):
        return fail("--depuis ne s'applique pas au compte rendu d'une visite : il sert à l'import CRM "
                    "(--format crm).", EXIT_USAGE)
    output = getattr(args, "output", None)
    if output and Path(output).exists() and not Path(output).is_dir():
        return fail(f"{output} n'est pas un dossier : --output indique le dossier où écrire les deux fichiers "
                    "du compte rendu (Markdown et HTML). Rien n'a été écrit.", EXIT_USAGE)
    return None


def run(args, workspace) -> int:
    from at_tui.cli.output import fail
    from at_tui.documents.visit_report import ReportError, export_report
    from at_tui.domain.redaction import safe
    from at_tui.files import TargetRefused
    from at_tui.store.errors import explain

    try:
        folder = _folder(args.output)
    except OSError as error:
        return fail(f"{explain(error, 'Création du dossier des exports')} Rien n'a été écrit.", EXIT_FAILED)
    try:
        md_path, html_path = export_report(workspace, args.visit, folder)
    except (ReportError, TargetRefused) as error:
        return fail(str(error), EXIT_FAILED)
    except OSError as error:
        return fail(f"{explain(error, f'Écriture du compte rendu dans {folder}')} Rien n'a été écrit.", EXIT_FAILED)
    print(f"Compte rendu (Markdown) écrit dans {safe(str(md_path))}", file=sys.stderr)
    print(f"Compte rendu (HTML, à imprimer) écrit dans {safe(str(html_path))}", file=sys.stderr)
    return 0


def _folder(output: str | None) -> Path:
    if output:
        return Path(output)
    from at_tui.paths import exports_dir

    return exports_dir()
