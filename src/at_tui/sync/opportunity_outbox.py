"""The opportunity of a visit through the central (issue 11 §3, schema v11): its own outbox.

An opportunity travels apart from the visit's content: the AT owns the content, while the
lifecycle is written on both sides (the AT's laptop and the CM's). The triggers of
migration v11 keep one `pending` operation per visit whose opportunity or journal changed.
`take_batch` fixes its payload — every field as it is now, the fields as the central last
gave them (`base`), and the journal entries the central does not hold yet — and
`record_results` files the answer:

* applied: the entries sent are the central's now (`journal_synced`), `base` becomes the
  central's fields, and a field left alone here since the take takes the central value;
* conflict (a field changed on both sides): the entries were appended all the same
  (append-only never conflicts), the central copy and the field names are kept for the
  user, who settles each field (`resolve_opportunity_conflict`);
* rejected: kept, listed with the central's reason until the user has seen it; a field this
  side may not change (`forbidden`) goes back to the central's value here, so that the
  visit's next operations (and their journal entries) are not refused with it.

A pull merges each visit's opportunity (`merge_pulled`): the journal is a union, the fields
are the central's unless an operation of this visit is waiting (the push decides then).
Nothing is ever deleted. sync/ never imports Textual.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from at_tui.domain.opportunity_fields import FIELD_GROUPS, OPPORTUNITY_FIELDS
from at_tui.domain.redaction import safe
from at_tui.store.db import immediate

if TYPE_CHECKING:
    from at_tui.domain.lifecycle import Lifecycle
    from at_tui.sync.outbox import Operation

KIND = "opportunity"
ENTRY_FIELDS = ("id", "activity", "type", "title", "day", "author", "role", "text", "answers", "supersedes",
                "created_at")
PAUSE = "opportunité reçue du central"
REJECTED = "refusée par le serveur central"

# The lifecycle an opportunity follows, by playbook id (workspace.lifecycle); None: « À faire » left as it is.
LifecycleFor = Callable[[str], "Lifecycle | None"]

_FIELDS_SQL = ", ".join(OPPORTUNITY_FIELDS)


@dataclass(frozen=True, slots=True)
class Counts:
    waiting: int
    conflicts: int
    rejected: int


def utc_now() -> str:
    from at_tui.sync.outbox import utc_now as now

    return now()


# -- push: take ----------------------------------------------------------------------------


def take_batch(conn: sqlite3.Connection, limit: int, skip: Collection[str] = ()) -> list[Operation]:
    """The opportunity operations to send now, oldest first (the engine takes them after the
    content operations): those sent without an answer, as they were (but the op ids in `skip`,
    still on their way), then pending ones, their payload fixed now. Only for a visit the
    central knows (its content was applied: `sync_visits.rev` > 0), and — for a visit not made
    here (a CM's) — once the central's opportunity was received; none while a conflict of the
    visit waits for the user, nor while the visit is compared with a restored central
    (at_tui.sync.restore); one operation in flight per visit."""
    from at_tui.sync.outbox import Operation

    if limit <= 0:
        return []
    with immediate(conn):
        rows = conn.execute(
            """SELECT o.seq, o.op_id, o.visit_id, o.state, v.origin, so.base IS NOT NULL AS known,
                      EXISTS (SELECT 1 FROM opportunities p WHERE p.id = o.visit_id) AS present
                 FROM opportunity_outbox o
                 JOIN visits v ON v.id = o.visit_id
                 JOIN sync_visits s ON s.visit_id = o.visit_id AND s.rev > 0
                 LEFT JOIN sync_opportunities so ON so.visit_id = o.visit_id
                WHERE o.state IN ('pending', 'sent')
                  AND NOT EXISTS (SELECT 1 FROM opportunity_outbox c WHERE c.visit_id = o.visit_id
                                                                       AND c.state = 'conflict')
                  AND NOT EXISTS (SELECT 1 FROM sync_restore r WHERE r.visit_id = o.visit_id)
                ORDER BY o.seq"""
        ).fetchall()
        busy = {row["visit_id"] for row in rows if row["state"] == "sent"}
        chosen: list[int] = []
        now = utc_now()
        login, role = _state(conn, "login"), _state(conn, "role")
        for row in rows:
            if len(chosen) >= limit:
                break
            if row["op_id"] in skip:
                continue
            if row["state"] == "pending":
                if row["visit_id"] in busy or not row["present"]:
                    continue
                if row["origin"] != "local" and not row["known"]:
                    continue  # a CM's: the central's opportunity comes first (only the AT creates it)
                busy.add(row["visit_id"])
                payload = _payload(conn, row["visit_id"], row["origin"], login, role)
                conn.execute("UPDATE opportunity_outbox SET state = 'sent', payload = ?, updated_at = ? WHERE seq = ?",
                             (json.dumps(payload, ensure_ascii=False), now, row["seq"]))
            chosen.append(row["seq"])
        taken = conn.execute(
            "SELECT op_id, visit_id, payload FROM opportunity_outbox "
            "WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (json.dumps(chosen),),
        ).fetchall()
    return [Operation(row[0], row[1], KIND, 0, row[2]) for row in taken]


def _payload(conn: sqlite3.Connection, visit_id: str, origin: str, login: str | None,
             role: str | None) -> dict[str, Any]:
    """Fields now, base, and the entries the central does not hold (inside the take's transaction).

    An opportunity opened before this laptop knew its AT's central name (a visit finished
    before the first sync) gets it now: the central records who wrote what."""
    if login is not None and origin == "local" and role != "cm":
        _paused(conn, lambda: conn.execute(
            "UPDATE opportunities SET at_login = ? WHERE id = ? AND at_login IS NULL", (login, visit_id)))
    fields = local_fields(conn, visit_id) or {}
    base = _base(conn, visit_id)
    side = "CM" if role == "cm" else "AT"
    journal = []
    for entry in _entries(conn, visit_id, unsynced=True):
        if entry["author"] is None and login is not None and entry["role"] == side:
            entry["author"] = login  # written here before the login was known: this laptop's user
        journal.append(entry)
    return {"fields": fields, "base": base, "journal": journal}


def record_attempt(conn: sqlite3.Connection, op_ids: Iterable[str], error: str) -> None:
    """A send that got no answer: the operations stay `sent`, the (redacted) error kept."""
    error = safe(error)
    with immediate(conn):
        conn.executemany(
            "UPDATE opportunity_outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE op_id = ?",
            [(error, utc_now(), op_id) for op_id in op_ids],
        )


# -- push: answers ---------------------------------------------------------------------------


def record_results(conn: sqlite3.Connection, results: Iterable[Mapping[str, Any]],
                   lifecycle: LifecycleFor | None = None) -> dict[str, str]:
    """File the central's answers to opportunity operations, in one transaction (answers about
    other operations are ignored); the state each one ends in, by op id (see the module)."""
    from at_tui.sync.outbox import _safe_result

    results = [_safe_result(result) for result in results]
    now = utc_now()
    states: dict[str, str] = {}
    with immediate(conn):
        ours = {row[0]: (row[1], row[2]) for row in conn.execute(
            "SELECT op_id, visit_id, payload FROM opportunity_outbox WHERE op_id IN (SELECT value FROM json_each(?))",
            (json.dumps([str(result.get("op_id")) for result in results]),),
        ).fetchall()}
        for result in results:
            visit_id, payload_text = ours.get(result.get("op_id"), (None, None))
            if visit_id is None:
                continue
            payload = _loads(payload_text) or {}
            sent_fields = payload.get("fields") if isinstance(payload.get("fields"), dict) else {}
            sent_entries = [e["id"] for e in payload.get("journal") or [] if isinstance(e, dict) and "id" in e]
            status = result.get("status")
            state = {"applied": "done", "duplicate": "done", "conflict": "conflict"}.get(status, "rejected")
            if status == "duplicate" and result.get("original_status") in ("conflict", "rejected"):
                state = result["original_status"]
            central = result.get("central") if isinstance(result.get("central"), dict) else None
            if status == "rejected" and _lost_by_central(conn, visit_id, result):
                # A restored central without the visit it had acknowledged: compared, then sent again.
                from at_tui.sync import restore

                restore.mark(conn, now)
                state = "resolved"
                _queue(conn, visit_id, now)
            elif state == "done":
                _mark_synced(conn, visit_id, sent_entries)
                opportunity = result.get("opportunity")
                central_fields = _fields(opportunity.get("fields")) if isinstance(opportunity, dict) else None
                _set_sync(conn, visit_id, now, base=json.dumps(central_fields or sent_fields, ensure_ascii=False),
                          central_copy=None, conflict_fields=None, **_acknowledged(opportunity))
                if central_fields is not None:
                    _take_unchanged(conn, visit_id, sent_fields, central_fields, lifecycle)
            elif state == "conflict":
                _mark_synced(conn, visit_id, sent_entries)
                if central is None:
                    # The answer of a resend without the central copy: sent again, its conflict comes back whole.
                    state = "resolved"
                    _queue(conn, visit_id, now)
                else:
                    names = [n for n in result.get("fields") or [] if n in OPPORTUNITY_FIELDS]
                    _set_sync(conn, visit_id, now, central_copy=json.dumps(central, ensure_ascii=False),
                              conflict_fields=json.dumps(names))
                    if pulled_problem(central.get("opportunity")) is None:
                        _merge(conn, visit_id, central["opportunity"], lifecycle, waiting=True)
            reason = None
            if state == "rejected":
                reason = result.get("reason") or REJECTED
                if status == "rejected" and result.get("code") == "forbidden":
                    _undo_forbidden(conn, visit_id, payload, result.get("fields"), lifecycle, now)
            states[result["op_id"]] = state
            conn.execute(
                "UPDATE opportunity_outbox SET state = ?, result = ?, attempts = attempts + 1, last_error = ?, "
                "updated_at = ? WHERE op_id = ?",
                (state, json.dumps(dict(result), ensure_ascii=False), reason, now, result["op_id"]),
            )
    return states


def _lost_by_central(conn: sqlite3.Connection, visit_id: str, result: Mapping[str, Any]) -> bool:
    from at_tui.sync.restore import lost_by_central

    row = conn.execute("SELECT rev FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()
    return lost_by_central(result, row[0] if row and row[0] else 0)


def _undo_forbidden(conn: sqlite3.Connection, visit_id: str, payload: Mapping[str, Any], names: Any,
                    lifecycle: LifecycleFor | None, now: str) -> None:
    """The central refused fields this side may not change: each one still as sent goes back to
    its base (the central's), and a new operation is queued — otherwise every later operation
    of the visit would carry the refused change again, and be refused with its journal entries.
    The refused operation keeps what was asked (its payload), shown with the central's reason."""
    sent, base = payload.get("fields"), payload.get("base")
    local = local_fields(conn, visit_id)
    if not isinstance(names, list) or not isinstance(sent, dict) or not isinstance(base, dict) or local is None:
        return
    undo = {name: base[name] for name in names
            if name in OPPORTUNITY_FIELDS and name in base and name in sent
            and local[name] == sent[name] and base[name] != local[name]}
    if undo:
        _write_fields(conn, visit_id, undo, lifecycle)
        _queue(conn, visit_id, now)


def _take_unchanged(conn: sqlite3.Connection, visit_id: str, sent: Mapping[str, Any], central: Mapping[str, Any],
                    lifecycle: LifecycleFor | None) -> None:
    """Each field left alone here since the take that the central holds otherwise takes its value
    (a field changed since stays: the next operation sends it)."""
    local = local_fields(conn, visit_id)
    if local is None:
        return
    changes = {name: central[name] for name in OPPORTUNITY_FIELDS
               if name in central and name in sent and local[name] == sent[name] and central[name] != local[name]}
    if changes:
        _write_fields(conn, visit_id, changes, lifecycle)


# -- pull ---------------------------------------------------------------------------------------


def merge_pulled(conn: sqlite3.Connection, visit_id: str, opportunity: Any,
                 lifecycle: LifecycleFor | None = None) -> str | None:
    """Merge the opportunity a pull brought for a visit here, inside the pull's transaction:
    new here → inserted whole (its entries all held by the central, base = its fields);
    known → journal union, and the fields become the central's unless an operation of this
    visit waits (pending, sent or in conflict: the push decides). Returns why it could not be
    taken (French), None when merged. Nothing written here is queued back (sync_pause)."""
    problem = pulled_problem(opportunity)
    if problem is not None:
        return problem
    waiting = conn.execute(
        "SELECT 1 FROM opportunity_outbox WHERE visit_id = ? AND state IN ('pending', 'sent', 'conflict')", (visit_id,)
    ).fetchone() is not None
    if conn.execute("SELECT 1 FROM opportunity_outbox WHERE visit_id = ? AND state = 'conflict'",
                    (visit_id,)).fetchone():
        # The user compares with the latest central copy.
        row = conn.execute("SELECT central_copy FROM sync_opportunities WHERE visit_id = ?", (visit_id,)).fetchone()
        copy = _loads(row[0]) if row and row[0] else None
        if isinstance(copy, dict):
            copy["opportunity"] = opportunity
            _set_sync(conn, visit_id, utc_now(), central_copy=json.dumps(copy, ensure_ascii=False))
    _merge(conn, visit_id, opportunity, lifecycle, waiting=waiting)
    return None


def _merge(conn: sqlite3.Connection, visit_id: str, opportunity: Mapping[str, Any], lifecycle: LifecycleFor | None,
           *, waiting: bool) -> None:
    from at_tui.domain.opportunity import JournalEntry
    from at_tui.store.opportunities import OpportunityStore

    fields = _fields(opportunity.get("fields"))
    if fields is None:
        return
    now = utc_now()
    updated_at = opportunity.get("updated_at") if isinstance(opportunity.get("updated_at"), str) else now
    entries = list({e["id"]: e for e in opportunity.get("journal") or [] if isinstance(e, dict)}.values())
    present = {row[0] for row in conn.execute(
        "SELECT id FROM journal WHERE id IN (SELECT value FROM json_each(?))", (json.dumps([e["id"] for e in entries]),))}
    new_entries = [
        JournalEntry(opportunity_id=visit_id, **{
            name: (dict(e.get(name) or {}) if name == "answers" else e.get(name, "" if name == "text" else None))
            for name in ENTRY_FIELDS})
        for e in entries if e["id"] not in present
    ]
    local = local_fields(conn, visit_id)
    row = changes = None
    stray = local is not None and waiting and _never_synced_import(conn, visit_id)
    take = local is None or not waiting or stray
    if local is None:
        row = {**fields, "id": visit_id, "created_at": updated_at, "updated_at": updated_at}
    elif take:
        # What the CM filled in on a stray copy where the central has nothing stays (and is sent).
        kept = [n for n in _cm_fields(fields) if fields[n] is None and local[n] is not None] if stray else []
        changes = {name: value for name, value in fields.items() if local[name] != value and name not in kept} or None
    store = OpportunityStore(conn, utc_now)
    _paused(conn, lambda: _write(store, conn, visit_id, lifecycle, row, changes, updated_at, new_entries))
    _mark_synced(conn, visit_id, [e["id"] for e in entries])
    if take:
        _set_sync(conn, visit_id, now, base=json.dumps(fields, ensure_ascii=False), **_acknowledged(opportunity))
    elif _acknowledged(opportunity):
        _set_sync(conn, visit_id, now, **_acknowledged(opportunity))


def _acknowledged(opportunity: Any) -> dict[str, Any]:
    """The central's `updated_at` of its copy, kept to tell, after a restore, a central copy older
    than what this laptop was acknowledged (at_tui.sync.restore); nothing when absent."""
    updated_at = opportunity.get("updated_at") if isinstance(opportunity, dict) else None
    return {"central_updated_at": updated_at} if isinstance(updated_at, str) and len(updated_at) <= 64 else {}


def _cm_fields(central: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields a CM may change on this opportunity: the CM in charge, and the status and
    dates when a CM leads it (domain.opportunity_fields.FIELD_GROUPS)."""
    return FIELD_GROUPS["prise_en_charge"] + (FIELD_GROUPS["pilotage"] if central.get("lead") == "CM" else ())


def _never_synced_import(conn: sqlite3.Connection, visit_id: str) -> bool:
    """A CM's laptop may have opened the opportunity of a visit it pulled before the central's
    arrived: never based on the central, that local copy gives way to it — but for what the CM
    may have filled in there herself where the central has nothing (taken in charge, a date:
    _cm_fields), which the waiting operation sends on top of the central's."""
    return conn.execute(
        """SELECT 1 FROM visits v LEFT JOIN sync_opportunities s ON s.visit_id = v.id
            WHERE v.id = ? AND v.origin <> 'local' AND s.base IS NULL""", (visit_id,)
    ).fetchone() is not None


def _write(store, conn: sqlite3.Connection, visit_id: str, lifecycle: LifecycleFor | None,
           row: Mapping[str, Any] | None, changes: Mapping[str, Any] | None, updated_at: str,
           entries: list) -> None:
    life = _lifecycle(conn, visit_id, lifecycle, (row or {}).get("playbook_id"))
    store.write_imported(visit_id, life, row=row, changes=changes, updated_at=updated_at, entries=entries)


def pulled_problem(opportunity: Any) -> str | None:
    """What is wrong with a pulled `opportunity` (French), None when it can be merged."""
    if not isinstance(opportunity, dict):
        return "opportunité illisible"
    if _fields(opportunity.get("fields")) is None:
        return "champs de l'opportunité incomplets ou mal formés"
    journal = opportunity.get("journal", [])
    if not isinstance(journal, list):
        return "journal de l'opportunité illisible"
    for entry in journal:
        if not (isinstance(entry, dict) and all(isinstance(entry.get(n), str) and entry[n]
                                                for n in ("id", "activity", "type", "title", "day", "created_at"))
                and all(entry.get(n) is None or isinstance(entry[n], str) for n in ("author", "role", "supersedes"))
                and isinstance(entry.get("text", ""), str) and isinstance(entry.get("answers") or {}, dict)):
            return "une entrée du journal de l'opportunité est mal formée"
    return None


# -- conflicts and refusals, for the TUI --------------------------------------------------------


def opportunity_conflicts(conn: sqlite3.Connection) -> list[tuple[str, dict, dict, list[str]]]:
    """(visit id, fields here, central fields, conflicting field names) of each opportunity whose
    operation conflicts, oldest first."""
    found = []
    for visit_id, copy, names in conn.execute(
        """SELECT o.visit_id, s.central_copy, s.conflict_fields FROM opportunity_outbox o
             JOIN sync_opportunities s ON s.visit_id = o.visit_id
            WHERE o.state = 'conflict' ORDER BY o.seq"""
    ).fetchall():
        central = _central_fields(_loads(copy))
        local = local_fields(conn, visit_id)
        if central is None or local is None:
            continue
        found.append((visit_id, local, central, [n for n in _loads(names) or [] if n in OPPORTUNITY_FIELDS]))
    return found


def resolve_opportunity_conflict(conn: sqlite3.Connection, visit_id: str, chosen: Mapping[str, Any],
                                 lifecycle: LifecycleFor | None = None) -> None:
    """Write the value the user chose for each conflicting field (hers or the central's) and
    queue them on top of the central copy, in one transaction: base := the central fields,
    the conflicting operation → `resolved` (kept), a new pending operation for the next push
    (it changes only the fields where she kept hers)."""
    unknown = [name for name in chosen if name not in OPPORTUNITY_FIELDS]
    if unknown:
        raise ValueError(f"Champ(s) inconnu(s) de l'opportunité : {', '.join(unknown)}.")
    now = utc_now()
    with immediate(conn):
        row = conn.execute("SELECT central_copy FROM sync_opportunities WHERE visit_id = ?", (visit_id,)).fetchone()
        central = _central_fields(_loads(row[0]) if row and row[0] else None)
        local = local_fields(conn, visit_id)
        sent = conn.execute("SELECT payload FROM opportunity_outbox WHERE visit_id = ? AND state = 'conflict' "
                            "ORDER BY seq DESC LIMIT 1", (visit_id,)).fetchone()
        payload = (_loads(sent[0]) or {}) if sent else {}
        # What the operation told the central this laptop's values were based on (its base; the
        # fields it sent when it had none).
        base = payload.get("base") if isinstance(payload.get("base"), dict) else payload.get("fields")
        if local is not None:
            # A field out of the conflict that the central changed and this laptop did not (still
            # its base) takes the central value: sent back unchanged it would undo the other side's.
            merged = {name: central[name] for name in OPPORTUNITY_FIELDS
                      if central is not None and isinstance(base, dict) and name not in chosen
                      and local[name] == base.get(name) and central[name] != local[name]}
            changes = {name: value for name, value in {**merged, **chosen}.items() if local[name] != value}
            if changes:
                _write_fields(conn, visit_id, changes, lifecycle)
        conn.execute("UPDATE opportunity_outbox SET state = 'resolved', updated_at = ? "
                     "WHERE visit_id = ? AND state = 'conflict'", (now, visit_id))
        values: dict[str, Any] = {"central_copy": None, "conflict_fields": None}
        if central is not None:
            values["base"] = json.dumps(central, ensure_ascii=False)
        _set_sync(conn, visit_id, now, **values)
        _queue(conn, visit_id, now)


def rejected_opportunity_ops(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(visit id, French reason) of each refused operation, oldest first, until the user has
    seen it (`acknowledge_rejected_opportunity`): a refused change was undone here
    (_undo_forbidden), she must learn it."""
    return [(row[0], row[1] or REJECTED) for row in conn.execute(
        "SELECT visit_id, last_error FROM opportunity_outbox WHERE state = 'rejected' ORDER BY seq"
    )]


def acknowledge_rejected_opportunity(conn: sqlite3.Connection, visit_id: str) -> int:
    """The user has read the refusals of this visit's opportunity: they become `resolved` (kept,
    with their payload and reason) and leave the list; how many. Nothing is sent again here: the
    journal entries they carried leave with the visit's next operation."""
    with immediate(conn):
        return conn.execute(
            "UPDATE opportunity_outbox SET state = 'resolved', updated_at = ? WHERE visit_id = ? AND state = 'rejected'",
            (utc_now(), visit_id),
        ).rowcount


def standing_lines(conn: sqlite3.Connection, listed: int = 10) -> list[str]:
    """What `at-tui sync` says of the opportunities left to settle, whichever run found them
    (French, made safe): their conflicts, then the refusals not yet acknowledged."""
    from at_tui.domain.opportunity_fields import FIELD_LABELS
    from at_tui.domain.redaction import printable

    found = [(visit_id, "conflit", ", ".join(FIELD_LABELS.get(n, n).lower() for n in names))
             for visit_id, _local, _central, names in opportunity_conflicts(conn)]
    found += [(visit_id, "refusée", reason) for visit_id, reason in rejected_opportunity_ops(conn)]
    if not found:
        return []
    conflicts = sum(1 for _, kind, _ in found if kind == "conflit")
    counts = [f"{conflicts} opportunité(s) en conflit"] if conflicts else []
    if len(found) > conflicts:
        counts.append(f"{len(found) - conflicts} envoi(s) d'opportunité refusé(s) par le central")
    lines = [f"À régler : {' et '.join(counts)} — ouvrez l'application (« at-tui »), touche s "
             "(« Problèmes de synchronisation ») :"]
    for visit_id, kind, detail in found[:listed]:
        row = conn.execute("SELECT structure, departement FROM visits WHERE id = ?", (visit_id,)).fetchone()
        name = f"{printable(row[0])} ({printable(row[1])})" if row else visit_id
        lines.append(f"  - opportunité {kind} : {name} : {safe(detail, limit=300)}")
    if len(found) > listed:
        lines.append(f"  … et {len(found) - listed} autre(s), dans l'application.")
    return lines


def counts(conn: sqlite3.Connection) -> Counts:
    """What outbox.summary adds: operations waiting (but those of a visit held back, archived
    before the central ever received it), conflicts, refusals not yet acknowledged."""
    from at_tui.sync.outbox import HELD_SQL

    waiting = conn.execute(
        f"SELECT count(*) FROM opportunity_outbox o WHERE o.state IN ('pending', 'sent') AND NOT {HELD_SQL}"
    ).fetchone()[0]
    conflicts = conn.execute("SELECT count(*) FROM opportunity_outbox WHERE state = 'conflict'").fetchone()[0]
    rejected = conn.execute("SELECT count(*) FROM opportunity_outbox WHERE state = 'rejected'").fetchone()[0]
    return Counts(waiting, conflicts, rejected)


# -- helpers (inside the caller's transaction) ------------------------------------------------------


def local_fields(conn: sqlite3.Connection, visit_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_FIELDS_SQL} FROM opportunities WHERE id = ?", (visit_id,)).fetchone()
    return dict(zip(OPPORTUNITY_FIELDS, row, strict=True)) if row else None


def _entries(conn: sqlite3.Connection, visit_id: str, *, unsynced: bool) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"""SELECT {', '.join(ENTRY_FIELDS)} FROM journal j WHERE opportunity_id = ?
            {'AND NOT EXISTS (SELECT 1 FROM journal_synced s WHERE s.entry_id = j.id)' if unsynced else ''}
            ORDER BY day, created_at, id""",
        (visit_id,),
    ).fetchall()
    entries = []
    for row in rows:
        entry = dict(zip(ENTRY_FIELDS, row, strict=True))
        entry["answers"] = _loads(entry["answers"]) or {}
        entries.append(entry)
    return entries


def _fields(value: Any) -> dict[str, Any] | None:
    """Every opportunity field, of a storable type; None otherwise."""
    if not isinstance(value, dict) or any(name not in value for name in OPPORTUNITY_FIELDS):
        return None
    fields = {name: value[name] for name in OPPORTUNITY_FIELDS}
    for name, item in fields.items():
        if name == "playbook_version":
            if not isinstance(item, int) or isinstance(item, bool):
                return None
        elif name in ("playbook_id", "offer", "lead", "status"):
            if not isinstance(item, str) or not item:
                return None
        elif item is not None and not isinstance(item, str):
            return None
    return fields


def _central_fields(copy: Any) -> dict[str, Any] | None:
    opportunity = copy.get("opportunity") if isinstance(copy, dict) else None
    return _fields(opportunity.get("fields")) if isinstance(opportunity, dict) else None


def _base(conn: sqlite3.Connection, visit_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT base FROM sync_opportunities WHERE visit_id = ?", (visit_id,)).fetchone()
    base = _loads(row[0]) if row and row[0] else None
    return base if isinstance(base, dict) else None


def _write_fields(conn: sqlite3.Connection, visit_id: str, changes: Mapping[str, Any],
                  lifecycle: LifecycleFor | None) -> None:
    """Fields written from the central or a settled conflict: not queued (the caller decides), « À faire » refreshed."""
    from at_tui.store.opportunities import OpportunityStore

    store = OpportunityStore(conn, utc_now)
    _paused(conn, lambda: _write(store, conn, visit_id, lifecycle, None, changes, utc_now(), []))


def _lifecycle(conn: sqlite3.Connection, visit_id: str, lifecycle: LifecycleFor | None,
               playbook_id: str | None) -> Lifecycle | None:
    if lifecycle is None:
        return None
    if playbook_id is None:
        row = conn.execute("SELECT playbook_id FROM opportunities WHERE id = ?", (visit_id,)).fetchone()
        playbook_id = row[0] if row else None
    try:
        return lifecycle(playbook_id or "spico")
    except (KeyError, LookupError, ValueError):  # a playbook this laptop does not have
        return None


def _paused(conn: sqlite3.Connection, write: Callable[[], Any]) -> None:
    conn.execute("INSERT INTO sync_pause (reason) VALUES (?)", (PAUSE,))
    try:
        write()
    finally:
        conn.execute("DELETE FROM sync_pause WHERE reason = ?", (PAUSE,))


def _mark_synced(conn: sqlite3.Connection, visit_id: str, entry_ids: Iterable[str]) -> None:
    conn.executemany(
        "INSERT INTO journal_synced (entry_id, visit_id) SELECT id, opportunity_id FROM journal WHERE id = ? "
        "AND opportunity_id = ? ON CONFLICT (entry_id) DO NOTHING",
        [(entry_id, visit_id) for entry_id in entry_ids],
    )


def _set_sync(conn: sqlite3.Connection, visit_id: str, now: str, **values: Any) -> None:
    conn.execute("INSERT OR IGNORE INTO sync_opportunities (visit_id, updated_at) VALUES (?, ?)", (visit_id, now))
    if values:
        assignments = ", ".join(f"{name} = ?" for name in values)
        conn.execute(f"UPDATE sync_opportunities SET {assignments}, updated_at = ? WHERE visit_id = ?",
                     (*values.values(), now, visit_id))


def _queue(conn: sqlite3.Connection, visit_id: str, now: str) -> None:
    conn.execute(
        "INSERT INTO opportunity_outbox (op_id, visit_id, created_at, updated_at) SELECT ?, ?, ?, ? "
        "WHERE NOT EXISTS (SELECT 1 FROM opportunity_outbox WHERE visit_id = ? AND state = 'pending')",
        (str(uuid.uuid4()), visit_id, now, now, visit_id),
    )


def _state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
