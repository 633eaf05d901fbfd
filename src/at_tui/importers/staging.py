"""Atomic replacement of an imported table: a TEMP staging table, then ONE write transaction.

Shared by the FINESS (`structures_store`) and Annuaire Santé (`professionals_store`)
importers. The rows are first written into a TEMP table: private to the
connection, it takes no lock on the database while the file is parsed, so the
app keeps saving visits meanwhile. Then `prepare` may reorganise the staged rows
(still in TEMP tables, still without any lock), and ONE `BEGIN IMMEDIATE`
transaction runs `swap`: empty the main tables, copy the staged rows in.

A failed or interrupted import (an error, Ctrl-C, a killed process, a power cut)
leaves the previous rows exactly as they were: either the swap committed whole,
or nothing of it is in the database. The TEMP tables are dropped in every case.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from itertools import islice

from at_tui.importers.finess import ImporterError
from at_tui.store.db import immediate

BATCH_ROWS = 2000

Step = Callable[[sqlite3.Connection], None]


def replace_from_staging(
    conn: sqlite3.Connection,
    *,
    staging: str,
    columns: str,
    rows: Iterable[Sequence],
    swap: Step,
    kept: str,
    caller: str,
    prepare: Step | None = None,
    scratch: Sequence[str] = (),
    transaction: Callable[[sqlite3.Connection], AbstractContextManager] = immediate,
) -> int:
    """Stage `rows` into `temp.<staging>` (`columns`: its column definitions), then swap; returns the row count.

    `swap(conn)` runs inside `transaction(conn)` (BEGIN IMMEDIATE … COMMIT): it
    empties the main tables and copies the staged rows in. `prepare(conn)`, when
    given, runs between the two, outside any lock (ordering the rows into another
    TEMP table, for instance); the TEMP tables it creates are listed in `scratch`
    so that they are dropped too. An `sqlite3.IntegrityError` in the swap becomes
    an `ImporterError` whose French message ends with `kept` (« Les structures
    déjà importées sont conservées. »). Any exception raised while `rows` is
    iterated (a progress callback, Ctrl-C) abandons the import, previous rows intact.
    `caller` names the public function in the error raised when `conn` is already
    inside a transaction (the swap must be its own).
    """
    if conn.in_transaction:
        raise RuntimeError(f"{caller} needs a connection outside any transaction")
    temporary = (staging, *scratch)
    for name in temporary:
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
    conn.execute(f"CREATE TEMP TABLE {staging} ({columns})")
    try:
        count = stage(conn, staging, rows)
        if prepare is not None:
            prepare(conn)
        try:
            with transaction(conn):
                swap(conn)
        except sqlite3.IntegrityError as error:
            raise ImporterError(f"Import abandonné : données incohérentes ({error}). {kept}") from error
        return count
    finally:
        if conn.in_transaction:  # interrupted while staging
            conn.execute("ROLLBACK")
        for name in temporary:
            conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


def stage(conn: sqlite3.Connection, staging: str, rows: Iterable[Sequence]) -> int:
    """Write `rows` into `temp.<staging>` in one transaction that locks nothing in the database."""
    count = 0
    iterator = iter(rows)
    insert = None
    conn.execute("BEGIN")
    while batch := list(islice(iterator, BATCH_ROWS)):
        if insert is None:
            insert = f"INSERT INTO temp.{staging} VALUES ({', '.join('?' * len(batch[0]))})"
        conn.executemany(insert, batch)
        count += len(batch)
    conn.execute("COMMIT")
    return count
