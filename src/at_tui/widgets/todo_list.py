"""The Accueil's « À faire » as rows of a VisitList (at_tui.widgets.visit_list), and its counts.

What is due comes from one indexed query (at_tui.store.opportunities.OpportunityStore.due),
already in the order the AT works in: the oldest dates first (overdue ones), then the steps
without a date. Only the urgency group depends on the day, which is the app's `today`, so
tests and snapshots move the clock without touching the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from at_tui.domain.redaction import printable
from at_tui.domain.visit import format_date
from at_tui.widgets.visit_list import Row

if TYPE_CHECKING:
    from at_tui.store.opportunities import DueRow

OVERDUE, THIS_WEEK, LATER, UNDATED = range(4)  # at_tui.domain.opportunity.DueItem.urgency
URGENCY_LABELS = ("en retard", "cette semaine", "à venir", "")
SHORT_URGENCY_LABELS = ("en retard", "cette sem.", "à venir", "")  # narrow screens
COUNT_LABELS = ("en retard", "cette semaine", "à venir", "sans date")
# « en retard » stands out even where colours are poor (bold), and in the theme's red.
URGENCY_STYLES = ("bold red", "bold", "", "")
NO_DATE = "—"

CELL_PADDING = 2
MARGINS = 2  # the list has one column of margin on each side
MIN_STRUCTURE_WIDTH = 14
MIN_TITLE_WIDTH = 18
WIDE = 100  # from this width the urgency is written whole


@dataclass(frozen=True, slots=True)
class TodoTable:
    headers: tuple[str, ...]
    rows: list[Row]
    widths: list[int]
    counts: tuple[int, int, int, int]  # by urgency, over the rows read


def todo_table(due: Sequence[DueRow], today: dt.date, width: int) -> TodoTable:
    """The rows of « À faire » for a screen `width` columns wide: quand, échéance, structure,
    département, what is due (the activity's CRM title) and who leads it (AT/CM)."""
    wide = width >= WIDE
    labels = URGENCY_LABELS if wide else SHORT_URGENCY_LABELS
    counts = [0, 0, 0, 0]
    rows = []
    for line in due:
        urgency = line.item.urgency(today)
        counts[urgency] += 1
        cells = (labels[urgency], format_date(line.item.due) if line.item.due else NO_DATE, _shown(line.structure),
                 _shown(line.departement), _shown(line.item.title), _shown(line.item.lead))
        rows.append(Row(line.item.opportunity_id, cells, (URGENCY_STYLES[urgency],)))
    quand = max(len(label) for label in labels)
    fixed = [quand, 10, 0, 4, 0, 3]
    # The structure first (it says which opportunity), what is due with what is left: the
    # row's hint under the list gives both whole.
    room = width - MARGINS - sum(fixed) - CELL_PADDING * len(fixed)
    longest_structure = max((len(r.cells[2]) for r in rows), default=MIN_STRUCTURE_WIDTH)
    longest_title = max((len(r.cells[4]) for r in rows), default=MIN_TITLE_WIDTH)
    structure = max(MIN_STRUCTURE_WIDTH, min(longest_structure, room - MIN_TITLE_WIDTH))
    title = max(MIN_TITLE_WIDTH, min(longest_title, room - structure))
    fixed[2] = max(structure, room - title)
    fixed[4] = title
    headers = ("Quand", "Échéance", "Structure", "Dépt", "À faire", "Par")
    return TodoTable(headers, rows, fixed, (counts[0], counts[1], counts[2], counts[3]))


def todo_summary(counts: Sequence[int], more: bool = False) -> str:
    """« 1 en retard · 2 à venir · 1 sans date »; `more`: the list read was cut at its limit."""
    parts = [f"{count} {label}" for count, label in zip(counts, COUNT_LABELS) if count]
    text = " · ".join(parts)
    return f"{text} (et d'autres)" if more and text else text


def overdue_text(count: int) -> str:
    """The header's count: « 2 en retard »; "" when none."""
    return f"{count} en retard" if count else ""


def _shown(value: object) -> str:
    """A stored value as one line of plain text (it may come from a file or the central)."""
    return printable("" if value is None else str(value))
