"""The playbook as data: process steps, questionnaires and territory, validated by pydantic.

Every item carries a `source` (seed file and slide title) so it can be checked
against the agency's documents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from at_tui.domain.classification import (
    COMPLEX_REQUESTS,
    PARAMETRIZATION,
    STRATEGIC,
    Lead,
    Offer,
)
from at_tui.domain.data_model import Identifier, Model, Source, find_by_id, require_unique
from at_tui.domain.lifecycle import Lifecycle


class Resource(Model):
    name: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")
    source: Source


class ChecklistItem(Model):
    id: str = Identifier
    label: str = Field(min_length=1)
    source: Source


class Deliverable(Model):
    label: str = Field(min_length=1)
    source: Source


class StepVariant(Model):
    """What a step asks when the project is of the given offers (all offers when empty)."""

    applies_to: tuple[Offer, ...] = ()
    lead: Lead
    support: Lead | None = None
    actions: tuple[ChecklistItem, ...] = ()
    resources: tuple[Resource, ...] = ()
    deliverables: tuple[Deliverable, ...] = ()
    source: Source

    @model_validator(mode="after")
    def _unique_actions(self) -> StepVariant:
        require_unique([a.id for a in self.actions], "action")
        return self


StepKind = Literal["checklist", "classification", "follow_up"]


class Step(Model):
    id: str = Identifier
    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    kind: StepKind
    variants: tuple[StepVariant, ...] = Field(min_length=1)
    # Show the argumentaire sheet of the visit's typology (and its guardrails) at this step.
    argumentaire: bool = False

    def variant_for(self, offer: Offer | None) -> StepVariant:
        for variant in self.variants:
            if not variant.applies_to or (offer is not None and offer in variant.applies_to):
                return variant
        return self.variants[0]


class CrmTemplate(Model):
    """What the agency's CRM expects once the visit is classified (seed 000, step 3)."""

    activity_type: str
    opportunity_status: str
    service: str
    maillage_label: str
    source: Source


class ClassificationRules(Model):
    """The thresholds of the classification (seed 000, « Spécificité SPICO Discussions »).

    The default is the slides' 15, for playbook versions written before it was data.
    """

    participants_limit: int = Field(default=15, ge=1)
    # How a count equal to the limit is read, said in the reason (the slides leave it open).
    at_limit_note: str = ""
    source: Source | None = None


class Playbook(Model):
    id: str = Identifier
    version: int = Field(ge=1)
    title: str
    questionnaire: str = Identifier
    crm: CrmTemplate
    classification: ClassificationRules = ClassificationRules()
    # The opportunity's life after the visit (steps 4 to 7); absent from version 1.
    lifecycle: Lifecycle | None = None
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent_steps(self) -> Playbook:
        require_unique([s.id for s in self.steps], "étape")
        steps = {s.id for s in self.steps}
        for activity in self.lifecycle.activities if self.lifecycle else ():
            if activity.step is not None and activity.step not in steps:
                raise ValueError(f"activité « {activity.id} », champ « step » : étape « {activity.step} » inconnue")
        numbers = [s.number for s in self.steps]
        if numbers != sorted(set(numbers)):
            raise ValueError("les étapes doivent être numérotées dans l'ordre, sans doublon")
        return self

    def step(self, step_id: str) -> Step:
        return find_by_id(self.steps, step_id)

    @property
    def guided_steps(self) -> tuple[Step, ...]:
        """Steps done on site, in the app (the follow-up steps come after the visit)."""
        return tuple(s for s in self.steps if s.kind != "follow_up")

    @property
    def follow_up_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "follow_up")


QuestionType = Literal["text", "long_text", "integer", "single_choice", "multiple_choice", "yes_no"]

# Which classification fact a question may feed, and the question types that can feed it.
FACT_TYPES: dict[str, tuple[str, ...]] = {
    "messaging_only": ("yes_no",),
    "needs_dossiers": ("yes_no",),
    "participants": ("integer",),
    "parametrization": ("multiple_choice",),
    "complex_requests": ("multiple_choice",),
    "strategic": ("multiple_choice",),
}
FACT_CHOICES: dict[str, frozenset[str]] = {
    "parametrization": frozenset(PARAMETRIZATION),
    "complex_requests": frozenset(COMPLEX_REQUESTS),
    "strategic": frozenset(STRATEGIC),
}
CHOICE_TYPES = ("single_choice", "multiple_choice")
# Facts several questions may feed: their answers add up.
ADDITIVE_FACTS = frozenset({"participants"})


class Feed(Model):
    """What ticking a choice tells the classification (seed 000, « Spécificité SPICO Discussions »).

    `value` is False for `messaging_only` (a feature other than messaging), or a value of
    a criterion set (`complex_requests`: « avis_teleexpertise » for Télé-expertise).
    """

    fact: Literal["messaging_only", "needs_dossiers", "parametrization", "complex_requests", "strategic"]
    value: bool | str

    @model_validator(mode="after")
    def _known_value(self) -> Feed:
        if self.fact in FACT_CHOICES:
            if self.value not in FACT_CHOICES[self.fact]:
                raise ValueError(f"champ « feeds » : valeur « {self.value} » inconnue pour le critère « {self.fact} »")
        elif not isinstance(self.value, bool):
            raise ValueError(f"champ « feeds » : le critère « {self.fact} » attend true ou false")
        return self


class Ask(Model):
    """A hint a choice raises: the criterion question that must settle it, and what to ask."""

    fact: Literal["parametrization", "complex_requests", "strategic"]
    value: str
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_value(self) -> Ask:
        if self.value not in FACT_CHOICES[self.fact]:
            raise ValueError(f"champ « asks » : valeur « {self.value} » inconnue pour le critère « {self.fact} »")
        return self


class Choice(Model):
    value: str = Identifier
    label: str = Field(min_length=1)
    # An exclusive choice (« Aucune ») is the explicit answer "none of them apply".
    exclusive: bool = False
    feeds: tuple[Feed, ...] = ()
    asks: Ask | None = None


class Condition(Model):
    """Show a question only when an earlier answer equals / contains one of `any_of`."""

    question: str = Identifier
    any_of: tuple[str | bool, ...] = Field(min_length=1)


class Question(Model):
    id: str = Identifier
    section: str = Field(min_length=1)
    label: str = Field(min_length=1)
    # A few words naming the answer inside a sentence (« 10 utilisateurs dans la structure »).
    short: str | None = None
    help: str | None = None
    type: QuestionType
    required: bool = False
    choices: tuple[Choice, ...] = ()
    show_if: Condition | None = None
    fact: Literal[tuple(FACT_TYPES)] | None = None  # type: ignore[valid-type]
    max_length: int | None = Field(default=None, ge=1, le=100_000)
    source: Source

    @model_validator(mode="after")
    def _coherent(self) -> Question:
        if self.type in CHOICE_TYPES:
            if not self.choices:
                raise ValueError("champ « choices » : une question à choix doit lister ses choix")
            require_unique([c.value for c in self.choices], "choix", "value")
            exclusive = [c for c in self.choices if c.exclusive]
            if exclusive and (self.type != "multiple_choice" or len(exclusive) > 1):
                raise ValueError("champ « exclusive » : un seul choix exclusif, et seulement dans une question à choix multiples")
            if any(c.exclusive and (c.feeds or c.asks) for c in self.choices):
                raise ValueError("champ « exclusive » : le choix « aucune » ne peut rien indiquer à la classification")
        elif self.choices:
            raise ValueError(f"champ « choices » : une question de type « {self.type} » n'a pas de choix")
        if self.fact is not None:
            allowed = FACT_TYPES[self.fact]
            if self.type not in allowed:
                raise ValueError(
                    f"champ « fact » : le critère « {self.fact} » attend une question de type {' ou '.join(allowed)}"
                )
            if self.fact in FACT_CHOICES:
                unknown = {c.value for c in self.choices if not c.exclusive} - FACT_CHOICES[self.fact]
                if unknown:
                    raise ValueError(
                        f"champ « choices » : choix inconnus pour le critère « {self.fact} » : {', '.join(sorted(unknown))}"
                    )
        return self

    @property
    def none_choice(self) -> Choice | None:
        """The explicit « aucune » choice, when the question offers one."""
        return next((c for c in self.choices if c.exclusive), None)

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value


class Questionnaire(Model):
    id: str = Identifier
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _coherent(self) -> Questionnaire:
        require_unique([q.id for q in self.questions], "question")
        seen: dict[str, Question] = {}
        for question in self.questions:
            condition = question.show_if
            if condition is not None:
                target = seen.get(condition.question)
                if target is None:
                    raise ValueError(
                        f"question « {question.id} », champ « show_if » : elle dépend de « {condition.question} », "
                        "qui doit être une question posée avant elle"
                    )
                allowed = _condition_values(target)
                bad = [v for v in condition.any_of if v not in allowed]
                if bad:
                    raise ValueError(
                        f"question « {question.id} », champ « show_if » : la condition cite des valeurs que "
                        f"« {target.id} » ne propose pas : {', '.join(map(str, bad))}"
                    )
            seen[question.id] = question
        # Counts add up (people inside and outside the structure); any other fact has one question.
        facts = [q.fact for q in self.questions if q.fact and q.fact not in ADDITIVE_FACTS]
        require_unique(facts, "critère de classification", "fact")
        for question in self.questions:
            for choice in question.choices:
                for fact in [f.fact for f in choice.feeds] + ([choice.asks.fact] if choice.asks else []):
                    if fact not in {q.fact for q in self.questions}:
                        raise ValueError(
                            f"question « {question.id} », choix « {choice.value} » : le critère « {fact} » "
                            "n'est demandé par aucune question du questionnaire"
                        )
        return self

    def question(self, question_id: str) -> Question:
        return find_by_id(self.questions, question_id)

    @property
    def classifies(self) -> bool:
        """A questionnaire classifies a project when it feeds every mandatory fact."""
        facts = {q.fact for q in self.questions if q.fact}
        return {"messaging_only", "participants"} <= facts


def _condition_values(question: Question) -> set[str | bool]:
    if question.type == "yes_no":
        return {True, False}
    if question.type in CHOICE_TYPES:
        return {c.value for c in question.choices}
    raise ValueError(f"« {question.id} » ne peut pas servir de condition (type {question.type})")


class Departement(Model):
    code: str = Field(pattern=r"^(\d{2}|2[AB])$")
    name: str = Field(min_length=1)
    sector: str = Field(min_length=1)


class Typology(Model):
    """What a structure is (CPTS, MSP, EHPAD…): the label a visit stores and the AT picks.

    Three notions are kept apart, because the seeds use three lists:
    - `label`, the structure's typology, stored in `visits.typologie`;
    - its argumentaire sheet (seed 001, « focus par typologie de structure »): the sheet whose
      `typologies` name this label (fixtures/argumentaire), one sheet for several typologies
      (CPTS, MSP and libéraux share the CPTS/MSP sheet);
    - `crm_label`, the « typologie d'acteurs » of the CRM opportunity name « [numéro du
      département][typologie d'acteurs (CH, libéraux, ESMS, CPTS…)] » (seed 000,
      « 3. Classification — Livrable(s) »): an MSP is named « libéraux », not « CPTS ».
    A `legacy` label belongs to an earlier list: never offered for a new visit, still accepted
    (old visits open, export, sync and get a name). `replaced_by` names the current typologies
    it covered; when their `crm_label`s differ, the name is a guess the AT must confirm.
    """

    label: str = Field(min_length=1, max_length=60)
    crm_label: str = Field(min_length=1, max_length=60)
    legacy: bool = False
    replaced_by: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _legacy_has_successors(self) -> Typology:
        if self.legacy and not self.replaced_by:
            raise ValueError("champ « replaced_by » : une typologie « legacy » nomme les typologies qui la remplacent")
        if self.replaced_by and not self.legacy:
            raise ValueError("champ « replaced_by » : réservé à une typologie « legacy = true »")
        return self


class Territory(Model):
    region: str
    departements: tuple[Departement, ...] = Field(min_length=1)
    typologies: tuple[Typology, ...] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _unique(self) -> Territory:
        from at_tui.domain.text import fold

        require_unique([d.code for d in self.departements], "département", "code")
        require_unique([t.label for t in self.typologies], "typologie", "label")
        # The AT's text is matched folded (find_typology): two labels must not fold alike.
        require_unique([fold(t.label) for t in self.typologies], "typologie (sans accents ni ponctuation)", "label")
        offered = {t.label: t for t in self.typologies if not t.legacy}
        if not offered:
            raise ValueError("champ « typologies » : aucune typologie proposée (toutes sont « legacy »)")
        for typology in self.typologies:
            unknown = [label for label in typology.replaced_by if label not in offered]
            if unknown:
                raise ValueError(
                    f"typologie « {typology.label} », champ « replaced_by » : "
                    f"{', '.join(unknown)} n'est pas une typologie proposée de ce fichier"
                )
            names = {offered[label].crm_label for label in typology.replaced_by}
            if len(names) == 1 and typology.crm_label not in names:
                raise ValueError(
                    f"typologie « {typology.label} », champ « crm_label » : ses remplaçantes sont toutes "
                    f"nommées « {names.pop()} » dans le CRM ; elle doit l'être aussi"
                )
        return self

    @property
    def offered_typologies(self) -> tuple[Typology, ...]:
        """The typologies a new visit may take (the legacy ones are only read)."""
        return tuple(t for t in self.typologies if not t.legacy)
