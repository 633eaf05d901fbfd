"""The laptop's input of the indicators (`domain.indicators`), read cheaply.

The Indicateurs screen must open in ≤ 100 ms with 5,000 opportunities (issue 12,
« Performance »): rather than building every tracking row (journals, follow-ups), two plain
queries in one read snapshot return only the counted columns — each opportunity's visit
date, offer, status, département and typologie; each finished visit's date and département —
as bare tuples, counted in Python (measured: half the time of SQL's GROUP BY, whose keys
are nearly as many as the rows). `domain.indicators.compute` then regroups the records for
each period and zone without reading the database again.

The month is the opportunity's own visit date (as `domain.tracking.TrackingRow.visit_date`,
so both sources agree); a stored date that is not an ISO day gives no month (`_MONTH`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from at_tui.domain.indicators import OpportunityRecord, VisitRecord
from at_tui.store.db import read_snapshot

# « AAAA-MM » of a valid ISO day, else '': date() normalizes (« 2026-02-30 » → « 2026-03-02 »)
# or returns NULL, so a day it does not give back unchanged is one Python's fromisoformat refuses.
_MONTH = "CASE WHEN date({0}) = {0} THEN substr({0}, 1, 7) ELSE '' END"
_OPPORTUNITIES = f"""
SELECT {_MONTH.format("o.visit_date")}, o.offer, o.status, v.departement, v.typologie
  FROM opportunities o JOIN visits v ON v.id = o.id"""
_VISITS = f"SELECT {_MONTH.format('visit_date')}, departement FROM visits WHERE status = 'terminee'"


Records = tuple[list[OpportunityRecord], list[VisitRecord]]
# The last read, kept while nothing was committed since: reopening the screen reads nothing.
_last: tuple[sqlite3.Connection, object, tuple[int, int], Records] | None = None


def indicator_records(conn: sqlite3.Connection, territory) -> Records:
    """The opportunities and the finished visits (archived ones included: archiving tidies the
    Accueil, the visit took place), grouped, with each département's name and zone from
    `territory` (a `domain.playbook.Territory`; None: codes only, no zone).

    The same lists as the last call when the database has not changed since: `PRAGMA
    data_version` moves with every commit of another connection (a sync, an import),
    `total_changes` with every change made through this one."""
    global _last
    stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
    if _last is not None and _last[0] is conn and _last[1] is territory and _last[2] == stamp:
        return _last[3]
    result = _read(conn, territory)
    _last = (conn, territory, stamp, result)
    return result


def _read(conn: sqlite3.Connection, territory) -> Records:
    known = {d.code: (d.name, d.sector) for d in territory.departements} if territory is not None else {}
    cursor = conn.cursor()
    cursor.row_factory = None  # bare tuples: hashable, and no Row object per line
    with read_snapshot(conn):
        opportunities = Counter(cursor.execute(_OPPORTUNITIES))
        visits = Counter(cursor.execute(_VISITS))
    records = []
    for (month, offer, status, departement, typologie), count in opportunities.items():
        name, zone = known.get(departement, (departement, ""))
        records.append(OpportunityRecord(month, offer, status, departement, name, typologie, zone, count))
    return records, [VisitRecord(month, departement, known.get(departement, ("", ""))[1], count)
                     for (month, departement), count in visits.items()]
