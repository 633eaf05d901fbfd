"""What an import compares with a visit already on this laptop, and how it names the differences.

Re-importing the same visit is harmless, and so is re-importing it after the AT only
moved between its steps: navigation (domain.revisions.NAVIGATION_FIELDS) is not content.
A copy that diverged from the one here is reported alone, naming what differs so the
CM can ask the right question.
"""

from __future__ import annotations

import json
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


# At most this many answer keys are named in a difference.
_NAMED_ANSWERS = 5


def content_differences(existing: VisitContent, incoming: VisitContent) -> list[str]:
    """The French names of what differs in content (navigation and history aside):
    « date, réponses « q:effectif », « notes:presentation » »; empty when the content is the same."""
    from at_tui.domain.revisions import NAVIGATION_FIELDS

    names = [
        _FIELD_NAMES.get(f.name, f.name)
        for f in fields(incoming.visit)
        if f.name not in NAVIGATION_FIELDS and getattr(existing.visit, f.name) != getattr(incoming.visit, f.name)
    ]
    keys = sorted(
        key for key in set(existing.answers) | set(incoming.answers)
        if _json(existing.answers.get(key)) != _json(incoming.answers.get(key))
    )
    if keys:
        shown = ", ".join(f"« {key} »" for key in keys[:_NAMED_ANSWERS]) + (", …" if len(keys) > _NAMED_ANSWERS else "")
        names.append(f"réponse{'s' if len(keys) > 1 else ''} {shown}")
    return names


def differences(existing: VisitContent, incoming: VisitContent) -> list[str]:
    """The French names of what differs: « date, réponse « q:effectif », historique »."""
    from at_tui.domain.revisions import Revision, history_relation

    names = content_differences(existing, incoming)
    if history_relation(existing.history, incoming.history) is not Revision.SAME:
        names.append("historique")
    return names or ["contenu"]


def _json(value: Any) -> str:
    """Answers compared as JSON (true is not 1)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
