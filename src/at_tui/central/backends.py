"""Choosing the central's storage from a `--db` value: a `postgresql://…` URL or a SQLite file.

Every `at-tui central` sub-command opens its database here (`open_storage`), so each one
brings the schema to the current version first, under a lock (SQLite: `BEGIN IMMEDIATE`;
PostgreSQL: `pg_advisory_xact_lock` in the migration transaction): `serve` migrates at
start, and several services starting together migrate once. A database of a newer version,
or one that is not a central's, is refused before anything is written. A URL is only ever
printed through `display_name` (its password replaced by `***`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from at_tui.central.storage import SCHEMA_VERSION, Storage, StorageError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(db: str) -> bool:
    """True for a PostgreSQL URL (`postgresql://…`, `postgres://…`); anything else is a SQLite file path."""
    return db.strip().lower().startswith(POSTGRES_SCHEMES)


def display_name(db: str) -> str:
    """What to print for a `--db`: a PostgreSQL URL without its password (user, host, port and
    database stay: what the operator needs to recognize it); a file path as it is."""
    if not is_postgres(db):
        return db
    try:
        parts = urlsplit(db.strip())
        netloc = parts.netloc
        userinfo, at, hostport = netloc.rpartition("@")
        if at and ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
        query = parts.query
        if query:
            pairs = [(key, "***" if key.lower() == "password" else value)
                     for key, value in parse_qsl(query, keep_blank_values=True)]
            query = urlencode(pairs, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "postgresql://(adresse illisible)"


def open_storage(db: str, *, create: bool = True) -> Storage:
    """The central's storage on `db`, its schema brought to `SCHEMA_VERSION` (see the module's
    docstring). `create` False: an absent SQLite file or an empty PostgreSQL database is
    refused (« Base du service central introuvable … ») instead of being made."""
    if is_postgres(db):
        return _postgres()(db.strip(), create=create)
    from at_tui.central.sqlite_storage import SQLiteStorage

    if not db.strip():
        raise StorageError("--db vide : indiquez un fichier SQLite ou une adresse postgresql://…")
    return SQLiteStorage(db, create=create)


def migrate(db: str) -> tuple[int, int]:
    """`at-tui central migrate`: (schema version before, after); a new database is created."""
    return migrate_to(db, SCHEMA_VERSION)


def migrate_to(db: str, version: int) -> tuple[int, int]:
    """Bring `db` to `version` (lower than `SCHEMA_VERSION`: for the tests, to make a database of
    a previous version); (version before, after)."""
    if is_postgres(db):
        storage: Storage = _postgres()(db.strip(), target=version)
    else:
        from at_tui.central.sqlite_storage import SQLiteStorage

        storage = SQLiteStorage(db, target=version)
    try:
        return storage.migrated
    finally:
        storage.close()


def _postgres():
    """The PostgreSQL storage class; StorageError when psycopg is not installed."""
    try:
        from at_tui.central.postgres_storage import PostgresStorage
    except ImportError:
        raise StorageError(
            "Une base PostgreSQL demande psycopg, qui n'est pas installé : pip install 'at-tui[central]'."
        ) from None
    return PostgresStorage
