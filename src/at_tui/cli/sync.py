"""`at-tui sync [--server URL]`: the batch sync without the UI.

A progress bar on a terminal, plain lines otherwise; a final summary (sent, already
there, conflicts, rejected, received); exit code 0 only when nothing was left undone.
"""

from __future__ import annotations

import sys


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "sync",
        help="envoyer les visites au service central et recevoir les mises à jour",
        description="Envoie toutes les modifications en attente puis reçoit le suivi des CM. "
        "Code de sortie 0 quand tout est à jour, 1 s'il reste quelque chose à faire.",
    )
    parser.add_argument("--server", metavar="URL", help="serveur central (par défaut : celui de « at-tui login »)")


def sync_command(args, workspace) -> int:
    from at_tui.importers.progress import TextProgress
    from at_tui.sync.credentials import CredentialsError, get_token, load_settings, normalize_server_url
    from at_tui.sync.engine import sync
    from at_tui.sync.transport import Transport

    try:
        settings = load_settings()
        url = normalize_server_url(args.server) if args.server else (settings.server_url if settings else None)
        if url is None:
            print("at-tui : aucun serveur central : lancez d'abord « at-tui login URL » (ou --server URL).",
                  file=sys.stderr)
            return 2
        token = get_token(url)
    except CredentialsError as error:
        print(f"at-tui : {error}", file=sys.stderr)
        return 2
    if token is None:
        print(f"at-tui : aucun jeton pour {url} : « at-tui login {url} » ou la variable AT_TUI_TOKEN.",
              file=sys.stderr)
        return 2
    ca_bundle = str(settings.ca_bundle) if settings and settings.ca_bundle and settings.server_url == url else None
    bar = TextProgress("Synchronisation", unit="modification(s)", lines=True)
    with Transport(url, token, ca_bundle=ca_bundle) as transport, bar:
        report = sync(workspace, transport, on_progress=bar)
    for line in report.lines():
        print(line)
    return 0 if report.complete else 1
