"""A visit's own data as JSON text, made by SQLite: the export's visit without what is
computed or history (docs/visit-format.md), and the `content` a sync operation sends.

One definition for both. Built in SQL because a push serializes thousands of visits:
SQLite writes the answers' stored JSON as it is, where Python would parse and
re-serialize every answer.

`current_step` and `updated_at` travel with the content (the visit reopens at its step
on the other laptop) but are navigation, not content: comparing two copies leaves them
out (at_tui.domain.revisions.NAVIGATION_FIELDS), and moving between steps changes
neither `updated_at` nor the outbox (VisitStore.set_step).
"""

from __future__ import annotations

import sqlite3

from at_tui.domain.visit import IDENTITY_FIELDS
from at_tui.store.db import StoreError

# A visit's updated_at is its own or its latest answer's (answers do not touch the visit row).
UPDATED_AT_SQL = (
    "max(visits.updated_at, coalesce((SELECT max(a.updated_at) FROM answers a WHERE a.visit_id = visits.id), ''))"
)


def _identity_sql() -> str:
    pairs = [
        f"'{name}', " + ("json(CASE WHEN visits.maillage THEN 'true' ELSE 'false' END)" if name == "maillage"
                         else f"visits.{name}")
        for name in IDENTITY_FIELDS
    ]
    return "json_object(" + ", ".join(pairs) + ")"


# An expression over a row of `visits`. A JSON value loses its JSON subtype through a
# subquery or CASE, hence the json() around them. Answers sorted by key: two exports of
# the same visit are the same text.
CONTENT_SQL = f"""json_object(
    'id', visits.id,
    'identity', {_identity_sql()},
    'playbook', json_object('id', visits.playbook_id, 'version', visits.playbook_version),
    'questionnaire', json_object('id', visits.questionnaire_id, 'version', visits.questionnaire_version),
    'status', visits.status,
    'current_step', visits.current_step,
    'created_at', visits.created_at,
    'updated_at', {UPDATED_AT_SQL},
    'finished_at', visits.finished_at,
    'answers', json((SELECT json_group_object(key, json(value))
                       FROM (SELECT key, value FROM answers WHERE visit_id = visits.id ORDER BY key))),
    'override', json(CASE WHEN coalesce(visits.override_offer, '') <> ''
                          THEN json_object('offer', visits.override_offer,
                                           'justification', visits.override_justification) END)
)"""


def content_json(conn: sqlite3.Connection, visit_id: str) -> str:
    row = conn.execute(f"SELECT {CONTENT_SQL} FROM visits WHERE id = ?", (visit_id,)).fetchone()
    if row is None:
        raise StoreError(f"Visite {visit_id} introuvable.")
    return row[0]


def known_owner(conn: sqlite3.Connection, visit_id: str) -> str | None:
    """The AT the central knows as the visit's owner, as far as this laptop knows it.

    In order: what the central said (`sync_visits.owner`), what the import file said
    (`visits.owner`), then — for a visit made on this laptop — the login the central
    gave this laptop's own visits (`sync_state` « login »). None when the laptop never
    learnt it: an export then has no `owner`."""
    row = conn.execute(
        """SELECT coalesce(s.owner, v.owner,
                          CASE WHEN v.origin = 'local' THEN (SELECT value FROM sync_state WHERE key = 'login') END)
             FROM visits v LEFT JOIN sync_visits s ON s.visit_id = v.id WHERE v.id = ?""",
        (visit_id,),
    ).fetchone()
    return row[0] if row else None
