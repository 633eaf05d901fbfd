"""Checking one visit of an export file against this laptop before anything is written.

Identity fields and answers go through the same parsing as when the AT types
them, so an imported visit is one the app could have made.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from at_tui.exchange.compare import VisitContent
from at_tui.exchange.references import References, resolve

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.domain.argumentaire import Argumentaire
    from at_tui.domain.playbook import Playbook, Questionnaire
    from at_tui.exchange.format import VisitModel
    from at_tui.workspace import Workspace


def validate_visit(
    workspace: Workspace, visit: VisitModel, label: str, references: References
) -> VisitContent | list[str]:
    """The visit as it would be stored, or the French problems that refuse it."""
    from at_tui.domain.identity import FIELD_LABELS, parse_identity_field
    from at_tui.domain.text import FieldError
    from at_tui.domain.visit import Visit
    from at_tui.store.visits import HistoryEntry

    problems: list[str] = []

    identity: dict[str, Any] = {}
    for name, raw in visit.identity.model_dump().items():
        try:
            identity[name] = parse_identity_field(workspace.territory, name, raw)
        except FieldError as error:
            problems.append(f"{label} : {FIELD_LABELS.get(name, name)} : {error}")

    playbook = resolve(workspace, references, "playbook", visit.playbook.id, visit.playbook.version)
    questionnaire = resolve(
        workspace, references, "questionnaire", visit.questionnaire.id, visit.questionnaire.version
    )
    if playbook is None:
        problems.append(
            f"{label} : le processus « {visit.playbook.id} » version {visit.playbook.version} n'est ni "
            "dans le fichier ni sur ce poste : la visite ne pourrait pas s'ouvrir."
        )
    elif playbook.questionnaire != visit.questionnaire.id:
        problems.append(
            f"{label} : le questionnaire « {visit.questionnaire.id} » n'est pas celui du processus "
            f"« {playbook.id} » (« {playbook.questionnaire} »)."
        )
    if questionnaire is None:
        problems.append(
            f"{label} : le questionnaire « {visit.questionnaire.id} » version {visit.questionnaire.version} "
            "n'est ni dans le fichier ni sur ce poste : la visite ne pourrait pas s'ouvrir."
        )

    if (visit.status == "terminee") != (visit.finished_at is not None):
        problems.append(
            f"{label} : une visite terminée doit avoir une date de fin (« finished_at »), "
            "une visite en cours n'en a pas."
        )

    answers: dict[str, Any] = {}
    if playbook is not None and questionnaire is not None:
        for key, raw in visit.answers.items():
            try:
                value = answer_value(playbook, questionnaire, key, raw, workspace.reference.argumentaire)
            except FieldError as error:
                problems.append(f"{label} : réponse « {key[:80]} » : {error}")
                continue
            if value is not None:
                answers[key] = value

    if problems:
        return problems

    override = visit.override
    if override is not None and not override.justification.strip():
        return [f"{label} : une classification forcée doit être justifiée."]
    record = Visit(
        id=visit.id,
        **identity,
        playbook_id=visit.playbook.id,
        playbook_version=visit.playbook.version,
        questionnaire_id=visit.questionnaire.id,
        questionnaire_version=visit.questionnaire.version,
        current_step=visit.current_step,
        status=visit.status,
        created_at=visit.created_at,
        updated_at=visit.updated_at,
        finished_at=visit.finished_at,
        override_offer=override.offer if override else None,
        override_justification=override.justification if override else None,
    )
    history = [HistoryEntry(h.field, h.old_value, h.new_value, h.at) for h in visit.history]
    return VisitContent(record, answers, history)


_TYPE_NAMES = {
    "text": "un texte",
    "long_text": "un texte",
    "single_choice": "un texte (la valeur d'un choix)",
    "integer": "un nombre entier (ex. 12)",
    "yes_no": "true ou false",
    "multiple_choice": "une liste de choix",
}


def answer_value(
    playbook: Playbook, questionnaire: Questionnaire, key: str, raw: Any, argumentaire: Argumentaire | None = None
) -> Any:
    """The stored value for one answer of the file (None: no answer); FieldError in French.

    Acknowledged guardrails (`ack:`) are checked against this laptop's `argumentaire`.
    """
    from at_tui.domain.answers import parse_answer
    from at_tui.domain.text import FieldError, clean_text

    namespace, _, rest = key.partition(":")
    if namespace == "q" and rest:
        try:
            question = questionnaire.question(rest)
        except KeyError:
            raise FieldError(
                f"question inconnue du questionnaire « {questionnaire.id} » v{questionnaire.version}"
            ) from None
        if raw is None:
            return None
        if not _has_type(question.type, raw):
            raise FieldError(f"{_TYPE_NAMES[question.type]} est attendu, pas {_shown(raw)}")
        return parse_answer(question, raw)
    if namespace == "check":
        step_id, _, action_id = rest.partition(":")
        step = _step(playbook, step_id)
        if not any(a.id == action_id for variant in step.variants for a in variant.actions):
            raise FieldError(f"action « {action_id[:60]} » inconnue de l'étape « {step_id} »")
        if raw is None:
            return None
        if not isinstance(raw, bool):
            raise FieldError(f"true ou false est attendu, pas {_shown(raw)}")
        return raw
    if namespace == "notes" and rest:
        _step(playbook, rest)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise FieldError(f"un texte est attendu, pas {_shown(raw)}")
        return clean_text(raw, multiline=True) or None
    if namespace == "ack":
        sheet_id, _, guardrail_id = rest.partition(":")
        _guardrail(argumentaire, sheet_id, guardrail_id)
        if raw is None:
            return None
        if raw is not True:
            raise FieldError(f"true est attendu (prise de connaissance), pas {_shown(raw)}")
        return raw
    raise FieldError("clé de réponse inconnue (attendu : q:…, check:…:…, notes:… ou ack:…:…)")


def _guardrail(argumentaire: Argumentaire | None, sheet_id: str, guardrail_id: str):
    from at_tui.domain.text import FieldError

    try:
        sheet = argumentaire.sheet(sheet_id) if argumentaire is not None else None
    except KeyError:
        sheet = None
    if sheet is None:
        raise FieldError(f"fiche argumentaire « {sheet_id[:60]} » inconnue sur ce poste")
    for guardrail in sheet.guardrails:
        if guardrail.id == guardrail_id:
            return guardrail
    raise FieldError(f"garde-fou « {guardrail_id[:60]} » inconnu de la fiche argumentaire « {sheet_id} »")


def _step(playbook: Playbook, step_id: str):
    from at_tui.domain.text import FieldError

    try:
        return playbook.step(step_id)
    except KeyError:
        raise FieldError(
            f"étape « {step_id[:60]} » inconnue du processus « {playbook.id} » v{playbook.version}"
        ) from None


def _has_type(kind: str, raw: Any) -> bool:
    if kind in ("text", "long_text", "single_choice"):
        return isinstance(raw, str)
    if kind == "integer":
        return isinstance(raw, int) and not isinstance(raw, bool)
    if kind == "yes_no":
        return isinstance(raw, bool)
    return isinstance(raw, list) and all(isinstance(v, str) for v in raw)


def _shown(raw: Any) -> str:
    if isinstance(raw, str):
        return f"« {raw[:40]}{'…' if len(raw) > 40 else ''} »"
    return json.dumps(raw, ensure_ascii=False)[:40]

