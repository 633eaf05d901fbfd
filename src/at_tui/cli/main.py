"""Command line: `at-tui` launches the app; sub-commands export and import visits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from at_tui.cli import central as cli_central
from at_tui.cli import contacts as cli_contacts
from at_tui.cli import extracts as cli_extracts
from at_tui.cli import login as cli_sync_auth
from at_tui.cli import sync as cli_sync
from at_tui.cli.output import fail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="at-tui",
        description="Visites SPICO guidées, hors ligne (GRADeS e-santé Occitanie). "
        "Sans argument : lance l'application.",
    )
    parser.add_argument("--version", action="store_true", help="afficher la version et quitter")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")
    export = commands.add_parser("export", help="exporter les visites en JSON")
    export.add_argument("--format", choices=["json"], default="json", help="format du fichier (json)")
    export.add_argument("--visit", metavar="ID", help="n'exporter que cette visite (UUID)")
    export.add_argument("--output", "-o", metavar="FICHIER", help="fichier à écrire (par défaut : sortie standard)")
    imp = commands.add_parser("import", help="importer des visites exportées en JSON")
    imp.add_argument("file", metavar="FICHIER", help="fichier JSON produit par « at-tui export »")
    cli_extracts.add_parsers(commands)
    cli_contacts.add_parser(commands)
    cli_sync.add_parser(commands)
    cli_sync_auth.add_parser(commands)
    cli_central.add_parser(commands)
    commands.add_parser("check-data", help="vérifier les fichiers de données (processus, questionnaires)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        from at_tui import __version__

        print(f"at-tui {__version__}")
        return 0
    try:
        if args.command is None:
            return run_app()
        if args.command == "export":
            return export_command(args)
        if args.command == "import":
            return import_command(args)
        if args.command in ("import-finess", "import-annuaire"):
            return cli_extracts.extract_command(args)
        if args.command == "sync":
            return _with_workspace(lambda workspace: cli_sync.sync_command(args, workspace))
        if args.command == "contacts":
            return _with_workspace(lambda workspace: cli_contacts.contacts_command(args, workspace))
        if args.command in ("login", "logout"):
            return cli_sync_auth.sync_auth_command(args)
        if args.command == "check-data":
            return check_data_command()
        if args.command == "central":
            return cli_central.central_command(args)
    except KeyboardInterrupt:
        return 130
    return 2


def _workspace():
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    return Workspace(database_path())


def _with_workspace(command) -> int:
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError

    try:
        workspace = _workspace()
    except StoreError as error:
        return fail(str(error))
    try:
        return command(workspace)
    except (StoreError, ReferenceDataError) as error:
        return fail(str(error))
    finally:
        workspace.close()


def run_app() -> int:
    from at_tui.paths import database_path
    from at_tui.store.db import StoreError

    try:
        from at_tui.app import ATApp

        app = ATApp(database_path())
        result = app.run()
    except StoreError as error:
        return fail(str(error))
    if app.return_code:
        # A malformed data file: the app exits with the French message as its result.
        return fail(str(result) if result else "arrêt sur erreur", app.return_code)
    return 0


def export_command(args) -> int:
    from at_tui.exchange import ExchangeError, dumps, export_visits
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError

    try:
        workspace = _workspace()
        try:
            text = dumps(export_visits(workspace, args.visit))
        finally:
            workspace.close()
    except (ExchangeError, StoreError, ReferenceDataError) as error:
        return fail(str(error))
    if args.output:
        from at_tui.files import write_atomically

        write_atomically(Path(args.output), text + "\n")
        print(f"Export écrit dans {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text + "\n")
    return 0


def import_command(args) -> int:
    from at_tui.exchange import ExchangeError, import_visits, read_file
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError

    try:
        data = read_file(Path(args.file))
        workspace = _workspace()
        try:
            report = import_visits(workspace, data)
        finally:
            workspace.close()
    except (ExchangeError, StoreError, ReferenceDataError) as error:
        return fail(str(error))
    print(
        f"{len(report.imported)} visite(s) importée(s), "
        f"{len(report.unchanged)} déjà présente(s) à l'identique."
    )
    return 0


def check_data_command() -> int:
    from at_tui.importers.finess_reference import load_categories
    from at_tui.paths import fixtures_root
    from at_tui.reference.loader import ReferenceDataError, load_reference

    try:
        reference = load_reference()
        categories = load_categories()
    except ReferenceDataError as error:
        return fail(str(error))
    print(f"Données valides ({fixtures_root()}) :")
    for (pid, version), playbook in sorted(reference.playbooks.items()):
        print(f"  processus {pid} v{version} — {playbook.title} ({len(playbook.steps)} étapes)")
    for (qid, version), questionnaire in sorted(reference.questionnaires.items()):
        print(f"  questionnaire {qid} v{version} — {questionnaire.title} ({len(questionnaire.questions)} questions)")
    print(f"  contacts : {len(reference.contacts)} ; fiches d'argumentaire : {len(reference.argumentaire.sheets)}")
    print(f"  catégories FINESS : {len(categories.typologies)} codes rattachés à une typologie")
    return 0

