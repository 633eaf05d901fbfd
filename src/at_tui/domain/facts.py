"""From what the AT recorded to the classification's facts, traced answer by answer.

Seed 000, « Spécificité SPICO Discussions » and « Voici ce qui définit un projet SPICO
Discussions « complexe » »: the rule needs facts the Recueil often states already (the
wanted features say whether the project is messaging only, Télé-expertise is a request
for « avis ou télé-expertise »). Which answer feeds which criterion is data in the
questionnaire (`Question.fact`, `Choice.feeds`, `Choice.asks`), so a new questionnaire
version changes the mapping without code.

No silent precedence: when two answers disagree (messaging only = Oui, but document
sharing wanted), the assessment reports the contradiction and classifies nothing until
the AT fixes one of them. A criterion question left unanswered is not "none" when the
questionnaire offers an explicit « Aucune »: the assessment says it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from at_tui.domain.answers import Answer, format_answer, missing_required, visible_questions
from at_tui.domain.classification import Classification, ClassificationFacts, classify
from at_tui.domain.playbook import ClassificationRules, Question, Questionnaire

BOOLEAN_FACTS = ("needs_dossiers", "messaging_only")
SET_FACTS = ("parametrization", "complex_requests", "strategic")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One answer, as the AT reads it: « Question ? » : Réponse."""

    question_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two answers that cannot both be true; the AT fixes one of them."""

    stated: Evidence  # the criterion question's own answer
    implied: Evidence  # the Recueil answer that says otherwise
    meaning: str  # what the Recueil answer means for the criterion

    @property
    def question_ids(self) -> tuple[str, str]:
        return (self.stated.question_id, self.implied.question_id)

    @property
    def sentence(self) -> str:
        return f"{self.stated.text}, mais {self.implied.text} ({self.meaning})."


@dataclass(frozen=True, slots=True)
class Missing:
    """A criterion question the classification needs, still unanswered."""

    question_id: str
    label: str
    why: str


@dataclass(frozen=True, slots=True)
class Check:
    """A hint from the Recueil that a criterion question settles (« formulaire spécifique ? »)."""

    question_id: str  # the criterion question that answers it
    text: str
    settled: bool


@dataclass(frozen=True)
class Assessment:
    """Everything the classification screen shows before (and with) the result."""

    applies: bool  # an opportunity was detected and the questionnaire classifies
    contradictions: tuple[Contradiction, ...] = ()
    missing: tuple[Missing, ...] = ()
    checks: tuple[Check, ...] = ()
    participants: str = ""  # which number was used, and how
    # Criterion questions left blank whose answer the Recueil gave: question id → how it reads.
    derived: Mapping[str, str] = field(default_factory=dict)
    facts: ClassificationFacts | None = None
    classification: Classification | None = None

    @property
    def blocked(self) -> bool:
        """An opportunity to classify, but answers to fix or complete first."""
        return self.applies and self.classification is None

    @property
    def problem_question_ids(self) -> tuple[str, ...]:
        """The questions the AT must look at, in the order they are reported."""
        ids: list[str] = []
        for contradiction in self.contradictions:
            ids.extend(contradiction.question_ids)
        ids.extend(m.question_id for m in self.missing)
        ids.extend(c.question_id for c in self.checks if not c.settled)
        return tuple(dict.fromkeys(ids))


def evidence(question: Question, value: Answer, choice: str | None = None) -> Evidence:
    shown = question.choice_label(choice) if choice is not None else format_answer(question, value)
    return Evidence(question.id, f"«\u00a0{question.label}\u00a0» : {shown}")


def assess(
    questionnaire: Questionnaire, answers: Mapping[str, Answer], rules: ClassificationRules | None = None
) -> Assessment:
    """The facts, contradictions and missing answers of a visit's Recueil (answers by question id).

    Only visible questions count: when no opportunity was detected, the classification
    questions are hidden and nothing is classified.
    """
    rules = rules or ClassificationRules()
    if not questionnaire.classifies:
        return Assessment(applies=False)
    visible = visible_questions(questionnaire, answers)
    if not any(q.fact for q in visible):
        return Assessment(applies=False)
    stated = {q.fact: q for q in visible if q.fact and q.fact != "participants"}
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    contradictions: list[Contradiction] = []
    derived: dict[str, str] = {}
    missing: list[Missing] = []
    checks: list[Check] = []

    implied, asked = _implied(visible, answers)

    for fact in BOOLEAN_FACTS:
        question = stated.get(fact)
        value = answers.get(question.id) if question else None
        hints = implied.get(fact, [])
        if value is not None:
            values[fact] = value
            sources[fact] = evidence(question, value).text
            contradictions += [
                Contradiction(evidence(question, value), hint, _meaning(fact, hinted))
                for hinted, hint in hints if hinted != value
            ]
            agreeing = [hint.text for hinted, hint in hints if hinted == value]
            if agreeing:
                sources[fact] = " ; ".join([sources[fact], *agreeing])
        elif hints:
            values[fact] = hints[0][0]
            sources[fact] = " ; ".join(hint.text for _, hint in hints)
            if question is not None:
                derived[question.id] = _derived(format_answer(question, hints[0][0]), hints)
        elif question is not None:
            missing.append(Missing(question.id, question.label, "réponse obligatoire pour classer le projet"))

    for fact in SET_FACTS:
        question = stated.get(fact)
        if question is None:
            continue
        raw = answers.get(question.id)
        chosen = {v for v in _ticked(raw) if question.none_choice is None or v != question.none_choice.value}
        hints = implied.get(fact, [])
        for member in chosen:
            sources[member] = evidence(question, None, member).text
        if raw is None and question.none_choice is not None and not hints:
            missing.append(Missing(
                question.id, question.label,
                f"sans réponse (ce n'est pas «\u00a0{question.none_choice.label}\u00a0» : cochez ce qui s'applique, "
                f"ou «\u00a0{question.none_choice.label}\u00a0»)",
            ))
        for member, hint in hints:
            if raw is not None and member not in chosen:
                contradictions.append(Contradiction(evidence(question, raw), hint, _meaning(fact, member, question)))
            elif member not in chosen:
                chosen.add(member)
                sources[member] = hint.text
                derived[question.id] = _derived(
                    ", ".join(question.choice_label(v) for v in sorted(chosen, key=_order(question))), hints)
            else:
                sources[member] = f"{sources[member]} ; {hint.text}"
        values[fact] = frozenset(chosen)
        for asked_fact, _value, text, hint in asked:
            if asked_fact == fact:
                checks.append(Check(question.id, f"{hint.text} — {text}", settled=raw is not None))

    counts = [q for q in visible if q.fact == "participants"]
    given = [(q, answers.get(q.id)) for q in counts if answers.get(q.id) is not None]
    participants_text = ""
    if given:
        total = sum(int(v) for _, v in given)  # type: ignore[arg-type]
        values["participants"] = total
        parts = [f"{_number(v)} {q.short or q.label}" for q, v in given]
        unanswered = [q.short or q.label for q in counts if answers.get(q.id) is None]
        participants_text = f"{_number(total)} personnes" + (f" = {' + '.join(parts)}" if len(parts) > 1 else f" ({parts[0]})")
        if unanswered:
            participants_text += " ; non renseigné, compté 0 : " + ", ".join(unanswered)
        sources["participants"] = " + ".join(parts)
    else:
        needed = [q for q in counts if q.required] or counts[:1]
        missing += [Missing(q.id, q.label, "nombre nécessaire pour classer le projet") for q in needed]

    result = Assessment(
        applies=True,
        contradictions=tuple(contradictions),
        missing=tuple(missing),
        checks=tuple(checks),
        participants=participants_text,
        derived=derived,
    )
    if contradictions or missing or "participants" not in values or "messaging_only" not in values:
        return result
    facts = ClassificationFacts.model_validate({**values, "sources": sources})
    return Assessment(
        applies=True, checks=tuple(checks), participants=participants_text, derived=derived, facts=facts,
        classification=classify(facts, rules),
    )


def _implied(visible: list[Question], answers: Mapping[str, Answer]):
    """What the Recueil's ticked choices imply, per fact: [(value, evidence)]; and the hints they raise."""
    implied: dict[str, list[tuple[object, Evidence]]] = {}
    asked: list[tuple[str, str, str, Evidence]] = []
    for question in visible:
        ticked = _ticked(answers.get(question.id))
        for choice in question.choices:
            if choice.value not in ticked:
                continue
            for feed in choice.feeds:
                implied.setdefault(feed.fact, []).append((feed.value, evidence(question, None, choice.value)))
            if choice.asks is not None:
                asked.append((choice.asks.fact, choice.asks.value, choice.asks.text, evidence(question, None, choice.value)))
    return implied, asked


def missing_answers(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> list[Question]:
    """Required answers still missing, except a criterion the Recueil already settles.

    « Télé-expertise » ticked among the features already says « not messaging only » and
    « demande d'avis ou de télé-expertise »: the AT is not made to say it twice.
    """
    visible = visible_questions(questionnaire, answers)
    implied, _ = _implied(visible, answers)
    return [q for q in missing_required(questionnaire, answers) if not (q.fact and implied.get(q.fact))]


def _derived(reading: str, hints: list[tuple[object, Evidence]]) -> str:
    """« Non (d'après « Quelles sont les fonctionnalités souhaitées ? » : Télé-expertise) »."""
    return f"{reading} (d'après {' ; '.join(dict.fromkeys(hint.text for _, hint in hints))})"


def _order(question: Question):
    order = [c.value for c in question.choices]
    return lambda value: order.index(value) if value in order else len(order)


def _ticked(value: Answer) -> set[str]:
    if isinstance(value, list):
        return set(value)
    return {value} if isinstance(value, str) else set()


def _meaning(fact: str, value: object, question: Question | None = None) -> str:
    if fact == "messaging_only":
        return "pas seulement de la messagerie instantanée" if value is False else "messagerie instantanée seulement"
    if fact == "needs_dossiers":
        return "dossiers de coordination nécessaires" if value else "pas de dossiers de coordination"
    label = question.choice_label(str(value)) if question else str(value)
    return f"c'est «\u00a0{label}\u00a0»"


def _number(value: object) -> str:
    return f"{value:,}".replace(",", "\u202f")
