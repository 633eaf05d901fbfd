"""The outbox and the central state of each visit, in the local database (schema v6, v9; the
opportunities' own queue, schema v11, is at_tui.sync.opportunity_outbox).

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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.redaction import safe
from at_tui.store.db import immediate
from at_tui.store.visit_content import CONTENT_SQL, content_json

IN_FLIGHT = ("pending", "sent")

# An operation (outbox row `o`) held back: its visit is archived and the central never
# received it (no revision, nothing sent, applied or in conflict). Such a visit was
# created by mistake: sending it would put it in the region's record. Its pending
# operation stays, and leaves once the visit is restored. A visit the central knows
# keeps syncing while archived.
HELD_SQL = """(EXISTS (SELECT 1 FROM visits h WHERE h.id = o.visit_id AND h.archived_at IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM sync_visits hs WHERE hs.visit_id = o.visit_id AND hs.rev > 0)
    AND NOT EXISTS (SELECT 1 FROM outbox ho WHERE ho.visit_id = o.visit_id AND ho.state IN ('sent', 'done', 'conflict')))"""


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
    quarantined: int = 0  # central copies set aside (this laptop cannot take them)
    held: int = 0  # archived visits the central never received: not sent while archived


def take_batch(conn: sqlite3.Connection, limit: int, skip: Collection[str] = ()) -> list[Operation]:
    """The operations to send now, oldest first: those already sent without an answer, as they
    were (except the op ids in `skip`: still on their way), then pending ones fixed with the
    visit's content and the central revision it is based on. At most one operation per visit
    is in flight, a visit waiting for the AT to settle a conflict sends nothing, and neither
    does an archived visit the central never received (HELD_SQL)."""
    with immediate(conn):
        rows = conn.execute(
            f"""SELECT o.seq, o.op_id, o.visit_id, o.state, coalesce(v.rev, 0) AS rev
                 FROM outbox o LEFT JOIN sync_visits v ON v.visit_id = o.visit_id
                WHERE o.state IN ('pending', 'sent')
                  AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.visit_id = o.visit_id AND c.state = 'conflict')
                  AND NOT EXISTS (SELECT 1 FROM sync_restore r WHERE r.visit_id = o.visit_id)
                  AND NOT {HELD_SQL}
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
    """A send that got no answer: the operations stay `sent`, the error is kept for the status
    (redacted: it may quote the server, and the server may quote the token)."""
    error = safe(error)
    with immediate(conn):
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE op_id = ?",
            [(error, utc_now(), op_id) for op_id in op_ids],
        )


# The final state of an operation whose conflict settled itself: the central already holds
# what it sends (`done`), or only the revision moved (a CM's follow-up): sent again on it.
REBASED = "resolved"

Check = Callable[[str, Any], "str | None"]  # (visit id, central content) -> why it cannot be taken
LifecycleFor = Callable[[str], Any]  # playbook id -> its current lifecycle (workspace.lifecycle)


def record_results(conn: sqlite3.Connection, results: Iterable[Mapping[str, Any]],
                   check: Check | None = None) -> dict[str, str]:
    """File the central's answers, all in one transaction; the state each operation ends in, by op id.

    A conflict is no conflict when the central content equals what the operation sends
    (→ `done` on the central revision), or equals the content the operation was based on
    (only the revision moved, e.g. a CM's follow-up: → `resolved`, and a new pending
    operation re-sends the visit on the central revision, in the same sync run)."""
    from at_tui.sync import restore

    now = utc_now()
    results = [_safe_result(result) for result in results]
    states: dict[str, str] = {}
    with immediate(conn):
        # Only operations of this outbox: an answer about anything else is ignored rather than trusted.
        ours = {row[0]: (row[1], row[2], row[3]) for row in conn.execute(
            "SELECT op_id, visit_id, payload, base_rev FROM outbox WHERE op_id IN (SELECT value FROM json_each(?))",
            (json.dumps([str(result.get("op_id")) for result in results]),),
        ).fetchall()}
        filed: list[tuple] = []
        revisions: list[tuple] = []
        for result in results:
            visit_id, payload, base_rev = ours.get(result.get("op_id"), (None, None, 0))
            if visit_id is None:
                continue
            status = result["status"]
            state = {"applied": "done", "duplicate": "done", "conflict": "conflict"}.get(status, "rejected")
            if status == "duplicate" and result.get("original_status") in ("conflict", "rejected"):
                state = result["original_status"]
            central = result.get("central") if isinstance(result.get("central"), dict) else None
            if restore.lost_by_central(result, base_rev or 0):
                # The central lost what it had acknowledged (restored from a backup): not a conflict
                # for the AT; the visit is compared with the central's copy, then sent again.
                restore.mark(conn, now)
                state = REBASED
            elif state == "done" and result.get("rev") is not None:
                revisions.append((visit_id, int(result["rev"]), payload, now))
            elif state == "conflict" and central is not None:
                settled = _settle_conflict(conn, visit_id, payload, central, check)
                if settled is not None:
                    state = settled
                    content = json.dumps(central["content"], ensure_ascii=False)
                    revisions.append((visit_id, int(central["rev"]), content, now))
                    _upsert_central(conn, visit_id, now=now, central_copy=None, quarantine=None,
                                    followup=json.dumps(central.get("followup"), ensure_ascii=False),
                                    owner=_owner(central))
                else:
                    problem = check(visit_id, central.get("content")) if check is not None else None
                    _upsert_central(conn, visit_id, central_copy=json.dumps(central, ensure_ascii=False), now=now,
                                    followup=json.dumps(central.get("followup"), ensure_ascii=False),
                                    owner=_owner(central), quarantine=None if problem is None else safe(problem))
            states[result["op_id"]] = state
            filed.append((state, json.dumps(dict(result), ensure_ascii=False),
                          result.get("reason") if state == "rejected" else None, now, result["op_id"]))
        conn.executemany(
            "UPDATE outbox SET state = ?, result = ?, attempts = attempts + 1, last_error = ?, updated_at = ? "
            "WHERE op_id = ?",
            filed,
        )
        conn.executemany(
            "INSERT INTO sync_visits (visit_id, rev, base_content, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (visit_id) DO UPDATE SET rev = excluded.rev, base_content = excluded.base_content, "
            "updated_at = excluded.updated_at",
            revisions,
        )
        for op_id, state in states.items():
            if state == REBASED:
                _queue(conn, ours[op_id][0], now)
    return states


def _safe_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """The answer as it may be stored and shown: the server's reason redacted and made printable."""
    result = dict(result)
    if isinstance(result.get("reason"), str):
        result["reason"] = safe(result["reason"])
    elif "reason" in result:
        result["reason"] = None
    return result


def _settle_conflict(conn: sqlite3.Connection, visit_id: str, payload: str | None, central: Mapping[str, Any],
                     check: Check | None) -> str | None:
    """`done` or REBASED when the conflict is none (see record_results); None for a real conflict.
    The rule an import applies too (at_tui.domain.revisions), asked of the base revision."""
    from at_tui.domain.conflicts import differences
    from at_tui.domain.revisions import Revision, against_base

    content, rev = central.get("content"), central.get("rev")
    if not isinstance(content, dict) or not isinstance(rev, int) or isinstance(rev, bool) or payload is None:
        return None
    if check is not None and check(visit_id, content) is not None:
        return None  # a central copy this laptop cannot take stays a conflict, shown to the AT
    row = conn.execute("SELECT base_content FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()
    base = json.loads(row[0]) if row is not None and row[0] else None
    revision = against_base(json.loads(payload), content, base if isinstance(base, dict) else None,
                            lambda a, b: bool(differences(a, b)))
    return {Revision.SAME: "done", Revision.NEWER: REBASED}.get(revision)


def _queue(conn: sqlite3.Connection, visit_id: str, now: str) -> None:
    """A pending operation for the visit, unless one already waits (its content is taken when sent)."""
    conn.execute(
        "INSERT INTO outbox (op_id, visit_id, created_at, updated_at) SELECT ?, ?, ?, ? "
        "WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = ? AND state = 'pending')",
        (str(uuid.uuid4()), visit_id, now, now, visit_id),
    )


def _owner(central: Mapping[str, Any]) -> str | None:
    owner = central.get("owner")
    return owner if isinstance(owner, str) and 0 < len(owner) <= 64 and owner.isprintable() else None


def _upsert_central(conn: sqlite3.Connection, visit_id: str, *, now: str, **values: Any) -> None:
    conn.execute("INSERT OR IGNORE INTO sync_visits (visit_id, updated_at) VALUES (?, ?)", (visit_id, now))
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE sync_visits SET {assignments}, updated_at = ? WHERE visit_id = ?",
                 (*values.values(), now, visit_id))


def apply_pulled(conn: sqlite3.Connection, items: Iterable[Mapping[str, Any]], dataset: str, cursor: str,
                 check: Check | None = None, lifecycle: LifecycleFor | None = None) -> int:
    """Keep what a pull brought and its cursor, in one transaction; returns how many visits.

    The CM's follow-up and the central revision are kept for every visit known here.
    A visit with operations waiting or parked is never overwritten: its central copy
    is kept aside, for the conflict screen. Central content that `check` refuses (a date
    out of range, a process version unknown here, a field this laptop cannot store) is
    never written into the visit: the copy is kept aside with the French reason
    (`sync_visits.quarantine`, listed among the sync problems) and everything else goes on.

    A visit's opportunity and journal are merged too (opportunity_outbox.merge_pulled;
    `lifecycle` gives the playbook's lifecycle for « À faire »). An AT's laptop skips a
    visit made elsewhere; a CM's laptop (sync_state « role » = 'cm') takes it in as
    'import' (never pushed as content, its owner kept): the CM follows every opportunity
    of the region offline. While the central is checked after a restore (at_tui.sync.restore),
    each visit is first compared with what this laptop was acknowledged.
    """
    from at_tui.sync import opportunity_outbox, restore

    now = utc_now()
    count = 0
    with immediate(conn):
        cm = get_state(conn, "role") == "cm"
        checking = restore.pending(conn)
        for item in items:
            visit_id = item["id"]
            if checking:
                restore.check_pulled(conn, item, now)  # a restored central: what it lost is queued again
            local = conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()
            inserted = False
            if local is None:
                if not cm:
                    continue  # a visit made elsewhere: not on this (AT's) laptop
                problem = _insert_pulled_visit(conn, item, check)
                _note_skipped(conn, visit_id, problem, now)
                if problem is not None:
                    continue
                inserted = True  # checked, and written as the central holds it
            local = local or ("import",)
            owner = _owner(item)
            if owner is not None and local[0] == "local":
                set_state(conn, "login", owner, now)  # the name the central gives this laptop's AT
            waiting = conn.execute(
                "SELECT 1 FROM outbox WHERE visit_id = ? AND state IN ('pending', 'sent', 'conflict')", (visit_id,)
            ).fetchone()
            content = item.get("content")
            newer = int(item["rev"]) > _central_rev(conn, visit_id)
            problem = None
            if content is not None and check is not None and (waiting or newer) and not inserted:
                problem = check(visit_id, content)  # not for the echo of this laptop's own push
            values: dict[str, Any] = {
                "followup": json.dumps(item.get("followup"), ensure_ascii=False), "owner": owner,
                "quarantine": None if problem is None else safe(problem),
            }
            if waiting or problem is not None:
                values["central_copy"] = json.dumps(dict(item), ensure_ascii=False)
            else:
                if newer and content and not inserted:
                    _take_central_content(conn, visit_id, content, now)
                values["rev"] = int(item["rev"])
                values["base_content"] = json.dumps(content, ensure_ascii=False) if content else None
                values["central_copy"] = None  # nothing waiting here: no conflict to keep it for
            _upsert_central(conn, visit_id, now=now, **values)
            if item.get("opportunity") is not None:
                trouble = opportunity_outbox.merge_pulled(conn, visit_id, item["opportunity"], lifecycle)
                if trouble is not None and problem is None:
                    label = _label(item)
                    conn.execute("UPDATE sync_visits SET quarantine = ? WHERE visit_id = ?",
                                 (safe(f"{label} : {trouble}", limit=1000), visit_id))
            count += 1
        set_state(conn, f"cursor:{dataset}", cursor, now)
    return count


def _label(item: Mapping[str, Any]) -> str:
    from at_tui.exchange.errors import visit_label

    content = item.get("content")
    identity = content.get("identity") if isinstance(content, dict) else None
    return visit_label(identity.get("structure") if isinstance(identity, dict) else None, str(item.get("id")))


def _insert_pulled_visit(conn: sqlite3.Connection, item: Mapping[str, Any], check: Check | None) -> str | None:
    """A CM's laptop takes in a visit of the region it does not have, as 'import' with its
    central owner (the outbox triggers leave such a visit out: its content stays the AT's).
    Why not (French), writing nothing, when its content cannot be taken here; None once in."""
    from at_tui.domain.visit import IDENTITY_FIELDS
    from at_tui.store.visits import encode

    visit_id, content = item["id"], item.get("content")
    if not isinstance(content, dict):
        return f"{_label(item)} : contenu de la visite absent"
    problem = check(visit_id, content) if check is not None else None
    if problem is not None:
        return safe(problem, limit=1000)
    conn.execute("SAVEPOINT pulled_visit")
    try:
        identity, override = content["identity"], content.get("override") or {}
        values = {name: int(bool(identity[name])) if name == "maillage" else identity.get(name, "")
                  for name in IDENTITY_FIELDS}
        values.update(
            id=visit_id, playbook_id=content["playbook"]["id"], playbook_version=content["playbook"]["version"],
            questionnaire_id=content["questionnaire"]["id"], questionnaire_version=content["questionnaire"]["version"],
            current_step=content["current_step"], status=content["status"], created_at=content["created_at"],
            updated_at=content.get("updated_at") or content["created_at"], finished_at=content.get("finished_at"),
            override_offer=override.get("offer"), override_justification=override.get("justification"),
            origin="import", owner=_owner(item),
        )
        conn.execute(f"INSERT INTO visits ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                     list(values.values()))
        conn.executemany(
            "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?)",
            [(visit_id, key, encode(value), values["updated_at"]) for key, value in (content.get("answers") or {}).items()],
        )
    except (KeyError, TypeError, AttributeError, sqlite3.Error):
        conn.execute("ROLLBACK TO pulled_visit")
        conn.execute("RELEASE pulled_visit")
        return f"{_label(item)} : contenu de la visite illisible"
    conn.execute("RELEASE pulled_visit")
    return None


SKIPPED = "cm_skipped"  # sync_state: {visit id: French reason} of the region's visits a CM's laptop could not take


def _note_skipped(conn: sqlite3.Connection, visit_id: str, problem: str | None, now: str) -> None:
    """Keep (or forget) why a region's visit could not be taken in: listed with the set-aside
    copies at each sync, and pulled again from the start once new reference data came (a
    process version this laptop lacked: engine.sync)."""
    skipped = _skipped(conn)
    if problem is None and visit_id not in skipped:
        return
    if problem is None:
        del skipped[visit_id]
    else:
        skipped[visit_id] = problem
    set_state(conn, SKIPPED, json.dumps(skipped, ensure_ascii=False), now)


def _skipped(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        found = json.loads(get_state(conn, SKIPPED) or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


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
        # The merged content is based on the central copy the AT compared with.
        base = conn.execute(
            "SELECT CASE WHEN json_valid(central_copy) THEN json_extract(central_copy, '$.content') END "
            "FROM sync_visits WHERE visit_id = ?", (visit_id,)
        ).fetchone()
        _upsert_central(conn, visit_id, rev=central_rev, central_copy=None, quarantine=None,
                        base_content=base[0] if base else None, now=now)
        _queue(conn, visit_id, now)


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


def quarantined(conn: sqlite3.Connection) -> list[str]:
    """The French reason of each central copy set aside because this laptop cannot take it
    (then, on a CM's laptop, of each region's visit it could not take in)."""
    return [row[0] for row in conn.execute(
        "SELECT quarantine FROM sync_visits WHERE quarantine IS NOT NULL ORDER BY updated_at, visit_id"
    )] + [str(reason) for reason in _skipped(conn).values()]


def retry_skipped(conn: sqlite3.Connection) -> bool:
    """Pull every visit again from the start when a CM's laptop could not take some in (new
    reference data may let it now); whether it will."""
    if not _skipped(conn):
        return False
    with immediate(conn):
        set_state(conn, "cursor:visits", "0")
    return True


def summary(conn: sqlite3.Connection) -> Summary:
    """Operations of both queues: the visits' content and their opportunities (opportunity_outbox)."""
    from at_tui.sync.opportunity_outbox import counts as opportunity_counts

    counts = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    held = conn.execute(f"SELECT count(*) FROM outbox o WHERE o.state = 'pending' AND {HELD_SQL}").fetchone()[0]
    opportunities = opportunity_counts(conn)
    return Summary(
        waiting=counts.get("pending", 0) + counts.get("sent", 0) - held + opportunities.waiting,
        conflicts=counts.get("conflict", 0) + opportunities.conflicts,
        rejected=counts.get("rejected", 0) + opportunities.rejected,
        last_success=get_state(conn, "last_success"),
        quarantined=conn.execute("SELECT count(*) FROM sync_visits WHERE quarantine IS NOT NULL").fetchone()[0],
        held=held,
    )
