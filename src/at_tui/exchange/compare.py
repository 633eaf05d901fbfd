"""What an import compares with a visit already on this laptop, and how it names the differences.

Re-importing the same visit is harmless; a visit present with another content
refuses the import, naming what differs so the CM can ask the right question.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.domain.visit import Visit
    from at_tui.store.visits import HistoryEntry, VisitStore


@dataclass(frozen=True)
class VisitContent:
    """A visit with its answers and its edit history, as they are (or would be) stored."""

    visit: Visit
    answers: dict[str, Any]
    history: list[HistoryEntry]


def stored_content(store: VisitStore, visit_id: str) -> VisitContent | None:
    visit = store.get(visit_id)
    if visit is None:
        return None
    return VisitContent(visit, store.answers(visit_id), store.history(visit_id))


_FIELD_NAMES = {
    "structure": "structure",
    "departement": "département",
    "typologie": "typologie",
    "contact_name": "contact",
    "contact_role": "fonction du contact",
    "visit_date": "date",
    "maillage": "maillage",
    "playbook_id": "processus",
    "playbook_version": "version du processus",
    "questionnaire_id": "questionnaire",
    "questionnaire_version": "version du questionnaire",
    "current_step": "étape en cours",
    "status": "statut",
    "created_at": "création",
    "updated_at": "dernière modification",
    "finished_at": "fin",
    "override_offer": "classification forcée",
    "override_justification": "justification",
}


def differences(existing: VisitContent, incoming: VisitContent) -> list[str]:
    """The French names of what differs: « date, réponses »."""
    names = [
        _FIELD_NAMES.get(f.name, f.name)
        for f in fields(incoming.visit)
        if getattr(existing.visit, f.name) != getattr(incoming.visit, f.name)
    ]
    if existing.answers != incoming.answers:
        names.append("réponses")
    if existing.history != incoming.history:
        names.append("historique")
    return names or ["contenu"]
