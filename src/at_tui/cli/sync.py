"""`at-tui sync [--server URL]`: the batch sync without the UI.

A progress bar on a terminal, plain lines otherwise; a final summary (sent, already
there, conflicts, rejected, received), then EVERY visit still set aside (conflicts,
refusals, central copies kept aside), in every run until the AT settles them in the app,
not only in the run that found them.

Exit codes: 0 everything is up to date and nothing is set aside; 1 something is left to
do (not sent, offline, set aside, server asking to wait, a certificate or an answer that
is not the server's, a database refusing writes); 2 the sync is not configured (no
server, no token, or the token cannot be read: a keyring failing); 130 interrupted.
Never a traceback: storage and network failures end in one French line.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from at_tui.cli.output import fail
from at_tui.domain.redaction import printable, safe

LISTED = 20  # parked visits listed by name; the others are counted
SETTLE = "ouvrez l'application (« at-tui »), touche s (« Problèmes de synchronisation »)"


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "sync",
        help="envoyer les visites au service central et recevoir les mises à jour",
        description="Envoie toutes les modifications en attente puis reçoit le suivi des CM. "
        "Codes de sortie : 0 quand tout est à jour, 1 s'il reste quelque chose à faire (envoi incomplet, "
        "serveur injoignable ou qui demande d'attendre, conflits ou refus à régler dans l'application, "
        "touche s), 2 quand la synchronisation n'est pas configurée ou que le jeton est illisible (« at-tui login »).",
    )
    parser.add_argument("--server", metavar="URL", help="serveur central (par défaut : celui de « at-tui login »)")


def sync_command(args, workspace, *, sleep: Callable[[float], None] | None = None,
                 stream: TextIO | None = None) -> int:
    """`sleep` and `stream` (where the countdown of a long server-asked wait is drawn): for tests."""
    from at_tui.store.errors import explain

    try:
        return _sync(args, workspace, sleep, stream if stream is not None else sys.stderr)
    except (sqlite3.Error, OSError) as error:  # a read-only or full data folder, a damaged database
        return fail(f"{explain(error, 'Synchronisation')} Ce qui a été enregistré avant reste enregistré.", 1)


def _sync(args, workspace, sleep, stream: TextIO) -> int:
    from at_tui.importers.progress import TextProgress
    from at_tui.sync.credentials import CredentialsError, get_token, load_settings, normalize_server_url
    from at_tui.sync.engine import sync
    from at_tui.sync.transport import Transport

    try:
        settings = load_settings()
        url = normalize_server_url(args.server) if args.server else (settings.server_url if settings else None)
        if url is None:
            return fail("aucun serveur central : lancez d'abord « at-tui login URL » (ou --server URL).", 2)
        token = get_token(url)
    except CredentialsError as error:
        return fail(str(error), 2)
    if token is None:
        return fail(f"aucun jeton pour {url} : « at-tui login {url} » ou la variable AT_TUI_TOKEN.", 2)
    ca_bundle = str(settings.ca_bundle) if settings and settings.ca_bundle and settings.server_url == url else None
    bar = TextProgress("Synchronisation", unit="modification(s)", lines=True)
    countdown = _countdown(stream) if _is_terminal(stream) else None
    with Transport(url, token, ca_bundle=ca_bundle, sleep=sleep, countdown=countdown) as transport, bar:
        with _cancel_on_ctrl_c(transport):
            report = sync(workspace, transport, on_progress=bar)
    for line in report.lines():
        print(safe(line, multiline=True))
    parked = _parked_lines(workspace.conn)
    for line in parked:
        print(line)
    return 0 if report.complete and not parked else 1


@contextmanager
def _cancel_on_ctrl_c(transport) -> Iterator[None]:
    """Ctrl-C stops the transport's waits too (they run in the push's worker thread), so that
    the command ends at once instead of after a back-off or a server-asked wait."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum, _frame) -> None:
        transport.cancel()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _parked_lines(conn) -> list[str]:
    """Every visit set aside (conflicts, refusals, central copies this laptop could not take),
    whichever run found it, and how to settle them."""
    from at_tui.sync.parked import CONFLICT, REJECTED, problems

    found = problems(conn)
    if not found:
        return []
    conflicts = sum(1 for problem in found if problem.kind == CONFLICT)
    refused = sum(1 for problem in found if problem.kind == REJECTED)
    aside = len(found) - conflicts - refused
    counts = []
    if conflicts:
        counts.append(f"{conflicts} visite(s) en conflit")
    if refused:
        counts.append(f"{refused} visite(s) refusée(s) par le central")
    if aside:
        counts.append(f"{aside} copie(s) du central mise(s) de côté")
    lines = [f"À régler : {' et '.join(counts)} — {SETTLE} :"]
    labels = {CONFLICT: "conflit", REJECTED: "refusée"}
    for problem in found[:LISTED]:
        name = printable(problem.structure) or "visite sans nom"
        where = ", ".join(printable(part) for part in (problem.departement, problem.visit_date) if part)
        if where:
            name += f" ({where})"
        line = f"  - {labels.get(problem.kind, 'mise de côté')} : {name}"
        if problem.kind != CONFLICT and problem.reason:
            line += f" : {safe(problem.reason, limit=300)}"
        lines.append(line)
    if len(found) > LISTED:
        lines.append(f"  … et {len(found) - LISTED} autre(s), dans l'application.")
    return lines


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _countdown(stream: TextIO) -> Callable[[int], None]:
    """Draw a server-asked wait on one line of the terminal, rewritten each second; cleared at 0."""
    width = 0

    def show(left: int) -> None:
        nonlocal width
        if left > 0:
            minutes, seconds = divmod(left, 60)
            delay = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
            text = (f"Le serveur demande d'attendre : nouvel essai dans {delay} "
                    "(Ctrl-C pour arrêter ; tout reste enregistré)")
            width = max(width, len(text))
            stream.write("\r" + text.ljust(width))
        else:
            stream.write("\r" + " " * width + "\r")
        stream.flush()

    return show
