"""Opportunities, their append-only journal and what is due, in the local database (schema v10).

Every change is one `BEGIN IMMEDIATE` transaction: the journal entry, the opportunity
row it changes (status, dates) and its `due_items` are written together or not at all.
The rules are the domain's (at_tui.domain.opportunity); this module only stores them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from at_tui.domain.opportunity import (
    STATUS_ACTIVITY,
    STATUS_TYPE,
    DueItem,
    JournalEntry,
    Opportunity,
    change_status,
    due_items,
    record,
    status_from_followup,
)
from at_tui.store.db import immediate
from at_tui.store.visit_content import UPDATED_AT_SQL

_COLUMNS = (
    "o.id, v.structure, v.departement, o.offer, o.lead, o.support, o.status, o.status_reason, o.at_login, "
    "o.cm_login, o.visit_date, o.launch_date, o.deployment_end"
)
_ENTRY_COLUMNS = "id, opportunity_id, activity, type, title, day, author, role, text, answers, supersedes, created_at"

if TYPE_CHECKING:  # pydantic models: not imported at start-up (the Accueil reads the store only)
    from at_tui.domain.lifecycle import Lifecycle


@dataclass(frozen=True, slots=True)
class DueRow:
    """One line of « À faire »: the item and what the AT reads beside it."""

    item: DueItem
    structure: str
    departement: str
    status: str


class OpportunityStore:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], str]) -> None:
        self.conn = conn
        self.clock = clock

    # -- reading ---------------------------------------------------------------

    def get(self, opportunity_id: str) -> Opportunity | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM opportunities o JOIN visits v ON v.id = o.id WHERE o.id = ?", (opportunity_id,)
        ).fetchone()
        return _opportunity(row) if row else None

    def list(self, status: str | None = None, departement: str | None = None) -> list[Opportunity]:
        """Every opportunity, most recent visit first; filtered by status and département when given."""
        rows = self.conn.execute(
            f"""SELECT {_COLUMNS} FROM opportunities o JOIN visits v ON v.id = o.id
                WHERE (:status IS NULL OR o.status = :status) AND (:dept IS NULL OR v.departement = :dept)
                ORDER BY o.visit_date DESC, v.structure""",
            {"status": status, "dept": departement},
        ).fetchall()
        return [_opportunity(r) for r in rows]

    def journal(self, opportunity_id: str) -> list[JournalEntry]:
        """Every entry, superseded ones included (the domain's `current_entries` reads them)."""
        rows = self.conn.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE opportunity_id = ? ORDER BY day, created_at, id",
            (opportunity_id,),
        ).fetchall()
        return [_entry(r) for r in rows]

    def due(self, limit: int | None = None) -> list[DueRow]:
        """« À faire », most urgent first: dated items by due date (overdue ones are the oldest),
        then the steps without a date. One query on the `due_items_by_date` index, joining nothing."""
        rows = self.conn.execute(
            """SELECT opportunity_id, activity, title, due, lead, structure, departement, status
                 FROM due_items
                WHERE opportunity_id NOT IN (SELECT id FROM visits WHERE archived_at IS NOT NULL)
                ORDER BY due IS NULL, due LIMIT ?""",
            (-1 if limit is None else limit,),
        ).fetchall()
        return [DueRow(DueItem(*r[:5]), r[5], r[6], r[7]) for r in rows]

    def overdue_count(self, today: str) -> int:
        """How many items are past due on `today` (ISO), for the header: one count on the index."""
        return self.conn.execute(
            "SELECT count(*) FROM due_items WHERE (due IS NULL) = 0 AND due < ? "
            "AND opportunity_id NOT IN (SELECT id FROM visits WHERE archived_at IS NOT NULL)", (today,)
        ).fetchone()[0]

    def checks(self, opportunity_id: str) -> dict[str, bool]:
        """The step actions ticked off, by key « step:action »."""
        return {k: bool(v) for k, v in self.conn.execute(
            "SELECT key, done FROM opportunity_checks WHERE opportunity_id = ?", (opportunity_id,))}

    def set_check(self, opportunity_id: str, key: str, done: bool, author: str | None) -> None:
        with immediate(self.conn):
            self.conn.execute(
                "INSERT INTO opportunity_checks (opportunity_id, key, done, author, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (opportunity_id, key) DO UPDATE SET done = excluded.done, author = excluded.author, "
                "updated_at = excluded.updated_at",
                (opportunity_id, key, int(done), author, self.clock()),
            )

    def missing_for_finished_visits(self) -> list[str]:
        """Finished visits without an opportunity yet (opened when an offer is found), except those
        already looked at and unchanged since (answers included)."""
        return [r[0] for r in self.conn.execute(
            f"SELECT visits.id FROM visits LEFT JOIN opportunities o ON o.id = visits.id "
            "LEFT JOIN opportunity_scan s ON s.visit_id = visits.id "
            f"WHERE visits.status = 'terminee' AND o.id IS NULL AND s.visit_updated_at IS NOT {UPDATED_AT_SQL}"
        )]

    def scanned_without_opportunity(self, visit_ids: list[str]) -> None:
        """These finished visits opened none, as they are now: not looked at again until they change."""
        if not visit_ids:
            return
        with immediate(self.conn):
            self.conn.executemany(
                f"INSERT INTO opportunity_scan (visit_id, visit_updated_at) SELECT id, {UPDATED_AT_SQL} FROM visits "
                "WHERE id = ? ON CONFLICT (visit_id) DO UPDATE SET visit_updated_at = excluded.visit_updated_at",
                [(v,) for v in visit_ids],
            )

    # -- writing -----------------------------------------------------------------

    def open(self, opportunity: Opportunity, playbook_id: str, playbook_version: int, lifecycle: Lifecycle,
             information: JournalEntry | None, followup_status: str | None = None) -> Opportunity:
        """Open the opportunity of a finished visit (its first journal entry: the visit's « Information »)."""
        status, reason = status_from_followup(followup_status, lifecycle.initial)
        opportunity = replace(opportunity, status=status, status_reason=reason)
        now = self.clock()
        with immediate(self.conn):
            self.conn.execute(
                """INSERT INTO opportunities (id, playbook_id, playbook_version, offer, lead, support, status,
                       status_reason, at_login, cm_login, visit_date, launch_date, deployment_end, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (opportunity.id, playbook_id, playbook_version, opportunity.offer, opportunity.lead,
                 opportunity.support, status, reason, opportunity.at_login, opportunity.cm_login,
                 opportunity.visit_date, opportunity.launch_date, opportunity.deployment_end, now, now),
            )
            if information is not None:
                self._insert_entry(replace(information, created_at=now))
            self._refresh_due(opportunity, lifecycle)
        return opportunity

    def reclassify(self, opportunity_id: str, offer: str, lead: str, support: str | None, lifecycle: Lifecycle) -> None:
        """A pending opportunity follows its visit's classification when the AT changes it."""
        with immediate(self.conn):
            self.conn.execute(
                "UPDATE opportunities SET offer = ?, lead = ?, support = ?, updated_at = ? "
                "WHERE id = ? AND status = ? AND (offer, lead, support) IS NOT (?, ?, ?)",
                (offer, lead, support, self.clock(), opportunity_id, lifecycle.initial, offer, lead, support),
            )
            current = self.get(opportunity_id)
            if current is not None:
                self._refresh_due(current, lifecycle)

    def add_entry(self, opportunity_id: str, lifecycle: Lifecycle, activity_id: str, day: str, *,
                  author: str | None, role: str | None, text: str = "", answers: Mapping[str, Any] | None = None,
                  supersedes: str | None = None) -> tuple[Opportunity, JournalEntry]:
        """Record an activity: its journal entry, the date it fixes and the status it sets, together."""
        activity = lifecycle.activity(activity_id)
        entry = JournalEntry(
            id=str(uuid.uuid4()), opportunity_id=opportunity_id, activity=activity.id, type=activity.type,
            title=activity.title, day=day, author=author, role=role, text=text, answers=dict(answers or {}),
            supersedes=supersedes, created_at=self.clock(),
        )
        with immediate(self.conn):
            current = self._require(opportunity_id)
            changed = record(current, lifecycle, activity, day)
            self._insert_entry(entry)
            self._save(current, changed)
            self._refresh_due(changed, lifecycle)
        return changed, entry

    def set_status(self, opportunity_id: str, lifecycle: Lifecycle, target: str, reason: str | None, *,
                   author: str | None, role: str | None, day: str) -> Opportunity:
        """Change the status (TransitionError in French when the lifecycle refuses); the journal says so."""
        with immediate(self.conn):
            current = self._require(opportunity_id)
            changed = change_status(current, lifecycle, target, reason)
            label = lifecycle.status_label(target)
            self._insert_entry(JournalEntry(
                id=str(uuid.uuid4()), opportunity_id=opportunity_id, activity=STATUS_ACTIVITY, type=STATUS_TYPE,
                title=f"Statut « {label} »", day=day, author=author, role=role, text=changed.status_reason or "",
                created_at=self.clock(),
            ))
            self._save(current, changed)
            self._refresh_due(changed, lifecycle)
        return changed

    def take_charge(self, opportunity_id: str, login: str, lifecycle: Lifecycle | None) -> Opportunity:
        """A CM takes the opportunity in charge (`cm_login`, the « prise en charge » group): one
        transaction; queued for the central by the outbox trigger (schema v11)."""
        with immediate(self.conn):
            current = self._require(opportunity_id)
            changed = replace(current, cm_login=login)
            self._save(current, changed)
            if lifecycle is not None:
                self._refresh_due(changed, lifecycle)
        return changed

    # -- export / import files (at_tui.exchange) ---------------------------------------

    def exchange_copy(self, opportunity_id: str) -> tuple[dict[str, Any], list[JournalEntry], list[dict[str, Any]]] | None:
        """The opportunity as an export file carries it: its row (playbook followed, created and
        updated times included), every journal entry (superseded ones too), its ticked actions."""
        cursor = self.conn.execute(
            "SELECT id, playbook_id, playbook_version, offer, lead, support, status, status_reason, at_login, "
            "cm_login, visit_date, launch_date, deployment_end, created_at, updated_at FROM opportunities WHERE id = ?",
            (opportunity_id,),
        )
        row = cursor.fetchone()
        if row is None:
            return None
        values = dict(zip([c[0] for c in cursor.description], row, strict=True))
        checks = [
            {"key": key, "done": bool(done), "author": author, "updated_at": updated_at}
            for key, done, author, updated_at in self.conn.execute(
                "SELECT key, done, author, updated_at FROM opportunity_checks WHERE opportunity_id = ? ORDER BY key",
                (opportunity_id,),
            )
        ]
        return values, self.journal(opportunity_id), checks

    def write_imported(self, opportunity_id: str, lifecycle: Lifecycle | None, *, row: Mapping[str, Any] | None = None,
                       changes: Mapping[str, Any] | None = None, updated_at: str | None = None,
                       entries: Iterable[JournalEntry] = (), checks: Iterable[Mapping[str, Any]] = ()) -> None:
        """Write what an import file brings, inside the import's own transaction (no commit here):
        a new opportunity's whole `row`, or the `changes` to the one here; journal entries that are
        not here yet (appended, never an update); ticked actions; then its « À faire » (left as it
        is without a lifecycle: a playbook this laptop does not have). The sync's pull writes
        what the central holds through it too (at_tui.sync.opportunity_outbox)."""
        if row is not None:
            names = list(row)
            self.conn.execute(f"INSERT INTO opportunities ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                              [row[n] for n in names])
        elif changes:
            sets = ", ".join(f"{f} = ?" for f in changes)
            self.conn.execute(f"UPDATE opportunities SET {sets}, updated_at = ? WHERE id = ?",
                              (*changes.values(), updated_at or self.clock(), opportunity_id))
        for entry in entries:
            self._insert_entry(entry)
        self.conn.executemany(
            "INSERT INTO opportunity_checks (opportunity_id, key, done, author, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (opportunity_id, key) DO UPDATE SET done = excluded.done, author = excluded.author, "
            "updated_at = excluded.updated_at",
            [(opportunity_id, c["key"], int(c["done"]), c["author"], c["updated_at"]) for c in checks],
        )
        current = self.get(opportunity_id)
        if current is not None and lifecycle is not None:
            self._refresh_due(current, lifecycle)

    # -- inside a transaction ------------------------------------------------------

    def _require(self, opportunity_id: str) -> Opportunity:
        current = self.get(opportunity_id)
        if current is None:
            raise KeyError(opportunity_id)
        return current

    def _insert_entry(self, entry: JournalEntry) -> None:
        self.conn.execute(
            f"INSERT INTO journal ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.id, entry.opportunity_id, entry.activity, entry.type, entry.title, entry.day, entry.author,
             entry.role, entry.text, json.dumps(dict(entry.answers), ensure_ascii=False), entry.supersedes,
             entry.created_at),
        )

    def _save(self, before: Opportunity, after: Opportunity) -> None:
        fields = ("status", "status_reason", "launch_date", "deployment_end", "cm_login")
        changes = {f: getattr(after, f) for f in fields if getattr(after, f) != getattr(before, f)}
        if changes:
            sets = ", ".join(f"{f} = ?" for f in changes)
            self.conn.execute(f"UPDATE opportunities SET {sets}, updated_at = ? WHERE id = ?",
                              (*changes.values(), self.clock(), after.id))

    def _refresh_due(self, opportunity: Opportunity, lifecycle: Lifecycle) -> None:
        self.conn.execute("DELETE FROM due_items WHERE opportunity_id = ?", (opportunity.id,))
        items = due_items(opportunity, self.journal(opportunity.id), lifecycle)
        self.conn.executemany(
            "INSERT INTO due_items (opportunity_id, activity, title, due, lead, structure, departement, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(i.opportunity_id, i.activity, i.title, i.due, i.lead, opportunity.structure, opportunity.departement,
              opportunity.status) for i in items],
        )


def _opportunity(row) -> Opportunity:
    return Opportunity(*row)


def _entry(row) -> JournalEntry:
    values = list(row)
    values[9] = json.loads(values[9] or "{}")
    return JournalEntry(*values)
