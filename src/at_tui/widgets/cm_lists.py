"""The CM's Accueil lists as rows of a VisitList (at_tui.widgets.visit_list): « À prendre en
charge » and « Mes projets » (issue 11 §3, seed 000 steps 4 to 7).

The rows come from at_tui.store.cm_queue, already in the order the CM works in (the oldest
visit waiting first; the most urgent project first). Only the days waited and the urgency
depend on the day, the app's `today`: tests and snapshots move the clock, not the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from at_tui.domain.due_dates import parse_day
from at_tui.domain.redaction import printable
from at_tui.domain.visit import format_date
from at_tui.widgets.visit_list import Row

if TYPE_CHECKING:
    from at_tui.store.cm_queue import ProjectRow, WaitingRow

# Short words of the offers and statuses (the list is narrow; the opportunity's screen says them whole).
SHORT_OFFERS = {"discussions_simple": "simple", "discussions_complexe": "complexe", "dossiers": "Dossiers"}
SHORT_STATUSES = {"en_attente": "en attente", "projet_en_cours": "en cours", "termine": "terminé",
                  "sans_suite": "sans suite"}
OVERDUE_STYLE = "bold red"  # as « en retard » in « À faire »
NO_DATE = "—"

CELL_PADDING = 2
MARGINS = 2  # the list has one column of margin on each side
MIN_STRUCTURE_WIDTH = 14
MIN_TITLE_WIDTH = 18


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: list[Row]
    widths: list[int]


def days_waiting(visit_date: str | None, today: dt.date) -> int | None:
    """Days since the visit (0 on its day); None without a date."""
    day = parse_day(visit_date)
    return None if day is None else max(0, (today - day).days)


def waiting_table(waiting: Sequence[WaitingRow], today: dt.date, width: int) -> Table:
    """« À prendre en charge »: visite du, attente, structure, département, offre, AT."""
    rows = []
    for line in waiting:
        days = days_waiting(line.visit_date, today)
        cells = (format_date(line.visit_date) if line.visit_date else NO_DATE,
                 NO_DATE if days is None else f"{days} j", _shown(line.structure), _shown(line.departement),
                 SHORT_OFFERS.get(line.offer, _shown(line.offer)), _shown(line.at_login) or NO_DATE)
        rows.append(Row(line.id, cells))
    fixed = [10, 7, 0, 4, 8, 12]
    room = width - MARGINS - sum(fixed) - CELL_PADDING * len(fixed)
    fixed[2] = max(MIN_STRUCTURE_WIDTH, room)
    return Table(("Visite du", "Attente", "Structure", "Dépt", "Offre", "AT"), rows, fixed)


def projects_table(projects: Sequence[ProjectRow], today: dt.date, width: int) -> Table:
    """« Mes projets »: statut, échéance of the first thing due, structure, département, what is due."""
    rows = []
    iso = today.isoformat()
    for line in projects:
        late = line.due is not None and line.due < iso
        cells = (SHORT_STATUSES.get(line.status, _shown(line.status)),
                 format_date(line.due) if line.due else NO_DATE, _shown(line.structure), _shown(line.departement),
                 _shown(line.title) if line.title else "rien de dû")
        rows.append(Row(line.id, cells, ("", OVERDUE_STYLE) if late else ()))
    fixed = [10, 10, 0, 4, 0]
    room = width - MARGINS - sum(fixed) - CELL_PADDING * len(fixed)
    longest_title = max((len(r.cells[4]) for r in rows), default=MIN_TITLE_WIDTH)
    title = max(MIN_TITLE_WIDTH, min(longest_title, room - MIN_STRUCTURE_WIDTH))
    fixed[2] = max(MIN_STRUCTURE_WIDTH, room - title)
    fixed[4] = title
    return Table(("Statut", "Échéance", "Structure", "Dépt", "À faire"), rows, fixed)


def waiting_summary(count: int, zone: str | None) -> str:
    """« 3 opportunités · zone Est »."""
    what = "aucune opportunité" if not count else ("1 opportunité" if count == 1 else f"{count} opportunités")
    return f"{what} · zone : {zone or 'toutes'}"


def projects_summary(count: int, overdue: int) -> str:
    """« 2 projets · 1 en retard »."""
    what = "aucun projet" if not count else ("1 projet" if count == 1 else f"{count} projets")
    return f"{what} · {overdue} en retard" if overdue else what


def _shown(value: object) -> str:
    """A stored value as one line of plain text (it may come from the central or another user)."""
    return printable("" if value is None else str(value))
