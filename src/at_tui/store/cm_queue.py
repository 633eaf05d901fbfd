"""The CM's side of the Accueil (issue 11 §3): the opportunities « à prendre en charge » and the
CM's own projects (taking one: OpportunityStore.take_charge).

Seed 000, slides 4 to 7: for « SPICO Discussions complexe » and « SPICO Dossiers » the CM
leads steps 4 to 6 (lead "CM" in the store), and an opportunity waits « en attente » until a
CM takes it. A CM's laptop holds the opportunities of every AT of the region (pulled), so
these reads are one query each on the store, without pydantic: they run at start-up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

CM = "CM"  # the role letters of the domain (at_tui.domain.opportunity.Opportunity.lead)
# The lifecycle's initial and closed statuses (fixtures/playbooks/spico.toml: `[lifecycle]
# initial`, the statuses with `closed = true`): the Accueil does not load the playbook at
# start-up, so their ids are named here. A closed project leaves « Mes projets » (`o` lists it).
WAITING = "en_attente"
CLOSED = ("termine", "sans_suite")


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """One opportunity no CM has taken yet: what the CM reads to choose it."""

    id: str
    structure: str
    departement: str
    offer: str
    at_login: str | None
    visit_date: str | None


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """One project the CM leads, with the first thing due on it (None when nothing is due)."""

    id: str
    structure: str
    departement: str
    offer: str
    status: str
    visit_date: str | None
    due: str | None
    title: str | None


_WAITING_SQL = """FROM opportunities o JOIN visits v ON v.id = o.id
    WHERE o.lead = ? AND o.status = ? AND o.cm_login IS NULL AND v.archived_at IS NULL"""


def waiting(conn: sqlite3.Connection, departements: Collection[str] | None = None,
            limit: int | None = None) -> list[WaitingRow]:
    """Opportunities a CM leads, still « en attente », with no CM in charge: oldest visit first
    (undated last), the first `limit` only when given. `departements`: only these (a zone's);
    None: the whole region."""
    where, params = _in_departements(departements)
    rows = conn.execute(
        f"""SELECT o.id, v.structure, v.departement, o.offer, o.at_login, o.visit_date {_WAITING_SQL}{where}
             ORDER BY o.visit_date IS NULL, o.visit_date, v.structure, o.id LIMIT ?""",
        (CM, WAITING, *params, -1 if limit is None else limit),
    ).fetchall()
    return [WaitingRow(*row) for row in rows]


def waiting_count(conn: sqlite3.Connection, departements: Collection[str] | None = None) -> int:
    """How many `waiting` would list (the title's count when the list read was cut)."""
    where, params = _in_departements(departements)
    return conn.execute(f"SELECT count(*) {_WAITING_SQL}{where}", (CM, WAITING, *params)).fetchone()[0]


def _in_departements(departements: Collection[str] | None) -> tuple[str, list[str]]:
    if departements is None:
        return "", []
    return f" AND v.departement IN ({', '.join('?' * len(departements))})", list(departements)


def my_projects(conn: sqlite3.Connection, login: str | None, limit: int | None = None) -> list[ProjectRow]:
    """The open opportunities this CM leads (lead CM, in charge of `login`), the most urgent
    first: by the date of their first due item (overdue ones are the oldest), then those with
    an undated step, then those with nothing due; the first `limit` only when given; none
    before the first sync (no login)."""
    if not login:
        return []
    rows = conn.execute(
        """SELECT o.id, v.structure, v.departement, o.offer, o.status, o.visit_date, d.due, d.title
             FROM opportunities o JOIN visits v ON v.id = o.id
             LEFT JOIN due_items d ON d.opportunity_id = o.id AND d.activity = (
                  SELECT n.activity FROM due_items n WHERE n.opportunity_id = o.id
                   ORDER BY n.due IS NULL, n.due LIMIT 1)
            WHERE o.lead = ? AND o.cm_login = ? AND o.status NOT IN (?, ?) AND v.archived_at IS NULL
            ORDER BY d.opportunity_id IS NULL, d.due IS NULL, d.due, o.visit_date, v.structure, o.id LIMIT ?""",
        (CM, login, *CLOSED, -1 if limit is None else limit),
    ).fetchall()
    return [ProjectRow(*row) for row in rows]


def my_projects_count(conn: sqlite3.Connection, login: str | None) -> int:
    """How many `my_projects` would list (the title's count when the list read was cut)."""
    if not login:
        return 0
    return conn.execute(
        """SELECT count(*) FROM opportunities o JOIN visits v ON v.id = o.id
            WHERE o.lead = ? AND o.cm_login = ? AND o.status NOT IN (?, ?) AND v.archived_at IS NULL""",
        (CM, login, *CLOSED),
    ).fetchone()[0]


def overdue_count(conn: sqlite3.Connection, login: str | None, today: str) -> int:
    """Items past due on `today` (ISO) on this CM's projects: the header's count on a CM's laptop."""
    if not login:
        return 0
    return conn.execute(
        """SELECT count(*) FROM due_items d JOIN opportunities o ON o.id = d.opportunity_id
            WHERE o.lead = ? AND o.cm_login = ? AND d.due IS NOT NULL AND d.due < ?
              AND d.opportunity_id NOT IN (SELECT id FROM visits WHERE archived_at IS NOT NULL)""",
        (CM, login, today),
    ).fetchone()[0]

