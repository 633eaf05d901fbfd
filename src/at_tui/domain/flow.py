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
    part: str = ""  # which part of its step this screen is, short (« Recueil des besoins », « Résultat »)


def visit_flow(playbook: Playbook) -> list[Stop]:
    stops: list[Stop] = []
    for step in playbook.guided_steps:
        if step.kind == "checklist":
            stops.append(Stop(step.id, "checklist", step, step.title))
        else:
            stops.append(Stop(step.id, "questionnaire", step, "Recueil des besoins", "Recueil des besoins"))
            stops.append(Stop(f"{step.id}:resultat", "result", step, "Résultat de la classification", "Résultat"))
            stops.append(Stop(f"{step.id}:livrables", "deliverables", step, "Livrables CRM", "Livrables CRM"))
    return stops


def stop_index(stops: list[Stop], key: str) -> int:
    """Where a stored step key sits; an unknown key (older playbook) restarts at the first stop."""
    for index, stop in enumerate(stops):
        if stop.key == key:
            return index
    return 0


@dataclass(frozen=True, slots=True)
class Position:
    """Where a screen stands in the process: the playbook's step (1 Présentation, 2 Démonstration,
    3 Classification…) out of all its steps, and, for a step shown on several screens (the
    recueil, the result and the deliverables are all step 3), which of them.

    The AT and the slides count steps of the process, not screens: « étape 3 » is the
    classification wherever she is in it (seed 000, the process's numbered steps)."""

    number: int
    total: int
    title: str
    part: str = ""
    part_number: int = 1
    parts: int = 1

    def label(self) -> str:
        """« Étape 3/7 · Classification — Résultat (2/3) »: short enough for 80 columns."""
        text = f"Étape {self.number}/{self.total} · {self.title}"
        if self.parts > 1:
            text += f" — {self.part} ({self.part_number}/{self.parts})"
        return text


def position(playbook: Playbook, stops: list[Stop], index: int) -> Position:
    """The position of `stops[index]` in the process (see Position)."""
    stop = stops[index]
    total = max((s.number for s in playbook.steps), default=stop.step.number)
    siblings = [s for s in stops if s.step.id == stop.step.id]
    return Position(
        number=stop.step.number,
        total=total,
        title=stop.step.title,
        part=stop.part or stop.title,
        part_number=siblings.index(stop) + 1,
        parts=len(siblings),
    )
