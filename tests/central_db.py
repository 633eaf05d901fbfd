"""The central's database in tests, on either backend (issue 13): a `--db` value per test, and raw SQL on it.

Every central test runs twice, on SQLite and on a real PostgreSQL, through the `central_db`
fixture (ids `[sqlite]` / `[postgresql]`; tests/conftest.py loads this module as a plugin, so
its fixtures serve every folder). `new_central_db` makes more databases of the same backend (a
second service, one per run of a state machine); `postgres_db` is an empty PostgreSQL database
for the PostgreSQL counterpart of a test about a SQLite file. The PostgreSQL databases are made
on the session's server (`postgres_admin_url`, tests/conftest.py) and dropped after the test.

`query(db, sql, *params)` and `execute(db, sql, *params)` run SQL with `?` placeholders on
either backend: the tests that look under the service (the ledger's rows, the stored token
hashes) or tamper with it (a row a faulty writer could leave) read the same on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import postgres_server
import pytest

from at_tui.central import backends

BACKENDS = ("sqlite", "postgresql")
PUBLIC_TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"


def is_postgres(db: str | Path) -> bool:
    return backends.is_postgres(str(db))


class CentralDatabases:
    """Makes `--db` values of one backend for one test; drops the PostgreSQL ones at the end."""

    def __init__(self, backend: str, folder: Path, admin_url: str | None) -> None:
        self.backend = backend
        self.folder = folder
        self.admin_url = admin_url
        self.made: list[str] = []

    def new(self, name: str = "central") -> str:
        if self.backend == "sqlite":
            suffix = f"-{len(self.made)}" if self.made else ""
            db = str(self.folder / f"{name}{suffix}.sqlite3")
        else:
            assert self.admin_url is not None
            db = postgres_server.new_database(self.admin_url, prefix="central")
        self.made.append(db)
        return db

    def drop_all(self) -> None:
        if self.admin_url is None:
            return
        for db in self.made:
            forget(db)
            postgres_server.drop_database(self.admin_url, db)


@pytest.fixture(params=BACKENDS)
def new_central_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """A maker of fresh central databases (`--db` values) of this test's backend."""
    admin_url = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    databases = CentralDatabases(request.param, tmp_path, admin_url)
    try:
        yield databases.new
    finally:
        databases.drop_all()


@pytest.fixture
def central_db(new_central_db: Callable[..., str]) -> str:
    """The `--db` of this test's central: a SQLite file under tmp_path or a new PostgreSQL database."""
    return new_central_db()


def integrity_errors() -> tuple[type[Exception], ...]:
    """What a constraint of either backend raises (psycopg's only where it is installed)."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture
def postgres_db(postgres_admin_url: str) -> Iterator[str]:
    """A new empty PostgreSQL database, for the PostgreSQL counterpart of a test about a SQLite file."""
    url = postgres_server.new_database(postgres_admin_url, prefix="other")
    try:
        yield url
    finally:
        forget(url)
        postgres_server.drop_database(postgres_admin_url, url)


def _postgres_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


# One autocommit connection per PostgreSQL database for the tests' raw SQL: an invariant checked
# after every step of a state machine would otherwise start a server process each time.
_CONNECTIONS: dict[str, Any] = {}


def _on_postgres(db: str, sql: str, params: tuple) -> list[tuple]:
    import psycopg

    def run() -> list[tuple]:
        conn = _CONNECTIONS.get(db)
        if conn is None or conn.closed:
            conn = _CONNECTIONS[db] = psycopg.connect(db, autocommit=True)
        cursor = conn.execute(_postgres_sql(sql), params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    try:
        return run()
    except psycopg.OperationalError:
        kept = _CONNECTIONS.get(db)
        if kept is None or not kept.broken:
            raise
        forget(db)  # cut since its last use (the database was made unreachable, then back): a new one
        return run()


def forget(db: str) -> None:
    """Close the kept connection to `db` (before it is dropped)."""
    conn = _CONNECTIONS.pop(db, None)
    if conn is not None:
        conn.close()


def query(db: str | Path, sql: str, *params: Any) -> list[tuple]:
    """The rows of a read-only `sql` (`?` placeholders) on the central database `db`."""
    if is_postgres(db):
        return _on_postgres(str(db), sql, params)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def execute(db: str | Path, sql: str, *params: Any) -> None:
    """Run one writing `sql` (`?` placeholders) on `db` and commit: what a faulty writer could leave."""
    if is_postgres(db):
        _on_postgres(str(db), sql, params)
        return
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(sql, params)
    finally:
        conn.close()


def holds_nothing(db: str | Path) -> bool:
    """Nothing was created: no SQLite file, or not one table in the PostgreSQL database."""
    if is_postgres(db):
        return query(db, PUBLIC_TABLES) == []
    return not Path(db).exists()


def stored_bytes(db: str | Path) -> bytes:
    """Everything the database holds, as bytes: the SQLite files (with WAL) as they are on disk,
    or every row of every table of the PostgreSQL database — to check what must never be stored."""
    if is_postgres(db):
        tables = [row[0] for row in query(db, PUBLIC_TABLES)]
        return "\n".join(repr(row) for table in tables for row in query(db, f'SELECT * FROM "{table}"')).encode()
    path = Path(db)
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
