"""One opportunity per visit that detected one, and its journal (seed 000, steps 4 to 7).

The journal is append-only: a correction is a new entry that supersedes an older one,
never an overwrite, so entries written on both sides (the AT's laptop, the CM's) merge
without conflict. What is due (M+1, M+3, M+6 after the end of the deployment, the next
step of a pending opportunity) is computed here from the playbook's lifecycle data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from at_tui.domain.due_dates import add_months, parse_day, week_end

# The journal entry a status change leaves: not an activity of the playbook, the app's own.
STATUS_ACTIVITY = "statut"
STATUS_TYPE = "Statut"

if TYPE_CHECKING:  # pydantic models: not imported at start-up (the Accueil reads the store only)
    from at_tui.domain.lifecycle import Activity, Lifecycle


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str  # the visit's id: one opportunity per visit
    structure: str
    departement: str
    offer: str  # classification.Offer value
    lead: str  # "AT" / "CM"
    support: str | None
    status: str
    status_reason: str | None = None
    at_login: str | None = None
    cm_login: str | None = None
    visit_date: str | None = None
    launch_date: str | None = None
    deployment_end: str | None = None

    def date(self, name: str) -> str | None:
        return getattr(self, name, None)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: str
    opportunity_id: str
    activity: str  # a lifecycle activity id ("note" for a free note)
    type: str
    title: str
    day: str  # ISO date the activity took place (local calendar date)
    author: str | None
    role: str | None  # "AT" / "CM": the side that wrote it
    text: str = ""
    answers: Mapping[str, Any] = field(default_factory=dict)
    supersedes: str | None = None
    created_at: str = ""


def current_entries(entries: Iterable[JournalEntry]) -> list[JournalEntry]:
    """The journal as it reads now: an entry superseded by a later one is left out (kept in the store)."""
    entries = list(entries)
    replaced = {e.supersedes for e in entries if e.supersedes}
    return sorted((e for e in entries if e.id not in replaced), key=lambda e: (e.day, e.created_at, e.id))


def done_activities(entries: Iterable[JournalEntry]) -> set[str]:
    return {e.activity for e in current_entries(entries)}


@dataclass(frozen=True, slots=True)
class DueItem:
    """One thing to do for an opportunity: a follow-up with its due date, or the next step (no date)."""

    opportunity_id: str
    activity: str
    title: str
    due: str | None  # ISO date; None for a step the slides give no deadline
    lead: str

    def urgency(self, today: dt.date) -> int:
        """0 overdue, 1 due this week, 2 later, 3 no date: the order of « À faire »."""
        day = parse_day(self.due)
        if day is None:
            return 3
        if day < today:
            return 0
        return 1 if day <= week_end(today) else 2


def due_items(opportunity: Opportunity, entries: Iterable[JournalEntry], lifecycle: Lifecycle) -> list[DueItem]:
    """What is still to do for an open opportunity: each follow-up not done (due once its
    reference date is recorded), and the first activity of the next step that sets a status."""
    status = _status(lifecycle, opportunity.status)
    if status is None or status.closed:
        return []
    done = done_activities(entries)
    items: list[DueItem] = []
    for activity in lifecycle.follow_ups:
        if activity.id in done or activity.due is None:
            continue
        reference = parse_day(opportunity.date(activity.due.after))
        if reference is not None:
            due = add_months(reference, activity.due.months).isoformat()
            items.append(DueItem(opportunity.id, activity.id, activity.title, due, _who(opportunity, activity)))
    step = next((a for a in lifecycle.activities if a.sets_status and a.sets_status in status.next
                 and a.id not in done), None)
    if step is not None:
        items.append(DueItem(opportunity.id, step.id, step.title, None, _who(opportunity, step)))
    return items


class TransitionError(ValueError):
    """A status change the lifecycle does not allow, said in French."""


def change_status(opportunity: Opportunity, lifecycle: Lifecycle, target: str, reason: str | None) -> Opportunity:
    """The opportunity in `target` status, when the lifecycle allows it from where it is."""
    current = lifecycle.status(opportunity.status)
    wanted = _status(lifecycle, target)
    if wanted is None:
        raise TransitionError(f"Statut « {target} » inconnu.")
    if target not in current.next:
        allowed = ", ".join(f"« {lifecycle.status_label(s)} »" for s in current.next) or "aucun"
        raise TransitionError(
            f"Une opportunité « {current.label} » ne peut pas passer à « {wanted.label} » (possible : {allowed})."
        )
    if wanted.reason_required and not (reason or "").strip():
        raise TransitionError(f"Indiquez pourquoi l'opportunité passe à « {wanted.label} ».")
    return _replace(opportunity, status=target, status_reason=(reason or None) if wanted.reason_required else None)


def record(opportunity: Opportunity, lifecycle: Lifecycle, activity: Activity, day: str) -> Opportunity:
    """The opportunity once `activity` is recorded on `day`: the date it fixes, the status it sets."""
    changed = opportunity
    if activity.records is not None:
        changed = _replace(changed, **{activity.records: day})
    if activity.sets_status and activity.sets_status != changed.status:
        current = lifecycle.status(changed.status)
        if activity.sets_status in current.next:
            changed = _replace(changed, status=activity.sets_status, status_reason=None)
    return changed


def proposed_status(activity: Activity, answers: Mapping[str, Any]) -> str | None:
    """The status the activity's form proposes (« usages en run » at M+6 → « terminé »), for the lead to confirm."""
    proposal = activity.proposes
    if proposal is not None and answers.get(proposal.question) == proposal.equals:
        return proposal.status
    return None


def may_record(activity: Activity, opportunity: Opportunity, role: str) -> bool:
    """Whether the AT or the CM records this activity: the lead's, the support's, or either side's."""
    if activity.by == "any":
        return True
    side = opportunity.lead if activity.by == "lead" else opportunity.support
    return side == role


def _who(opportunity: Opportunity, activity: Activity) -> str:
    if activity.by == "support" and opportunity.support:
        return opportunity.support
    return opportunity.lead


def _status(lifecycle: Lifecycle, status_id: str):
    try:
        return lifecycle.status(status_id)
    except KeyError:
        return None


def _replace(opportunity: Opportunity, **changes) -> Opportunity:
    from dataclasses import replace

    return replace(opportunity, **changes)


# The CM follow-up statuses of the earlier central (at_tui.central.models.FOLLOWUP_STATUSES)
# on the seed's statuses, with the reason a close carries (docs/opportunities.md).
FOLLOWUP_STATUSES: dict[str, tuple[str, str | None]] = {
    "a_traiter": ("en_attente", None),
    "en_cours": ("projet_en_cours", None),
    "gagnee": ("projet_en_cours", None),  # won: the deployment is decided, not yet done
    "perdue": ("sans_suite", "Opportunité perdue (suivi du chargé de mission)."),
    "sans_suite": ("sans_suite", "Sans suite (suivi du chargé de mission)."),
}


def status_from_followup(followup_status: str | None, initial: str) -> tuple[str, str | None]:
    """Where an opportunity starts: the CM's earlier follow-up mapped on the seed's statuses, else `initial`."""
    return FOLLOWUP_STATUSES.get(followup_status or "", (initial, None))
