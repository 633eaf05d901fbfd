"""The stops of a visit in the app, derived from the playbook's on-site steps."""

from __future__ import annotations

from dataclasses import dataclass

from at_tui.domain.playbook import Playbook, Step


@dataclass(frozen=True, slots=True)
class Stop:
    key: str  # stored as the visit's current_step
    kind: str  # "checklist", "questionnaire", "result", "deliverables"
    step: Step
    title: str


def visit_flow(playbook: Playbook) -> list[Stop]:
    stops: list[Stop] = []
    for step in playbook.guided_steps:
        if step.kind == "checklist":
            stops.append(Stop(step.id, "checklist", step, step.title))
        else:
            stops.append(Stop(step.id, "questionnaire", step, "Recueil des besoins"))
            stops.append(Stop(f"{step.id}:resultat", "result", step, "Résultat de la classification"))
            stops.append(Stop(f"{step.id}:livrables", "deliverables", step, "Livrables CRM"))
    return stops


def stop_index(stops: list[Stop], key: str) -> int:
    """Where a stored step key sits; an unknown key (older playbook) restarts at the first stop."""
    for index, stop in enumerate(stops):
        if stop.key == key:
            return index
    return 0
