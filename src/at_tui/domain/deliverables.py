"""What the AT must record in the agency's CRM after the visit, and who leads next."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from at_tui.domain.answers import format_answer, visible_questions
from at_tui.domain.classification import OFFER_LABELS, Classification, Lead, Offer
from at_tui.domain.facts import Assessment, assess
from at_tui.domain.playbook import ClassificationRules, Playbook, Questionnaire, Territory
from at_tui.domain.territory import find_departement, find_typology, naming_doubt
from at_tui.domain.visit import Visit, format_date, notes_key, questionnaire_answers


@dataclass(frozen=True)
class Outcome:
    """The classification the visit ends with: computed, possibly overridden by the AT."""

    computed: Classification | None
    offer: Offer | None
    lead: Lead
    overridden: bool
    justification: str | None
    # Contradictions and missing answers, the participants count used (`domain.facts`).
    assessment: Assessment = field(default_factory=lambda: Assessment(applies=False))

    @property
    def blocked(self) -> bool:
        """An opportunity, but answers to fix before it can be classified."""
        return self.assessment.blocked

    @property
    def label(self) -> str:
        if self.blocked:
            return "Classification à régler"
        return OFFER_LABELS[self.offer] if self.offer else "Aucune opportunité"


def outcome(
    visit: Visit, questionnaire: Questionnaire, answers: Mapping[str, Any], rules: ClassificationRules | None = None
) -> Outcome:
    assessment = assess(questionnaire, questionnaire_answers(answers), rules)
    computed = assessment.classification
    if visit.override_offer and computed is not None:
        offer = Offer(visit.override_offer)
        lead = Lead.AT if offer is Offer.DISCUSSIONS_SIMPLE else Lead.CM
        return Outcome(computed, offer, lead, True, visit.override_justification, assessment)
    if computed is None:
        return Outcome(None, None, Lead.AT, False, None, assessment)
    return Outcome(computed, computed.offer, computed.lead, False, None, assessment)


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
    # What the AT must check before pasting (a legacy typology's guessed name…), in French.
    warnings: tuple[str, ...] = field(default=())


def opportunity_name(territory: Territory, departement: str, typologie: str) -> str:
    """« [numéro du département][typologie d'acteurs (CH, libéraux, ESMS, CPTS...)] » (seed 000,
    « 3. Classification — Livrable(s) »): the naming typology (`crm_label`), not the structure's
    own (an MSP of the Gers is « 32 libéraux »)."""
    return f"{find_departement(territory, departement).code} {find_typology(territory, typologie).crm_label}"


def compte_rendu(playbook: Playbook, answers: Mapping[str, Any]) -> str:
    """The AT's notes of the checklist steps, in step order."""
    parts = []
    for step in playbook.guided_steps:
        note = answers.get(notes_key(step.id))
        if note:
            parts.append(f"{step.title} : {note}")
    return "\n".join(parts)


# An instruction to the person filling the form, not part of the question the CRM reader needs:
# « (cocher ce qui s'applique) », « (plusieurs réponses possibles) »…
_FORM_INSTRUCTION = re.compile(
    r"\s*\((?:cocher|cochez|plusieurs réponses|une ou plusieurs|une seule réponse|choisir|choisissez)[^()]*\)",
    re.IGNORECASE,
)


def crm_question_label(label: str) -> str:
    """A question's label as the CRM text shows it: without instructions on how to fill the form."""
    return _FORM_INSTRUCTION.sub("", label).strip()


def recueil_text(
    questionnaire: Questionnaire, answers: Mapping[str, Any], maillage: str | None = None,
    derived: Mapping[str, str] | None = None,
) -> str:
    """The « Recueil des opportunités » answers, ready to paste in the opportunity's description.

    `maillage`: the word the seed asks to write in the description of a maillage opportunity
    (seed 001, « Définition du maillage » : préciser « Maillage » dans la description), first.
    Every question that applies is listed, an unanswered one as « non renseigné »: the CM reading
    the CRM sees what was asked and not known (to ask again), where an omitted line would look
    like a question nobody thought of. A multiple choice answered « none apply » reads « Aucune »
    (its exclusive choice, through `format_answer`). `derived`: a criterion left blank that the
    Recueil answers (`domain.facts.Assessment.derived`) reads as what the classification used.
    """
    derived = derived or {}
    by_id = questionnaire_answers(answers)
    lines: list[str] = [maillage, ""] if maillage else []
    lines.append(questionnaire.title)
    section = None
    for question in visible_questions(questionnaire, by_id):
        if question.section != section:
            section = question.section
            lines.append(f"\n{section}")
        label = crm_question_label(question.label)
        value = by_id.get(question.id)
        shown = derived[question.id] if value is None and question.id in derived else format_answer(question, value)
        lines.append(f"- {label} — {shown}")
    return "\n".join(lines)


def build_deliverables(
    visit: Visit,
    playbook: Playbook,
    questionnaire: Questionnaire,
    territory: Territory,
    answers: Mapping[str, Any],
) -> Deliverables:
    result = outcome(visit, questionnaire, answers, playbook.classification)
    crm = playbook.crm
    contact = ", ".join(p for p in (visit.contact_name, visit.contact_role) if p)
    structure = visit.structure
    find_departement(territory, visit.departement)  # a value this laptop no longer accepts: FieldError
    typology = find_typology(territory, visit.typologie)
    maillage = crm.maillage_label if visit.maillage else None
    report = compte_rendu(playbook, answers) or "(compte rendu à compléter)"
    when = f"Visite du {format_date(visit.visit_date)}" + (f" ({maillage})" if maillage else "")
    activity = CrmActivity(
        type=crm.activity_type,
        structure=structure,
        description=f"{when} — {report}",
        service=crm.service,
    )
    opportunity = None
    warnings: tuple[str, ...] = ()
    if result.offer is not None:
        doubt = naming_doubt(territory, typology)
        warnings = (doubt,) if doubt else ()
        description = recueil_text(questionnaire, answers, maillage, result.assessment.derived)
        if result.overridden:
            description += f"\n\nClassification modifiée par l'AT : {result.justification}"
        opportunity = CrmOpportunity(
            name=opportunity_name(territory, visit.departement, visit.typologie),
            structure=structure,
            contact=contact or "(contact à compléter)",
            status=crm.opportunity_status,
            service=result.label,
            description=description,
            maillage=maillage,
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
    return Deliverables(activity, opportunity, result, result.lead, next_steps, warnings)
