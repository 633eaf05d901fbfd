"""Finding a département or a typology from what the AT types, and what a typology is named."""

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


class UnknownZone(ValueError):
    """A zone the territory does not have, said in French."""


def zone_departements(territory: Territory, zone: str) -> tuple[str, tuple[Departement, ...]]:
    """The zone's name as the territory writes it (« Est ») and its départements, in the territory's
    order (seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) »)."""
    wanted = fold(zone)
    found = tuple(d for d in territory.departements if fold(d.sector) == wanted)
    if not found:
        sectors = ", ".join(sorted({f"« {d.sector} »" for d in territory.departements}))
        raise UnknownZone(f"Zone « {zone.strip()[:40]} » inconnue (zones : {sectors}).")
    return found[0].sector, found


def departement_label(departement: Departement) -> str:
    return f"{departement.code} {departement.name}"


def find_typology(territory: Territory, label: str) -> Typology:
    """Any typology of the territory, legacy ones included: a stored or imported visit keeps its label."""
    wanted = fold(label)
    for typology in territory.typologies:
        if fold(typology.label) == wanted:
            return typology
    raise FieldError("Choisissez une typologie dans la liste.")


def typology_choices(territory: Territory, current: str | None = None) -> list[tuple[str, str]]:
    """(text, stored label) of the typology picker: the offered typologies, plus a visit's own
    legacy label (marked as such) so that editing an old visit shows what it holds."""
    choices = [(t.label, t.label) for t in territory.offered_typologies]
    legacy = next((t for t in territory.typologies if t.legacy and t.label == current), None)
    if legacy is not None:
        choices.append((f"{legacy.label} (ancienne liste)", legacy.label))
    return choices


def naming_doubt(territory: Territory, typology: Typology) -> str | None:
    """Why the CRM name of a visit of this typology is a guess (None when it is not).

    A legacy label covering typologies named differently in the CRM (« CPTS/MSP »: a CPTS is
    « CPTS », an MSP « libéraux ») cannot tell which name is right: the AT is asked to choose
    the typology in the visit's identity (F2), which fixes the name."""
    if not typology.legacy:
        return None
    offered = {t.label: t for t in territory.offered_typologies}
    names = {offered[label].crm_label for label in typology.replaced_by if label in offered}
    if len(names) <= 1:
        return None
    kinds = _or([label for label in typology.replaced_by if label in offered])
    return (
        f"Typologie « {typology.label} » (ancienne liste) : {kinds} ? Le nom d'opportunité la suppose "
        f"« {typology.crm_label} » : précisez la typologie dans l'identité de la visite (F2) pour un nom exact."
    )


def _or(labels: list[str]) -> str:
    """« CPTS, MSP ou Centre de santé »."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " ou " + labels[-1]
