"""Checking a visit's content received from the central before this laptop takes it.

The same rules as an import file (at_tui.exchange.format and .incoming): strict fields,
timestamps and dates in range, identity parsed against this laptop's territory, a process
and questionnaire version this laptop has, answers that fit their questions. Content that
fails is never written into the visit: the pull keeps it aside (quarantine, with the French
reason) and every other visit and function keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from at_tui.domain.redaction import safe

if TYPE_CHECKING:
    from at_tui.workspace import Workspace

MAX_LISTED = 5


def checker(workspace: Workspace):
    """A `check(visit_id, content)` for outbox.apply_pulled and record_results (None: acceptable)."""
    cache: dict[tuple[str, str], str | None] = {}

    def check(visit_id: str, content: Any) -> str | None:
        import json

        try:
            key = (visit_id, json.dumps(content, sort_keys=True, ensure_ascii=False))
        except (TypeError, ValueError):
            return "contenu illisible"
        if key not in cache:
            cache[key] = content_problem(workspace, visit_id, content)
        return cache[key]

    return check


def content_problem(workspace: Workspace, visit_id: str, content: Any) -> str | None:
    """Why this laptop cannot take `content` as visit `visit_id`, in French (one line); None if it can."""
    from pydantic import ValidationError

    from at_tui.exchange.errors import visit_label
    from at_tui.exchange.format import VisitModel
    from at_tui.exchange.incoming import validate_visit
    from at_tui.reference.validation import french_message

    if not isinstance(content, dict):
        return "contenu de la visite absent ou illisible"
    identity = content.get("identity")
    label = visit_label(identity.get("structure") if isinstance(identity, dict) else None, visit_id)
    try:
        model = VisitModel.model_validate({**content, "history": []})
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            where = ".".join(str(part) for part in detail["loc"])
            problems.append((f"champ « {where} » : " if where else "") + french_message(detail))
        return _joined(label, problems)
    if model.id != visit_id:
        return _joined(label, ["champ « id » : ce n'est pas l'identifiant de la visite"])
    result = validate_visit(workspace, model, label, {})
    if isinstance(result, list):
        prefix = f"{label} : "
        return _joined(label, [problem.removeprefix(prefix) for problem in result])
    return None


def _joined(label: str, problems: list[str]) -> str:
    shown = problems[:MAX_LISTED]
    more = f" (et {len(problems) - MAX_LISTED} autre(s))" if len(problems) > MAX_LISTED else ""
    return safe(f"{label} : " + " ; ".join(shown) + more, limit=1000)
