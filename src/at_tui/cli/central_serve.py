"""`at-tui central serve`: run the central service, in one process or, on PostgreSQL, several.

One process (`--workers 1`, the default): the application is built here on the storage
opened here. Several (`--workers N`, PostgreSQL only): the database is opened and
migrated here once (so that N workers do not race to migrate, and a bad `--db` fails
before anything listens), then uvicorn's supervisor binds the socket and starts N
workers, each building its own application and storage (`central/serve_factory.py`).

SQLite refuses N > 1: it serializes writers in one database file, so more processes
only queue on its lock (`database is locked` under load) instead of serving more;
PostgreSQL lets several processes write at once. The rate limit is kept in memory by
each process: with N workers a token may make up to N times the limit (docs/deploy.md).

SIGTERM (systemd's stop) is a graceful stop — requests in progress are answered,
storage closed — and exit status 0, like Ctrl+C.
"""

from __future__ import annotations

import os
import signal
import sys

from at_tui.domain.redaction import printable

MAX_WORKERS = 64
SQLITE_ONE_PROCESS = (
    "--workers {n} refusé : une base SQLite n'a qu'un écrivain à la fois, plusieurs processus n'iraient pas plus vite "
    "et se disputeraient son verrou. Gardez --workers 1 avec SQLite, ou passez à PostgreSQL "
    "(--db postgresql://…) pour plusieurs processus."
)
WORKERS_DID_NOT_START = "Les processus du service n'ont pas pu démarrer (raison ci-dessus) : le service s'arrête."


def workers_count(raw: str) -> int:
    """`--workers`: a whole number of processes, 1 to MAX_WORKERS."""
    import argparse

    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"« {raw[:20]} » : un nombre de processus entre 1 et {MAX_WORKERS} est attendu")
    return int(raw)


def serve_command(args) -> int:
    from at_tui.cli.central import MISSING_DEPENDENCIES, _fail

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return _fail(MISSING_DEPENDENCIES, 2)
    from at_tui.central.backends import is_postgres

    workers = getattr(args, "workers", 1) or 1
    if workers > 1 and not is_postgres(args.db):
        return _fail(SQLITE_ONE_PROCESS.format(n=workers), 2)
    problem = _tls_problem(args)
    if problem:
        return _fail(problem, 2)
    return _serve_one(args) if workers == 1 else _serve_many(args, workers)


def _tls_problem(args) -> str | None:
    from at_tui.cli.central import _unreadable_tls_file, _unusable_tls_pair

    if bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert et --tls-key vont ensemble."
    for option, raw in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        problem = _unreadable_tls_file(option, raw) if raw else None
        if problem:
            return problem
    return _unusable_tls_pair(args.tls_cert, args.tls_key) if args.tls_cert else None


def _open_checked(args):
    """(storage, rules), or (None, the French reason the service cannot start)."""
    from at_tui.central.serve_factory import open_checked
    from at_tui.central.storage import StorageError

    try:
        return open_checked(args.db)
    except StorageError as error:
        return None, str(error)


def _announce(args, workers: int) -> None:
    from at_tui.central.backends import display_name
    from at_tui.cli.central import LOOPBACK

    scheme = "https" if args.tls_cert else "http"
    if scheme == "http" and args.host not in LOOPBACK:
        print(
            f"at-tui : attention, le service écoute sur {printable(args.host)} en HTTP : les jetons circuleraient en clair. "
            "Placez-le derrière un proxy HTTPS ou utilisez --tls-cert/--tls-key.",
            file=sys.stderr,
        )
    processes = f", {workers} processus" if workers > 1 else ""
    print(
        printable(f"Service central at-tui : base {display_name(args.db)}, écoute sur {scheme}://{args.host}:{args.port}")
        + processes + " (Ctrl+C pour arrêter).",
        file=sys.stderr,
        flush=True,
    )


def _config(args, app, **more):
    """Uvicorn's settings: the service writes its own access line (no query string, no header,
    no body: central/access_log.py), uvicorn's is off; every log line is redacted; no proxy
    headers trusted (the client address is the socket's)."""
    import uvicorn

    from at_tui.central.access_log import log_config

    return uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=log_config(),
        access_log=False,
        server_header=False,
        proxy_headers=False,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        **more,
    )


def _limits(args):
    from at_tui.central.models import Limits

    return Limits() if args.rate_limit is None else Limits(rate_limit=args.rate_limit)


def _serve_one(args) -> int:
    import uvicorn

    from at_tui.central.app import create_app
    from at_tui.cli.central import _fail

    storage, rules = _open_checked(args)
    if storage is None:
        return _fail(rules)
    try:
        app = create_app(storage, _limits(args), rules)
        _announce(args, 1)
        server = uvicorn.Server(_config(args, app))
        # Uvicorn shuts down gracefully on SIGTERM, then raises it again: let it end like
        # Ctrl+C (storage closed, exit 0) rather than kill the process (exit 143).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            server.run()
        except SystemExit:  # uvicorn exits when it cannot listen (its own message is above)
            if server.started:
                raise
        except KeyboardInterrupt:  # Ctrl+C or SIGTERM, after the graceful shutdown: a normal stop
            pass
        if not server.started:
            return _fail(f"Le service n'a pas pu démarrer sur {args.host}:{args.port} (port déjà utilisé ?).")
        return 0
    finally:
        storage.close()


def _serve_many(args, workers: int) -> int:
    from uvicorn.supervisors import Multiprocess

    from at_tui.central.serve_factory import STARTUP_FAILURE, settings_environment
    from at_tui.cli.central import _fail

    storage, problem = _open_checked(args)  # migrates once, here, before any worker opens it
    if storage is None:
        return _fail(problem)
    storage.close()
    os.environ.update(settings_environment(args.db, _limits(args).rate_limit))
    config = _config(args, "at_tui.central.serve_factory:worker_app", factory=True, workers=workers)
    try:
        sock = config.bind_socket()
    except SystemExit:  # uvicorn cannot listen (its own message is above)
        return _fail(f"Le service n'a pas pu démarrer sur {args.host}:{args.port} (port déjà utilisé ?).")
    _announce(args, workers)
    supervisor = Multiprocess(config, sockets=[sock])  # SIGTERM/SIGINT: every worker stopped gracefully
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        return _fail(WORKERS_DID_NOT_START)
    return 0
