"""The last CRM export of this laptop (schema v12, `store.export_marks`): the migration from v11
keeps everything, the mark round-trips, and what arrived since it is found whatever time it carries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from at_tui.store.export_marks import CRM, ExportMark, arrived_since, journal_seq, last_export, remember_export
from at_tui.store.migrations import MIGRATIONS, SCHEMA_VERSION, open_database, schema_version

VISIT = "3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11"


def _visit_with_opportunity(conn: sqlite3.Connection, visit_id: str = VISIT, at: str = "2026-11-22T10:00:00+00:00"):
    conn.execute(
        """INSERT INTO visits (id, structure, departement, typologie, visit_date, playbook_id, playbook_version,
               questionnaire_id, questionnaire_version, current_step, status, created_at, updated_at)
           VALUES (?, 'CPTS du Grand Toulouse', '31', 'CPTS', '2026-11-22', 'spico', 2, 'recueil-use', 2,
                   'fin', 'terminee', ?, ?)""", (visit_id, at, at))
    conn.execute(
        "INSERT INTO opportunities (id, playbook_id, playbook_version, offer, lead, support, status, at_login, "
        "visit_date, created_at, updated_at) VALUES (?, 'spico', 2, 'discussions_simple', 'AT', 'CM', "
        "'en_attente', 'marie', '2026-11-22', ?, ?)", (visit_id, at, at))


def _entry(conn: sqlite3.Connection, entry_id: str, created_at: str, visit_id: str = VISIT) -> None:
    conn.execute(
        "INSERT INTO journal (id, opportunity_id, activity, type, title, day, author, role, created_at) "
        "VALUES (?, ?, 'note', 'Note', 'Note', '2026-11-22', 'marie', 'AT', ?)", (entry_id, visit_id, created_at))


def test_v11_database_gains_export_marks_and_keeps_its_opportunities(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:11])
    _visit_with_opportunity(old)
    _entry(old, "n1", "2026-11-22T10:00:00+00:00")
    old.close()

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 12
        assert conn.execute("SELECT count(*) FROM journal").fetchone()[0] == 1
        assert last_export(conn, CRM) is None  # never exported here: « dernier » means everything
        remember_export(conn, CRM, ExportMark("2026-12-01T08:00:00.000000+00:00", 1))
        remember_export(conn, CRM, ExportMark("2026-12-02T08:00:00.000000+00:00", 1))  # replaced, one row
        assert last_export(conn, CRM) == ExportMark("2026-12-02T08:00:00.000000+00:00", 1)
        assert conn.execute("SELECT count(*) FROM export_marks").fetchone()[0] == 1
        assert not conn.in_transaction  # committed at once
    finally:
        conn.close()
    backups = sorted(p.name for p in (tmp_path / "sauvegardes").iterdir())
    assert len(backups) == 1 and "v11" in backups[0]


def test_what_arrived_since_the_mark_is_found_whatever_time_it_carries(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "at-tui.sqlite3")
    try:
        other = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
        _visit_with_opportunity(conn)
        _visit_with_opportunity(conn, other)
        _entry(conn, "before", "2026-11-22T10:00:00+00:00")
        seq = journal_seq(conn)
        mark = "2026-12-01T08:00:00.000000+00:00"
        # Pulled after the export, written elsewhere before it.
        _entry(conn, "pulled", "2026-11-25T10:00:00+00:00", other)
        assert arrived_since(conn, mark, seq).entries == {"pulled"}
        assert arrived_since(conn, mark, None).entries == frozenset()  # a --depuis date: times only
        assert arrived_since(conn, mark, seq).opportunities == frozenset()
        # The opportunity's fields came by a pull (in local time), the visit was edited (+01:00).
        conn.execute("INSERT INTO sync_opportunities (visit_id, updated_at) VALUES (?, ?)",
                     (other, "2026-12-01T08:00:00.000000+00:00"))
        conn.execute("UPDATE visits SET updated_at = '2026-12-01T09:30:00+01:00' WHERE id = ?", (VISIT,))
        assert arrived_since(conn, mark, seq).opportunities == {VISIT, other}
        assert arrived_since(conn, "2026-12-01T08:30:01+00:00", seq).opportunities == frozenset()
        # An answer of the Recueil corrected later: the opportunity's description changed.
        conn.execute("INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, 'q:situation_actuelle', "
                     "'\"Fax\"', '2026-12-03T10:00:00.000000+00:00')", (other,))
        assert arrived_since(conn, "2026-12-02T00:00:00+00:00", seq).opportunities == {other}
    finally:
        conn.close()
