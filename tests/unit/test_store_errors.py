"""French causes of storage errors, from errors SQLite and the OS really raise."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from at_tui.store.errors import BUSY, CORRUPT, DISK_FULL, NOT_A_DATABASE, READ_ONLY, cause, explain, is_transient


def _raised(action) -> BaseException:
    with pytest.raises((sqlite3.Error, OSError)) as caught:
        action()
    return caught.value


@pytest.fixture
def conn(tmp_path: Path):
    connection = sqlite3.connect(tmp_path / "base.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE t (x BLOB)")
    yield connection
    connection.close()


def test_a_full_database_is_a_full_disk(conn):
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    error = _raised(lambda: conn.execute("INSERT INTO t VALUES (zeroblob(1000000))"))
    assert cause(error) == DISK_FULL
    assert explain(error, "Enregistrement") == (
        "Enregistrement impossible : disque plein (database or disk is full)."
    )
    assert is_transient(error)


def test_a_query_only_connection_is_read_only(conn):
    conn.execute("PRAGMA query_only = ON")
    error = _raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))
    assert cause(error) == READ_ONLY
    assert explain(error, "Enregistrement de la réponse").startswith(
        "Enregistrement de la réponse impossible : base en lecture seule ("
    )
    assert is_transient(error)


def test_a_write_lock_held_by_another_connection_is_busy(tmp_path, conn):
    other = sqlite3.connect(tmp_path / "base.sqlite3", isolation_level=None, timeout=0.05)
    try:
        conn.execute("BEGIN IMMEDIATE")
        error = _raised(lambda: other.execute("BEGIN IMMEDIATE"))
    finally:
        conn.execute("ROLLBACK")
        other.close()
    assert cause(error) == BUSY
    assert "base occupée par un autre programme" in explain(error, "Enregistrement")
    assert is_transient(error)


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"Ceci est un texte, pas une base SQLite. " * 100)
    probe = sqlite3.connect(path)
    try:
        error = _raised(lambda: probe.execute("SELECT * FROM sqlite_master").fetchall())
    finally:
        probe.close()
    assert cause(error) == NOT_A_DATABASE
    assert not is_transient(error)


def test_a_truncated_database_is_damaged(tmp_path, conn):
    conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "base.sqlite3"
    copy = tmp_path / "coupee.sqlite3"
    copy.write_bytes(path.read_bytes()[:8192])
    probe = sqlite3.connect(copy)
    try:
        error = _raised(lambda: probe.execute("SELECT length(x) FROM t").fetchall())
    finally:
        probe.close()
    assert cause(error) == CORRUPT
    assert not is_transient(error)


@pytest.mark.parametrize(
    ("number", "expected", "transient"),
    [
        (errno.ENOSPC, "disque plein", True),
        (errno.EACCES, "accès refusé", True),
        (errno.EROFS, "système de fichiers en lecture seule", True),
        (errno.EISDIR, "c'est un dossier, pas un fichier", False),
        (errno.ENOENT, "fichier ou dossier introuvable", False),
    ],
)
def test_os_errors_have_a_french_cause(number, expected, transient):
    error = OSError(number, "texte du système", "/chemin/du/fichier")
    assert cause(error) == expected
    assert explain(error, "Écriture") == f"Écriture impossible : {expected} (texte du système) — /chemin/du/fichier."
    assert is_transient(error) is transient


def test_real_os_errors(tmp_path):
    missing = _raised(lambda: open(tmp_path / "absent.json", "rb"))
    folder = _raised(lambda: open(tmp_path, "rb"))
    assert cause(missing) == "fichier ou dossier introuvable"
    assert cause(folder) == "c'est un dossier, pas un fichier"
    assert str(tmp_path) in explain(folder, "Lecture")


def test_without_an_error_code_the_sqlite_text_is_recognised():
    assert cause(sqlite3.OperationalError("database is locked")) == BUSY
    assert cause(sqlite3.OperationalError("database or disk is full")) == DISK_FULL
    assert cause(sqlite3.DatabaseError("database disk image is malformed")) == CORRUPT


def test_unknown_errors_get_a_generic_cause():
    assert cause(sqlite3.OperationalError("no such table: x")) == "erreur de la base de données"
    assert cause(RuntimeError("?")) == "erreur inattendue"
    assert cause(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")) == "texte illisible (encodage)"


def test_the_raw_text_is_made_safe():
    token = "att_" + "Q" * 40
    error = sqlite3.OperationalError(f"near \x1b]52;c;aGk=\x07: {token}")
    sentence = explain(error, "Enregistrement")
    assert token not in sentence and "\x1b" not in sentence and "\x07" not in sentence
    assert sentence.startswith("Enregistrement impossible : erreur de la base de données (")
