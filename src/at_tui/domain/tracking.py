"""One line of the « fichier de suivi des déploiements SPICO » per opportunity (issue 12).

Seed 000: the CMs fill the tracking file (« 3. Classification — Livrable(s) » : « Mise à
jour du fichier de suivi des déploiements SPICO », « 5. Lancement et formation —
Livrable(s) » : « avec une estimation du nombre de comptes qui seront créés ») and the
monthly CM–AT meeting walks through it per zone (« Gouvernance — POINT CM - AT 1x/mois /
zone (Est/Ouest) »). Every file the agency reads (the spreadsheet, the CRM import, the
CM–AT pack, the indicators) is made from these rows, whether read on a laptop or on the
central: one computation, two sources (`store.tracking`, `central.tracking`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from at_tui.domain.classification import offer_label
from at_tui.domain.due_dates import add_months, parse_day
from at_tui.domain.opportunity import STATUS_ACTIVITY, JournalEntry, Opportunity, current_entries

if TYPE_CHECKING:  # pydantic models: not imported at start-up
    from at_tui.domain.lifecycle import Lifecycle
    from at_tui.domain.playbook import Territory

# The Recueil's « Utilisateurs potentiels : une estimation de leur nombre » (seed 000,
# « 3. Classification — Recueil des opportunités offre USE ») and the fiche de cadrage's
# « estimation du nombre de comptes qui seront créés » (« 5. Lancement et formation —
# Livrable(s) »): question ids of the bundled questionnaires.
POTENTIAL_USERS_QUESTION = "utilisateurs_potentiels"
ESTIMATED_ACCOUNTS_QUESTION = "comptes_estimes"
NOTE_ACTIVITY = "note"


@dataclass(frozen=True, slots=True)
class TrackedOpportunity:
    """What the store or the central knows of one opportunity and its visit: the input of every file."""

    opportunity: Opportunity  # structure and département are the visit's
    typologie: str = ""
    finess: str = ""
    commune: str = ""
    contact_name: str = ""
    contact_role: str = ""
    maillage: bool = False
    potential_users: int | None = None  # the Recueil's answer, when a whole number
    journal: tuple[JournalEntry, ...] = ()  # every entry, superseded ones included
    created_at: str = ""  # the opportunity row's (ISO timestamps)
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class FollowUpDates:
    """One follow-up (M+1, M+3, M+6): when it is due and when it was done."""

    label: str  # « M+1 »
    due: dt.date | None
    done: dt.date | None


@dataclass(frozen=True, slots=True)
class TrackingRow:
    opportunity_id: str
    departement: str  # code
    departement_name: str
    zone: str  # the département's sector (« Est » / « Ouest »), "" when unknown
    structure: str
    finess: str
    typologie: str
    crm_name: str  # « [numéro du département][typologie d'acteurs] »
    offer: str
    offer_label: str
    lead: str
    support: str | None
    at_login: str | None
    cm_login: str | None
    status: str
    status_label: str
    status_reason: str | None
    closed: bool
    visit_date: dt.date | None
    cadrage_date: dt.date | None
    launch_date: dt.date | None
    deployment_end: dt.date | None
    follow_ups: tuple[FollowUpDates, ...]
    estimated_accounts: int | None
    potential_users: int | None
    last_activity: str | None  # its CRM title
    last_activity_date: dt.date | None
    contact: str
    created_at: str
    updated_at: str  # the latest of the row's and its journal's changes
    current_journal: tuple[JournalEntry, ...] = field(default=())

    def overdue(self, today: dt.date) -> list[FollowUpDates]:
        """The follow-ups past due and not done on `today` (none once the opportunity is closed)."""
        if self.closed:
            return []
        return [f for f in self.follow_ups if f.due is not None and f.done is None and f.due < today]


def tracking_row(tracked: TrackedOpportunity, lifecycle: Lifecycle, territory: Territory) -> TrackingRow:
    """The tracking file's line of one opportunity: status and offer in words, the dates the
    journal fixed, what each follow-up is due and done, the counts the CMs estimate."""
    opp = tracked.opportunity
    # The AT's first entries are written before her login is known; the central names her.
    current = [replace(e, author=opp.at_login) if e.author is None and e.role == "AT" and opp.at_login else e
               for e in current_entries(tracked.journal)]
    by_activity: dict[str, JournalEntry] = {}
    for entry in current:  # oldest first: the first time each activity was recorded
        by_activity.setdefault(entry.activity, entry)
    activities = {a.id: a for a in lifecycle.activities}
    status_setters = [a.id for a in lifecycle.activities if a.sets_status]
    cadrage = next((by_activity[a] for a in status_setters if a in by_activity), None)
    follow_ups = []
    for activity in lifecycle.follow_ups:
        if activity.due is None:
            continue
        reference = parse_day(opp.date(activity.due.after))
        done = by_activity.get(activity.id)
        follow_ups.append(FollowUpDates(
            f"M+{activity.due.months}",
            add_months(reference, activity.due.months) if reference else None,
            parse_day(done.day) if done else None,
        ))
    last = _last_activity(current)
    departement = _departement(territory, opp.departement)
    status = next((s for s in lifecycle.statuses if s.id == opp.status), None)
    updated = max([tracked.updated_at, *(e.created_at for e in tracked.journal)], default="")
    return TrackingRow(
        opportunity_id=opp.id,
        departement=opp.departement,
        departement_name=departement.name if departement else opp.departement,
        zone=departement.sector if departement else "",
        structure=opp.structure,
        finess=tracked.finess,
        typologie=tracked.typologie,
        crm_name=crm_name(territory, opp.departement, tracked.typologie),
        offer=opp.offer,
        offer_label=offer_label(opp.offer),
        lead=opp.lead,
        support=opp.support,
        at_login=opp.at_login,
        cm_login=opp.cm_login,
        status=opp.status,
        status_label=status.label if status else opp.status,
        status_reason=opp.status_reason,
        closed=bool(status and status.closed),
        visit_date=parse_day(opp.visit_date),
        cadrage_date=parse_day(cadrage.day) if cadrage else None,
        launch_date=parse_day(opp.launch_date),
        deployment_end=parse_day(opp.deployment_end),
        follow_ups=tuple(follow_ups),
        estimated_accounts=_latest_number(current, ESTIMATED_ACCOUNTS_QUESTION),
        potential_users=tracked.potential_users,
        last_activity=(activities[last.activity].title if last.activity in activities else last.title) if last else None,
        last_activity_date=parse_day(last.day) if last else None,
        contact=", ".join(p for p in (tracked.contact_name, tracked.contact_role) if p),
        created_at=tracked.created_at,
        updated_at=updated,
        current_journal=tuple(current),
    )


def tracking_rows(tracked: Sequence[TrackedOpportunity] | Any, lifecycle: Lifecycle, territory: Territory):
    """`tracking_row` over an iterable, lazily (a region's file is written as it is read)."""
    return (tracking_row(t, lifecycle, territory) for t in tracked)


def follow_up_labels(lifecycle: Lifecycle) -> list[str]:
    """« M+1 », « M+3 », « M+6 »: the follow-ups that come due, as the rows label them."""
    return [f"M+{activity.due.months}" for activity in lifecycle.follow_ups if activity.due is not None]


def crm_name(territory: Territory, departement: str, typologie: str) -> str:
    """« [numéro du département][typologie d'acteurs (CH, libéraux, ESMS, CPTS...)] » (seed 000,
    « 3. Classification — Livrable(s) »); the structure's own typology when the territory no
    longer knows it (an old visit still gets a name)."""
    typology = next((t for t in territory.typologies if t.label == typologie), None)
    return f"{departement} {typology.crm_label if typology else typologie}".strip()


def answer_number(value: Any) -> int | None:
    """A stored answer as a whole number (the forms store ints; an import may bring « 12 »)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _latest_number(entries: Sequence[JournalEntry], question: str) -> int | None:
    for entry in reversed(entries):  # the latest form that states it
        number = answer_number(entry.answers.get(question)) if isinstance(entry.answers, Mapping) else None
        if number is not None:
            return number
    return None


def _last_activity(entries: Sequence[JournalEntry]) -> JournalEntry | None:
    """The latest entry that is an activity (a status change is not one the CRM lists)."""
    return next((e for e in reversed(entries) if e.activity != STATUS_ACTIVITY), None)


def _departement(territory: Territory, code: str):
    return next((d for d in territory.departements if d.code == code), None)
