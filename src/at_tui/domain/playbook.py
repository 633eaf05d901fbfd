"""The playbook as data: process steps, questionnaires and territory, validated by pydantic.

Every item carries a `source` (seed file and slide title) so it can be checked
against the agency's documents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from at_tui.domain.classification import (
    COMPLEX_REQUESTS,
    PARAMETRIZATION,
    STRATEGIC,
    Lead,
    Offer,
)

Identifier = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Model):
    file: str = Field(min_length=1)
    slide: str = Field(min_length=1)


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


class Playbook(Model):
    id: str = Identifier
    version: int = Field(ge=1)
    title: str
    questionnaire: str = Identifier
    crm: CrmTemplate
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent_steps(self) -> Playbook:
        require_unique([s.id for s in self.steps], "étape")
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


class Choice(Model):
    value: str = Identifier
    label: str = Field(min_length=1)


class Condition(Model):
    """Show a question only when an earlier answer equals / contains one of `any_of`."""

    question: str = Identifier
    any_of: tuple[str | bool, ...] = Field(min_length=1)


class Question(Model):
    id: str = Identifier
    section: str = Field(min_length=1)
    label: str = Field(min_length=1)
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
        elif self.choices:
            raise ValueError(f"champ « choices » : une question de type « {self.type} » n'a pas de choix")
        if self.fact is not None:
            allowed = FACT_TYPES[self.fact]
            if self.type not in allowed:
                raise ValueError(
                    f"champ « fact » : le critère « {self.fact} » attend une question de type {' ou '.join(allowed)}"
                )
            if self.fact in FACT_CHOICES:
                unknown = {c.value for c in self.choices} - FACT_CHOICES[self.fact]
                if unknown:
                    raise ValueError(
                        f"champ « choices » : choix inconnus pour le critère « {self.fact} » : {', '.join(sorted(unknown))}"
                    )
        return self

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
        facts = [q.fact for q in self.questions if q.fact]
        require_unique(facts, "critère de classification", "fact")
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
    """A kind of structure; its label is what a visit stores and what the AT reads."""

    label: str = Field(min_length=1, max_length=60)
    crm_label: str = Field(min_length=1)


class Territory(Model):
    region: str
    departements: tuple[Departement, ...] = Field(min_length=1)
    typologies: tuple[Typology, ...] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _unique(self) -> Territory:
        require_unique([d.code for d in self.departements], "département", "code")
        require_unique([t.label for t in self.typologies], "typologie", "label")
        return self


def find_by_id(items, item_id: str):
    """The item whose `id` is `item_id` (KeyError otherwise)."""
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def require_unique(values: list, what: str, field: str = "id") -> None:
    seen: set = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} « {value} » en double (champ « {field} »)")
        seen.add(value)
