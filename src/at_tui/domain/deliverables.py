"""What the AT must record in the agency's CRM after the visit, and who leads next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from at_tui.domain.answers import format_answer, visible_questions
from at_tui.domain.classification import OFFER_LABELS, Classification, Lead, Offer, classify
from at_tui.domain.facts import facts_from_answers
from at_tui.domain.playbook import Playbook, Questionnaire, Territory
from at_tui.domain.territory import find_departement, find_typology
from at_tui.domain.visit import Visit, format_date, notes_key, questionnaire_answers


@dataclass(frozen=True)
class Outcome:
    """The classification the visit ends with: computed, possibly overridden by the AT."""

    computed: Classification | None
    offer: Offer | None
    lead: Lead
    overridden: bool
    justification: str | None

    @property
    def label(self) -> str:
        return OFFER_LABELS[self.offer] if self.offer else "Aucune opportunité"


def outcome(visit: Visit, questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Outcome:
    facts = facts_from_answers(questionnaire, questionnaire_answers(answers))
    computed = classify(facts) if facts is not None else None
    if visit.override_offer and computed is not None:
        offer = Offer(visit.override_offer)
        lead = Lead.AT if offer is Offer.DISCUSSIONS_SIMPLE else Lead.CM
        return Outcome(computed, offer, lead, True, visit.override_justification)
    if computed is None:
        return Outcome(None, None, Lead.AT, False, None)
    return Outcome(computed, computed.offer, computed.lead, False, None)


@dataclass(frozen=True)
class CrmActivity:
    type: str
    structure: str
    description: str
    service: str


@dataclass(frozen=True)
class CrmOpportunity:
    name: str
    structure: str
    contact: str
    status: str
    service: str
    description: str
    maillage: str | None


@dataclass(frozen=True)
class NextStep:
    number: int
    title: str
    lead: Lead
    support: Lead | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Deliverables:
    activity: CrmActivity
    opportunity: CrmOpportunity | None
    outcome: Outcome
    next_lead: Lead
    next_steps: tuple[NextStep, ...] = field(default=())


def compte_rendu(playbook: Playbook, answers: Mapping[str, Any]) -> str:
    """The AT's notes of the checklist steps, in step order."""
    parts = []
    for step in playbook.guided_steps:
        note = answers.get(notes_key(step.id))
        if note:
            parts.append(f"{step.title} : {note}")
    return "\n".join(parts)


def recueil_text(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> str:
    """The « Recueil des opportunités » answers, ready to paste in the opportunity's description."""
    by_id = questionnaire_answers(answers)
    lines: list[str] = [questionnaire.title]
    section = None
    for question in visible_questions(questionnaire, by_id):
        if question.section != section:
            section = question.section
            lines.append(f"\n{section}")
        lines.append(f"- {question.label} — {format_answer(question, by_id.get(question.id))}")
    return "\n".join(lines)


def build_deliverables(
    visit: Visit,
    playbook: Playbook,
    questionnaire: Questionnaire,
    territory: Territory,
    answers: Mapping[str, Any],
) -> Deliverables:
    result = outcome(visit, questionnaire, answers)
    crm = playbook.crm
    contact = ", ".join(p for p in (visit.contact_name, visit.contact_role) if p)
    structure = visit.structure
    departement = find_departement(territory, visit.departement)
    typology = find_typology(territory, visit.typologie)
    report = compte_rendu(playbook, answers) or "(compte rendu à compléter)"
    activity = CrmActivity(
        type=crm.activity_type,
        structure=structure,
        description=f"Visite du {format_date(visit.visit_date)} — {report}",
        service=crm.service,
    )
    opportunity = None
    if result.offer is not None:
        description = recueil_text(questionnaire, answers)
        if result.overridden:
            description += f"\n\nClassification modifiée par l'AT : {result.justification}"
        opportunity = CrmOpportunity(
            name=f"{departement.code} {typology.crm_label}",
            structure=structure,
            contact=contact or "(contact à compléter)",
            status=crm.opportunity_status,
            service=result.label,
            description=description,
            maillage=crm.maillage_label if visit.maillage else None,
        )
    next_steps = tuple(
        NextStep(
            step.number,
            step.title,
            variant.lead,
            variant.support,
            tuple(a.label for a in variant.actions),
        )
        for step in playbook.follow_up_steps
        for variant in [step.variant_for(result.offer)]
    ) if result.offer is not None else ()
    return Deliverables(activity, opportunity, result, result.lead, next_steps)
