"""The fields of an opportunity as they travel to the central, and who may change which.

The central, the laptop's sync and the screens share these names (issue 11 §3): the
visit's content stays the AT's, the lifecycle parts are the role that leads the
opportunity's, the CM in charge is a CM's. Seed 000, slides 4 to 7: for « SPICO
Discussions simple » the AT leads steps 4–6, for « Discussions complexe » and « SPICO
Dossiers » the CM leads — hence « pilotage » follows the opportunity's lead.
"""

from __future__ import annotations

from typing import Any

from at_tui.domain.opportunity import Opportunity

# The local `opportunities` columns, minus created_at/updated_at (structure and
# département come from the visit).
OPPORTUNITY_FIELDS: tuple[str, ...] = (
    "playbook_id", "playbook_version", "offer", "lead", "support", "status",
    "status_reason", "at_login", "cm_login", "visit_date", "launch_date", "deployment_end",
)

# Who may CHANGE a field (a field sent equal to its base is not a change):
# classement → the visit's owner AT; pilotage → the side that leads (lead "AT": the owner
# AT, lead "CM": any CM); prise_en_charge → a CM.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "classement": ("playbook_id", "playbook_version", "offer", "lead", "support", "at_login", "visit_date"),
    "pilotage": ("status", "status_reason", "launch_date", "deployment_end"),
    "prise_en_charge": ("cm_login",),
}

GROUP_LABELS: dict[str, str] = {
    "classement": "classement",
    "pilotage": "pilotage (statut et dates)",
    "prise_en_charge": "prise en charge",
}

FIELD_LABELS: dict[str, str] = {
    "status": "Statut",
    "status_reason": "Raison du statut",
    "launch_date": "Date de lancement",
    "deployment_end": "Fin du déploiement",
    "cm_login": "CM en charge",
    "offer": "Offre",
    "lead": "Pilote",
    "support": "Soutien",
    "at_login": "AT",
    "visit_date": "Date de visite",
    "playbook_id": "Processus",
    "playbook_version": "Version du processus",
}

GROUP_OF: dict[str, str] = {name: group for group, names in FIELD_GROUPS.items() for name in names}


def group_of(field_name: str) -> str:
    """The group a field belongs to (KeyError for a name that is not an opportunity field)."""
    return GROUP_OF[field_name]


def fields_of(opportunity: Opportunity) -> dict[str, Any]:
    """The wire fields the domain dataclass holds; playbook_id/playbook_version are not on
    it (they live in the store row), so the caller adds them."""
    return {name: getattr(opportunity, name) for name in OPPORTUNITY_FIELDS if hasattr(opportunity, name)}
