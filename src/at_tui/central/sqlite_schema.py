"""The central's schema on SQLite and its versioned steps (v1 → v2 → v3), applied at open.

The version is `PRAGMA user_version`, the mark of a central database `PRAGMA application_id`
("ATC1": tells it from a laptop's database, or any other file). Every step runs inside the
caller's `BEGIN IMMEDIATE`: the writers of other processes wait, so several services or a
`central migrate` starting together never migrate twice, and a failed step leaves the
database as it was (all the steps, or none). Steps only add (never drop, never rewrite rows).
Since v3 the table `schema_migrations` keeps one row per step applied (when, by which at-tui),
so the agency's IT can see the history; a new database records every step.
"""

from __future__ import annotations

import secrets
import sqlite3

from at_tui import __version__
from at_tui.central.storage import SCHEMA_VERSION, STREAM_REFERENCE, STREAM_VISITS, StorageError, now

# PRAGMA application_id: "ATC1". Tells a central database from the AT's own database (or any other).
APPLICATION_ID = 0x41544331

SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('at', 'cm')),
    created_at TEXT NOT NULL
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_user ON tokens(user_name);
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    rev INTEGER NOT NULL CHECK (rev >= 1),
    owner TEXT NOT NULL REFERENCES users(name),
    content TEXT NOT NULL,
    followup TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE
);
CREATE INDEX visits_owner_seq ON visits(owner, seq);
CREATE TABLE operations (
    op_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    visit_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    result TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE reference_items (
    dataset TEXT NOT NULL,
    key TEXT NOT NULL,
    content TEXT NOT NULL,
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (dataset, key)
);
CREATE INDEX reference_items_dataset_seq ON reference_items(dataset, seq);
"""

# Each step brings a database from the version before to its own. Step 1 is SCHEMA.
STEPS: dict[int, tuple[str, ...]] = {
    1: tuple(statement for statement in SCHEMA.split(";") if statement.strip()),
    # v2 (issue 11 §3): the opportunity of a visit and its append-only journal.
    2: (
        """CREATE TABLE opportunities (
            visit_id TEXT PRIMARY KEY REFERENCES visits(id),
            fields TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE opportunity_journal (
            id TEXT PRIMARY KEY,
            visit_id TEXT NOT NULL REFERENCES opportunities(visit_id),
            day TEXT NOT NULL,
            created_at TEXT NOT NULL,
            entry TEXT NOT NULL
        )""",
        "CREATE INDEX opportunity_journal_visit ON opportunity_journal(visit_id, day, created_at, id)",
        """CREATE TRIGGER opportunity_journal_no_update BEFORE UPDATE ON opportunity_journal BEGIN
             SELECT RAISE(ABORT, 'journal en ajout seul');
           END""",
        """CREATE TRIGGER opportunity_journal_no_delete BEFORE DELETE ON opportunity_journal BEGIN
             SELECT RAISE(ABORT, 'journal en ajout seul');
           END""",
    ),
    # v3 (issue 13): the history of the steps applied, for the agency's IT.
    3: (
        """CREATE TABLE schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL,
            at_tui_version TEXT NOT NULL
        )""",
    ),
}
assert max(STEPS) == SCHEMA_VERSION


def version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def upgrade(conn: sqlite3.Connection, name: str, create: bool = True, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the database to `target` inside the caller's write transaction; (version before, after).

    An empty file becomes a new central database (StorageError when `create` is False); a file
    of another application, or of a newer schema, is refused without a write."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    before = version(conn)
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id == 0 and before == 0 and tables == 0:
        if not create:
            raise StorageError(f"Base du service central introuvable : {name} (vérifiez --db). Rien n'a été écrit.")
    elif application_id != APPLICATION_ID:
        raise StorageError(
            f"Le fichier {name} n'est pas une base du service central at-tui "
            "(c'est peut-être la base d'un poste) : indiquez un autre fichier."
        )
    elif before > SCHEMA_VERSION:
        raise StorageError(
            f"La base {name} a été créée par une version plus récente d'at-tui "
            f"(schéma v{before}, cette version connaît la v{SCHEMA_VERSION}) : mettez at-tui à jour."
        )
    applied = [step for step in sorted(STEPS) if before < step <= target]
    for step in applied:
        for statement in STEPS[step]:
            conn.execute(statement)  # one by one: executescript() would commit the transaction
        if step == 1:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("INSERT INTO meta (key, value) VALUES ('instance', ?)", (secrets.token_hex(6),))
            conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (now(),))
            conn.executemany(
                "INSERT INTO counters (name, value) VALUES (?, 0)", [(STREAM_VISITS,), (STREAM_REFERENCE,)]
            )
    if applied:
        if target >= 3:
            stamp = now()
            conn.executemany(
                "INSERT INTO schema_migrations (version, applied_at, at_tui_version) VALUES (?, ?, ?)",
                [(step, stamp, __version__) for step in applied],
            )
        conn.execute(f"PRAGMA user_version = {applied[-1]}")
    return before, applied[-1] if applied else before
