"""What a push reads before deciding: the ledger entries and the visits of the whole batch,
read in one query each at the start of its transaction instead of two per operation.

The storages (`sqlite_storage`, `postgres_storage`) read them after taking their write
lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the advisory locks on every op and visit id of
the request, then `FOR UPDATE` on the visits): nothing else can change these rows until the
commit. Only the push itself can: an operation that writes a visit or a ledger entry marks
it « written », and a later operation of the same push on that visit or op id reads it again
from the database (`read_entry`, `read_visit`), so it sees the operations before it, exactly
as when every operation read its own rows.
"""

from __future__ import annotations

from collections.abc import Callable

from at_tui.central.storage import CentralVisit, Decision, LedgerEntry


class PushReads:
    """The batch's rows as read at the start, and which of them the push has written since."""

    def __init__(
        self,
        entries: dict[str, LedgerEntry],
        visits: dict[str, CentralVisit],
        read_entry: Callable[[str], LedgerEntry | None],
        read_visit: Callable[[str], CentralVisit | None],
    ) -> None:
        self.entries = entries
        self.visits = visits
        self.read_entry = read_entry
        self.read_visit = read_visit
        self.written_ops: set[str] = set()
        self.written_visits: set[str] = set()

    def entry(self, op_id: str) -> LedgerEntry | None:
        return self.read_entry(op_id) if op_id in self.written_ops else self.entries.get(op_id)

    def visit(self, visit_id: str) -> CentralVisit | None:
        return self.read_visit(visit_id) if visit_id in self.written_visits else self.visits.get(visit_id)

    def needs_reading(self, op_id: str, visit_id: str) -> bool:
        """The operation's rows were written by an earlier operation of this push."""
        return op_id in self.written_ops or visit_id in self.written_visits

    def wrote(self, decision: Decision) -> None:
        """Mark what a decision writes: later operations read it again."""
        if decision.write is not None:
            self.written_visits.add(decision.write.id)
        if decision.opportunity is not None:
            self.written_visits.add(decision.opportunity.visit_id)
        if decision.ledger is not None:
            self.written_ops.add(decision.ledger.op_id)
