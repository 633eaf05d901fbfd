"""`at-tui export --format xlsx` and `at-tui central export-suivi`: the SPICO tracking spreadsheet (issue 12 §1).

On a laptop the file holds what its store holds: an AT's own opportunities, the region's on
a CM's laptop. On the central it is the region's, or one zone's (the CM–AT meeting is per
zone Est/Ouest, seed 000 « Gouvernance »). Either way the rows are streamed from the store
to the workbook: nothing of a region is held in memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

ZONES = ("est", "ouest")


def check_arguments(args) -> int | None:
    """What the spreadsheet cannot honour, refused before the database is opened."""
    from at_tui.cli.output import fail

    if getattr(args, "visit", None):
        return fail("--visit ne s'applique pas au fichier de suivi (il contient toutes les opportunités) : "
                    "utilisez --format rapport --visit ID pour le compte rendu d'une visite.", 2)
    if getattr(args, "depuis", None):
        return fail("--depuis ne s'applique pas au fichier de suivi (il donne l'état de toutes les opportunités) : "
                    "il sert à l'import CRM (--format crm).", 2)
    return _check_output(args.output)


def run(args, workspace) -> int:
    """The laptop's tracking file: every opportunity its store holds."""
    from at_tui.documents.tracking_file import write_laptop_tracking_file

    return _write(lambda target: write_laptop_tracking_file(workspace, target), args.output)


def central_export_command(args) -> int:
    """`at-tui central export-suivi --db F [--zone est|ouest] [--output F]`: the region's file from the central."""
    from at_tui.central.storage import StorageError
    from at_tui.central.tracking import open_existing, tracked_opportunities
    from at_tui.cli.output import fail
    from at_tui.documents.tracking_file import write_tracking_file
    from at_tui.domain.territory import UnknownZone, zone_departements
    from at_tui.reference.loader import ReferenceDataError, load_reference

    code = _check_output(args.output)
    if code is not None:
        return code
    try:
        reference = load_reference()
        lifecycle = reference.current_lifecycle()
        territory = reference.territory
        departements = {d.code for d in zone_departements(territory, args.zone)[1]} if args.zone else None
        storage = open_existing(args.db)
    except (ReferenceDataError, UnknownZone, StorageError) as error:
        return fail(str(error))
    try:
        return _write(lambda target: write_tracking_file(tracked_opportunities(storage, departements), lifecycle,
                                                         territory, target, zone=args.zone), args.output)
    except StorageError as error:
        return fail(str(error))
    finally:
        storage.close()


def add_central_parser(sub) -> None:
    """The `export-suivi` sub-command of `at-tui central`."""
    parser = sub.add_parser(
        "export-suivi", help="écrire le fichier de suivi des déploiements SPICO de la région (xlsx)",
        description="Le fichier de suivi des déploiements SPICO (une ligne par opportunité, une feuille Synthèse) "
        "d'après la base du service central.",
    )
    parser.add_argument("--db", required=True, metavar="BASE", help="base du service central, existante : fichier SQLite ou postgresql://…")
    parser.add_argument("--zone", choices=ZONES, type=str.lower, help="seulement les départements de cette zone")
    parser.add_argument("--output", "-o", metavar="CHEMIN",
                        help="fichier à écrire (par défaut : le dossier exports/ des données, nom daté)")


def _check_output(output: str | None) -> int | None:
    if not output:
        return None
    from at_tui.cli.output import fail
    from at_tui.files import TargetRefused, check_target

    try:
        check_target(Path(output))
    except TargetRefused as error:
        return fail(str(error))
    return None


def _write(write, output: str | None) -> int:
    """Run `write(target)` and say the outcome: the path and the count on stderr, or why not."""
    from at_tui.cli.output import fail
    from at_tui.documents.tracking_file import describe_failure, written_sentence
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError

    target = Path(output) if output else None
    try:
        written = write(target)
    except ImportError as error:  # openpyxl is a dependency: only a broken installation lacks it
        if (error.name or "").partition(".")[0] != "openpyxl":
            raise
        return fail("Le module openpyxl manque pour écrire un fichier xlsx : pip install openpyxl.")
    except (OSError, TargetRefused, StoreError) as error:
        return fail(describe_failure(error, target))
    print(written_sentence(written), file=sys.stderr)
    return 0
