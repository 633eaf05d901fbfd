"""Harness of the bad-input corpus: run `python -m at_tui …` as the AT would, check how it fails.

Importable as `corpus` from the tests of `tests/cli/` (pytest puts a test file's folder on
sys.path: the folder has no __init__.py, like every test folder here). Reused by
test_bad_input_corpus.py and test_import_corpus.py. Nothing here imports the app at module
level: the subprocesses must find every module themselves.

A case passes when the command exits with the expected code, says why in French on stderr
(« at-tui : … »), prints no Python traceback and leaves the database as it was (same content,
`PRAGMA integrity_check` ok).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 60
DB_NAME = "at-tui.sqlite3"

# Words that only a French sentence has; an English error (« No such file », « database is
# locked ») may follow one in parentheses, never stand alone.
_FRENCH_MARKERS = (
    " impossible", " n'est pas", "introuvable", " est un ", " est une ", " pas un", "refus", "interrompu",
    " le ", " la ", " les ", " du ", " des ", " une ", " aucun", "erreur inattendue", "fichier", "dossier",
    " non ", "obligatoire", "invalide", "attendu", " entre ",
)
_ESCAPE_BYTES = ("\x1b", "\x07", "\x9b", "\u202e")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of one run: this AT_TUI_HOME, the bundled data, UTF-8, no token."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AT_TUI_HOME", "AT_TUI_FIXTURES", "AT_TUI_TOKEN") and not key.startswith("PYTEST")
    }
    env.update(AT_TUI_HOME=str(home), PYTHONIOENCODING="utf-8", TERM="dumb", COLUMNS="100")
    env.update(extra)
    return env


def drop_file_privileges() -> None:
    """preexec_fn: make file modes count for this child, as for a user without privileges.

    Tests run as root, whom chmod 0444 does not stop. An unprivileged uid cannot run the
    interpreter here (it lives under /root, 0700), so the child stays uid 0 but loses the
    capabilities that bypass file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): dropped from
    its bounding set, they are gone after exec. Outside root nothing needs dropping."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_cli(
    home: Path,
    *args: str,
    unprivileged: bool = False,
    stdin: str | None = None,
    timeout: float = TIMEOUT,
    env: dict[str, str] | None = None,
    stdout=None,
) -> subprocess.CompletedProcess:
    """`python -m at_tui ARGS` with AT_TUI_HOME=home; text output captured (UTF-8).

    `unprivileged`: file modes apply (see drop_file_privileges). `stdout`: a file to write
    the standard output to instead of capturing it (/dev/full…)."""
    command = [sys.executable, "-m", "at_tui", *args]
    return subprocess.run(
        command,
        env={**cli_env(home), **(env or {})},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
        preexec_fn=drop_file_privileges if unprivileged else None,
    )


def run_python(home: Path, code: str, *, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """`python -c CODE` in the same environment as `run_cli` (to provoke what no input can)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env(home), stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8",
        errors="replace", timeout=timeout, check=False,
    )


def looks_french(text: str) -> bool:
    """Whether `text`, without what it quotes in parentheses (an OS or SQLite text), is French."""
    lowered = f" {re.sub(r'[(][^)]*[)]', ' ', text).lower()} "
    return any(marker in lowered for marker in _FRENCH_MARKERS)


def assert_fails_cleanly(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    """Exit `code`, « at-tui : » and a French sentence on stderr, the `fragments` in it,
    no traceback and no terminal escape sequence anywhere in the output."""
    output = (result.stdout or "") + (result.stderr or "")
    assert "Traceback" not in output, output
    assert result.returncode == code, f"exit {result.returncode}, expected {code}:\n{output}"
    assert result.stderr.startswith("at-tui : "), result.stderr
    message = result.stderr.removeprefix("at-tui : ")
    assert looks_french(message), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"« {fragment} » not in:\n{result.stderr}"
    for byte in _ESCAPE_BYTES:
        assert byte not in output, f"{byte!r} reached the terminal:\n{output!r}"


def db_fingerprint(db: Path) -> str:
    """A hash of the database's whole content (schema and rows, through `iterdump`).

    Read from a copy (the file and its -wal), so that the check itself creates no -shm or
    -wal beside the database. Also asserts `PRAGMA integrity_check` is ok. A file SQLite
    cannot read is hashed byte for byte instead (a damaged database must stay as it was)."""
    if not db.exists():
        return "absent"
    if db.is_dir():
        return "directory:" + ",".join(sorted(child.name for child in db.iterdir()))
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as folder:
        copy = Path(folder) / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        try:
            conn = sqlite3.connect(copy)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                digest = hashlib.sha256()
                for statement in conn.iterdump():
                    digest.update(statement.encode("utf-8", "surrogatepass"))
                return "dump:" + digest.hexdigest()
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return "bytes:" + hashlib.sha256(db.read_bytes()).hexdigest()


def database(home: Path) -> Path:
    return home / DB_NAME


def make_home(root: Path, name: str = "home", *, with_visit: bool = True) -> Path:
    """An AT_TUI_HOME with a database (one visit of « Jeanne Martin » when `with_visit`)."""
    home = root / name
    home.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from at_tui.workspace import Workspace\n"
        f"workspace = Workspace(Path({str(database(home))!r}))\n"
        "try:\n"
        f"    if {with_visit!r}:\n"
        "        visit, errors = workspace.start_visit({'structure': 'CPTS des Coteaux', 'departement': '31',\n"
        "            'typologie': 'CPTS/MSP', 'contact_name': 'Jeanne Martin', 'contact_role': 'Coordinatrice',\n"
        "            'visit_date': '20/11/2026'})\n"
        "        assert not errors, errors\n"
        "        workspace.visits.set_answer(visit.id, 'notes:presentation', 'Accueil chaleureux.')\n"
        "finally:\n"
        "    workspace.close()\n"
    )
    result = run_python(home, code)
    assert result.returncode == 0, result.stderr
    return home


def check_case(
    home: Path,
    args: tuple[str, ...],
    code: int,
    *fragments: str,
    unprivileged: bool = False,
    prepare: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess:
    """Run one corpus case: the database fingerprint before and after must be equal."""
    if prepare is not None:
        prepare()
    before = db_fingerprint(database(home))
    result = run_cli(home, *args, unprivileged=unprivileged)
    assert_fails_cleanly(result, code, *fragments)
    assert db_fingerprint(database(home)) == before, "the database changed"
    return result
