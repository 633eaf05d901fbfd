"""Opening the local database with the durability settings every connection needs."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreError(Exception):
    """A storage problem explained in French for the AT."""


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in explicit-transaction mode, WAL, synchronous=FULL, foreign keys on.

    The schema is not touched here: `migrations.open_database` checks the version first.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        apply_pragmas(conn)  # the first statement: where a damaged or foreign file shows
    except BaseException:
        conn.close()
        raise
    return conn


def apply_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    if sys.platform == "darwin":
        conn.execute("PRAGMA fullfsync = ON")


class immediate:  # noqa: N801 - used like a function: `with immediate(conn):`
    """A write transaction taken up front, so it cannot fail half-way with SQLITE_BUSY.

    A class rather than @contextmanager: it wraps every keystroke's save, and the
    generator machinery cost more than the statements it guards.
    """

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except BaseException:
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One consistent snapshot for a whole read (an export, a report): a sync writing meanwhile
    is not half-seen. Inside a transaction already, that one is the snapshot."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
