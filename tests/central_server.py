"""A real central service for tests: `python -m at_tui central serve` on 127.0.0.1, a free port, a temporary database.

Plain helpers (no pytest fixture), importable by any test:

    from central_server import start_central

    server = start_central(tmp_path)              # or db=central_db: a SQLite path or a PostgreSQL URL
    try:
        token = server.add_user("marie", "at")
        httpx.post(server.url + "/v1/push", json=…, headers=server.auth(token))
        server.restart()          # graceful stop (SIGTERM) and start again on the same port
        server.restart(hard=True) # SIGKILL, as a crash, then start again
    finally:
        server.stop()

Users and tokens are made through the real CLI (`at-tui central add-user`), the
token being the last line of its output. `server.db` is the `--db` value every
command gets (`db_path` for the tests that are about the SQLite file). `logs()` is everything the server
printed (stdout and stderr, across restarts). `visit_content`, `content_op` and
`followup_op` build valid push operations.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from at_tui.central import backends

STARTUP_TIMEOUT = 30.0
CLI_TIMEOUT = 60


def visit_content(visit_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid visit `content` (export format without history and computed fields); `changes` replace fields."""
    visit_id = visit_id or str(uuid.uuid4())
    content: dict[str, Any] = {
        "id": visit_id,
        "identity": {
            "structure": "MSP des Coteaux",
            "departement": "31",
            "typologie": "CPTS/MSP",
            "contact_name": "Dr Claire Martin",
            "contact_role": "Coordinatrice",
            "visit_date": "2026-11-22",
            "maillage": True,
            "commune": "Saint-Gaudens",
            "finess": "",
        },
        "playbook": {"id": "spico", "version": 1},
        "questionnaire": {"id": "recueil-use", "version": 1},
        "status": "en_cours",
        "current_step": "presentation",
        "created_at": "2026-11-22T09:30:02.114512+00:00",
        "updated_at": "2026-11-22T09:45:00.000000+00:00",
        "finished_at": None,
        "answers": {"q:opportunite": True, "q:utilisateurs_potentiels": 12, "notes:presentation": "Accueil chaleureux."},
        "override": None,
    }
    content.update(changes)
    return content


def content_op(visit_id: str, base_rev: int = 0, payload: dict | None = None, op_id: str | None = None) -> dict[str, Any]:
    """A `content` operation of a push (a new op id unless given)."""
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "visit_id": visit_id,
        "kind": "content",
        "base_rev": base_rev,
        "payload": payload if payload is not None else visit_content(visit_id),
    }


def followup_op(
    visit_id: str, base_rev: int, status: str = "en_cours", lead: str = "CM", comment: str = "", op_id: str | None = None
) -> dict[str, Any]:
    """A `followup` operation (CM only)."""
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "visit_id": visit_id,
        "kind": "followup",
        "base_rev": base_rev,
        "payload": {"status": status, "lead": lead, "comment": comment},
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_central_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m at_tui central ARGS…` in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "at_tui", "central", *args],
        env=_env(), capture_output=True, text=True, encoding="utf-8", timeout=CLI_TIMEOUT, check=False,
    )


@dataclass
class CentralServer:
    db: str  # the `--db` value: a SQLite file path or a PostgreSQL URL
    port: int
    log_dir: Path
    process: subprocess.Popen | None = None
    tokens: list[str] = field(default_factory=list)  # every token made, to check the logs against
    serve_args: tuple[str, ...] = ()  # more options of `central serve` (e.g. "--rate-limit", "3")
    _mark: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        """The SQLite file (for the tests that are about the file itself)."""
        assert not backends.is_postgres(self.db), "ce service central est sur PostgreSQL"
        return Path(self.db)

    # Users -----------------------------------------------------------------------------

    def add_user(self, name: str, role: str = "at") -> str:
        """Create a user with the CLI; its token (the last line of the output)."""
        return self._token(run_central_cli("add-user", name, "--role", role, "--db", self.db))

    def add_token(self, name: str) -> str:
        return self._token(run_central_cli("add-token", name, "--db", self.db))

    def revoke(self, name: str) -> None:
        result = run_central_cli("revoke", name, "--all", "--db", self.db)
        assert result.returncode == 0, result.stderr

    def _token(self, result: subprocess.CompletedProcess) -> str:
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip().splitlines()[-1]
        assert token.startswith("att_"), result.stdout
        self.tokens.append(token)
        return token

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # Process ---------------------------------------------------------------------------

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._mark = len(self.logs())
        with open(self.log_dir / "stdout.log", "ab") as out, open(self.log_dir / "stderr.log", "ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "at_tui", "central", "serve", "--db", self.db,
                 "--host", "127.0.0.1", "--port", str(self.port), *self.serve_args],
                env=_env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"le service central s'est arrêté au démarrage :\n{self.logs()[self._mark:]}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"le service central ne répond pas après {STARTUP_TIMEOUT} s :\n{self.logs()}")

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut of the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)

    def restart(self, hard: bool = False) -> None:
        """Stop (or kill) and start again on the same port and database."""
        self.kill() if hard else self.stop()
        for attempt in range(20):
            try:
                self.start()
                return
            except RuntimeError as error:
                if attempt == 19 or "address already in use" not in str(error).lower():
                    raise
                time.sleep(0.25)

    def logs(self) -> str:
        parts = []
        for name in ("stdout.log", "stderr.log"):
            path = self.log_dir / name
            if path.exists():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)


def start_central(tmp_path: Path, *serve_args: str, db: str | Path | None = None) -> CentralServer:
    """A running central service (call `stop()` when done) on `db` (a `--db` value: the
    `central_db` fixture's), by default a fresh SQLite file under `tmp_path`, which also holds
    the logs; `serve_args`: more options of `central serve`."""
    base = Path(tmp_path) / "central"
    base.mkdir(parents=True, exist_ok=True)
    db = str(db if db is not None else base / "central.sqlite3")
    last_error: Exception | None = None
    for attempt in range(5):  # a free port can be taken between the probe and the bind
        server = CentralServer(
            db=db, port=free_port(), log_dir=base / f"logs-{attempt}", serve_args=serve_args
        )
        try:
            server.start()
            return server
        except RuntimeError as error:
            last_error = error
            if "address already in use" not in str(error).lower():
                raise
    raise RuntimeError(f"aucun port libre pour le service central : {last_error}")
