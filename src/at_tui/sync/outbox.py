"""The outbox and the central state of each visit, in the local database (schema v6).

The triggers of migration v6 keep one `pending` operation per changed visit. Sending
takes two steps, each one transaction: `take_batch` fixes the payload and base
revision of the operations about to leave (state `sent`: from then on they are never
modified, the central may already hold them), then `record_results` files what the
central answered. A `sent` operation whose answer was lost is sent again as it is:
the central's ledger answers `duplicate`. Nothing is ever deleted: done, conflicting
and rejected operations stay, the last two shown to the AT.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.store.db import immediate
from at_tui.store.visit_content import CONTENT_SQL, content_json

IN_FLIGHT = ("pending", "sent")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Operation:
    op_id: str
    visit_id: str
    kind: str
    base_rev: int
    payload_json: str  # as frozen in the outbox, sent as it is

    @property
    def payload(self) -> dict:
        return json.loads(self.payload_json)

    def json_text(self) -> str:
        """The operation as the push sends it (docs/sync-protocol.md), without re-serializing the payload."""
        head = json.dumps({"op_id": self.op_id, "visit_id": self.visit_id, "kind": self.kind,
                           "base_rev": self.base_rev}, ensure_ascii=False)
        return f'{head[:-1]},"payload":{self.payload_json}}}'


@dataclass(frozen=True, slots=True)
class Summary:
    waiting: int  # pending or sent, not yet acknowledged
    conflicts: int
    rejected: int
    last_success: str | None


def take_batch(conn: sqlite3.Connection, limit: int, skip: Collection[str] = ()) -> list[Operation]:
    """The operations to send now, oldest first: those already sent without an answer, as they
    were (except the op ids in `skip`: still on their way), then pending ones fixed with the
    visit's content and the central revision it is based on. At most one operation per visit
    is in flight, and a visit waiting for the AT to settle a conflict sends nothing."""
    with immediate(conn):
        rows = conn.execute(
            """SELECT o.seq, o.op_id, o.visit_id, o.state, coalesce(v.rev, 0) AS rev
                 FROM outbox o LEFT JOIN sync_visits v ON v.visit_id = o.visit_id
                WHERE o.state IN ('pending', 'sent')
                  AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.visit_id = o.visit_id AND c.state = 'conflict')
                ORDER BY o.seq"""
        ).fetchall()
        chosen: list[int] = []
        fixed: list[tuple[int, str, int]] = []
        busy: set[str] = {row["visit_id"] for row in rows if row["state"] == "sent"}
        now = utc_now()
        for row in rows:
            if len(chosen) >= limit:
                break
            if row["op_id"] in skip:
                continue
            if row["state"] == "pending":
                if row["visit_id"] in busy:
                    continue  # its previous operation has no answer yet
                busy.add(row["visit_id"])
                fixed.append((row["rev"], now, row["seq"]))
            chosen.append(row["seq"])
        conn.executemany(
            f"""UPDATE outbox SET state = 'sent', base_rev = ?, updated_at = ?,
                       payload = (SELECT {CONTENT_SQL} FROM visits WHERE visits.id = outbox.visit_id)
                 WHERE seq = ?""",
            fixed,
        )
        taken = conn.execute(
            "SELECT op_id, visit_id, kind, base_rev, payload FROM outbox "
            "WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (json.dumps(chosen),),
        ).fetchall()
    return [Operation(*row) for row in taken]


def record_attempt(conn: sqlite3.Connection, op_ids: Iterable[str], error: str) -> None:
    """A send that got no answer: the operations stay `sent`, the error is kept for the status."""
    with immediate(conn):
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE op_id = ?",
            [(error, utc_now(), op_id) for op_id in op_ids],
        )


def record_results(conn: sqlite3.Connection, results: Iterable[Mapping[str, Any]]) -> None:
    """File the central's answers, all in one transaction."""
    now = utc_now()
    results = list(results)
    with immediate(conn):
        # Only operations of this outbox: an answer about anything else is ignored rather than trusted.
        ours = dict(conn.execute(
            "SELECT op_id, visit_id FROM outbox WHERE op_id IN (SELECT value FROM json_each(?))",
            (json.dumps([str(result.get("op_id")) for result in results]),),
        ).fetchall())
        filed: list[tuple] = []
        revisions: list[tuple] = []
        for result in results:
            visit_id = ours.get(result.get("op_id"))
            if visit_id is None:
                continue
            status = result["status"]
            state = {"applied": "done", "duplicate": "done", "conflict": "conflict"}.get(status, "rejected")
            if status == "duplicate" and result.get("original_status") in ("conflict", "rejected"):
                state = result["original_status"]
            filed.append((state, json.dumps(dict(result), ensure_ascii=False),
                          result.get("reason") if state == "rejected" else None, now, result["op_id"]))
            if state == "done" and result.get("rev") is not None:
                revisions.append((visit_id, int(result["rev"]), now))
            elif state == "conflict" and result.get("central") is not None:
                central = result["central"]
                _upsert_central(conn, visit_id, central_copy=json.dumps(central, ensure_ascii=False), now=now,
                                followup=json.dumps(central.get("followup"), ensure_ascii=False),
                                owner=central.get("owner"))
        conn.executemany(
            "UPDATE outbox SET state = ?, result = ?, attempts = attempts + 1, last_error = ?, updated_at = ? "
            "WHERE op_id = ?",
            filed,
        )
        conn.executemany(
            "INSERT INTO sync_visits (visit_id, rev, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (visit_id) DO UPDATE SET rev = excluded.rev, updated_at = excluded.updated_at",
            revisions,
        )


def _upsert_central(conn: sqlite3.Connection, visit_id: str, *, now: str, **values: Any) -> None:
    conn.execute("INSERT OR IGNORE INTO sync_visits (visit_id, updated_at) VALUES (?, ?)", (visit_id, now))
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE sync_visits SET {assignments}, updated_at = ? WHERE visit_id = ?",
                 (*values.values(), now, visit_id))


def apply_pulled(conn: sqlite3.Connection, items: Iterable[Mapping[str, Any]], dataset: str, cursor: str) -> int:
    """Keep what a pull brought and its cursor, in one transaction; returns how many visits.

    The CM's follow-up and the central revision are kept for every visit known here.
    A visit with operations waiting or parked is never overwritten: its central copy
    is kept aside, for the conflict screen.
    """
    now = utc_now()
    count = 0
    with immediate(conn):
        for item in items:
            visit_id = item["id"]
            if conn.execute("SELECT 1 FROM visits WHERE id = ?", (visit_id,)).fetchone() is None:
                continue  # a visit made elsewhere: not on this laptop (yet)
            waiting = conn.execute(
                "SELECT 1 FROM outbox WHERE visit_id = ? AND state IN ('pending', 'sent', 'conflict')", (visit_id,)
            ).fetchone()
            values: dict[str, Any] = {
                "followup": json.dumps(item.get("followup"), ensure_ascii=False), "owner": item.get("owner"),
            }
            if waiting:
                values["central_copy"] = json.dumps(dict(item), ensure_ascii=False)
            else:
                if int(item["rev"]) > _central_rev(conn, visit_id) and item.get("content"):
                    _take_central_content(conn, visit_id, item["content"], now)
                values["rev"] = int(item["rev"])
                values["central_copy"] = None  # nothing waiting here: no conflict to keep it for
            _upsert_central(conn, visit_id, now=now, **values)
            count += 1
        set_state(conn, f"cursor:{dataset}", cursor, now)
    return count


def _central_rev(conn: sqlite3.Connection, visit_id: str) -> int:
    row = conn.execute("SELECT rev FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()
    return row[0] if row else 0


def _take_central_content(conn: sqlite3.Connection, visit_id: str, content: Mapping[str, Any], now: str) -> None:
    """A newer central revision of a visit with nothing waiting here (the AT's other laptop
    changed it): this laptop takes it, or its next change would be based on a revision whose
    content it never had. Not queued again: it comes from the central."""
    from at_tui.domain.conflicts import differences

    if not differences(json.loads(content_json(conn, visit_id)), content):
        return  # the same content (a CM's follow-up, or this laptop's own push)
    conn.execute("INSERT INTO sync_pause (reason) VALUES ('contenu reçu du central')")
    try:
        _write_content(conn, visit_id, content, now)
    finally:
        conn.execute("DELETE FROM sync_pause WHERE reason = 'contenu reçu du central'")


def conflicts(conn: sqlite3.Connection) -> list[tuple[str, dict]]:
    """(visit id, central copy) of each visit whose operation conflicts, oldest first."""
    rows = conn.execute(
        """SELECT o.visit_id, coalesce(v.central_copy, json_extract(o.result, '$.central')) AS central
             FROM outbox o LEFT JOIN sync_visits v ON v.visit_id = o.visit_id
            WHERE o.state = 'conflict' ORDER BY o.seq"""
    ).fetchall()
    return [(row["visit_id"], json.loads(row["central"])) for row in rows if row["central"]]


def resolve_conflict(conn: sqlite3.Connection, visit_id: str, merged: Mapping[str, Any], central_rev: int) -> None:
    """Write the content the AT settled on and queue it on top of the central revision, in one
    transaction: the visit and its answers take the merged values (history records them), the
    conflicting operation is marked resolved (kept), and a pending operation based on
    `central_rev` is left for the next push."""
    now = utc_now()
    with immediate(conn):
        _write_content(conn, visit_id, merged, now)
        conn.execute("UPDATE outbox SET state = 'resolved', updated_at = ? WHERE visit_id = ? AND state = 'conflict'",
                     (now, visit_id))
        _upsert_central(conn, visit_id, rev=central_rev, central_copy=None, now=now)
        conn.execute(
            "INSERT INTO outbox (op_id, visit_id, created_at, updated_at) SELECT ?, ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = ? AND state = 'pending')",
            (str(uuid.uuid4()), visit_id, now, now, visit_id),
        )


def _write_content(conn: sqlite3.Connection, visit_id: str, content: Mapping[str, Any], now: str) -> None:
    """Make the local visit and its answers say `content` (inside the caller's transaction;
    the history triggers record each change)."""
    from at_tui.domain.visit import IDENTITY_FIELDS
    from at_tui.store.visits import encode

    identity = content["identity"]
    override = content.get("override") or {}
    columns = [*IDENTITY_FIELDS, "status", "current_step", "finished_at", "override_offer", "override_justification"]
    values = [int(bool(identity[name])) if name == "maillage" else identity.get(name, "") for name in IDENTITY_FIELDS]
    values += [content["status"], content["current_step"], content.get("finished_at"), override.get("offer"),
               override.get("justification")]
    conn.execute(
        f"UPDATE visits SET {', '.join(f'{c} = ?' for c in columns)}, updated_at = ? WHERE id = ?",
        (*values, now, visit_id),
    )
    answers = content.get("answers") or {}
    for (key,) in conn.execute("SELECT key FROM answers WHERE visit_id = ?", (visit_id,)).fetchall():
        if key not in answers:
            conn.execute("DELETE FROM answers WHERE visit_id = ? AND key = ?", (visit_id, key))
    conn.executemany(
        "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (visit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at "
        "WHERE value IS NOT excluded.value",
        [(visit_id, key, encode(value), now) for key, value in answers.items()],
    )


def set_state(conn: sqlite3.Connection, key: str, value: str, now: str | None = None) -> None:
    conn.execute(
        "INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, now or utc_now()),
    )


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def summary(conn: sqlite3.Connection) -> Summary:
    counts = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    return Summary(
        waiting=counts.get("pending", 0) + counts.get("sent", 0),
        conflicts=counts.get("conflict", 0),
        rejected=counts.get("rejected", 0),
        last_success=get_state(conn, "last_success"),
    )
