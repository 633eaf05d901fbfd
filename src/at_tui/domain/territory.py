"""Finding a département or a typology from what the AT types."""

from __future__ import annotations

from at_tui.domain.playbook import Departement, Territory, Typology
from at_tui.domain.text import FieldError, fold


def find_departement(territory: Territory, raw: str) -> Departement:
    """Accept a number ("31", "9") or a name ("haute garonne", "Hérault"); else a French error."""
    text = fold(raw)
    if not text:
        raise FieldError("Indiquez le département (numéro ou nom).")
    code = text.upper().zfill(2) if text.isdigit() else text.upper()
    for departement in territory.departements:
        if departement.code == code or fold(departement.name) == text:
            return departement
    for departement in territory.departements:
        label = fold(f"{departement.code} {departement.name}")
        if label == text:
            return departement
    names = ", ".join(d.code for d in territory.departements)
    raise FieldError(f"« {raw.strip()[:40]} » n'est pas un département d'Occitanie ({names}).")


def departement_label(departement: Departement) -> str:
    return f"{departement.code} {departement.name}"


def find_typology(territory: Territory, label: str) -> Typology:
    wanted = fold(label)
    for typology in territory.typologies:
        if fold(typology.label) == wanted:
            return typology
    raise FieldError("Choisissez une typologie dans la liste.")
