"""Reference items pulled from the central (contacts, argumentaire, playbooks), schema v7.

One row per (data set, key) as the central last described it: content (JSON text) or a
tombstone (`deleted`, no content). Callers hold the transaction (`store.db.immediate`):
`at_tui.sync.reference_pull` writes a page of items with its cursor, and reading them back
for the app is `at_tui.reference.pulled`'s job.

A full resync (from cursor "0") first marks the data set's rows `stale`; every item the
central lists again clears the mark; once the resync has completed, rows still stale are
forgotten (the central no longer has them). Until then, nothing is removed.

Pull state lives in `sync_state`: the cursor, and a version token replaced whenever the
rows of a data set change (the directory copy compares it instead of re-reading 200,000 rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def cursor_key(dataset: str) -> str:
    return f"cursor:reference:{dataset}"


def version_key(dataset: str) -> str:
    return f"version:reference:{dataset}"


def version(conn: sqlite3.Connection, dataset: str) -> str | None:
    """The data set's change token (None: nothing ever pulled)."""
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (version_key(dataset),)).fetchone()
    return row[0] if row else None


# -- writing (inside the caller's transaction) ----------------------------------------------------


def mark_stale(conn: sqlite3.Connection, dataset: str) -> None:
    conn.execute("UPDATE pulled_reference SET stale = 1 WHERE dataset = ?", (dataset,))


def upsert(conn: sqlite3.Connection, dataset: str, items: Iterable[Mapping[str, Any]], now: str) -> int:
    """Store each item (`key`, `content`, `deleted`) as the central sent it; how many."""
    rows = [
        (dataset, item["key"], None if item["deleted"] else json.dumps(item.get("content"), ensure_ascii=False),
         int(item["deleted"]), now)
        for item in items
    ]
    conn.executemany(
        "INSERT INTO pulled_reference (dataset, key, content, deleted, received_at, stale) VALUES (?, ?, ?, ?, ?, 0) "
        "ON CONFLICT (dataset, key) DO UPDATE SET content = excluded.content, deleted = excluded.deleted, "
        "received_at = excluded.received_at, stale = 0",
        rows,
    )
    return len(rows)


def drop_stale(conn: sqlite3.Connection, dataset: str) -> int:
    """Forget the rows a completed full resync did not bring again; how many."""
    return conn.execute("DELETE FROM pulled_reference WHERE dataset = ? AND stale = 1", (dataset,)).rowcount


# -- reading ----------------------------------------------------------------------------------------


def items(conn: sqlite3.Connection, dataset: str, chunk: int = 2000) -> Iterator[tuple[str, str | None, bool]]:
    """(key, content JSON or None, deleted) in key order, read by chunks (bounded memory, and no
    statement left open across the caller's writes)."""
    after, compare = "", ">="  # the first chunk includes an empty key
    while True:
        rows = conn.execute(
            f"SELECT key, content, deleted FROM pulled_reference WHERE dataset = ? AND key {compare} ? "
            "ORDER BY key LIMIT ?",
            (dataset, after, chunk),
        ).fetchall()
        compare = ">"
        for key, content, deleted in rows:
            yield key, content, bool(deleted)
        if len(rows) < chunk:
            return
        after = rows[-1][0]


def items_for(conn: sqlite3.Connection, dataset: str, keys: Iterable[str]) -> dict[str, tuple[str | None, bool]]:
    """The pulled rows of these keys only: key -> (content JSON or None, deleted)."""
    found: dict[str, tuple[str | None, bool]] = {}
    keys = list(keys)
    for start in range(0, len(keys), 500):  # well under SQLite's variable limit
        part = keys[start:start + 500]
        marks = ", ".join("?" * len(part))
        for key, content, deleted in conn.execute(
            f"SELECT key, content, deleted FROM pulled_reference WHERE dataset = ? AND key IN ({marks})",
            (dataset, *part),
        ):
            found[key] = (content, bool(deleted))
    return found


def live_where(conn: sqlite3.Connection, dataset: str, field: str, value: str) -> list[tuple[str, str]]:
    """(key, content) of the live items whose JSON `field` equals `value` (e.g. the pulled MAP contacts)."""
    return conn.execute(
        "SELECT key, content FROM pulled_reference WHERE dataset = ? AND deleted = 0 AND json_extract(content, ?) = ?",
        (dataset, f"$.{field}", value),
    ).fetchall()
