"""The opportunity's banner: who, which offer, who leads, its status, its dates and what comes next.

Kept to a few lines: at 80×24 it stays on screen above the scrolling journal and steps, so
the AT always sees where the opportunity stands and what is due (seed 000, steps 4 to 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from at_tui.domain.classification import offer_label
from at_tui.domain.due_dates import parse_day
from at_tui.domain.lifecycle import DATE_LABELS, Lifecycle
from at_tui.domain.opportunity import DueItem, JournalEntry, Opportunity, due_items
from at_tui.domain.visit import format_date
from at_tui.widgets.safe_text import markup

SHORT_LABELS = {"launch_date": "lancement"}  # the banner's dates fit one line at 80 columns


def next_due(opportunity: Opportunity, entries: Iterable[JournalEntry], lifecycle: Lifecycle,
             today: dt.date) -> DueItem | None:
    """The most urgent thing to do: overdue first, then the nearest date, then the next step."""
    items = due_items(opportunity, entries, lifecycle)
    if not items:
        return None
    return min(items, key=lambda i: (i.urgency(today), i.due or ""))


def dates_to_record(opportunity: Opportunity, lifecycle: Lifecycle) -> str:
    """« Ensuite : … » — the activities that fix a date not recorded yet (the end of the deployment
    fixes the follow-ups): what the AT records next when nothing has a due date yet."""
    starts = {a.due.after for a in lifecycle.follow_ups if a.due}
    if all(opportunity.date(start) for start in starts):  # the follow-ups are dated: they say what is due
        return "Rien n'est dû pour l'instant."
    names = [f"« {markup(a.title)} »" + (" (fixe les suivis)" if a.records in starts else "")
             for a in lifecycle.activities if a.records and not opportunity.date(a.records)]
    return f"Ensuite : {', '.join(names)}." if names else "Rien n'est dû pour l'instant."


def due_text(item: DueItem | None, today: dt.date, closed: bool, later: str = "Rien n'est dû pour l'instant.",
             me: str | None = None) -> str:
    """The next due item; who does it is said when it is not this side (`me`: « AT » on a laptop)."""
    if item is None:
        return "Opportunité close : rien n'est dû." if closed else later
    what = f"[b]{markup(item.title)}[/b]"
    who = f", par {markup(item.lead)}" if item.lead != me else ""
    day = parse_day(item.due)
    if day is None:
        return f"À faire : {what} (prochaine étape{who})"
    when = format_date(item.due)
    if day < today:
        return f"À faire : {what} — [b $error]en retard[/] (dû le {when}){who}"
    return f"À faire : {what} — dû le {when}{who}"


def in_charge(opportunity: Opportunity, me: str) -> str:
    """« · CM en charge : claire » once a CM took it; a CM-led one without a CM says it (issue 11 §3),
    with the key that takes it on a CM's laptop (`me`: this laptop's side)."""
    if opportunity.cm_login:
        return f" · CM en charge : {markup(opportunity.cm_login)}"
    if opportunity.lead != "CM":
        return ""
    return " · aucun CM en charge" + (" ([b]m[/b] : la prendre)" if me == "CM" else "")


def banner_text(opportunity: Opportunity, lifecycle: Lifecycle, entries: list[JournalEntry],
                today: dt.date, me: str) -> str:
    o = opportunity
    support = f", {markup(o.support)} en soutien" if o.support else ""
    status = lifecycle.status_label(o.status)
    reason = f" — {markup(o.status_reason)}" if o.status_reason else ""
    dates = " · ".join(
        f"{SHORT_LABELS.get(name, label)} {format_date(o.date(name)) if o.date(name) else '—'}"
        for name, label in DATE_LABELS.items()
    )
    try:
        closed = lifecycle.status(o.status).closed
    except KeyError:
        closed = False
    return (
        f"[b]{markup(o.structure)}[/b] — {markup(o.departement)} · {markup(offer_label(o.offer))} · "
        f"menée par [b]{markup(o.lead)}[/b]{support}\n"
        f"Statut : [b]{markup(status)}[/b]{reason}{in_charge(o, me)}\n"
        f"Dates : {dates}\n"
        + due_text(next_due(o, entries, lifecycle, today), today, closed, dates_to_record(o, lifecycle), me)
    )
