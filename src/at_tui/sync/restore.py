"""A central restored from a backup: this laptop puts back what the central no longer has (issue 13 §5).

A restore (`at-tui central restore` / `mark-restored`) gives the central a new instance id, so
every cursor handed out before is refused (410). The pull then starts again from 0 (engine.pull)
and, while it brings the whole region again, this laptop compares what the central holds with
what it had been acknowledged, visit by visit (`sync_restore`, schema v13):

* its own visit (made here, `origin = 'local'`) whose central revision is older than the one it
  was acknowledged, or that the central no longer has at all, is queued again as a normal
  operation based on what the central holds now (rev 0: created again);
* journal entries written on this laptop (its user's, its role) that the central no longer
  holds are sent again (`journal_synced` forgets them);
* a field of the opportunity this side may change, acknowledged here and unchanged since, that
  the central holds otherwise is sent again when the central's copy is older than the one
  acknowledged here (`sync_opportunities.central_updated_at`); when the central's copy was
  written since (another laptop after the restore, or before the backup), it becomes a
  conflict for the user to settle, never a silent overwrite either way.

Conflicts stay honest: a visit whose central revision is newer than the one this laptop was
acknowledged is never overwritten; a CM's laptop never sends the content of another AT's visit.
The operations queued are ordinary ones: the central's ledger answers `duplicate` for any it
already has, and every journal entry is kept once (by its id). A push answered in a way only a
central that lost data can answer (`lost_by_central`) starts the same check, and, while it runs,
the visits not yet compared send nothing. Everything here runs inside the caller's transaction
(the pull's pages), so a re-pull cut anywhere resumes where it stopped. sync/ never imports Textual.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.opportunity_fields import FIELD_GROUPS
from at_tui.store.db import immediate

COUNTS = "restore_resent"  # sync_state: what the restore check queued so far, until the re-pull ends


@dataclass(frozen=True, slots=True)
class Resent:
    """What a finished restore check queued again: visits' content and opportunities."""

    visits: int = 0
    opportunities: int = 0


def pending(conn: sqlite3.Connection) -> bool:
    """Whether a restore check is under way (a re-pull after a 410 not yet ended)."""
    return conn.execute("SELECT 1 FROM sync_restore LIMIT 1").fetchone() is not None or _get(conn, COUNTS) is not None


def begin(conn: sqlite3.Connection) -> None:
    """The pull was refused (410): the central is another database, maybe a restored backup.
    In one transaction, list every visit whose central copy this laptop knew (to compare with
    the central's as the re-pull brings it) and start the pull again from 0."""
    from at_tui.sync.outbox import utc_now

    with immediate(conn):
        mark(conn, utc_now())


def mark(conn: sqlite3.Connection, now: str) -> None:
    """`begin`, inside the caller's transaction (a push's answers that only a restored central gives)."""
    from at_tui.sync.outbox import set_state

    conn.execute(
        """INSERT OR IGNORE INTO sync_restore (visit_id, started_at)
           SELECT s.visit_id, ? FROM sync_visits s JOIN visits v ON v.id = s.visit_id WHERE s.rev > 0
           UNION
           SELECT o.visit_id, ? FROM sync_opportunities o JOIN visits v ON v.id = o.visit_id
            WHERE o.base IS NOT NULL""",
        (now, now),
    )
    if _get(conn, COUNTS) is None:
        set_state(conn, COUNTS, json.dumps({"visits": 0, "opportunities": 0}), now)
    set_state(conn, "cursor:visits", "0", now)


NOT_FOUND = "visite introuvable"  # central.operations.NOT_FOUND


def lost_by_central(result: Mapping[str, Any], base_rev: int) -> bool:
    """Whether a push's answer about a visit this laptop had been acknowledged at `base_rev` (> 0)
    can only come from a central that lost it (a restored backup, another database): the visit
    unknown, or a conflict on a revision older than the one it acknowledged."""
    if base_rev <= 0:
        return False
    status = result.get("status")
    if status == "rejected":
        return result.get("reason") == NOT_FOUND
    rev = result.get("rev")
    return status == "conflict" and isinstance(rev, int) and not isinstance(rev, bool) and rev < base_rev


def check_pulled(conn: sqlite3.Connection, item: Mapping[str, Any], now: str) -> None:
    """A visit the re-pull brought, before it is merged (inside the pull's transaction): queue
    again what the central lost of it (see the module). Nothing for a visit not being checked."""
    visit_id = item["id"]
    if not conn.execute("DELETE FROM sync_restore WHERE visit_id = ?", (visit_id,)).rowcount:
        return
    row = conn.execute(
        "SELECT v.origin, coalesce(s.rev, 0) FROM visits v LEFT JOIN sync_visits s ON s.visit_id = v.id "
        "WHERE v.id = ?", (visit_id,)
    ).fetchone()
    if row is None:
        return
    origin, acknowledged = row
    visit = False
    central_rev = item.get("rev")
    if origin == "local" and isinstance(central_rev, int) and central_rev < acknowledged:
        # Older than what this laptop was acknowledged: sent again on the central's revision.
        content = item.get("content")
        _sync_visit(conn, visit_id, now, rev=central_rev,
                    base_content=json.dumps(content, ensure_ascii=False) if isinstance(content, dict) else None)
        _retire_sent(conn, "outbox", visit_id, now)
        visit = _queue_content(conn, visit_id, now)
    opportunity = _check_opportunity(conn, visit_id, origin, item, now)
    _add(conn, now, visit, opportunity)


def finish(conn: sqlite3.Connection) -> Resent:
    """The re-pull has ended: every visit still listed is missing from the central. This
    laptop's own ones are created again (rev 0), with their opportunity and this laptop's
    journal entries; a CM's laptop sends its entries again once the AT's laptop has put the
    visit back. One transaction; what was queued in all."""
    from at_tui.sync.outbox import set_state, utc_now

    now = utc_now()
    with immediate(conn):
        rows = conn.execute(
            "SELECT r.visit_id, v.origin, coalesce(s.rev, 0) FROM sync_restore r JOIN visits v ON v.id = r.visit_id "
            "LEFT JOIN sync_visits s ON s.visit_id = r.visit_id ORDER BY r.visit_id"
        ).fetchall()
        for visit_id, origin, rev in rows:
            visit = False
            if origin == "local" and rev > 0:
                _sync_visit(conn, visit_id, now, rev=0, base_content=None, central_copy=None, quarantine=None)
                _retire_sent(conn, "outbox", visit_id, now)
                visit = _queue_content(conn, visit_id, now)
            _retire_sent(conn, "opportunity_outbox", visit_id, now)
            opportunity = _check_opportunity(conn, visit_id, origin, None, now)
            _add(conn, now, visit, opportunity)
        conn.execute("DELETE FROM sync_restore")
        counts = _counts(conn)
        conn.execute("DELETE FROM sync_state WHERE key = ?", (COUNTS,))
        set_state(conn, "restored_at", now, now)
    return Resent(counts.get("visits", 0), counts.get("opportunities", 0))


def _check_opportunity(conn: sqlite3.Connection, visit_id: str, origin: str, item: Mapping[str, Any] | None,
                       now: str) -> bool:
    """Queue the opportunity again when the central lacks it, lacks journal entries written on
    this laptop, or holds other values for fields this laptop had been acknowledged (and has
    not changed since); whether it did. `item`: the visit as pulled, None when the central no
    longer has it."""
    from at_tui.sync import opportunity_outbox

    role, login = _get(conn, "role"), _get(conn, "login")
    local = opportunity_outbox.local_fields(conn, visit_id)
    if local is None or not (origin == "local" or role == "cm"):
        return False  # an AT's laptop never writes the opportunity of a visit made elsewhere
    side = "CM" if role == "cm" else "AT"
    own = [entry_id for (entry_id,) in conn.execute(
        """SELECT j.id FROM journal j JOIN journal_synced s ON s.entry_id = j.id
            WHERE j.opportunity_id = ? AND (j.role = ? OR j.role IS NULL)
              AND (j.author IS NULL OR j.author = ?)""",
        (visit_id, side, login),
    )]
    central = item.get("opportunity") if item is not None else None
    if central is not None and opportunity_outbox.pulled_problem(central) is not None:
        return False  # an unreadable copy: the pull sets it aside, nothing is forced on it
    if central is None:
        # No opportunity on the central: the AT creates it again; a CM's laptop sends its entries
        # and fields again on top of the copy the AT's laptop puts back (a « stray » copy:
        # opportunity_outbox._merge keeps what the CM filled in where the central has nothing).
        _forget_synced(conn, own)
        _sync_opportunity(conn, visit_id, now, base=None, central_updated_at=None, central_copy=None,
                          conflict_fields=None)
        return _queue_opportunity(conn, visit_id, now)
    held = {entry["id"] for entry in central.get("journal") or [] if isinstance(entry, dict)}
    lost = [entry_id for entry_id in own if entry_id not in held]
    _forget_synced(conn, lost)
    queued = bool(lost) and _queue_opportunity(conn, visit_id, now)
    row = conn.execute("SELECT base, central_updated_at FROM sync_opportunities WHERE visit_id = ?",
                       (visit_id,)).fetchone()
    base = _loads(row[0]) if row else None
    fields = central["fields"]
    differing = [name for name in _writable(origin, role, fields)
                 if isinstance(base, dict) and name in base and local[name] == base[name] != fields.get(name)]
    if not differing:
        return queued
    acknowledged, updated_at = (row[1] if row else None), central.get("updated_at")
    if isinstance(acknowledged, str) and isinstance(updated_at, str) and updated_at < acknowledged:
        # Older than the copy this laptop was acknowledged: the restore lost these values. Sent
        # again on a base that says the central's value, so the central takes this laptop's.
        forced = {**base, **{name: fields.get(name) for name in differing}}
        _sync_opportunity(conn, visit_id, now, base=json.dumps(forced, ensure_ascii=False))
        return _queue_opportunity(conn, visit_id, now)
    # Written on the central since this laptop last saw it: maybe by another laptop after the
    # restore, maybe before the backup. Nothing is forced: a conflict for the user to settle.
    _local_conflict(conn, visit_id, item, local, base, differing, now)
    return queued


def _local_conflict(conn: sqlite3.Connection, visit_id: str, item: Mapping[str, Any], local: Mapping[str, Any],
                    base: Mapping[str, Any], names: list[str], now: str) -> None:
    """A conflict on these fields, as if the central had answered one (opportunity_outbox's
    conflict screen and `resolve_opportunity_conflict` settle it): kept, never sent."""
    import uuid

    payload = {"fields": dict(local), "base": dict(base), "journal": []}
    result = {"status": "conflict", "fields": names, "reason": "service central restauré"}
    conn.execute(
        "INSERT INTO opportunity_outbox (op_id, visit_id, state, payload, result, created_at, updated_at) "
        "VALUES (?, ?, 'conflict', ?, ?, ?, ?)",
        (str(uuid.uuid4()), visit_id, json.dumps(payload, ensure_ascii=False), json.dumps(result), now, now),
    )
    _sync_opportunity(conn, visit_id, now, central_copy=json.dumps(dict(item), ensure_ascii=False),
                      conflict_fields=json.dumps(names))


def _writable(origin: str, role: str | None, central: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields this side may change (central.opportunity_rules._may_change, seen from the laptop)."""
    if role == "cm":
        return FIELD_GROUPS["prise_en_charge"] + (FIELD_GROUPS["pilotage"] if central.get("lead") == "CM" else ())
    if origin != "local":
        return ()
    return FIELD_GROUPS["classement"] + (FIELD_GROUPS["pilotage"] if central.get("lead") == "AT" else ())


def _retire_sent(conn: sqlite3.Connection, table: str, visit_id: str, now: str) -> None:
    """An operation sent before the restore and never answered was based on what the central
    lost: kept (`resolved`), the pending one queued instead carries the same (and later) changes."""
    conn.execute(f"UPDATE {table} SET state = 'resolved', updated_at = ? WHERE visit_id = ? AND state = 'sent'",
                 (now, visit_id))


def _forget_synced(conn: sqlite3.Connection, entry_ids: list[str]) -> None:
    conn.execute("DELETE FROM journal_synced WHERE entry_id IN (SELECT value FROM json_each(?))",
                 (json.dumps(entry_ids),))


def _queue_content(conn: sqlite3.Connection, visit_id: str, now: str) -> bool:
    from at_tui.sync.outbox import _queue

    _queue(conn, visit_id, now)
    return True


def _queue_opportunity(conn: sqlite3.Connection, visit_id: str, now: str) -> bool:
    from at_tui.sync.opportunity_outbox import _queue

    _queue(conn, visit_id, now)
    return True


def _sync_visit(conn: sqlite3.Connection, visit_id: str, now: str, **values: Any) -> None:
    from at_tui.sync.outbox import _upsert_central

    _upsert_central(conn, visit_id, now=now, **values)


def _sync_opportunity(conn: sqlite3.Connection, visit_id: str, now: str, **values: Any) -> None:
    from at_tui.sync.opportunity_outbox import _set_sync

    _set_sync(conn, visit_id, now, **values)


def _add(conn: sqlite3.Connection, now: str, visit: bool, opportunity: bool) -> None:
    from at_tui.sync.outbox import set_state

    if not visit and not opportunity:
        return
    counts = _counts(conn)
    counts["visits"] = counts.get("visits", 0) + int(visit)
    counts["opportunities"] = counts.get("opportunities", 0) + int(opportunity)
    set_state(conn, COUNTS, json.dumps(counts), now)


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    try:
        counts = json.loads(_get(conn, COUNTS) or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in counts.items() if isinstance(v, int)} if isinstance(counts, dict) else {}


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
