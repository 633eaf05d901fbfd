"""Visits, answers and their edit history in the local database.

Every write is one `BEGIN IMMEDIATE` transaction committed before the call
returns: what the AT typed is on disk when the screen shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.visit import IDENTITY_FIELDS, Visit
from at_tui.store.db import StoreError, immediate

# Consecutive edits of one field within this window are one history entry
# (typing "Toulouse" is one change, not eight).
HISTORY_COALESCE_SECONDS = 120

_VISIT_COLUMNS = (
    "id, structure, departement, typologie, contact_name, contact_role, visit_date, maillage, "
    "playbook_id, playbook_version, questionnaire_id, questionnaire_version, current_step, "
    "status, created_at, updated_at, finished_at, override_offer, override_justification"
)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    field: str
    old_value: Any
    new_value: Any
    at: str


def encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


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

    def list(self, *, oldest_first: bool = False) -> list[Visit]:
        """Last updated first (the Accueil), or by creation then id (an export file, stable)."""
        order = "created_at, id" if oldest_first else "updated_at DESC"
        rows = self.conn.execute(f"SELECT {_VISIT_COLUMNS} FROM visits ORDER BY {order}").fetchall()
        return [_visit(r) for r in rows]

    def answers(self, visit_id: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT key, value FROM answers WHERE visit_id = ?", (visit_id,)
        ).fetchall()
        return {r["key"]: decode(r["value"]) for r in rows}

    def history(self, visit_id: str) -> list[HistoryEntry]:
        rows = self.conn.execute(
            "SELECT field, old_value, new_value, at FROM history WHERE visit_id = ? ORDER BY id",
            (visit_id,),
        ).fetchall()
        return [HistoryEntry(r["field"], decode(r["old_value"]), decode(r["new_value"]), r["at"]) for r in rows]

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
                       questionnaire_version, current_step, status, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'en_cours', ?, ?)""",
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
                ),
            )
            self._log(visit_id, "visite", None, "créée", now)
        return self.require(visit_id)

    def update_identity(self, visit_id: str, field: str, value: Any) -> bool:
        if field not in IDENTITY_FIELDS:
            raise ValueError(field)
        stored = int(bool(value)) if field == "maillage" else value
        with immediate(self.conn):
            row = self.conn.execute(f"SELECT {field} FROM visits WHERE id = ?", (visit_id,)).fetchone()
            if row is None:
                raise StoreError(f"Visite {visit_id} introuvable.")
            old = row[0]
            if old == stored:
                return False
            now = self.clock()
            self.conn.execute(
                f"UPDATE visits SET {field} = ?, updated_at = ? WHERE id = ?", (stored, now, visit_id)
            )
            if field == "maillage":
                old, value = bool(old), bool(value)
            self._log(visit_id, field, old, value, now)
        return True

    def set_answer(self, visit_id: str, key: str, value: Any) -> bool:
        """Store one answer (None removes it). Returns False when nothing changed."""
        with immediate(self.conn):
            row = self.conn.execute(
                "SELECT value FROM answers WHERE visit_id = ? AND key = ?", (visit_id, key)
            ).fetchone()
            old = decode(row["value"]) if row else None
            if old == value:
                return False
            now = self.clock()
            if self.conn.execute(
                "UPDATE visits SET updated_at = ? WHERE id = ?", (now, visit_id)
            ).rowcount != 1:
                raise StoreError(f"Visite {visit_id} introuvable.")
            if value is None:
                self.conn.execute("DELETE FROM answers WHERE visit_id = ? AND key = ?", (visit_id, key))
            else:
                self.conn.execute(
                    "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (visit_id, key) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at",
                    (visit_id, key, encode(value), now),
                )
            self._log(visit_id, key, old, value, now)
        return True

    def set_step(self, visit_id: str, step: str) -> None:
        with immediate(self.conn):
            self.conn.execute(
                "UPDATE visits SET current_step = ?, updated_at = ? WHERE id = ? AND current_step != ?",
                (step, self.clock(), visit_id, step),
            )

    def set_override(self, visit_id: str, offer: str | None, justification: str | None) -> None:
        """Record (or with None, remove) the AT's override of the computed classification."""
        if offer is not None:
            from at_tui.domain.classification import Offer  # lazy: pydantic is not needed at start-up

            if offer not in {o.value for o in Offer}:
                raise StoreError(f"Classification inconnue : « {offer} ».")
            if not (justification or "").strip():
                raise StoreError("Une justification écrite est obligatoire pour modifier la classification.")
        with immediate(self.conn):
            row = self.conn.execute(
                "SELECT override_offer, override_justification FROM visits WHERE id = ?", (visit_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"Visite {visit_id} introuvable.")
            if (row[0], row[1]) == (offer, justification if offer else None):
                return
            now = self.clock()
            self.conn.execute(
                "UPDATE visits SET override_offer = ?, override_justification = ?, updated_at = ? WHERE id = ?",
                (offer, justification if offer else None, now, visit_id),
            )
            self._log(
                visit_id,
                "classification_forcee",
                {"offer": row[0], "justification": row[1]} if row[0] else None,
                {"offer": offer, "justification": justification} if offer else None,
                now,
                coalesce=False,
            )

    def set_status(self, visit_id: str, status: str) -> None:
        with immediate(self.conn):
            row = self.conn.execute("SELECT status FROM visits WHERE id = ?", (visit_id,)).fetchone()
            if row is None:
                raise StoreError(f"Visite {visit_id} introuvable.")
            if row[0] == status:
                return
            now = self.clock()
            self.conn.execute(
                "UPDATE visits SET status = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                (status, now if status == "terminee" else None, now, visit_id),
            )
            self._log(visit_id, "statut", row[0], status, now, coalesce=False)

    def _log(self, visit_id: str, field: str, old: Any, new: Any, now: str, coalesce: bool = True) -> None:
        if coalesce:
            last = self.conn.execute(
                "SELECT id, field, at FROM history WHERE visit_id = ? ORDER BY id DESC LIMIT 1",
                (visit_id,),
            ).fetchone()
            if last is not None and last["field"] == field and _seconds_between(last["at"], now) < HISTORY_COALESCE_SECONDS:
                self.conn.execute(
                    "UPDATE history SET new_value = ?, at = ? WHERE id = ?", (encode(new), now, last["id"])
                )
                return
        self.conn.execute(
            "INSERT INTO history (visit_id, field, old_value, new_value, at) VALUES (?, ?, ?, ?, ?)",
            (visit_id, field, encode(old), encode(new), now),
        )


def _seconds_between(earlier: str, later: str) -> float:
    try:
        return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()
    except ValueError:
        return float("inf")


def _visit(row: sqlite3.Row) -> Visit:
    values = dict(row)
    values["maillage"] = bool(values["maillage"])
    return Visit(**values)
