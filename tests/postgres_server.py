"""A throwaway PostgreSQL server for the tests, the CI and the load bench (issue 13).

    python tests/postgres_server.py start DIR   # prints the admin URL (postgresql://postgres@127.0.0.1:PORT/postgres)
    python tests/postgres_server.py stop DIR

`.ci/run` starts one for the whole run and exports its URL as `AT_TUI_TEST_POSTGRES`.
Without that variable, the test session starts its own when `initdb` and `pg_ctl` are on
the PATH (`session_server`), and the PostgreSQL-backed tests are skipped otherwise, with
what to install (`MISSING`).

PostgreSQL refuses to run as root: when this process is root, the server's commands run
as the `postgres` system user (`runuser`), on a data directory it owns. The server listens
on 127.0.0.1 on a free port and keeps its socket in its own directory; authentication is
`trust` (a throwaway cluster, reachable from this machine only). `fast=True` turns fsync off:
the tests check semantics, not the disk; the bench keeps PostgreSQL's durable defaults.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "AT_TUI_TEST_POSTGRES"
MISSING = (
    "PostgreSQL absent : installez les binaires du serveur PostgreSQL 15 (paquet Debian postgresql-15, "
    "initdb et pg_ctl dans le PATH) ou donnez l'adresse d'un serveur jetable dans AT_TUI_TEST_POSTGRES."
)
SYSTEM_USER = "postgres"


def available() -> bool:
    """A server can be used: one is given, or one can be started here."""
    return bool(os.environ.get(ENV_URL)) or bool(shutil.which("initdb") and shutil.which("pg_ctl"))


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SYSTEM_USER, "--", *command]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        stop(self.directory)


def start(directory: Path | None = None, fast: bool = True) -> PostgresServer:
    """initdb + pg_ctl start on a free port; the directory (made here when None) holds data, socket and log."""
    directory = Path(directory or tempfile.mkdtemp(prefix="at-tui-pg-"))
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(directory, SYSTEM_USER, SYSTEM_USER)
    data = directory / "data"
    subprocess.run(
        _as_server_user(["initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"]),
        check=True, capture_output=True, text=True, cwd="/",
    )
    options = [f"-p {_free_port()}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={directory}",
               "-c max_connections=300"]
    if fast:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    for attempt in range(5):  # a free port can be taken between the probe and the bind
        port = _free_port()
        options[0] = f"-p {port}"
        result = subprocess.run(
            _as_server_user(["pg_ctl", "-D", str(data), "-l", str(directory / "server.log"), "-w", "-t", "60",
                             "-o", " ".join(options), "start"]),
            capture_output=True, text=True, cwd="/",
        )
        if result.returncode == 0:
            (directory / "port").write_text(str(port))
            return PostgresServer(directory, port)
        time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"PostgreSQL n'a pas démarré : {result.stderr}\n{_log(directory)}")


def stop(directory: Path) -> None:
    data = Path(directory) / "data"
    if data.exists():
        subprocess.run(_as_server_user(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, text=True, cwd="/")
    shutil.rmtree(directory, ignore_errors=True)


def _log(directory: Path) -> str:
    try:
        return (directory / "server.log").read_text(errors="replace")[-4000:]
    except OSError:
        return ""


def new_database(admin_url: str, prefix: str = "t") -> str:
    """A new empty database on the server of `admin_url`; its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def drop_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(where, fast="--durable" not in sys.argv).url)
    elif action == "stop":
        stop(where)
    else:
        sys.exit("usage : postgres_server.py start|stop DOSSIER [--durable]")
