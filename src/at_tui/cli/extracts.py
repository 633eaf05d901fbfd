"""`at-tui import-finess` and `at-tui import-annuaire`: the public extracts, imported from the shell."""

from __future__ import annotations

from pathlib import Path

from at_tui.cli.output import fail


def add_parsers(commands) -> None:
    finess = commands.add_parser("import-finess", help="importer l'extraction publique FINESS (établissements)")
    finess.add_argument("file", metavar="FICHIER", help="fichier etalab FINESS (« ; », sans en-tête)")
    finess.add_argument(
        "--force", action="store_true",
        help="importer même si le fichier garde moins de la moitié des structures de l'import précédent",
    )
    annuaire = commands.add_parser(
        "import-annuaire", help="importer l'extraction publique de l'Annuaire Santé (professionnels d'Occitanie)"
    )
    annuaire.add_argument("file", metavar="FICHIER", help="fichier PS_LibreAcces_Personne_activite (« | », avec en-tête)")
    annuaire.add_argument(
        "--force", action="store_true",
        help="importer même si le fichier garde moins de la moitié des lignes de l'import précédent",
    )


def extract_command(args) -> int:
    return _import_finess(args) if args.command == "import-finess" else _import_annuaire(args)


def _import_finess(args) -> int:
    from at_tui.importers.structures_store import import_finess

    return _import_extract(args, "Import FINESS", import_finess, "Les structures déjà importées sont conservées.")


def _import_annuaire(args) -> int:
    from at_tui.importers.professionals_store import import_annuaire

    return _import_extract(args, "Import Annuaire Santé", import_annuaire, "Les professionnels déjà importés sont conservés.")


def _import_extract(args, title: str, importer, kept: str) -> int:
    """Import a public extract into the app's database, a progress bar on stderr, its report on stdout.

    Every way it can fail ends in one French line and a documented code: 1 for a
    file or a database that cannot be used (a SQLite or OS error is explained, e.g.
    « disque plein »), 130 for Ctrl+C. Each says that the previous import is kept,
    which the atomic swap guarantees. The report quotes the file (its path, section
    names, category codes): it is printed through `safe`, never raw.
    """
    import sqlite3

    from at_tui.domain.redaction import safe
    from at_tui.importers.finess import ImporterError
    from at_tui.importers.progress import TextProgress
    from at_tui.paths import database_path
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain
    from at_tui.store.migrations import open_database

    bar = TextProgress(title)
    try:
        conn = open_database(database_path())
        try:
            with bar:
                report = importer(conn, Path(args.file), on_progress=bar, force=args.force)
        finally:
            conn.close()
    except (ImporterError, ReferenceDataError, StoreError) as error:
        return fail(str(error))
    except (sqlite3.Error, OSError) as error:
        return fail(f"{explain(error, title)} {kept}")
    except KeyboardInterrupt:
        return fail(f"{title} interrompu (Ctrl+C) : rien n'a changé. {kept}", 130)
    for line in report.summary_lines():  # one line each, indentation kept
        print(" " * (len(line) - len(line.lstrip(" "))) + safe(line, limit=None))
    return 0
