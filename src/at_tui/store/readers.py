"""Read-only connections for background workers (type-ahead searches), one per thread.

A search running in a worker thread never shares the app's write connection: it
cannot see a half-finished transaction, and a slow query never holds up a save.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from at_tui.store.db import apply_pragmas


class Readers:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's read connection, opened on first use (the schema is already migrated)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            apply_pragmas(conn)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()
