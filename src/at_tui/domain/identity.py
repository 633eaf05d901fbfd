"""Validating the identity of a visit (structure, département, typologie, contact, date)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from at_tui.domain.playbook import Territory
from at_tui.domain.territory import find_departement, find_typology
from at_tui.domain.text import FieldError, clean_text
from at_tui.domain.visit import parse_visit_date

FIELD_LABELS = {
    "structure": "Structure",
    "departement": "Département",
    "typologie": "Typologie",
    "contact_name": "Contact (nom)",
    "contact_role": "Contact (fonction)",
    "visit_date": "Date de la visite",
    "maillage": "Visite de maillage",
    "commune": "Commune",
    "finess": "N° FINESS",
}

_FINESS = re.compile(r"^(?:\d{9}|2[AB]\d{7})$")


def parse_identity_field(territory: Territory, field: str, raw: Any) -> Any:
    """The stored value of one identity field, or a FieldError in French."""
    if field == "structure":
        text = clean_text(str(raw or ""), max_length=200)
        if not text:
            raise FieldError("Indiquez le nom de la structure.")
        return text
    if field == "departement":
        return find_departement(territory, str(raw or "")).code
    if field == "typologie":
        if not raw:
            raise FieldError("Choisissez la typologie de la structure.")
        return find_typology(territory, str(raw)).label
    if field in ("contact_name", "contact_role"):
        return clean_text(str(raw or ""), max_length=200)
    if field == "visit_date":
        return parse_visit_date(str(raw or ""))
    if field == "maillage":
        return bool(raw)
    if field == "commune":
        return clean_text(str(raw or ""), max_length=100)
    if field == "finess":
        number = str(raw or "").replace(" ", "").upper()
        if number and not _FINESS.match(number):
            raise FieldError(f"N° FINESS « {number[:20]} » invalide : 9 caractères attendus (ex. 310780259).")
        return number
    raise KeyError(field)


def parse_identity(territory: Territory, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """All fields at once: (values, errors by field). Nothing is saved unless errors is empty."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in FIELD_LABELS:
        try:
            values[field] = parse_identity_field(territory, field, raw.get(field))
        except FieldError as error:
            errors[field] = str(error)
    return values, errors
