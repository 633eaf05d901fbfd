"""Turning what the AT typed into a stored answer, and deciding which questions apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from at_tui.domain.playbook import Question, Questionnaire
from at_tui.domain.text import FieldError, clean_text

INTEGER_MAX = 1_000_000
_TOO_BIG = f"Nombre trop grand (maximum {INTEGER_MAX:,}).".replace(",", "\u202f")

Answer = str | int | bool | list[str] | None


def parse_answer(question: Question, raw: Any, checked: str | None = None) -> Answer:
    """Validate a raw value for `question`; None means "no answer". Raises FieldError in French.

    `checked`: for text questions, a previous raw text that passed (see `clean_text`).
    """
    kind = question.type
    if kind in ("text", "long_text"):
        text = clean_text(
            str(raw or ""), multiline=kind == "long_text", max_length=question.max_length, checked=checked
        )
        return text or None
    if kind == "integer":
        return parse_count(raw)
    if kind == "yes_no":
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        raise FieldError("Répondez par Oui ou Non.")
    if kind == "single_choice":
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or raw not in {c.value for c in question.choices}:
            raise FieldError("Choisissez une réponse dans la liste.")
        return raw
    # multiple_choice: keep the questionnaire's order so equal answers compare equal.
    if raw is not None and not isinstance(raw, (list, tuple, set, frozenset)):
        raise FieldError("Cochez une ou plusieurs réponses dans la liste.")
    if any(not isinstance(v, str) for v in raw or ()):
        raise FieldError("Choix inconnu.")
    values = set(raw or ())
    known = [c.value for c in question.choices]
    unknown = values - set(known)
    if unknown:
        raise FieldError("Choix inconnu : " + ", ".join(sorted(map(str, unknown))))
    none = question.none_choice
    if none is not None and none.value in values and len(values) > 1:
        raise FieldError(f"« {none.label} » ne se coche pas avec d'autres choix : décochez l'un ou l'autre.")
    return [v for v in known if v in values] or None


def parse_count(raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise FieldError("Indiquez un nombre entier.")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip().replace("\u202f", "").replace(" ", "")
        if text.startswith("-") and text[1:].isdigit():
            raise FieldError("Le nombre ne peut pas être négatif.")
        if not text.isdigit() or not text.isascii():
            raise FieldError("Indiquez un nombre entier (chiffres uniquement), par exemple 12.")
        if len(text.lstrip("0")) > len(str(INTEGER_MAX)):
            raise FieldError(_TOO_BIG)
        value = int(text)
    if value < 0:
        raise FieldError("Le nombre ne peut pas être négatif.")
    if value > INTEGER_MAX:
        raise FieldError(_TOO_BIG)
    return value


def is_visible(question: Question, answers: Mapping[str, Answer]) -> bool:
    condition = question.show_if
    if condition is None:
        return True
    value = answers.get(condition.question)
    if isinstance(value, list):
        return any(v in value for v in condition.any_of)
    return value is not None and value in condition.any_of


def visible_questions(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> list[Question]:
    """Questions that apply given the answers; a hidden question hides its dependants too."""
    shown: list[Question] = []
    effective: dict[str, Answer] = {}
    for question in questionnaire.questions:
        if is_visible(question, effective):
            shown.append(question)
            effective[question.id] = answers.get(question.id)
    return shown


def missing_required(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> list[Question]:
    return [
        q for q in visible_questions(questionnaire, answers) if q.required and answers.get(q.id) is None
    ]


def format_answer(question: Question, value: Answer) -> str:
    """How an answer reads in French, for summaries and the CRM description."""
    if value is None:
        return "non renseigné"
    if question.type == "yes_no":
        return "Oui" if value else "Non"
    if question.type == "single_choice":
        return question.choice_label(str(value))
    if question.type == "multiple_choice":
        return ", ".join(question.choice_label(v) for v in _as_list(value))
    if question.type == "integer":
        return f"{value:,}".replace(",", "\u202f")
    return str(value)


def _as_list(value: Answer) -> Iterable[str]:
    return value if isinstance(value, list) else [str(value)]
