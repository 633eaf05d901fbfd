"""When a kind of file was last exported from this laptop (schema v12, table `export_marks`).

`at-tui export --format crm --depuis dernier` (issue 12 §2) gives the CRM only what changed
since the previous CRM import file made on this laptop: that moment is kept here, written
only once the files are in place, so a failed export never moves it. Never synced: each
laptop's files are its own.

A moment alone would miss what a sync brings later: a journal entry or an opportunity
change written on another laptop keeps the time it was written there, maybe before the last
export. So the mark also keeps the journal's last rowid (the journal is append-only: a
higher rowid arrived later), and `arrived_since` reads when each opportunity was last
touched here (its pull or push, `sync_opportunities.updated_at`, in local time) and when its
visit or an answer of it last changed (the Recueil is the opportunity's description, the
notes its « Information » report).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from at_tui.store.db import immediate

CRM = "crm"


@dataclass(frozen=True, slots=True)
class ExportMark:
    at: str  # UTC ISO timestamp: when the export began reading
    journal_seq: int  # the journal's last rowid it could see


def last_export(conn: sqlite3.Connection, kind: str) -> ExportMark | None:
    """The last successful export of `kind` on this laptop, or None (never done here)."""
    row = conn.execute("SELECT at, journal_seq FROM export_marks WHERE kind = ?", (kind,)).fetchone()
    return ExportMark(row[0], row[1]) if row else None


def remember_export(conn: sqlite3.Connection, kind: str, mark: ExportMark) -> None:
    """Record that an export of `kind` succeeded (committed at once)."""
    with immediate(conn):
        conn.execute(
            "INSERT INTO export_marks (kind, at, journal_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (kind) DO UPDATE SET at = excluded.at, journal_seq = excluded.journal_seq",
            (kind, mark.at, mark.journal_seq),
        )


def journal_seq(conn: sqlite3.Connection) -> int:
    """The journal's last rowid (0 when empty): read inside the export's snapshot."""
    return conn.execute("SELECT coalesce(max(rowid), 0) FROM journal").fetchone()[0]


@dataclass(frozen=True, slots=True)
class Arrivals:
    """What reached this laptop since a moment, whatever time it carries."""

    entries: frozenset[str]  # journal entry ids
    opportunities: frozenset[str]  # opportunity (= visit) ids


def arrived_since(conn: sqlite3.Connection, at: str, after_seq: int | None) -> Arrivals:
    """Journal entries stored after rowid `after_seq` (none when None), opportunities pulled or
    pushed at or after `at`, and opportunities whose visit or one of its answers (the Recueil,
    the notes of the exchange's report) changed at or after `at`.

    Moments are compared by `julianday` (any UTC offset); one that cannot be read counts as
    recent: sending a line twice is harmless, never sending it is not."""
    entries: frozenset[str] = frozenset()
    if after_seq is not None:
        entries = frozenset(r[0] for r in conn.execute("SELECT id FROM journal WHERE rowid > ?", (after_seq,)))
    touched = conn.execute(
        """SELECT s.visit_id FROM sync_opportunities s
            WHERE julianday(s.updated_at) IS NULL OR julianday(s.updated_at) >= julianday(:at)
           UNION
           SELECT o.id FROM opportunities o JOIN visits v ON v.id = o.id
            WHERE julianday(v.updated_at) IS NULL OR julianday(v.updated_at) >= julianday(:at)
           UNION
           SELECT a.visit_id FROM answers a JOIN opportunities o ON o.id = a.visit_id
            WHERE julianday(a.updated_at) IS NULL OR julianday(a.updated_at) >= julianday(:at)""",
        {"at": at},
    )
    return Arrivals(entries, frozenset(r[0] for r in touched))
