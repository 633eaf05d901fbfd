"""Visits, answers and their edit history in the local database.

Every write is one `BEGIN IMMEDIATE` transaction committed before the call
returns: what the AT typed is on disk when the screen shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from at_tui.domain.visit import IDENTITY_FIELDS, Visit
from at_tui.store.db import StoreError, immediate
from at_tui.store.migrations import HISTORY_MERGE_SECONDS
from at_tui.store.visit_content import UPDATED_AT_SQL

_VISIT_COLUMNS = (
    "id, structure, departement, typologie, contact_name, contact_role, visit_date, maillage, "
    "playbook_id, playbook_version, questionnaire_id, questionnaire_version, current_step, "
    f"status, created_at, {UPDATED_AT_SQL} AS updated_at, finished_at, override_offer, override_justification, "
    "commune, finess"
)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    field: str
    old_value: Any
    new_value: Any
    at: str


# Bytes that JSON never escapes, plus newline and tab (escaped by hand below).
_PLAIN_BYTES = bytes(range(0x20, 0x100)) + b"\n\t"


def encode(value: Any) -> str:
    """JSON text, as json.dumps(ensure_ascii=False) writes it, with fast paths for the
    values saved on every keystroke (json.dumps takes ~60 µs on a long note)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        try:
            plain = not value.encode("utf-8").translate(None, _PLAIN_BYTES)
        except UnicodeEncodeError:  # a lone surrogate: let json.dumps decide
            plain = False
        if plain:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
            return f'"{escaped}"'
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class VisitSummary(NamedTuple):
    id: str
    status: str
    structure: str
    departement: str
    typologie: str
    visit_date: str
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.status == "terminee"


class SummaryPages(Sequence):
    """The Accueil's visits as a sequence whose pages are read on first access. Its length and
    the count in progress are read at once (one count); a page is one query. Made again when
    the visits change (the Accueil's stamp), so it reads as of its making, or of its pages."""

    PAGE = 200
    _COLUMNS = "id, status, structure, departement, typologie, visit_date, updated_at"

    def __init__(self, conn: sqlite3.Connection, archived: bool) -> None:
        self.conn = conn
        self._where = "archived_at IS NOT NULL" if archived else "archived_at IS NULL"
        count, in_progress = conn.execute(
            f"SELECT count(*), total(status <> 'terminee') FROM visits WHERE {self._where}").fetchone()
        self._len, self.in_progress = count, int(in_progress)
        self._pages: dict[int, list[VisitSummary]] = {}
        self._by_id: dict[str, VisitSummary] = {}

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        number, offset = divmod(index, self.PAGE)
        page = self._pages.get(number)
        if page is None:
            page = self._pages[number] = [VisitSummary(*r) for r in self.conn.execute(
                f"SELECT {self._COLUMNS} FROM visits WHERE {self._where} "
                "ORDER BY status = 'terminee', updated_at DESC LIMIT ? OFFSET ?", (self.PAGE, number * self.PAGE))]
            self._by_id.update((v.id, v) for v in page)
        # A visit archived elsewhere since the count (a sync in the background): a blank row
        # until the Accueil's next refresh, rather than a failure while drawing.
        return page[offset] if offset < len(page) else VisitSummary("", "", "", "", "", "", "")

    def by_id(self, visit_id: str) -> VisitSummary | None:
        """A visit of the list, from the pages read (the selected one always is), else read."""
        found = self._by_id.get(visit_id)
        if found is None:
            row = self.conn.execute(f"SELECT {self._COLUMNS} FROM visits WHERE id = ?", (visit_id,)).fetchone()
            found = VisitSummary(*row) if row else None
        return found


class VisitStore:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], str] = utc_now) -> None:
        self.conn = conn
        self.clock = clock

    # -- reading -------------------------------------------------------------

    def get(self, visit_id: str) -> Visit | None:
        row = self.conn.execute(f"SELECT {_VISIT_COLUMNS} FROM visits WHERE id = ?", (visit_id,)).fetchone()
        return _visit(row) if row else None

    def require(self, visit_id: str) -> Visit:
        visit = self.get(visit_id)
        if visit is None:
            raise StoreError(f"Visite {visit_id} introuvable.")
        return visit

    def list(self, *, oldest_first: bool = False, archived: bool | None = None) -> list[Visit]:
        """Last updated first (the Accueil), or by creation then id (an export file, stable).

        `archived`: None for every visit (an export keeps the archived ones), False for those
        the Accueil shows, True for the archived ones only."""
        order = "created_at, id" if oldest_first else "updated_at DESC"
        where = {None: "", False: "WHERE archived_at IS NULL", True: "WHERE archived_at IS NOT NULL"}[archived]
        rows = self.conn.execute(f"SELECT {_VISIT_COLUMNS} FROM visits {where} ORDER BY {order}").fetchall()
        return [_visit(r) for r in rows]

    def summaries(self, *, archived: bool = False) -> SummaryPages:
        """What the Accueil lists, in progress first then last updated first, read a page at a
        time as the list draws it: opening the Accueil costs the same with 40 visits or 40,000."""
        return SummaryPages(self.conn, archived)

    def archived_at(self, visit_id: str) -> str | None:
        """When the AT archived the visit; None when it is shown on the Accueil."""
        row = self.conn.execute("SELECT archived_at FROM visits WHERE id = ?", (visit_id,)).fetchone()
        return row[0] if row else None

    def answers(self, visit_id: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT key, value FROM answers WHERE visit_id = ?", (visit_id,)
        ).fetchall()
        return {r["key"]: decode(r["value"]) for r in rows}

    def history(self, visit_id: str) -> list[HistoryEntry]:
        """Closed entries, then each answer's open edit session, in time order."""
        return history_with_rows(self.conn, visit_id)[1]

    def snapshot(self, kind: str, ref_id: str, version: int) -> dict | None:
        row = self.conn.execute(
            "SELECT content FROM reference_snapshots WHERE kind = ? AND id = ? AND version = ?",
            (kind, ref_id, version),
        ).fetchone()
        return json.loads(row["content"]) if row else None

    # -- writing -------------------------------------------------------------

    def create(
        self,
        identity: Mapping[str, Any],
        *,
        playbook: tuple[str, int, dict],
        questionnaire: tuple[str, int, dict],
        first_step: str,
        visit_id: str | None = None,
    ) -> Visit:
        """Create a visit with a laptop-made UUID; keep the playbook it starts with."""
        missing = [f for f in ("structure", "departement", "typologie", "visit_date") if not identity.get(f)]
        if missing:
            raise StoreError(f"Champs obligatoires manquants : {', '.join(missing)}.")
        visit_id = visit_id or str(uuid.uuid4())
        now = self.clock()
        with immediate(self.conn):
            for kind, (ref_id, version, content) in (("playbook", playbook), ("questionnaire", questionnaire)):
                self.conn.execute(
                    "INSERT OR IGNORE INTO reference_snapshots (kind, id, version, content) VALUES (?, ?, ?, ?)",
                    (kind, ref_id, version, encode(content)),
                )
            self.conn.execute(
                """INSERT INTO visits (id, structure, departement, typologie, contact_name, contact_role,
                       visit_date, maillage, playbook_id, playbook_version, questionnaire_id,
                       questionnaire_version, current_step, status, created_at, updated_at, commune, finess)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'en_cours', ?, ?, ?, ?)""",
                (
                    visit_id,
                    identity["structure"],
                    identity["departement"],
                    identity["typologie"],
                    identity.get("contact_name") or "",
                    identity.get("contact_role") or "",
                    identity["visit_date"],
                    int(bool(identity.get("maillage"))),
                    playbook[0],
                    playbook[1],
                    questionnaire[0],
                    questionnaire[1],
                    first_step,
                    now,
                    now,
                    identity.get("commune") or "",
                    identity.get("finess") or "",
                ),
            )
        return self.require(visit_id)

    # History is written by triggers (migration v3) in the same transaction as each change.

    def update_identity(self, visit_id: str, field: str, value: Any) -> bool:
        if field not in IDENTITY_FIELDS:
            raise ValueError(field)
        stored = int(bool(value)) if field == "maillage" else value
        return self._update_visit(visit_id, f"{field} = ?", (stored,), f"{field} IS NOT ?", (stored,))

    def set_answer(self, visit_id: str, key: str, value: Any) -> bool:
        """Store one answer (None removes it). Returns False when nothing changed."""
        now = self.clock()
        try:
            with immediate(self.conn):
                if value is None:
                    return self._delete_answer(visit_id, key, now)
                changed = self.conn.execute(_SAVE_ANSWER, (visit_id, key, encode(value), now)).rowcount
        except sqlite3.IntegrityError as error:
            raise StoreError(f"Visite {visit_id} introuvable.") from error
        return changed > 0

    def _delete_answer(self, visit_id: str, key: str, now: str) -> bool:
        """Clearing an answer closes its session: « old → nothing » joins the history."""
        session = self.conn.execute(
            "SELECT old_value FROM answer_sessions WHERE visit_id = ? AND key = ?", (visit_id, key)
        ).fetchone()
        row = self.conn.execute(
            "DELETE FROM answers WHERE visit_id = ? AND key = ? RETURNING value, updated_at", (visit_id, key)
        ).fetchone()
        if row is None:
            return False
        value, changed_at = row
        session_old = session[0] if session else value
        if _seconds_between(changed_at, now) >= HISTORY_MERGE_SECONDS:
            if session_old != value:
                self._add_history(visit_id, key, session_old, value, changed_at)
            session_old = value
        self._add_history(visit_id, key, session_old, "null", now)
        self.conn.execute("UPDATE visits SET updated_at = ? WHERE id = ?", (now, visit_id))
        return True

    def _add_history(self, visit_id: str, field: str, old: str, new: str, at: str) -> None:
        self.conn.execute(
            "INSERT INTO history (visit_id, field, old_value, new_value, at) VALUES (?, ?, ?, ?, ?)",
            (visit_id, field, old, new, at),
        )

    def set_step(self, visit_id: str, step: str) -> None:
        """Where the visit reopens. Navigation, not content (domain.revisions.NAVIGATION_FIELDS):
        `updated_at` stays, no history entry (the trigger ignores this column), and no sync
        operation (`sync_pause`, held only inside this transaction): browsing a finished
        visit never makes its next export or push a different one."""
        with immediate(self.conn):
            self.conn.execute("INSERT INTO sync_pause (reason) VALUES ('navigation')")
            self.conn.execute(
                "UPDATE visits SET current_step = ? WHERE id = ? AND current_step != ?", (step, visit_id, step)
            )
            self.conn.execute("DELETE FROM sync_pause WHERE reason = 'navigation'")

    def set_override(self, visit_id: str, offer: str | None, justification: str | None) -> None:
        """Record (or with None, remove) the AT's override of the computed classification."""
        if offer is not None:
            from at_tui.domain.classification import Offer  # lazy: pydantic is not needed at start-up

            if offer not in {o.value for o in Offer}:
                raise StoreError(f"Classification inconnue : « {offer} ».")
            if not (justification or "").strip():
                raise StoreError("Une justification écrite est obligatoire pour modifier la classification.")
        justification = justification if offer else None
        self._update_visit(
            visit_id,
            "override_offer = ?, override_justification = ?",
            (offer, justification),
            "(override_offer IS NOT ? OR override_justification IS NOT ?)",
            (offer, justification),
        )

    def set_status(self, visit_id: str, status: str) -> None:
        self._update_visit(
            visit_id,
            "status = ?, finished_at = CASE WHEN ? = 'terminee' THEN ? END",
            (status, status, self.clock()),
            "status IS NOT ?",
            (status,),
        )

    def set_archived(self, visit_id: str, archived: bool) -> bool:
        """Archive (hide from the Accueil) or restore a visit; nothing is deleted. The AT's
        housekeeping, not the visit's content: `updated_at`, the history and the sync outbox
        are left alone (migration v9). False when it already was in that state."""
        with immediate(self.conn):
            changed = self.conn.execute(
                "UPDATE visits SET archived_at = CASE WHEN ? THEN ? END WHERE id = ? AND (archived_at IS NULL) = ?",
                (archived, self.clock(), visit_id, archived),
            ).rowcount
            if not changed and self.get(visit_id) is None:
                raise StoreError(f"Visite {visit_id} introuvable.")
        return changed > 0

    def _update_visit(self, visit_id: str, assignments: str, values: tuple, differs: str, current: tuple) -> bool:
        """One UPDATE of a visit when something differs; False when nothing changed."""
        with immediate(self.conn):
            changed = self.conn.execute(
                f"UPDATE visits SET {assignments}, updated_at = ? WHERE id = ? AND {differs}",
                (*values, self.clock(), visit_id, *current),
            ).rowcount
            if not changed and self.get(visit_id) is None:
                raise StoreError(f"Visite {visit_id} introuvable.")
        return changed > 0


@contextmanager
def history_paused(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside a write transaction: rows inserted here bring their own history (imports)."""
    conn.execute("INSERT INTO history_pause (reason) VALUES ('import')")
    try:
        yield
    finally:
        conn.execute("DELETE FROM history_pause")


# Insert, or rewrite the row in place (edit sessions are kept by triggers).
_SAVE_ANSWER = """
INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (visit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
WHERE value IS NOT excluded.value
"""


def _seconds_between(earlier: str, later: str) -> float:
    try:
        return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()
    except ValueError:
        return float("inf")


def _visit(row: sqlite3.Row) -> Visit:
    values = dict(row)
    values["maillage"] = bool(values["maillage"])
    return Visit(**values)


def history_with_rows(conn: sqlite3.Connection, visit_id: str) -> tuple[list[int | None], list[HistoryEntry]]:
    """The visit's history (closed entries, then each answer's open edit session, in time
    order), with each entry's `history` row id (None for an open session, which lives in
    `answer_sessions`): an import replacing an older copy keeps the rows it already has."""
    found = conn.execute(
        """SELECT field, old_value, new_value, at, 0 AS open, id FROM history WHERE visit_id = ?
           UNION ALL
           SELECT a.key, s.old_value, a.value, a.updated_at, 1, 0
             FROM answers a JOIN answer_sessions s ON s.visit_id = a.visit_id AND s.key = a.key
            WHERE a.visit_id = ? AND s.old_value IS NOT a.value
           ORDER BY at, open, id""",
        (visit_id, visit_id),
    ).fetchall()
    rows = [None if row[4] else row[5] for row in found]
    return rows, [HistoryEntry(row[0], decode(row[1]), decode(row[2]), row[3]) for row in found]
