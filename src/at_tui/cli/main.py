"""Command line: `at-tui` launches the app; sub-commands export and import visits.

`main` is the one place where a failure becomes what the user reads: a French sentence and
an exit code from `EXIT_CODES`, never a Python traceback. An unexpected error leaves a crash
report in the data folder (at_tui.crash) instead of a dump of the program's state.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from at_tui.cli import central as cli_central
from at_tui.cli import contacts as cli_contacts
from at_tui.cli import extracts as cli_extracts
from at_tui.cli import login as cli_sync_auth
from at_tui.cli import opportunities as cli_opportunities
from at_tui.cli import point_cm_at as cli_point_cm_at
from at_tui.cli import sync as cli_sync
from at_tui.cli.arguments import FrenchArgumentParser
from at_tui.cli.output import fail

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CRASH = 70  # EX_SOFTWARE (sysexits.h)
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell tool whose reader went away
EXIT_INTERRUPTED = 130  # 128 + SIGINT

EXIT_CODES = """\
codes de sortie :
  0    succès
  1    échec expliqué par le message (fichier illisible, base inaccessible, disque plein…) ;
       « contacts » : aucun résultat ; « sync » : il reste des modifications à envoyer,
       des conflits ou des refus ; « import » : une visite divergente ou refusée (les
       autres visites du fichier sont importées)
  2    commande ou argument incorrect, configuration absente, données refusées
  3    (application) une autre fenêtre at-tui est déjà ouverte sur ce dossier de données
  70   erreur inattendue : un rapport d'erreur est écrit dans le dossier de données (crash/)
  130  interrompu par Ctrl+C
  141  la sortie a été fermée avant la fin (ex. « | head »)"""

# Errors whose message is already a French sentence for the user: (module, class name).
# Checked lazily, through sys.modules: an error of a module never imported cannot occur.
_EXPLAINED_ERRORS = (
    ("at_tui.store.db", "StoreError"),
    ("at_tui.exchange.errors", "ExchangeError"),
    ("at_tui.reference.loader", "ReferenceDataError"),
    ("at_tui.importers.finess", "ImporterError"),
    ("at_tui.central.storage", "StorageError"),
    ("at_tui.central.publish", "PublishError"),
    ("at_tui.sync.credentials", "CredentialsError"),
    ("at_tui.files", "TargetRefused"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="at-tui",
        description="Visites SPICO guidées, hors ligne (GRADeS e-santé Occitanie). "
        "Sans argument : lance l'application.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="afficher la version et quitter")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")
    export = commands.add_parser(
        "export", help="exporter les visites (JSON), le fichier de suivi (xlsx), l'import CRM (crm), "
        "le compte rendu d'une visite (rapport)",
        description="json : les visites, pour une autre installation d'at-tui ; xlsx : le fichier de suivi "
        "des déploiements SPICO ; crm : opportunites.csv et activites.csv pour le CRM ; rapport : le compte "
        "rendu d'une visite (Markdown et page HTML imprimable, --visit obligatoire).",
    )
    export.add_argument("--format", choices=["json", "xlsx", "crm", "rapport"], default="json",
                        help="json (par défaut), xlsx, crm ou rapport")
    export.add_argument("--visit", metavar="ID", help="n'exporter que cette visite (UUID)")
    export.add_argument(
        "--output", "-o", metavar="CHEMIN",
        help="fichier à écrire (dossier pour crm et rapport), créé lisible par vous seul "
        "(json : sortie standard par défaut ; autres formats : le dossier exports/ des données)",
    )
    export.add_argument("--depuis", metavar="AAAA-MM-JJ|dernier",
                        help="crm : seulement ce qui a changé depuis cette date, ou depuis le dernier export CRM "
                        "de ce poste (« dernier ») ; sans --depuis : tout")
    imp = commands.add_parser("import", help="importer des visites exportées en JSON")
    imp.add_argument("file", metavar="FICHIER", help="fichier JSON produit par « at-tui export »")
    cli_extracts.add_parsers(commands)
    cli_contacts.add_parser(commands)
    cli_opportunities.add_parsers(commands)
    cli_point_cm_at.add_parser(commands)
    cli_sync.add_parser(commands)
    cli_sync_auth.add_parser(commands)
    cli_central.add_parser(commands)
    commands.add_parser("check-data", help="vérifier les fichiers de données (processus, questionnaires)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; whatever goes wrong ends here as one French line and an exit code."""
    _ensure_standard_streams()
    args = build_parser().parse_args(argv)
    command = args.command or "application"
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a full disk or a closed pipe on stdout is reported here, not at exit
        return code
    except KeyboardInterrupt:
        _silence_stdout()
        # Imports write in one transaction (or swap a staged copy in): an interrupted one left nothing.
        nothing = " : rien n'a été importé" if command in ("import", "import-finess", "import-annuaire") else ""
        return fail(f"interrompu (Ctrl+C){nothing}.", EXIT_INTERRUPTED)
    except BrokenPipeError as error:
        if not _stdout_is_broken():  # a pipe of another kind (a socket…): explained like any OS error
            return _explain_failure(error, command)
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as error:  # noqa: BLE001 - the one top-level handler (issue 9 §2)
        code = _explain_failure(error, command)
        _flush_or_silence_stdout()
        return code


def _dispatch(args) -> int:
    if args.version:
        from at_tui import __version__

        print(f"at-tui {__version__}")
        return EXIT_OK
    if args.command is None:
        return run_app()
    if args.command == "export":
        if args.format != "json":
            from at_tui.cli import documents as cli_documents

            return cli_documents.export_command(args, _with_workspace)
        return export_command(args)
    if args.command == "import":
        return import_command(args)
    if args.command in ("import-finess", "import-annuaire"):
        return cli_extracts.extract_command(args)
    if args.command == "sync":
        return _with_workspace(lambda workspace: cli_sync.sync_command(args, workspace))
    if args.command == "contacts":
        return _with_workspace(lambda workspace: cli_contacts.contacts_command(args, workspace))
    if args.command in ("a-faire", "opportunites"):
        return cli_opportunities.run(args, _with_workspace)
    if args.command == "point-cm-at":
        return cli_point_cm_at.run(args, _with_workspace)
    if args.command in ("login", "logout"):
        return cli_sync_auth.sync_auth_command(args)
    if args.command == "check-data":
        return check_data_command()
    if args.command == "central":
        return cli_central.central_command(args)
    return EXIT_USAGE


def _explain_failure(error: Exception, command: str) -> int:
    """A known French error as it is; a storage or OS error explained; anything else is a crash."""
    import sqlite3

    if _is_explained(error):
        return fail(str(error), EXIT_FAILED)
    if isinstance(error, (sqlite3.Error, OSError)):
        from at_tui.store.errors import explain

        return fail(explain(error, f"Commande « {command} »"), EXIT_FAILED)
    from at_tui.crash import crash_sentence

    return fail(crash_sentence(error, command), EXIT_CRASH)


def _is_explained(error: BaseException) -> bool:
    for module_name, class_name in _EXPLAINED_ERRORS:
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if cls is not None and isinstance(error, cls):
            return True
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what was buffered for a closed pipe must not fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (embedded, tests): nothing to silence
        pass


def _ensure_standard_streams() -> None:
    """`at-tui export >&-`: a closed stdin, stdout or stderr is pointed at /dev/null.

    Otherwise the database opened next could get descriptor 1, and Python has no stream to
    print to (sys.stdout is None)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:  # a lower descriptor was closed too and took it: keep both
                os.dup2(opened, fd)
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115 - lives as long as the process


def _stdout_is_broken() -> bool:
    """Whether the reader of stdout went away (`| head`); when it cannot be told, assume so."""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no poll (Windows), no real stdout (tests)
        return True


def _flush_or_silence_stdout() -> None:
    """After a write error on stdout (/dev/full), the buffered text would fail again at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        _silence_stdout()


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
    """The TUI. An unexpected error inside it is kept by the app (`crash_error`) instead of
    Textual's traceback, which shows local variables (names of people): a report is written."""
    from at_tui.paths import database_path
    from at_tui.store.db import StoreError
    from at_tui.store.instance_lock import ALREADY_OPEN_EXIT, AlreadyOpen

    try:
        from at_tui.store.migrations import open_database

        # Opened once before the screen is taken: a damaged, foreign or read-only database is
        # explained on a normal terminal, not after a flash of the full-screen app.
        path = database_path()
        _refuse_second_app(path.parent)
        open_database(path).close()
        from at_tui.app import ATApp

        app = ATApp(path)
        result = app.run()
    except StoreError as error:
        return fail(str(error))
    except AlreadyOpen as error:
        return fail(str(error), ALREADY_OPEN_EXIT)
    crash = getattr(app, "crash_error", None)
    if crash is not None:
        from at_tui.crash import crash_sentence

        return fail(crash_sentence(crash, "application"), EXIT_CRASH)
    if app.return_code:
        # A malformed data file: the app exits with the French message as its result.
        return fail(str(result) if result else "arrêt sur erreur", app.return_code)
    return EXIT_OK


def _refuse_second_app(folder: Path) -> None:
    """Another at-tui on this folder is said on a normal terminal, before the screen is taken
    (AlreadyOpen). The app takes the lock itself for its lifetime, and says the same if it lost a race."""
    from at_tui.store.instance_lock import InstanceLock

    probe = InstanceLock(folder)
    probe.acquire()
    probe.release()


def export_command(args) -> int:
    """The JSON export on stdout, or in a file created 0600 (it names people): only a regular
    file or a new path is accepted, checked before the database is even opened."""
    from at_tui.domain.redaction import safe
    from at_tui.exchange import dumps, export_visits

    target = Path(args.output) if args.output else None
    if target is not None:
        from at_tui.files import check_target

        check_target(target)
    workspace = _workspace()
    try:
        text = dumps(export_visits(workspace, args.visit))
    finally:
        workspace.close()
    if target is None:
        from at_tui.cli.output import escape_json_text

        sys.stdout.write(escape_json_text(text) + "\n")
        return EXIT_OK
    from at_tui.files import write_atomically
    from at_tui.store.errors import explain

    try:
        write_atomically(target, text + "\n", mode=0o600)
    except OSError as error:
        doing = f"Écriture de l'export dans {target}"
        return fail(f"{explain(error, doing)} Aucun fichier n'a été modifié.")
    print(f"Export écrit dans {safe(str(target))} (lisible par vous seul).", file=sys.stderr)
    return EXIT_OK


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
    from at_tui.domain.redaction import safe

    for line in report.lines():  # each visit's fate (names come from the file: made safe)
        print(safe(line, multiline=True))
    return EXIT_OK if report.complete else EXIT_FAILED


def check_data_command() -> int:
    from at_tui.domain.redaction import printable
    from at_tui.importers.finess_reference import load_categories
    from at_tui.paths import fixtures_root
    from at_tui.reference.loader import ReferenceDataError, load_reference

    try:
        reference = load_reference()
        categories = load_categories()
    except ReferenceDataError as error:
        return fail(str(error))
    # Titles come from data files (AT_TUI_FIXTURES may point anywhere): printed once made printable.
    print(printable(f"Données valides ({fixtures_root()}) :"))
    for (pid, version), playbook in sorted(reference.playbooks.items()):
        print("  " + printable(f"processus {pid} v{version} — {playbook.title} ({len(playbook.steps)} étapes)"))
    for (qid, version), questionnaire in sorted(reference.questionnaires.items()):
        print("  " + printable(
            f"questionnaire {qid} v{version} — {questionnaire.title} ({len(questionnaire.questions)} questions)"
        ))
    print(f"  contacts : {len(reference.contacts)} ; fiches d'argumentaire : {len(reference.argumentaire.sheets)}")
    print(f"  catégories FINESS : {len(categories.typologies)} codes rattachés à une typologie")
    return 0

