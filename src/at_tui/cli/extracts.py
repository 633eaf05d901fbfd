"""`at-tui import-finess` and `at-tui import-annuaire`: the public extracts, imported from the shell."""

from __future__ import annotations

from pathlib import Path

from at_tui.cli.output import fail


def add_parsers(commands) -> None:
    finess = commands.add_parser("import-finess", help="importer l'extraction publique FINESS (établissements)")
    finess.add_argument("file", metavar="FICHIER", help="fichier etalab FINESS (« ; », sans en-tête)")
    annuaire = commands.add_parser(
        "import-annuaire", help="importer l'extraction publique de l'Annuaire Santé (professionnels d'Occitanie)"
    )
    annuaire.add_argument("file", metavar="FICHIER", help="fichier PS_LibreAcces_Personne_activite (« | », avec en-tête)")


def extract_command(args) -> int:
    return _import_finess(args) if args.command == "import-finess" else _import_annuaire(args)


def _import_finess(args) -> int:
    from at_tui.importers.structures_store import import_finess

    return _import_extract(args, "Import FINESS", import_finess)


def _import_annuaire(args) -> int:
    from at_tui.importers.professionals_store import import_annuaire

    return _import_extract(args, "Import Annuaire Santé", import_annuaire)


def _import_extract(args, title: str, importer) -> int:
    """Import a public extract into the app's database, a progress bar on stderr, its report on stdout."""
    from at_tui.importers.finess import ImporterError
    from at_tui.importers.progress import TextProgress
    from at_tui.paths import database_path
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError
    from at_tui.store.migrations import open_database

    try:
        conn = open_database(database_path())
        try:
            with TextProgress(title) as bar:
                report = importer(conn, Path(args.file), on_progress=bar)
        finally:
            conn.close()
    except (ImporterError, ReferenceDataError, StoreError) as error:
        return fail(str(error))
    print("\n".join(report.summary_lines()))
    return 0
