"""Steps 4 to 7 of the opportunity's variant: actions to tick, resources with their whole
addresses, deliverables, and the journal activities each step records (done or still to do).

All of it is playbook data (`follow_up_steps`, `variant_for`, `lifecycle.activities`): a new
playbook version changes the checklist without code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from textual.widget import Widget
from textual.widgets import Static

from at_tui.domain.classification import Offer
from at_tui.domain.lifecycle import Lifecycle
from at_tui.domain.opportunity import JournalEntry, Opportunity, current_entries, due_items
from at_tui.domain.playbook import Playbook, Step
from at_tui.domain.visit import format_date
from at_tui.widgets.safe_text import markup
from at_tui.widgets.step_info import step_info
from at_tui.widgets.wrapping import WrappingCheckbox


def check_key(step_id: str, action_id: str) -> str:
    """The key of a ticked action in workspace.opportunities.checks."""
    return f"{step_id}:{action_id}"


def _offer(opportunity: Opportunity) -> Offer | None:
    try:
        return Offer(opportunity.offer)
    except ValueError:
        return None


def compose_steps(playbook: Playbook, opportunity: Opportunity, checks: dict[str, bool]) -> Iterator[Widget]:
    for step in playbook.follow_up_steps:
        variant = step.variant_for(_offer(opportunity))
        support = f", {variant.support.value} en soutien" if variant.support else ""
        yield Static(f"{step.number}. {markup(step.title)} — menée par {variant.lead.value}{support}",
                     classes="section-title step-title")
        for action in variant.actions:
            key = check_key(step.id, action.id)
            yield WrappingCheckbox(markup(action.label), value=checks.get(key, False), name=key,
                                   id=f"check-{step.id}-{action.id}", classes="action")
        yield from step_info(variant)
        yield Static(id=f"activities-{step.id}", classes="step-activities")


def activities_text(step: Step, lifecycle: Lifecycle, opportunity: Opportunity, entries: list[JournalEntry],
                    today: dt.date) -> str:
    """The step's journal activities: recorded (on which day), due (when), or to record."""
    done: dict[str, JournalEntry] = {}
    for entry in current_entries(entries):
        done[entry.activity] = entry  # the latest of each
    due = {i.activity: i for i in due_items(opportunity, entries, lifecycle)}
    lines = ["[b]Activités du journal[/b] ([b]r[/b] pour enregistrer)"]
    for activity in (a for a in lifecycle.activities if a.step == step.id):
        title = markup(activity.title)
        if activity.id in done and activity.once:
            lines.append(f"  ✓ {title} — {format_date(done[activity.id].day)}")
        elif activity.id in due and due[activity.id].due:
            item = due[activity.id]
            late = " [b $error]en retard[/]" if item.due < today.isoformat() else ""
            lines.append(f"  ○ {title} — dû le {format_date(item.due)}{late}")
        elif activity.id in done:
            lines.append(f"  ✓ {title} — dernier le {format_date(done[activity.id].day)}")
        else:
            who = {"lead": f" (mené par {opportunity.lead})", "support": f" ({opportunity.support} en soutien)"}
            lines.append(f"  ○ {title}{who.get(activity.by, '')}")
    return "\n".join(lines)
