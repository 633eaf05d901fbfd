"""Schema migrations: fresh database, upgrade with backup, newer schema refused, failed migration."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from at_tui.store.db import StoreError
from at_tui.store.migrations import MIGRATIONS, SCHEMA_VERSION, open_database, schema_version

FRENCH_HINTS = ("base", "version", "schéma", "mise à jour", "n'a pas", "lisible", "échoué")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
            if not row[0].startswith("sqlite_")
        }
    finally:
        conn.close()


def raw_user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def assert_french(message: str) -> None:
    assert any(hint in message for hint in FRENCH_HINTS), message
    # A few English words that would betray an untranslated message.
    for english in ("database", "failed", "newer", "Error"):
        assert english not in message.replace("(", " ").split(), message


def assert_opens_current_with_one_visit(path: Path) -> None:
    """Opened with the regular migrations, the database is at the current schema, its one visit kept."""
    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    finally:
        conn.close()


def insert_visit(conn: sqlite3.Connection, visit_id: str = "3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11") -> None:
    conn.execute(
        """INSERT INTO visits (id, structure, departement, typologie, contact_name, contact_role,
               visit_date, maillage, playbook_id, playbook_version, questionnaire_id,
               questionnaire_version, current_step, status, created_at, updated_at)
           VALUES (?, 'CPTS du Grand Toulouse', '31', 'cpts-msp', 'Claire Dupuis', 'Coordinatrice',
                   '2026-11-22', 1, 'spico', 1, 'recueil-use', 1, 'presentation', 'en_cours',
                   '2026-11-22T09:00:00+00:00', '2026-11-22T09:00:00+00:00')""",
        (visit_id,),
    )
    conn.execute(
        "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, 'q:opportunite', 'true', ?)",
        (visit_id, "2026-11-22T09:05:00+00:00"),
    )


# -- fresh database ---------------------------------------------------------------


def test_fresh_database_gets_current_schema_and_durable_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"visits", "answers", "history", "reference_snapshots"} <= names
        # Foreign keys really are enforced on this connection.
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO answers (visit_id, key, value, updated_at) VALUES ('absente', 'k', '1', 'x')"
            )
    finally:
        conn.close()
    # A fresh database needs no backup.
    assert not (tmp_path / "sauvegardes").exists()


def test_reopening_current_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    conn = open_database(path)
    insert_visit(conn)
    conn.close()
    assert_opens_current_with_one_visit(path)
    assert not (tmp_path / "sauvegardes").exists()


# -- upgrade ----------------------------------------------------------------------


def test_older_database_is_backed_up_then_upgraded_with_data_preserved(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:1])
    assert schema_version(old) == 1
    insert_visit(old)
    old.close()
    assert "reference_snapshots" not in tables(path)

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        row = conn.execute("SELECT structure, departement, maillage FROM visits").fetchone()
        assert tuple(row) == ("CPTS du Grand Toulouse", "31", 1)
        assert conn.execute("SELECT value FROM answers WHERE key = 'q:opportunite'").fetchone()[0] == "true"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()
    assert {"reference_snapshots", "visits_by_update"} <= tables(path)

    backups = sorted((tmp_path / "sauvegardes").iterdir())
    assert len(backups) == 1
    backup = backups[0]
    assert "v1" in backup.name
    # The backup is the database as it was before the upgrade.
    assert raw_user_version(backup) == 1
    assert "reference_snapshots" not in tables(backup)
    check = sqlite3.connect(backup)
    try:
        assert check.execute("SELECT structure FROM visits").fetchone()[0] == "CPTS du Grand Toulouse"
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()


def test_v4_database_gains_commune_and_finess_with_their_history(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:4])
    insert_visit(old)
    old.close()

    conn = open_database(path)
    try:
        assert tuple(conn.execute("SELECT commune, finess FROM visits").fetchone()) == ("", "")
        conn.execute(
            "UPDATE visits SET commune = 'Muret', structure = 'CPTS Muret', updated_at = '2026-11-22T10:00:00+00:00'"
        )
        changed = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT field, old_value, new_value FROM history")}
        assert changed["commune"] == ('""', '"Muret"')
        assert changed["structure"] == ('"CPTS du Grand Toulouse"', '"CPTS Muret"')
    finally:
        conn.close()
    assert {"contacts", "professionals", "professionals_by_name"} <= tables(path)


def test_v6_database_gains_the_pulled_reference_table_and_keeps_its_sync_state(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:6])
    insert_visit(old)
    old.execute("INSERT INTO sync_state (key, value, updated_at) VALUES ('cursor:visits', '9f54d8e0658e-17', 'x')")
    old.close()

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 7
        assert conn.execute("SELECT value FROM sync_state WHERE key = 'cursor:visits'").fetchone()[0] == "9f54d8e0658e-17"
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1  # the visit's operation, kept
        assert conn.execute("SELECT count(*) FROM pulled_reference").fetchone()[0] == 0
        conn.execute("INSERT INTO pulled_reference (dataset, key, content, deleted, received_at) "
                     "VALUES ('contacts', 'a', NULL, 1, 'x')")
        with pytest.raises(sqlite3.IntegrityError):  # a tombstone has no content, a live item has one
            conn.execute("INSERT INTO pulled_reference (dataset, key, content, deleted, received_at) "
                         "VALUES ('contacts', 'b', NULL, 0, 'x')")
    finally:
        conn.close()
    assert {"pulled_reference", "pulled_reference_stale"} <= tables(path)


# -- newer schema -------------------------------------------------------------------


@pytest.mark.parametrize("wal", [False, True], ids=["journal-rollback", "journal-wal"])
def test_newer_schema_is_refused_and_file_left_untouched(tmp_path: Path, wal: bool) -> None:
    path = tmp_path / "at-tui.sqlite3"
    if wal:
        conn = open_database(path)
    else:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE visits (id TEXT PRIMARY KEY)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before_files = sorted(p.name for p in tmp_path.iterdir())
    before = sha256(path)

    with pytest.raises(StoreError) as caught:
        open_database(path)

    message = str(caught.value)
    assert_french(message)
    assert f"v{SCHEMA_VERSION + 5}" in message
    assert "plus récente" in message
    assert sha256(path) == before
    assert not Path(f"{path}-wal").exists(), "le refus ne doit pas créer de fichier -wal"
    assert not Path(f"{path}-shm").exists(), "le refus ne doit pas créer de fichier -shm"
    assert sorted(p.name for p in tmp_path.iterdir()) == before_files
    assert raw_user_version(path) == SCHEMA_VERSION + 5


# -- failing migration ----------------------------------------------------------------


def _failing(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO half_done (id) VALUES (1)")
    raise sqlite3.OperationalError("disque plein (simulé)")


def test_failing_migration_leaves_older_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:1])
    insert_visit(old)
    old.close()
    tables_before = tables(path)

    with pytest.raises(StoreError) as caught:
        open_database(path, migrations=(*MIGRATIONS, _failing))

    message = str(caught.value)
    assert_french(message)
    assert "disque plein (simulé)" in message
    assert raw_user_version(path) == 1
    assert tables(path) == tables_before
    assert "half_done" not in tables(path)
    assert "reference_snapshots" not in tables(path)  # v2 ran in the same transaction: rolled back
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    # The regular migrations still work afterwards.
    assert_opens_current_with_one_visit(path)


def test_failing_migration_on_fresh_database_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    with pytest.raises(StoreError):
        open_database(path, migrations=(MIGRATIONS[0], _failing))
    assert raw_user_version(path) == 0
    assert tables(path) == set()


# -- not a database ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"Compte rendu de visite - ceci n'est pas une base SQLite.\n" * 200,
        bytes(range(256)) * 64,
    ],
    ids=["texte", "binaire"],
)
def test_non_database_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "at-tui.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        open_database(path)
    assert_french(str(caught.value))
    assert str(path.name) in str(caught.value)
    assert path.read_bytes() == content


# -- v8: values out of range repaired (originals kept), ownership and sync bases ------


def test_v7_database_with_dates_out_of_range_is_repaired_and_keeps_the_originals(tmp_path: Path, reference) -> None:
    from at_tui.domain.moments import date_problem, timestamp_problem
    from at_tui.exchange.exporter import export_visits
    from at_tui.workspace import Workspace

    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:7])
    visit_id = "3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11"
    insert_visit(old, visit_id)
    # As an import or a pull stored them before the boundaries checked: the app died at every start.
    old.execute("UPDATE visits SET updated_at = '9999-12-31T23:59:59+00:00', created_at = '0001-01-01T00:00:00+14:00', "
                "visit_date = '9999-01-01'")
    old.execute("UPDATE answers SET updated_at = 'garbage'")
    old.execute("INSERT INTO history (visit_id, field, old_value, new_value, at) "
                "VALUES (?, 'structure', '\"a\"', '\"b\"', '0001-01-01T00:00:00+14:00')", (visit_id,))
    old.commit()
    queued = old.execute("SELECT count(*) FROM outbox").fetchone()[0]
    old.close()

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        created, updated, day = conn.execute("SELECT created_at, updated_at, visit_date FROM visits").fetchone()
        assert timestamp_problem(created) is None and timestamp_problem(updated) is None and date_problem(day) is None
        assert all(timestamp_problem(at) is None for (at,) in conn.execute("SELECT at FROM history"))
        assert timestamp_problem(conn.execute("SELECT updated_at FROM answers").fetchone()[0]) is None
        kept = {(t, c): o for t, c, o in conn.execute("SELECT table_name, column_name, original FROM repaired_values")}
        assert kept[("visits", "updated_at")] == "9999-12-31T23:59:59+00:00"  # nothing lost
        assert kept[("visits", "created_at")] == "0001-01-01T00:00:00+14:00"
        assert kept[("visits", "visit_date")] == "9999-01-01"
        assert kept[("answers", "updated_at")] == "garbage" and ("history", "at") in kept
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1  # never deleted
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == queued  # not sent back
    finally:
        conn.close()
    workspace = Workspace(path, reference=reference)
    try:
        assert [v["id"] for v in export_visits(workspace)["visits"]] == [visit_id]
    finally:
        workspace.close()


def test_v7_database_gains_origin_and_the_base_of_synced_visits(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:7])
    insert_visit(old)
    old.execute("UPDATE outbox SET state = 'done', payload = '{\"answers\": {}}', result = '{\"rev\": 1}'")
    old.execute("INSERT INTO sync_visits (visit_id, rev, updated_at) SELECT id, 1, 'x' FROM visits")
    old.commit()
    old.close()

    conn = open_database(path)
    try:
        assert tuple(conn.execute("SELECT origin, owner FROM visits").fetchone()) == ("local", None)
        assert conn.execute("SELECT base_content FROM sync_visits").fetchone()[0] == '{"answers": {}}'
        conn.execute("UPDATE visits SET origin = 'import'")
        conn.execute("UPDATE visits SET structure = 'Autre'")  # an imported visit is never queued
        conn.execute("UPDATE answers SET value = 'false'")
        assert conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 0
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE visits SET origin = 'elsewhere'")
    finally:
        conn.close()


def test_v10_database_gains_the_opportunity_outbox_with_an_operation_per_local_opportunity(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:10])
    imported = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    insert_visit(old)
    insert_visit(old, imported)
    old.execute("UPDATE visits SET origin = 'import', owner = 'julie' WHERE id = ?", (imported,))
    for visit_id in ("3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11", imported):
        old.execute(
            "INSERT INTO opportunities (id, playbook_id, playbook_version, offer, lead, support, status, at_login, "
            "visit_date, created_at, updated_at) VALUES (?, 'spico', 2, 'discussions_simple', 'AT', 'CM', "
            "'en_attente', 'marie', '2026-11-22', '2026-11-22T10:00:00+00:00', '2026-11-22T10:00:00+00:00')",
            (visit_id,),
        )
        old.execute(
            "INSERT INTO journal (id, opportunity_id, activity, type, title, day, author, role, created_at) "
            "VALUES (?, ?, 'information', 'Information', 'Information', '2026-11-22', 'marie', 'AT', "
            "'2026-11-22T10:00:00+00:00')", (f"{visit_id}:information", visit_id),
        )
    old.close()

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 11
        assert [tuple(r) for r in conn.execute("SELECT visit_id, state, payload FROM opportunity_outbox")] == [
            ("3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11", "pending", None)]  # the local one; another AT's is hers
        assert conn.execute("SELECT count(*) FROM opportunities").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM journal").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM journal_synced").fetchone()[0] == 0  # nothing held centrally yet
        assert conn.execute("SELECT count(*) FROM sync_opportunities").fetchone()[0] == 0
        conn.execute("UPDATE opportunities SET updated_at = 'x'")  # not a field: queues nothing more
        assert conn.execute("SELECT count(*) FROM opportunity_outbox").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):  # one pending operation per visit
            conn.execute("INSERT INTO opportunity_outbox (op_id, visit_id, created_at, updated_at) "
                         "VALUES ('x', '3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11', 'x', 'x')")
    finally:
        conn.close()
    assert {"opportunity_outbox", "sync_opportunities", "journal_synced", "opportunity_outbox_one_pending"} <= tables(path)
