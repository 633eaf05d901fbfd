"""A sync conflict, field by field: the laptop's content against the central copy.

Contents are visit objects of the export format (docs/visit-format.md). Each field
that differs is a `Difference`; the AT picks a side for each; `merge` builds the
content to send, based on the central revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.identity import FIELD_LABELS

LOCAL = "local"
CENTRAL = "central"

# Visit-level fields compared besides the identity and the answers. Never the navigation
# (revisions.NAVIGATION_FIELDS: the step a copy reopens at): moving between steps is not content.
_VISIT_FIELDS = {
    "status": "Statut de la visite",
    "finished_at": "Terminée le",
    "override": "Classification forcée",
}


@dataclass(frozen=True, slots=True)
class Difference:
    path: tuple[str, ...]  # ("identity", "structure"), ("answers", "q:opportunite"), ("status",)
    label: str
    local: Any
    central: Any


def differences(local: Mapping[str, Any], central: Mapping[str, Any]) -> list[Difference]:
    """Every field whose value differs, identity first, then the visit's state, then the answers."""
    found: list[Difference] = []
    local_identity, central_identity = local.get("identity") or {}, central.get("identity") or {}
    for name in sorted(set(local_identity) | set(central_identity), key=_identity_order):
        if local_identity.get(name) != central_identity.get(name):
            found.append(Difference(("identity", name), FIELD_LABELS.get(name, name),
                                    local_identity.get(name), central_identity.get(name)))
    for name, label in _VISIT_FIELDS.items():
        if local.get(name) != central.get(name):
            found.append(Difference((name,), label, local.get(name), central.get(name)))
    local_answers, central_answers = local.get("answers") or {}, central.get("answers") or {}
    for key in sorted(set(local_answers) | set(central_answers)):
        if local_answers.get(key) != central_answers.get(key):
            found.append(Difference(("answers", key), key, local_answers.get(key), central_answers.get(key)))
    return found


def merge(local: Mapping[str, Any], central: Mapping[str, Any], choices: Mapping[tuple[str, ...], str]) -> dict:
    """The local content with, for each difference the AT settled on CENTRAL, the central value.

    A difference without a choice keeps the laptop's value.
    """
    merged = {key: (dict(value) if isinstance(value, dict) else value) for key, value in local.items()}
    for difference in differences(local, central):
        if choices.get(difference.path, LOCAL) != CENTRAL:
            continue
        *parents, last = difference.path
        target = merged
        for part in parents:
            target = target.setdefault(part, {})
        if difference.central is None:
            target.pop(last, None)
        else:
            target[last] = difference.central
    return merged


def _identity_order(name: str) -> int:
    order = list(FIELD_LABELS)
    return order.index(name) if name in order else len(order)
