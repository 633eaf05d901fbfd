"""Pydantic validation errors told in French, for whoever must fix the data.

Shared by the bundled reference files (`at_tui.reference`) and the export files
(`at_tui.exchange`). It reads the plain dicts of `ValidationError.errors()`, so
it does not import pydantic (start-up time).
"""

from __future__ import annotations

from typing import Any


def french_message(detail: dict) -> str:
    """One error detail in French, without its place: « un nombre entier est attendu, pas 'x' »."""
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    shown = _shown(detail.get("input"))
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "extra_forbidden":
        return "champ inconnu"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "?")).replace(" or ", " ou ")
        return f"valeur {shown} non reconnue (attendu : {expected})"
    if kind in ("string_type", "string_too_short"):
        return f"un texte non vide est attendu, pas {shown}"
    if kind == "string_too_long":
        return f"texte trop long ({ctx.get('max_length')} caractères au maximum)"
    if kind == "string_pattern_mismatch":
        return f"valeur {shown} au format invalide"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"un nombre entier est attendu, pas {shown}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"la valeur doit être au moins {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("bool_type", "bool_parsing"):
        return f"true ou false est attendu, pas {shown}"
    if kind in ("list_type", "tuple_type"):
        return "une liste est attendue"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"un objet est attendu, pas {shown}"
    if kind == "too_short":
        return "la liste ne peut pas être vide"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return detail["msg"]


def _shown(value: Any) -> str:
    # Objects and lists are not quoted whole: the message would bury the field.
    if isinstance(value, dict):
        return "(objet)"
    if isinstance(value, list):
        return "(liste)"
    return repr(value)[:60]
