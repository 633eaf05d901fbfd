"""Bounded, best-first lookups: several index-backed passes, each adding rows not seen yet,
stopped as soon as the page is full (FINESS completion, the contacts lookup)."""

from __future__ import annotations

import sqlite3


class Page:
    """Rows gathered pass after pass, keyed by their first column, at most `limit`."""

    def __init__(self, conn: sqlite3.Connection, limit: int) -> None:
        self.conn = conn
        self.limit = limit
        self.rows: dict[object, tuple] = {}

    def take(self, sql: str, params: tuple) -> bool:
        """Add the rows not found yet; True once the page is full."""
        for row in self.conn.execute(sql, params):
            if row[0] not in self.rows:
                self.rows[row[0]] = tuple(row)
                if len(self.rows) >= self.limit:
                    return True
        return False

    def __len__(self) -> int:
        return len(self.rows)


def after(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (a range scan's end)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
