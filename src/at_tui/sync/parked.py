"""What the sync set aside for the AT: conflicts, refusals, central copies this laptop could
not take (quarantine), and the CMs' follow-up of each visit.

Reads and writes the v6 tables (`outbox`, `sync_visits`) for the « Problèmes de
synchronisation » screen and for showing the follow-up in a visit. Nothing here is
ever deleted: a refused operation the AT sends again is marked `resolved` and stays.
No Textual here (tests/unit/test_layering.py).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass

from at_tui.store.db import immediate
from at_tui.sync import outbox

CONFLICT = "conflict"
REJECTED = "rejected"
QUARANTINED = "quarantined"  # a central copy this laptop cannot take: kept aside, the visit unchanged

# The CM's follow-up statuses (docs/sync-protocol.md), as the AT reads them.
FOLLOWUP_LABELS = {
    "a_traiter": "À traiter",
    "en_cours": "En cours",
    "gagnee": "Gagnée",
    "perdue": "Perdue",
    "sans_suite": "Sans suite",
}
LEAD_LABELS = {"AT": "menée par l'AT", "CM": "menée par le CM"}
UNKNOWN_REASON = "raison non précisée par le central"


@dataclass(frozen=True, slots=True)
class Problem:
    """One visit the sync could not settle: a conflict to settle, or operations the central refused."""

    visit_id: str
    kind: str  # CONFLICT, REJECTED or QUARANTINED
    structure: str
    departement: str
    visit_date: str
    since: str  # UTC ISO time the central answered (the latest, when refused several times)
    reason: str  # refusals: the central's reason, in French as received; quarantine: why; conflicts: ""
    count: int  # operations of this kind for the visit
    changed_since: bool = False  # refusals: a newer version of the visit waits or was sent since


def problems(conn: sqlite3.Connection) -> list[Problem]:
    """Conflicts first, then refusals, each oldest first, then central copies set aside;
    one row per visit and kind."""
    rows = conn.execute(
        """SELECT o.visit_id, o.state, v.structure, v.departement, v.visit_date,
                  max(o.updated_at) AS since, count(*) AS count, max(o.seq) AS last_seq, min(o.seq) AS first_seq
             FROM outbox o JOIN visits v ON v.id = o.visit_id
            WHERE o.state IN ('conflict', 'rejected')
            GROUP BY o.visit_id, o.state
            ORDER BY o.state = 'rejected', first_seq"""
    ).fetchall()
    found: list[Problem] = []
    for row in rows:
        reason, changed = "", False
        if row["state"] == REJECTED:
            last = conn.execute("SELECT last_error, result FROM outbox WHERE seq = ?", (row["last_seq"],)).fetchone()
            reason = _reason(last["last_error"], last["result"])
            changed = conn.execute(
                "SELECT 1 FROM outbox WHERE visit_id = ? AND seq > ? AND state IN ('pending', 'sent', 'done')",
                (row["visit_id"], row["last_seq"]),
            ).fetchone() is not None
        found.append(Problem(row["visit_id"], row["state"], row["structure"], row["departement"], row["visit_date"],
                             row["since"], reason, row["count"], changed))
    for row in conn.execute(
        """SELECT s.visit_id, v.structure, v.departement, v.visit_date, s.updated_at, s.quarantine
             FROM sync_visits s JOIN visits v ON v.id = s.visit_id
            WHERE s.quarantine IS NOT NULL ORDER BY s.updated_at, s.visit_id"""
    ):
        found.append(Problem(row["visit_id"], QUARANTINED, row["structure"], row["departement"], row["visit_date"],
                             row["updated_at"], row["quarantine"], 1))
    return found


def _reason(last_error: str | None, result: str | None) -> str:
    if last_error:
        return last_error
    try:
        reason = json.loads(result or "null")
    except ValueError:
        return UNKNOWN_REASON
    if isinstance(reason, dict) and isinstance(reason.get("reason"), str) and reason["reason"]:
        return reason["reason"]
    return UNKNOWN_REASON


@dataclass(frozen=True, slots=True)
class Requeued:
    settled: int  # refused operations marked resolved (0: nothing was refused)
    queued: bool  # False when an operation already waits, or one sent after the refusal was applied


def requeue(conn: sqlite3.Connection, visit_id: str) -> Requeued:
    """Send a refused visit again, in one transaction: its refused operations become `resolved`
    (kept, never deleted) and a pending operation is queued for it, unless one already waits
    (an edit made since) or a later one was applied (the correction already reached the central)."""
    now = outbox.utc_now()
    with immediate(conn):
        last = conn.execute(
            "SELECT max(seq) FROM outbox WHERE visit_id = ? AND state = 'rejected'", (visit_id,)
        ).fetchone()[0]
        if last is None:
            return Requeued(0, False)
        settled = conn.execute(
            "UPDATE outbox SET state = 'resolved', updated_at = ? WHERE visit_id = ? AND state = 'rejected'",
            (now, visit_id),
        ).rowcount
        queued = conn.execute(
            "INSERT INTO outbox (op_id, visit_id, created_at, updated_at) SELECT ?, ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = ? AND "
            "(state = 'pending' OR (seq > ? AND state IN ('sent', 'done'))))",
            (str(uuid.uuid4()), visit_id, now, now, visit_id, last),
        ).rowcount
    return Requeued(settled, bool(queued))


@dataclass(frozen=True, slots=True)
class Followup:
    """The CM's follow-up of a visit, as the last pull brought it (read-only for the AT)."""

    status: str
    lead: str
    comment: str

    @property
    def label(self) -> str:
        return FOLLOWUP_LABELS.get(self.status, self.status)

    @property
    def lead_label(self) -> str:
        return LEAD_LABELS.get(self.lead, self.lead)


def _followup(text: str | None) -> Followup | None:
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        return None
    comment = data.get("comment")
    lead = data.get("lead")
    return Followup(data["status"], lead if isinstance(lead, str) else "", comment if isinstance(comment, str) else "")


def followup(conn: sqlite3.Connection, visit_id: str) -> Followup | None:
    """The follow-up of one visit; None when no CM follow-up was received."""
    row = conn.execute("SELECT followup FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()
    return _followup(row[0]) if row else None


def followups(conn: sqlite3.Connection) -> dict[str, Followup]:
    """The follow-up of every visit that has one and no opportunity, by visit id: an
    opportunity's status and journal supersede the CM's earlier follow-up (docs/opportunities.md)."""
    found = {}
    for visit_id, text in conn.execute(
        "SELECT visit_id, followup FROM sync_visits WHERE followup IS NOT NULL "
        "AND visit_id NOT IN (SELECT id FROM opportunities)"
    ):
        value = _followup(text)
        if value is not None:
            found[visit_id] = value
    return found
