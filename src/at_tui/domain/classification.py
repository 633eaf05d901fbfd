"""Pure rule engine classifying a SPICO project into an offer.

Source: the agency's slides "Spécificité SPICO Discussions" and
"Voici ce qui définit un projet SPICO Discussions « complexe »".

A project is *SPICO Discussions simple* (led by the territorial animator,
AT) only when ALL of the following hold:

* exchanges are limited to instant messaging;
* fewer than ``SIMPLE_MAX_PARTICIPANTS`` (15) professionals are concerned;
* no parametrization request;
* no complex request;
* no strategic scope;
* coordination records (SPICO Dossiers) are not needed.

Otherwise the project is led by the project manager (CM): it is
*SPICO Dossiers* when coordination records are needed, else
*SPICO Discussions complexe*. In both cases ``reasons`` lists one French
sentence for EVERY criterion that made the project not simple, in this
stable order:

1. coordination records needed (``needs_dossiers``);
2. not messaging-only;
3. 15 participants or more;
4. each parametrization value, in ``PARAMETRIZATION_ORDER``;
5. each complex request value, in ``COMPLEX_REQUESTS_ORDER``;
6. each strategic value, in ``STRATEGIC_ORDER``.

This module does no I/O and depends only on the stdlib and pydantic.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "COMPLEX_REQUESTS",
    "COMPLEX_REQUESTS_ORDER",
    "CRITERION_LABELS",
    "CRITERION_REASONS",
    "Classification",
    "ClassificationFacts",
    "ComplexRequest",
    "Lead",
    "OFFER_LABELS",
    "Offer",
    "PARAMETRIZATION",
    "PARAMETRIZATION_ORDER",
    "Parametrization",
    "REASON_NEEDS_DOSSIERS",
    "REASON_NOT_MESSAGING_ONLY",
    "SIMPLE_MAX_PARTICIPANTS",
    "STRATEGIC",
    "STRATEGIC_ORDER",
    "Strategic",
    "classify",
    "participants_reason",
]


class Offer(str, Enum):
    """SPICO offer a project falls into."""

    DISCUSSIONS_SIMPLE = "discussions_simple"
    DISCUSSIONS_COMPLEXE = "discussions_complexe"
    DOSSIERS = "dossiers"


OFFER_LABELS: Final[dict[Offer, str]] = {
    Offer.DISCUSSIONS_SIMPLE: "SPICO Discussions simple",
    Offer.DISCUSSIONS_COMPLEXE: "SPICO Discussions complexe",
    Offer.DOSSIERS: "SPICO Dossiers",
}


def offer_label(offer: str) -> str:
    """A stored offer as the CRM's « service concerné » names it; one a newer playbook knows, as stored."""
    try:
        return OFFER_LABELS[Offer(offer)]
    except ValueError:
        return offer


class Lead(str, Enum):
    """Who leads the project: territorial animator (AT) or project manager (CM)."""

    AT = "AT"
    CM = "CM"


# Simple projects need strictly fewer than this many participants.
SIMPLE_MAX_PARTICIPANTS: Final[int] = 15

# Allowed values. The Literal order is the documented order used for reasons.
Parametrization = Literal[
    "formulaire_specifique",
    "equipe_ressource",
    "personne_morale",
    "groupe_favoris",
]
ComplexRequest = Literal[
    "groupe_favoris_public_regional",
    "avis_teleexpertise",
]
Strategic = Literal[
    "acteurs_strategiques",
    "projet_structurant",
    "organisation_medicale_specifique",
]

PARAMETRIZATION_ORDER: Final[tuple[str, ...]] = get_args(Parametrization)
COMPLEX_REQUESTS_ORDER: Final[tuple[str, ...]] = get_args(ComplexRequest)
STRATEGIC_ORDER: Final[tuple[str, ...]] = get_args(Strategic)

PARAMETRIZATION: Final[frozenset[str]] = frozenset(PARAMETRIZATION_ORDER)
COMPLEX_REQUESTS: Final[frozenset[str]] = frozenset(COMPLEX_REQUESTS_ORDER)
STRATEGIC: Final[frozenset[str]] = frozenset(STRATEGIC_ORDER)

# Short French labels, reusable by the UI as choice labels.
CRITERION_LABELS: Final[dict[str, str]] = {
    # Parametrization
    "formulaire_specifique": "Formulaire spécifique (ex. fiche de demande)",
    "equipe_ressource": "Équipe ressource",
    "personne_morale": "Personne morale",
    "groupe_favoris": "Groupe de favoris",
    # Complex requests
    "groupe_favoris_public_regional": "Groupe de favoris public à ampleur régionale",
    "avis_teleexpertise": "Demande d'avis ou de télé-expertise",
    # Strategic scope
    "acteurs_strategiques": (
        "Acteurs stratégiques ou à dimension politique "
        "(membre du CA, URPS, Ordres, CPAM, ARS, FACS)"
    ),
    "projet_structurant": (
        "Projet structurant, cas d'usage généralisable au département ou à la région"
    ),
    "organisation_medicale_specifique": "Organisation médicale spécifique",
}

REASON_NEEDS_DOSSIERS: Final[str] = (
    "Le projet nécessite le partage de dossiers de coordination (SPICO Dossiers)."
)
REASON_NOT_MESSAGING_ONLY: Final[str] = (
    "Le projet ne se limite pas à des échanges de messages instantanés."
)

# Full French reason sentence for each set value.
CRITERION_REASONS: Final[dict[str, str]] = {
    "formulaire_specifique": (
        "Demande de paramétrage : formulaire spécifique (ex. fiche de demande)."
    ),
    "equipe_ressource": "Demande de paramétrage : équipe ressource.",
    "personne_morale": "Demande de paramétrage : personne morale.",
    "groupe_favoris": "Demande de paramétrage : groupe de favoris.",
    "groupe_favoris_public_regional": (
        "Demande complexe : groupe de favoris public à ampleur régionale."
    ),
    "avis_teleexpertise": "Demande complexe : demande d'avis ou de télé-expertise.",
    "acteurs_strategiques": (
        "Portée stratégique : acteurs stratégiques ou à dimension politique "
        "(membre du CA, URPS, Ordres, CPAM, ARS, FACS)."
    ),
    "projet_structurant": (
        "Portée stratégique : projet structurant, cas d'usage généralisable "
        "au département ou à la région."
    ),
    "organisation_medicale_specifique": (
        "Portée stratégique : organisation médicale spécifique."
    ),
}


def participants_reason(participants: int, limit: int = SIMPLE_MAX_PARTICIPANTS, at_limit_note: str = "") -> str:
    """French reason for a participant count at or above the simple threshold.

    « moins de 15 personnes » makes a project simple (« Spécificité SPICO Discussions »);
    exactly the limit is not fewer, so it is not simple: the playbook's note says so.
    """
    reason = (
        f"Le projet concerne {limit} professionnels ou plus "
        f"({participants} estimés) : au-delà du seuil de moins de {limit} personnes."
    )
    if participants == limit and at_limit_note:
        reason += f" {at_limit_note}"
    return reason


class ClassificationFacts(BaseModel):
    """Facts gathered during the visit, input of :func:`classify`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Exchanges limited to instant messaging.
    messaging_only: bool
    # Estimated number of professionals concerned (strict int: no bool/float).
    participants: Annotated[int, Field(strict=True, ge=0)]
    # Coordination records (SPICO Dossiers) needed.
    needs_dossiers: bool = False
    parametrization: frozenset[Parametrization] = frozenset()
    complex_requests: frozenset[ComplexRequest] = frozenset()
    strategic: frozenset[Strategic] = frozenset()
    # The answers each criterion comes from, by criterion key (a fact name or a set value):
    # every reason names the answer that triggered it.
    sources: dict[str, str] = Field(default_factory=dict)


class Classification(BaseModel):
    """Outcome of :func:`classify`."""

    model_config = ConfigDict(frozen=True)

    offer: Offer
    lead: Lead
    # One French sentence per criterion that made the project not simple;
    # empty for a simple project.
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        """French CRM service label of the offer."""
        return OFFER_LABELS[self.offer]


def _reasons(facts: ClassificationFacts, limit: int, at_limit_note: str) -> tuple[str, ...]:
    found: list[tuple[str, str]] = []
    if facts.needs_dossiers:
        found.append(("needs_dossiers", REASON_NEEDS_DOSSIERS))
    if not facts.messaging_only:
        found.append(("messaging_only", REASON_NOT_MESSAGING_ONLY))
    if facts.participants >= limit:
        found.append(("participants", participants_reason(facts.participants, limit, at_limit_note)))
    for order, chosen in (
        (PARAMETRIZATION_ORDER, facts.parametrization),
        (COMPLEX_REQUESTS_ORDER, facts.complex_requests),
        (STRATEGIC_ORDER, facts.strategic),
    ):
        found.extend((value, CRITERION_REASONS[value]) for value in order if value in chosen)
    return tuple(_traced(reason, facts.sources.get(key)) for key, reason in found)


def _traced(reason: str, source: str | None) -> str:
    return f"{reason} — d'après {source}" if source else reason


def classify(facts: ClassificationFacts, rules: object | None = None) -> Classification:
    """Classify a project into a SPICO offer with its lead and reasons.

    `rules`: the playbook's `ClassificationRules` (participants limit and how the limit
    itself is read); the slides' 15 when absent.
    """
    limit = getattr(rules, "participants_limit", SIMPLE_MAX_PARTICIPANTS)
    reasons = _reasons(facts, limit, getattr(rules, "at_limit_note", ""))
    if not reasons:
        return Classification(
            offer=Offer.DISCUSSIONS_SIMPLE, lead=Lead.AT, reasons=()
        )
    offer = Offer.DOSSIERS if facts.needs_dossiers else Offer.DISCUSSIONS_COMPLEXE
    return Classification(offer=offer, lead=Lead.CM, reasons=reasons)
