"""The laptop's opportunities as `domain.tracking.TrackedOpportunity`, streamed for the agency's files.

Two queries in the same order — département, structure, id: the order a CM reads the
tracking file in — walked side by side (opportunities with their visit, the journal of
each), inside one read transaction: a region of 5,000 opportunities and 20,000 entries is
read once, in constant memory, and every file sees one consistent snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator

from at_tui.domain.opportunity import JournalEntry, Opportunity
from at_tui.domain.tracking import POTENTIAL_USERS_QUESTION, TrackedOpportunity, answer_number
from at_tui.store.db import read_snapshot
from at_tui.store.opportunities import _ENTRY_COLUMNS, _entry

_SELECT = f"""
SELECT o.id, v.structure, v.departement, o.offer, o.lead, o.support, o.status, o.status_reason, o.at_login,
       o.cm_login, o.visit_date, o.launch_date, o.deployment_end,
       v.typologie, v.finess, v.commune, v.contact_name, v.contact_role, v.maillage,
       (SELECT value FROM answers a WHERE a.visit_id = v.id AND a.key = 'q:{POTENTIAL_USERS_QUESTION}'),
       o.created_at, o.updated_at
  FROM opportunities o JOIN visits v ON v.id = o.id
 WHERE (:all_departements OR v.departement IN (SELECT value FROM json_each(:departements)))
 ORDER BY v.departement, v.structure, o.id"""
# The same order; SQLite's BINARY collation is the code-point order Python compares strings in.
_JOURNAL = f"""
SELECT v.departement, v.structure, {", ".join("j." + c for c in _ENTRY_COLUMNS.split(", "))}
  FROM journal j JOIN opportunities o ON o.id = j.opportunity_id JOIN visits v ON v.id = o.id
 WHERE (:all_departements OR v.departement IN (SELECT value FROM json_each(:departements)))
 ORDER BY v.departement, v.structure, o.id, j.day, j.created_at, j.id"""


def tracked_opportunities(conn: sqlite3.Connection, departements: Collection[str] | None = None
                          ) -> Iterator[TrackedOpportunity]:
    """Every opportunity of the laptop (of `departements` when given), by département and structure,
    with its journal."""
    with read_snapshot(conn):
        params = {"all_departements": departements is None, "departements": json.dumps(sorted(departements or ()))}
        rows = conn.execute(_SELECT, params)
        entries = conn.execute(_JOURNAL, params)
        pending = next(entries, None)
        for row in rows:
            key = (row[2], row[1], row[0])  # département, structure, id
            journal: list[JournalEntry] = []
            while pending is not None and (pending[0], pending[1], pending[3]) == key:
                journal.append(_entry(pending[2:]))
                pending = next(entries, None)
            yield _tracked(row, journal)


def _tracked(row, journal: list[JournalEntry]) -> TrackedOpportunity:
    try:
        potential = answer_number(json.loads(row[19])) if row[19] is not None else None
    except ValueError:
        potential = None
    return TrackedOpportunity(
        opportunity=Opportunity(*row[:13]),
        typologie=row[13], finess=row[14] or "", commune=row[15] or "", contact_name=row[16] or "",
        contact_role=row[17] or "", maillage=bool(row[18]), potential_users=potential,
        journal=tuple(journal), created_at=row[20] or "", updated_at=row[21] or "",
    )
