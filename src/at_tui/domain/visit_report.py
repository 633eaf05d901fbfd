"""The compte rendu of one visit, as data (issue 12 §3): what a person reads after the visit.

Pure: it takes what the visit holds (identity, checklist flags and notes, Recueil answers,
the deliverables and their classification, the opportunity and its journal) and says it in
French sentences; `documents.visit_report` lays it out in Markdown and HTML. Every text that
came from a person or a file goes through `printable` here, once, so no renderer can forget.
The Recueil reuses the deliverables' reading of the answers (`crm_question_label`,
`format_answer`, the derived criteria): the report and the CRM description never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.answers import format_answer, visible_questions
from at_tui.domain.classification import Lead
from at_tui.domain.deliverables import Deliverables, crm_question_label
from at_tui.domain.due_dates import parse_day
from at_tui.domain.lifecycle import Lifecycle
from at_tui.domain.opportunity import JournalEntry, Opportunity, due_items
from at_tui.domain.playbook import Playbook, Questionnaire, Territory
from at_tui.domain.redaction import printable
from at_tui.domain.territory import find_departement
from at_tui.domain.text import FieldError
from at_tui.domain.visit import Visit, check_key, format_date, notes_key, questionnaire_answers

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
LEADS = {Lead.AT.value: "l'animateur territorial (AT)", Lead.CM.value: "le chargé de mission (CM)"}


def long_date(iso: object) -> str:
    """« 5 décembre 2026 » (« 1er » for the first of a month); JJ/MM/AAAA rules when unreadable."""
    day = parse_day(iso)
    if day is None:
        return format_date(iso)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def lead_text(lead: str, support: str | None = None) -> str:
    """« menée par le chargé de mission (CM), avec l'animateur territorial (AT) en soutien »."""
    text = f"menée par {LEADS.get(lead, printable(lead))}"
    return text + (f", avec {LEADS.get(support, printable(support))} en soutien" if support else "")


@dataclass(frozen=True)
class Presented:
    """One on-site step: the actions the AT ticked, and her notes of the exchange."""

    number: int
    title: str
    done: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class Answered:
    section: str
    question: str
    answer: str
    long: bool  # a text of several lines, laid out as a paragraph


@dataclass(frozen=True)
class ClassificationPart:
    applies: bool  # an opportunity was detected
    label: str  # the offer retained, or « Classification à régler »
    lead: str  # « menée par … »
    computed: str | None  # the computed offer when the AT retained another
    reasons: tuple[str, ...]
    simple_because: str  # why it is simple, when it is
    participants: str
    checked: tuple[str, ...]  # hints the AT settled
    justification: str | None  # the AT's, when she overrode the computed offer
    pending: tuple[str, ...]  # what stops the classification: contradictions, missing answers, checks


@dataclass(frozen=True)
class FollowStep:
    number: int
    title: str
    lead: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class DueLine:
    title: str
    due: str  # JJ/MM/AAAA, or « à planifier »
    lead: str
    overdue: bool


@dataclass(frozen=True)
class VisitReport:
    structure: str
    place: str  # « Lectoure, 32 — Gers »
    typologie: str
    finess: str
    date: str  # « 5 décembre 2026 »
    day: dt.date | None
    maillage: bool
    participants: tuple[str, ...]
    presented: tuple[Presented, ...]
    recueil_title: str
    recueil: tuple[Answered, ...]
    unanswered: tuple[str, ...]
    classification: ClassificationPart
    next_lead: str
    status: str  # the opportunity's status, « » when none is open
    cm: str
    due: tuple[DueLine, ...]
    next_steps: tuple[FollowStep, ...]


def build_report(
    visit: Visit,
    playbook: Playbook,
    questionnaire: Questionnaire,
    territory: Territory,
    answers: Mapping[str, Any],
    deliverables: Deliverables,
    *,
    today: dt.date,
    at_login: str | None = None,
    opportunity: Opportunity | None = None,
    journal: Iterable[JournalEntry] = (),
    lifecycle: Lifecycle | None = None,
) -> VisitReport:
    """The compte rendu of `visit`; `opportunity`, `journal`, `lifecycle`: what follows it, when opened."""
    due: tuple[DueLine, ...] = ()
    status = cm = ""
    if opportunity is not None and lifecycle is not None:
        status = printable(lifecycle.status_label(opportunity.status))
        cm = printable(opportunity.cm_login or "")
        due = tuple(_due_line(item.title, item.due, item.lead, today)
                    for item in due_items(opportunity, journal, lifecycle))
    recueil, unanswered = _recueil(questionnaire, answers, deliverables.outcome.assessment.derived)
    return VisitReport(
        structure=printable(visit.structure),
        place=_place(territory, visit),
        typologie=printable(visit.typologie),
        finess=printable(visit.finess),
        date=long_date(visit.visit_date),
        day=parse_day(visit.visit_date),
        maillage=visit.maillage,
        participants=_participants(visit, at_login or (opportunity.at_login if opportunity else None)),
        presented=_presented(playbook, answers),
        recueil_title=printable(questionnaire.title),
        recueil=recueil,
        unanswered=unanswered,
        classification=_classification(deliverables, playbook),
        next_lead=LEADS[deliverables.next_lead.value],
        status=status,
        cm=cm,
        due=due,
        next_steps=tuple(
            FollowStep(step.number, printable(step.title),
                       lead_text(step.lead.value, step.support.value if step.support else None),
                       tuple(printable(a) for a in step.actions))
            for step in deliverables.next_steps
        ),
    )


def _place(territory: Territory, visit: Visit) -> str:
    try:
        departement = find_departement(territory, visit.departement)
        where = f"{departement.code} — {departement.name}"
    except FieldError:  # a value this laptop no longer knows: as it was stored
        where = printable(visit.departement)
    return ", ".join(p for p in (printable(visit.commune), where) if p)


def _participants(visit: Visit, at_login: str | None) -> tuple[str, ...]:
    contact = ", ".join(p for p in (printable(visit.contact_name), printable(visit.contact_role)) if p)
    people = [f"{contact} ({printable(visit.structure)})"] if contact else []
    at = printable(at_login or "")
    people.append(f"{at}, animateur territorial (AT)" if at else "L'animateur territorial (AT)")
    return tuple(people)


def _presented(playbook: Playbook, answers: Mapping[str, Any]) -> tuple[Presented, ...]:
    """The checklist steps (presentation, demonstration): what was ticked and noted, in order."""
    shown = []
    for step in playbook.guided_steps:
        if step.kind != "checklist":
            continue
        variant = step.variant_for(None)
        done = tuple(printable(a.label) for a in variant.actions if answers.get(check_key(step.id, a.id)))
        note = answers.get(notes_key(step.id))
        notes = printable(note, multiline=True).strip() if isinstance(note, str) else ""
        if done or notes:
            shown.append(Presented(step.number, printable(step.title), done, notes))
    return tuple(shown)


def _recueil(
    questionnaire: Questionnaire, answers: Mapping[str, Any], derived: Mapping[str, str]
) -> tuple[tuple[Answered, ...], tuple[str, ...]]:
    """Each question that applies and was answered (or whose answer the classification derived),
    as `deliverables.recueil_text` reads it; the questions left unanswered, by label."""
    by_id = questionnaire_answers(answers)
    answered: list[Answered] = []
    unanswered: list[str] = []
    for question in visible_questions(questionnaire, by_id):
        label = printable(crm_question_label(question.label))
        value = by_id.get(question.id)
        if value is None and question.id not in derived:
            unanswered.append(label)
            continue
        text = derived[question.id] if value is None else format_answer(question, value)
        multiline = question.type == "long_text" and "\n" in str(text).strip()
        answered.append(Answered(printable(question.section), label,
                                 printable(str(text), multiline=multiline).strip(), multiline))
    return tuple(answered), tuple(unanswered)


def _classification(deliverables: Deliverables, playbook: Playbook) -> ClassificationPart:
    outcome = deliverables.outcome
    assessment = outcome.assessment
    computed = outcome.computed
    pending = (
        *(printable(c.sentence) for c in assessment.contradictions),
        *(f"« {printable(m.label)} » : {printable(m.why)}." for m in assessment.missing),
        *(printable(c.text) for c in assessment.checks if not c.settled),
    )
    simple = ""
    if computed is not None and not computed.reasons:
        limit = playbook.classification.participants_limit
        simple = (f"Messagerie instantanée uniquement, moins de {limit} personnes, sans paramétrage, sans demande "
                  "complexe ni portée stratégique : projet « simple ».")
    return ClassificationPart(
        applies=assessment.applies,
        label=outcome.label,
        lead=lead_text(outcome.lead.value) if outcome.offer is not None else "",
        computed=computed.label if computed is not None and outcome.overridden else None,
        reasons=tuple(printable(r) for r in computed.reasons) if computed is not None else (),
        simple_because=simple,
        participants=printable(assessment.participants),
        checked=tuple(printable(c.text) for c in assessment.checks if c.settled),
        justification=printable(outcome.justification or "", multiline=True).strip() if outcome.overridden else None,
        pending=pending if outcome.blocked else (),
    )


def _due_line(title: str, due: str | None, lead: str, today: dt.date) -> DueLine:
    day = parse_day(due)
    return DueLine(printable(title), format_date(due) if due else "à planifier", LEADS.get(lead, printable(lead)),
                   day is not None and day < today)
