"""Unit tests for the SPICO classification rule engine (pure, no I/O)."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from at_tui.domain.classification import (
    COMPLEX_REQUESTS,
    CRITERION_LABELS,
    OFFER_LABELS,
    PARAMETRIZATION,
    SIMPLE_MAX_PARTICIPANTS,
    STRATEGIC,
    Classification,
    ClassificationFacts,
    Lead,
    Offer,
    classify,
)

# Expected sentences, written out literally (independent of the module).
DOSSIERS = "Le projet nécessite le partage de dossiers de coordination (SPICO Dossiers)."
NOT_MESSAGING = "Le projet ne se limite pas à des échanges de messages instantanés."


def participants_sentence(n: int) -> str:
    return (
        f"Le projet concerne 15 professionnels ou plus ({n} estimés) : "
        "au-delà du seuil de moins de 15 personnes."
    )


# Documented order of set values, with their expected sentences.
PARAM_ORDER = [
    ("formulaire_specifique",
     "Demande de paramétrage : formulaire spécifique (ex. fiche de demande)."),
    ("equipe_ressource", "Demande de paramétrage : équipe ressource."),
    ("personne_morale", "Demande de paramétrage : personne morale."),
    ("groupe_favoris", "Demande de paramétrage : groupe de favoris."),
]
COMPLEX_ORDER = [
    ("groupe_favoris_public_regional",
     "Demande complexe : groupe de favoris public à ampleur régionale."),
    ("avis_teleexpertise", "Demande complexe : demande d'avis ou de télé-expertise."),
]
STRATEGIC_ORDER = [
    ("acteurs_strategiques",
     "Portée stratégique : acteurs stratégiques ou à dimension politique "
     "(membre du CA, URPS, Ordres, CPAM, ARS, FACS)."),
    ("projet_structurant",
     "Portée stratégique : projet structurant, cas d'usage généralisable "
     "au département ou à la région."),
    ("organisation_medicale_specifique",
     "Portée stratégique : organisation médicale spécifique."),
]
SET_FIELDS = [
    ("parametrization", PARAM_ORDER),
    ("complex_requests", COMPLEX_ORDER),
    ("strategic", STRATEGIC_ORDER),
]

BASELINE = {"messaging_only": True, "participants": 5}


def facts(**overrides) -> ClassificationFacts:
    return ClassificationFacts(**{**BASELINE, **overrides})


# --- constants and enums -----------------------------------------------------


def test_constants_and_labels() -> None:
    assert SIMPLE_MAX_PARTICIPANTS == 15
    assert OFFER_LABELS == {
        Offer.DISCUSSIONS_SIMPLE: "SPICO Discussions simple",
        Offer.DISCUSSIONS_COMPLEXE: "SPICO Discussions complexe",
        Offer.DOSSIERS: "SPICO Dossiers",
    }
    assert Offer.DOSSIERS.value == "dossiers"
    assert Lead.AT.value == "AT" and Lead.CM.value == "CM"
    assert PARAMETRIZATION == {v for v, _ in PARAM_ORDER}
    assert COMPLEX_REQUESTS == {v for v, _ in COMPLEX_ORDER}
    assert STRATEGIC == {v for v, _ in STRATEGIC_ORDER}
    assert set(CRITERION_LABELS) == PARAMETRIZATION | COMPLEX_REQUESTS | STRATEGIC
    assert CRITERION_LABELS["formulaire_specifique"] == (
        "Formulaire spécifique (ex. fiche de demande)"
    )
    assert all(label.strip() for label in CRITERION_LABELS.values())


# --- simple baseline ---------------------------------------------------------


@pytest.mark.parametrize("participants", [0, 1, 5, 14])
def test_simple_baseline(participants: int) -> None:
    result = classify(facts(participants=participants))
    assert result.offer is Offer.DISCUSSIONS_SIMPLE
    assert result.lead is Lead.AT
    assert result.reasons == ()
    assert result.label == "SPICO Discussions simple"


def test_defaults_are_empty() -> None:
    f = ClassificationFacts(messaging_only=True, participants=3)
    assert f.needs_dossiers is False
    assert f.parametrization == frozenset()
    assert f.complex_requests == frozenset()
    assert f.strategic == frozenset()


# --- each single criterion flips to complexe with exactly its reason ---------


SINGLE_CRITERIA = (
    [pytest.param({"messaging_only": False}, NOT_MESSAGING, id="not_messaging_only")]
    + [
        pytest.param({"participants": n}, participants_sentence(n), id=f"participants_{n}")
        for n in (15, 16, 18, 200)
    ]
    + [
        pytest.param({field: [value]}, sentence, id=f"{field}_{value}")
        for field, order in SET_FIELDS
        for value, sentence in order
    ]
)


@pytest.mark.parametrize(("overrides", "reason"), SINGLE_CRITERIA)
def test_single_criterion_makes_complexe(overrides: dict, reason: str) -> None:
    result = classify(facts(**overrides))
    assert result.offer is Offer.DISCUSSIONS_COMPLEXE
    assert result.lead is Lead.CM
    assert result.reasons == (reason,)
    assert result.label == "SPICO Discussions complexe"


# --- participant boundary ----------------------------------------------------


@pytest.mark.parametrize(
    ("participants", "offer", "lead", "reasons"),
    [
        (0, Offer.DISCUSSIONS_SIMPLE, Lead.AT, ()),
        (14, Offer.DISCUSSIONS_SIMPLE, Lead.AT, ()),
        (15, Offer.DISCUSSIONS_COMPLEXE, Lead.CM, (participants_sentence(15),)),
        (16, Offer.DISCUSSIONS_COMPLEXE, Lead.CM, (participants_sentence(16),)),
    ],
)
def test_participants_boundary(participants, offer, lead, reasons) -> None:
    result = classify(facts(participants=participants))
    assert (result.offer, result.lead, result.reasons) == (offer, lead, reasons)


def test_participants_reason_text_example() -> None:
    result = classify(facts(participants=18))
    assert result.reasons == (
        "Le projet concerne 15 professionnels ou plus (18 estimés) : "
        "au-delà du seuil de moins de 15 personnes.",
    )


# --- dossiers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected_reasons"),
    [
        pytest.param({}, (DOSSIERS,), id="alone"),
        pytest.param({"messaging_only": False}, (DOSSIERS, NOT_MESSAGING), id="not_messaging"),
        pytest.param(
            {"participants": 20}, (DOSSIERS, participants_sentence(20)), id="participants"
        ),
        pytest.param(
            {"messaging_only": False, "participants": 15, "strategic": ["projet_structurant"]},
            (DOSSIERS, NOT_MESSAGING, participants_sentence(15), STRATEGIC_ORDER[1][1]),
            id="several",
        ),
        pytest.param(
            {"parametrization": ["groupe_favoris"], "complex_requests": ["avis_teleexpertise"]},
            (DOSSIERS, PARAM_ORDER[3][1], COMPLEX_ORDER[1][1]),
            id="param_and_complex",
        ),
    ],
)
def test_dossiers(overrides: dict, expected_reasons: tuple[str, ...]) -> None:
    result = classify(facts(needs_dossiers=True, **overrides))
    assert result.offer is Offer.DOSSIERS
    assert result.lead is Lead.CM
    assert result.label == "SPICO Dossiers"
    assert result.reasons == expected_reasons


# --- all criteria at once ----------------------------------------------------


def test_all_criteria_in_documented_order() -> None:
    # Sets given in reverse order to prove output order does not depend on input.
    result = classify(
        ClassificationFacts(
            messaging_only=False,
            participants=42,
            needs_dossiers=True,
            parametrization=[v for v, _ in reversed(PARAM_ORDER)],
            complex_requests=[v for v, _ in reversed(COMPLEX_ORDER)],
            strategic=[v for v, _ in reversed(STRATEGIC_ORDER)],
        )
    )
    assert result.offer is Offer.DOSSIERS
    assert result.lead is Lead.CM
    assert result.reasons == (
        DOSSIERS,
        NOT_MESSAGING,
        participants_sentence(42),
        *(s for _, s in PARAM_ORDER),
        *(s for _, s in COMPLEX_ORDER),
        *(s for _, s in STRATEGIC_ORDER),
    )


def test_all_criteria_without_dossiers_is_complexe() -> None:
    result = classify(
        ClassificationFacts(
            messaging_only=False,
            participants=15,
            parametrization=PARAMETRIZATION,
            complex_requests=COMPLEX_REQUESTS,
            strategic=STRATEGIC,
        )
    )
    assert result.offer is Offer.DISCUSSIONS_COMPLEXE
    assert result.lead is Lead.CM
    assert len(result.reasons) == 2 + 4 + 2 + 3
    assert DOSSIERS not in result.reasons
    assert result.reasons[:2] == (NOT_MESSAGING, participants_sentence(15))


# --- exhaustive combinations -------------------------------------------------


def _set_choices(order: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Empty, each single value, and all values."""
    values = [v for v, _ in order]
    return [(), *((v,) for v in values), tuple(values)]


COMBINATIONS = list(
    itertools.product(
        [True, False],  # messaging_only
        [0, 14, 15],  # participants
        [False, True],  # needs_dossiers
        _set_choices(PARAM_ORDER),
        _set_choices(COMPLEX_ORDER),
        _set_choices(STRATEGIC_ORDER),
    )
)


@pytest.mark.parametrize(
    ("messaging_only", "participants", "needs_dossiers", "param", "complex_", "strategic"),
    COMBINATIONS,
)
def test_exhaustive_combinations(
    messaging_only, participants, needs_dossiers, param, complex_, strategic
) -> None:
    result = classify(
        ClassificationFacts(
            messaging_only=messaging_only,
            participants=participants,
            needs_dossiers=needs_dossiers,
            parametrization=param,
            complex_requests=complex_,
            strategic=strategic,
        )
    )
    failing = (
        int(needs_dossiers)
        + int(not messaging_only)
        + int(participants >= 15)
        + len(param)
        + len(complex_)
        + len(strategic)
    )
    if needs_dossiers:
        expected_offer, expected_lead = Offer.DOSSIERS, Lead.CM
    elif failing:
        expected_offer, expected_lead = Offer.DISCUSSIONS_COMPLEXE, Lead.CM
    else:
        expected_offer, expected_lead = Offer.DISCUSSIONS_SIMPLE, Lead.AT
    assert result.offer is expected_offer
    assert result.lead is expected_lead
    assert len(result.reasons) == failing
    assert len(set(result.reasons)) == failing  # no duplicate sentences

    # Exact content and order, computed independently.
    expected: list[str] = []
    if needs_dossiers:
        expected.append(DOSSIERS)
    if not messaging_only:
        expected.append(NOT_MESSAGING)
    if participants >= 15:
        expected.append(participants_sentence(participants))
    for chosen, order in ((param, PARAM_ORDER), (complex_, COMPLEX_ORDER),
                          (strategic, STRATEGIC_ORDER)):
        expected.extend(s for v, s in order if v in chosen)
    assert result.reasons == tuple(expected)


# --- models are immutable ----------------------------------------------------


def test_models_are_frozen() -> None:
    f = facts()
    with pytest.raises(ValidationError):
        f.participants = 30  # type: ignore[misc]
    result = classify(f)
    assert isinstance(result, Classification)
    with pytest.raises(ValidationError):
        result.offer = Offer.DOSSIERS  # type: ignore[misc]


def test_set_fields_accept_lists_and_sets() -> None:
    from_list = facts(strategic=["projet_structurant", "projet_structurant"])
    from_set = facts(strategic={"projet_structurant"})
    assert from_list.strategic == from_set.strategic == frozenset({"projet_structurant"})
    assert from_list == from_set


# --- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"participants": -1}, id="negative_participants"),
        pytest.param({"participants": True}, id="bool_participants"),
        pytest.param({"participants": False}, id="false_participants"),
        pytest.param({"participants": 1.5}, id="float_participants"),
        pytest.param({"participants": "3"}, id="str_participants"),
        pytest.param({"parametrization": ["inconnu"]}, id="unknown_parametrization"),
        pytest.param({"complex_requests": ["acteurs_strategiques"]}, id="wrong_set_value"),
        pytest.param({"strategic": ["formulaire_specifique"]}, id="unknown_strategic"),
        pytest.param({"unexpected": 1}, id="extra_field"),
    ],
)
def test_invalid_facts_rejected(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        facts(**overrides)


def test_missing_required_fields_rejected() -> None:
    with pytest.raises(ValidationError):
        ClassificationFacts(messaging_only=True)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ClassificationFacts(participants=3)  # type: ignore[call-arg]
