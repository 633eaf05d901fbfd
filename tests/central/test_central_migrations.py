"""Versioned schema of the central, on SQLite and on PostgreSQL (issue 13): `at-tui central
migrate`, also run by every sub-command at open, under a lock.

From an empty database and from a previous version (v2, made by `backends.migrate_to`, with
a user and a visit in it) to the current one, data kept; a newer schema and a database of
something else refused without a write; several processes migrating at once apply each step
once; the command's output in French, a PostgreSQL password never shown.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from central_db import execute, holds_nothing, is_postgres, query
from central_server import _env, run_central_cli

from at_tui import __version__
from at_tui.central import backends
from at_tui.central.storage import (
    SCHEMA_VERSION,
    STREAM_VISITS,
    Decision,
    LedgerEntry,
    StorageError,
    VisitWrite,
    format_cursor,
    parse_cursor,
    to_json,
)

STAMP = "2026-12-06T08:00:00+00:00"


def steps_recorded(db: str) -> list[tuple]:
    return [tuple(row) for row in query(db, "SELECT version, at_tui_version FROM schema_migrations ORDER BY version")]


def set_version(db: str, version: int) -> None:
    """What a newer at-tui would leave (its version mark), on either backend."""
    if is_postgres(db):
        execute(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'", str(version))
    else:
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.close()


def push_one(storage, visit_id: str) -> None:
    op_id = str(uuid.uuid4())

    def decide(entry, visit) -> Decision:
        write = VisitWrite(visit_id, 0, 1, "alice", to_json({"id": visit_id, "note": "é"}), "{}", STAMP)
        result = {"op_id": op_id, "status": "applied", "rev": 1}
        return Decision(result, write, LedgerEntry(op_id, "alice", visit_id, "f", "applied", result))

    storage.apply_operations([(op_id, visit_id, decide)])


def test_an_empty_database_is_created_at_the_current_version_with_every_step_recorded(central_db: str) -> None:
    assert SCHEMA_VERSION == 3
    assert backends.migrate(central_db) == (0, SCHEMA_VERSION)
    assert steps_recorded(central_db) == [(1, __version__), (2, __version__), (3, __version__)]
    assert backends.migrate(central_db) == (SCHEMA_VERSION, SCHEMA_VERSION)  # nothing more to do
    assert len(steps_recorded(central_db)) == 3
    storage = backends.open_storage(central_db)
    try:
        assert storage.kind == ("postgresql" if is_postgres(central_db) else "sqlite")
        assert storage.schema_version() == SCHEMA_VERSION and storage.migrated == (3, 3)
        storage.check_ready()
    finally:
        storage.close()


def test_a_version_2_database_is_migrated_and_keeps_everything(central_db: str) -> None:
    assert backends.migrate_to(central_db, 2) == (0, 2)
    assert holds_nothing(central_db) is False
    # A v2 database in use, as a previous at-tui left it (`target=2`: opened without migrating).
    storage = _open_at(central_db, 2)
    try:
        with pytest.raises(StorageError, match="schéma v2"):
            storage.check_ready()  # a service of this version on it is not ready
        storage.add_user("alice", "at")
        visit_id = str(uuid.uuid4())
        push_one(storage, visit_id)
        instance, seq = storage.instance, storage.get_visit(visit_id).seq
    finally:
        storage.close()
    assert query(central_db, "SELECT count(*) FROM users") == [(1,)]

    assert backends.migrate(central_db) == (2, SCHEMA_VERSION)
    assert steps_recorded(central_db) == [(3, __version__)]  # only the step applied now
    storage = backends.open_storage(central_db, create=False)
    try:
        storage.check_ready()
        assert storage.instance == instance  # the laptops' cursors stay valid
        visit = storage.get_visit(visit_id)
        assert (visit.owner, visit.rev, visit.content, visit.seq) == ("alice", 1, {"id": visit_id, "note": "é"}, seq)
        assert parse_cursor(storage, format_cursor(instance, seq), STREAM_VISITS) == seq
        assert [user.name for user in storage.list_users()] == ["alice"]
    finally:
        storage.close()


def _open_at(db: str, version: int):
    if is_postgres(db):
        from at_tui.central.postgres_storage import PostgresStorage

        return PostgresStorage(db, target=version)
    from at_tui.central.sqlite_storage import SQLiteStorage

    return SQLiteStorage(db, target=version)


def test_a_newer_schema_is_refused_and_left_as_it_is(central_db: str) -> None:
    backends.migrate(central_db)
    set_version(central_db, 99)
    for attempt in (lambda: backends.open_storage(central_db), lambda: backends.migrate(central_db)):
        with pytest.raises(StorageError, match="plus récente.*v99.*mettez at-tui à jour"):
            attempt()
    assert len(steps_recorded(central_db)) == 3
    result = run_central_cli("migrate", "--db", central_db)
    assert result.returncode == 1 and "mettez at-tui à jour" in result.stderr and "Traceback" not in result.stderr


def test_a_database_of_something_else_is_refused_without_a_write(central_db: str) -> None:
    if is_postgres(central_db):
        execute(central_db, "CREATE TABLE visits (id TEXT PRIMARY KEY, rev INTEGER)")
        execute(central_db, "CREATE TABLE meta (name TEXT)")  # a `meta` of another application
    else:
        conn = sqlite3.connect(central_db)
        conn.execute("CREATE TABLE visits (id TEXT PRIMARY KEY, rev INTEGER)")
        conn.close()
    with pytest.raises(StorageError, match="n'est pas une base du service central"):
        backends.migrate(central_db)
    tables = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
              if is_postgres(central_db) else "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
    assert [row[0] for row in query(central_db, tables)] == (["meta", "visits"] if is_postgres(central_db) else ["visits"])


def test_an_empty_or_absent_database_is_not_created_when_only_an_existing_one_will_do(central_db: str) -> None:
    with pytest.raises(StorageError, match="Base du service central introuvable"):
        backends.open_storage(central_db, create=False)
    assert holds_nothing(central_db)


def test_several_processes_migrating_at_once_apply_each_step_once(central_db: str) -> None:
    """Services (or workers) starting together: the lock makes one create, the others wait and find it done."""
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda _: backends.migrate(central_db), range(6)))
    assert sorted(outcomes) == [(0, 3)] + [(3, 3)] * 5
    processes = [
        subprocess.Popen([sys.executable, "-m", "at_tui", "central", "migrate", "--db", db], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for db in [central_db] * 3
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "déjà au schéma v3" in out, err
    assert len(steps_recorded(central_db)) == 3
    assert len(query(central_db, "SELECT value FROM meta WHERE key = 'instance'")) == 1


def test_several_processes_creating_a_new_database_at_once(new_central_db: Callable[..., str]) -> None:
    db = new_central_db("race")
    processes = [
        subprocess.Popen([sys.executable, "-m", "at_tui", "central", "migrate", "--db", db], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out)
    assert sum("créée" in out for out in outputs) == 1
    assert sum("déjà au schéma v3" in out for out in outputs) == 3
    assert [row[0] for row in steps_recorded(db)] == [1, 2, 3]


def test_the_migrate_command_says_what_it_did_in_french(central_db: str) -> None:
    backends.migrate_to(central_db, 2)
    name = backends.display_name(central_db)
    result = run_central_cli("migrate", "--db", central_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Base du service central {name} mise à jour du schéma v2 au schéma v3."
    again = run_central_cli("migrate", "--db", central_db)
    assert again.stdout.strip() == f"Base du service central {name} déjà au schéma v3 : rien à faire."


def test_the_migrate_command_creates_and_never_shows_a_password(central_db: str) -> None:
    db = central_db
    if is_postgres(db):  # the test server trusts local connections: any password is accepted, never shown
        db = db.replace("postgresql://postgres@", "postgresql://postgres:s3cr3t-m0t@")
    result = run_central_cli("migrate", "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Base du service central {backends.display_name(db)} créée : schéma v3."
    assert "s3cr3t" not in result.stdout + result.stderr
    if is_postgres(db):
        assert "postgres:***@" in result.stdout


def test_an_unreachable_postgresql_is_one_french_sentence_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://agence:s3cr3t-m0t@127.0.0.1:1/central"
    with pytest.raises(StorageError, match="injoignable") as raised:
        backends.open_storage(url)
    assert "s3cr3t" not in str(raised.value) and "agence:***@" in str(raised.value)
    result = run_central_cli("migrate", "--db", url)
    assert result.returncode == 1 and result.stderr.startswith("at-tui : ") and "injoignable" in result.stderr
    assert "s3cr3t" not in result.stderr and "Traceback" not in result.stderr


def test_display_name_hides_passwords_only() -> None:
    assert backends.display_name("/srv/central.sqlite3") == "/srv/central.sqlite3"
    assert backends.display_name("postgresql://it@db.agence/central") == "postgresql://it@db.agence/central"
    assert backends.display_name("postgres://it:pw@db:5433/central") == "postgres://it:***@db:5433/central"
    assert backends.display_name("postgresql://it@db/central?password=pw&sslmode=require") == (
        "postgresql://it@db/central?password=***&sslmode=require"
    )
    assert backends.is_postgres("PostgreSQL://x/y") and not backends.is_postgres("central.sqlite3")


def test_a_renewed_instance_makes_every_old_cursor_unknown(central_db: str) -> None:
    storage = backends.open_storage(central_db)
    try:
        storage.add_user("alice", "at")
        visit_id = str(uuid.uuid4())
        push_one(storage, visit_id)
        seq, old = storage.get_visit(visit_id).seq, storage.instance
        new = storage.renew_instance()
        assert new != old and storage.instance == new
        assert parse_cursor(storage, format_cursor(old, seq), STREAM_VISITS) is None  # 410: pull everything again
    finally:
        storage.close()
    reopened = backends.open_storage(central_db)
    try:
        assert reopened.instance == new
    finally:
        reopened.close()
