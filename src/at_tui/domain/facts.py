"""Deriving the classification facts from the questionnaire answers."""

from __future__ import annotations

from collections.abc import Mapping

from at_tui.domain.answers import Answer, visible_questions
from at_tui.domain.classification import ClassificationFacts
from at_tui.domain.playbook import Questionnaire


def facts_from_answers(
    questionnaire: Questionnaire, answers: Mapping[str, Answer]
) -> ClassificationFacts | None:
    """The facts, or None when the answers do not (yet) allow a classification.

    Only visible questions count: when the AT answers that no opportunity was
    detected, the classification questions are hidden and nothing is classified.
    """
    if not questionnaire.classifies:
        return None
    values: dict[str, object] = {}
    for question in visible_questions(questionnaire, answers):
        if question.fact is None:
            continue
        value = answers.get(question.id)
        if value is not None:
            values[question.fact] = value
    if "messaging_only" not in values or "participants" not in values:
        return None
    return ClassificationFacts.model_validate(values)
