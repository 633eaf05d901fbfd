"""The central's schema on PostgreSQL and its versioned steps (v1 → v2 → v3), applied at open.

The same tables as on SQLite (`sqlite_schema`), JSON kept as TEXT (what was pushed, byte
for byte), positions as BIGINT (`postgres_storage`: `xid << 20`), and every text column that
is ordered or compared by range in `COLLATE "C"`: byte order, SQLite's order, whatever the
database's default collation. The journal is append-only as on SQLite: a trigger refuses
UPDATE, DELETE and TRUNCATE.

The table `meta` marks an at-tui central database (`application`), holds its `instance` and
`created_at`, and its `schema_version`. A database whose current schema has tables but no
such mark is someone else's: refused, never written. DDL is transactional on PostgreSQL:
every step runs in one transaction that first takes `pg_advisory_xact_lock(MIGRATION_LOCK)`,
so services and `central migrate` starting together wait for each other and migrate once,
and a failed step leaves the database as it was. Since v3 `schema_migrations` keeps one row
per step applied (when, by which at-tui).
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg

from at_tui import __version__
from at_tui.central.storage import SCHEMA_VERSION, StorageError, now

APPLICATION = "at-tui central"
# pg_advisory_xact_lock key of the migrations (one 64-bit key: never meets the two-key locks
# `postgres_storage` takes on op and visit ids). "ATC1" + "MIGR".
MIGRATION_LOCK = 0x41544331_4D494752

STEPS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE meta (
            key TEXT COLLATE "C" PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE users (
            name TEXT COLLATE "C" PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('at', 'cm')),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE tokens (
            hash TEXT PRIMARY KEY,
            user_name TEXT COLLATE "C" NOT NULL REFERENCES users(name),
            prefix TEXT NOT NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            revoked_at TEXT
        )""",
        "CREATE INDEX tokens_user ON tokens(user_name)",
        """CREATE TABLE visits (
            id TEXT COLLATE "C" PRIMARY KEY,
            rev INTEGER NOT NULL CHECK (rev >= 1),
            owner TEXT COLLATE "C" NOT NULL REFERENCES users(name),
            content TEXT NOT NULL,
            followup TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            seq BIGINT NOT NULL UNIQUE
        )""",
        "CREATE INDEX visits_owner_seq ON visits(owner, seq)",
        """CREATE TABLE operations (
            op_id TEXT COLLATE "C" PRIMARY KEY,
            user_name TEXT COLLATE "C" NOT NULL REFERENCES users(name),
            visit_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
            result TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
        """CREATE TABLE reference_items (
            dataset TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            content TEXT NOT NULL,
            deleted BOOLEAN NOT NULL,
            updated_at TEXT NOT NULL,
            seq BIGINT NOT NULL UNIQUE,
            PRIMARY KEY (dataset, key)
        )""",
        "CREATE INDEX reference_items_dataset_seq ON reference_items(dataset, seq)",
    ),
    # v2 (issue 11 §3): the opportunity of a visit and its append-only journal.
    2: (
        """CREATE TABLE opportunities (
            visit_id TEXT COLLATE "C" PRIMARY KEY REFERENCES visits(id),
            fields TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE opportunity_journal (
            id TEXT COLLATE "C" PRIMARY KEY,
            visit_id TEXT COLLATE "C" NOT NULL REFERENCES opportunities(visit_id),
            day TEXT COLLATE "C" NOT NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            entry TEXT NOT NULL
        )""",
        "CREATE INDEX opportunity_journal_visit ON opportunity_journal(visit_id, day, created_at, id)",
        """CREATE FUNCTION opportunity_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION 'journal en ajout seul';
           END
           $$""",
        """CREATE TRIGGER opportunity_journal_no_change BEFORE UPDATE OR DELETE ON opportunity_journal
           FOR EACH ROW EXECUTE FUNCTION opportunity_journal_append_only()""",
        """CREATE TRIGGER opportunity_journal_no_truncate BEFORE TRUNCATE ON opportunity_journal
           FOR EACH STATEMENT EXECUTE FUNCTION opportunity_journal_append_only()""",
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


def version(conn: Any) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    value = _first(row) if row else None
    if value is None or not str(value).isdigit():
        raise StorageError("La base du service central n'indique plus sa version de schéma (table meta modifiée) : "
                           "restaurez-la depuis une sauvegarde.")
    return int(value)


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def upgrade(conn: Any, name: str, create: bool = True, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the database to `target` in one transaction under the migration lock; (before, after).

    `conn`: an autocommit psycopg connection. An empty database (no table in its current
    schema) becomes a new central database (StorageError when `create` is False)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        before = _found_version(conn, name, create)
        applied = [step for step in sorted(STEPS) if before < step <= target]
        for step in applied:
            for statement in STEPS[step]:
                conn.execute(statement)
            if step == 1:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('application', %s), ('instance', %s), "
                    "('created_at', %s), ('schema_version', '1')",
                    (APPLICATION, secrets.token_hex(6), now()),
                )
        if applied:
            if target >= 3:
                stamp = now()
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO schema_migrations (version, applied_at, at_tui_version) VALUES (%s, %s, %s)",
                        [(step, stamp, __version__) for step in applied],
                    )
            conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(applied[-1]),))
        return before, applied[-1] if applied else before


def _found_version(conn: Any, name: str, create: bool) -> int:
    """0 for an empty database; the version of a central database; StorageError otherwise."""
    tables = _first(conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    ).fetchone())
    if tables == 0:
        if not create:
            raise StorageError(f"Base du service central introuvable : {name} (vérifiez --db). Rien n'a été écrit.")
        return 0
    marked = _first(conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone())
    application = None
    if marked:
        try:
            with conn.transaction():  # a `meta` table of another application may not have these columns
                row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
                application = _first(row) if row else None
        except (psycopg.ProgrammingError, psycopg.DataError):  # no such column, another type: not ours
            application = None
    if application != APPLICATION:
        raise StorageError(
            f"La base {name} n'est pas une base du service central at-tui (elle contient déjà d'autres tables) : "
            "indiquez une base vide ou une base du service central."
        )
    found = version(conn)
    if found > SCHEMA_VERSION:
        raise StorageError(
            f"La base {name} a été créée par une version plus récente d'at-tui "
            f"(schéma v{found}, cette version connaît la v{SCHEMA_VERSION}) : mettez at-tui à jour."
        )
    return found
