"""`at-tui export --format crm [--output DOSSIER] [--depuis AAAA-MM-JJ|dernier]`: the CRM import (issue 12 §2).

Two files in one folder, `opportunites.csv` and `activites.csv` (`documents.crm_csv`, columns
in docs/crm-export.md), from what this laptop holds: an AT's own opportunities, the
region's on a CM's laptop. `--depuis` keeps only what changed: since a date, or since the
last CRM export made on this laptop (`dernier`, remembered in `export_marks`, schema v12);
every successful export records when it began reading.
"""

from __future__ import annotations

import sys
from pathlib import Path

from at_tui.documents.crm_export import LAST, default_folder, export_crm, is_last, since_day

EXIT_FAILED = 1
EXIT_USAGE = 2


def check_arguments(args) -> int | None:
    """What needs no database, refused before it is opened: --visit, a --depuis that is neither
    a real date nor « dernier », an --output that is not a folder."""
    from at_tui.cli.output import fail

    if getattr(args, "visit", None):
        return fail("--visit ne s'applique pas à l'import CRM (il porte sur toutes les opportunités) : "
                    "--depuis n'envoie que ce qui a changé.", EXIT_USAGE)
    if getattr(args, "depuis", None) is not None and since_day(args.depuis) is None and not is_last(args.depuis):
        return fail(f"--depuis attend une date AAAA-MM-JJ (par exemple 2026-12-01) ou « {LAST} » "
                    f"(depuis le dernier export CRM de ce poste) : « {args.depuis} » n'en est pas une.", EXIT_USAGE)
    if args.output:
        folder = Path(args.output)
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            return fail(f"{folder} n'est pas un dossier : --output indique le dossier où écrire opportunites.csv "
                        "et activites.csv. Rien n'a été écrit.", EXIT_FAILED)
    return None


def run(args, workspace) -> int:
    """Write both files; print where and how many lines (stderr, like every export)."""
    from at_tui.cli.output import fail
    from at_tui.domain.redaction import safe
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain

    if args.depuis is not None and since_day(args.depuis) is None and not is_last(args.depuis):
        return check_arguments(args) or EXIT_USAGE  # called without check_arguments
    try:
        folder = Path(args.output) if args.output else default_folder()
    except StoreError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{explain(error, 'Création du dossier des exports')} Rien n'a été écrit.")
    try:
        written = export_crm(workspace, folder, args.depuis)
    except (TargetRefused, StoreError) as error:
        return fail(str(error))
    except OSError as error:
        doing = f"Écriture de l'import CRM dans {folder}"
        return fail(f"{explain(error, doing)} Rien n'a été écrit.")
    if written.note:
        print(written.note, file=sys.stderr)
    print(f"Import CRM écrit dans {safe(str(written.folder))} (lisible par vous seul) :", file=sys.stderr)
    print(f"  opportunites.csv : {_count(written.opportunities, 'opportunité')}", file=sys.stderr)
    print(f"  activites.csv : {_count(written.activities, 'activité')}", file=sys.stderr)
    return 0


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'s' if number > 1 else ''}"
