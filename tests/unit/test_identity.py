"""Identity of a visit: département, typologie, date, structure, contact."""

from __future__ import annotations

import re

import pytest

from at_tui.domain.identity import FIELD_LABELS, parse_identity, parse_identity_field
from at_tui.domain.playbook import Territory
from at_tui.domain.territory import find_typology
from at_tui.domain.text import FieldError
from at_tui.domain.visit import parse_visit_date
from at_tui.reference.loader import load_reference


@pytest.fixture(scope="module")
def territory() -> Territory:
    data = load_reference()
    assert data.territory is not None
    return data.territory


def field_error(territory: Territory, field: str, raw) -> str:
    with pytest.raises(FieldError) as caught:
        parse_identity_field(territory, field, raw)
    message = str(caught.value)
    assert message and message[0] in "«ABCDEFGHIJKLMNOPQRSTUVWXYZÉ", message
    assert not re.search(r"\b(invalid|does not match|must|required|Exceeds)\b", message, re.I), message
    return message


# -- département ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("31", "31"),
        (" 31 ", "31"),
        ("9", "09"),
        ("09", "09"),
        (9, "09"),
        ("hérault", "34"),
        ("Herault", "34"),
        ("HAUTE GARONNE", "31"),
        ("Haute-Garonne", "31"),
        ("haute-garonne ", "31"),
        ("Gers", "32"),
        ("Tarn et Garonne", "82"),
        ("tarn", "81"),
        ("pyrenees orientales", "66"),
        ("Hautes-Pyrénées", "65"),
        ("LOZÈRE", "48"),
        ("Ariège", "09"),
        ("31 Haute-Garonne", "31"),
    ],
)
def test_departement_accepted(territory: Territory, raw, code: str) -> None:
    assert parse_identity_field(territory, "departement", raw) == code


@pytest.mark.parametrize("raw", ["75", "Paris", "2A", "310", "Garonne", "Pyrénées", "Occitanie", "31a", "0"])
def test_departement_outside_occitanie_refused(territory: Territory, raw: str) -> None:
    message = field_error(territory, "departement", raw)
    assert f"« {raw} »" in message
    assert "département d'Occitanie" in message
    assert "31" in message  # the valid codes are listed


@pytest.mark.parametrize("raw", ["", "   ", None, "-"])
def test_departement_empty_refused(territory: Territory, raw) -> None:
    assert "Indiquez le département" in field_error(territory, "departement", raw)


def test_departement_error_truncates_long_input(territory: Territory) -> None:
    message = field_error(territory, "departement", "x" * 500)
    assert len(message) < 200


# -- typologie -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["CPTS/MSP", "cpts-msp", "cpts msp", " CPTS / MSP "])
def test_typologie_accepted(territory: Territory, raw: str) -> None:
    stored = parse_identity_field(territory, "typologie", raw)
    assert find_typology(territory, stored).crm_label == "CPTS"
    assert stored == parse_identity_field(territory, "typologie", "CPTS/MSP")


def test_every_bundled_typology_round_trips(territory: Territory) -> None:
    for typology in territory.typologies:
        stored = parse_identity_field(territory, "typologie", typology.label)
        assert find_typology(territory, stored) == typology


@pytest.mark.parametrize("raw", ["Pharmacie", "CPTS MSP DAC", "hopital"])
def test_typologie_unknown_refused(territory: Territory, raw: str) -> None:
    assert "typologie" in field_error(territory, "typologie", raw)


@pytest.mark.parametrize("raw", ["", None])
def test_typologie_empty_refused(territory: Territory, raw) -> None:
    assert "Choisissez la typologie" in field_error(territory, "typologie", raw)


# -- date ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["22/11/2026", "2026-11-22", " 22/11/2026 ", "22-11-2026", "22.11.2026"]
)
def test_visit_date_accepted_as_iso(territory: Territory, raw: str) -> None:
    assert parse_identity_field(territory, "visit_date", raw) == "2026-11-22"


def test_leap_day(territory: Territory) -> None:
    assert parse_identity_field(territory, "visit_date", "29/02/2028") == "2028-02-29"
    assert "invalide" in field_error(territory, "visit_date", "29/02/2027")


@pytest.mark.parametrize("raw", ["31/02/2026", "32/01/2026", "22/13/2026", "22/11/26", "11/22/2026x", "demain"])
def test_visit_date_refused(territory: Territory, raw: str) -> None:
    message = field_error(territory, "visit_date", raw)
    assert "invalide" in message
    assert "JJ/MM/AAAA" in message


def test_visit_date_empty(territory: Territory) -> None:
    assert "Indiquez la date" in field_error(territory, "visit_date", "")
    with pytest.raises(FieldError):
        parse_visit_date("   ")


# -- structure, contact, maillage --------------------------------------------------------------------


def test_structure(territory: Territory) -> None:
    assert parse_identity_field(territory, "structure", "  CPTS Sud Toulousain  ") == "CPTS Sud Toulousain"
    assert parse_identity_field(territory, "structure", "EHPAD « Les Tilleuls » 🌳") == "EHPAD « Les Tilleuls » 🌳"
    assert "structure" in field_error(territory, "structure", "  ")
    assert "trop long" in field_error(territory, "structure", "C" * 201)
    assert "Une seule ligne" in field_error(territory, "structure", "CPTS\nSud")
    assert "U+0000" in field_error(territory, "structure", "CPTS\x00")


def test_contact_is_optional(territory: Territory) -> None:
    assert parse_identity_field(territory, "contact_name", None) == ""
    assert parse_identity_field(territory, "contact_name", " Dr Élodie Marty ") == "Dr Élodie Marty"
    assert parse_identity_field(territory, "contact_role", "Médecin coordinateur") == "Médecin coordinateur"
    assert "U+001B" in field_error(territory, "contact_role", "Directrice\x1b[0m")


def test_maillage_is_a_bool(territory: Territory) -> None:
    assert parse_identity_field(territory, "maillage", True) is True
    assert parse_identity_field(territory, "maillage", None) is False


def test_unknown_field(territory: Territory) -> None:
    with pytest.raises(KeyError):
        parse_identity_field(territory, "telephone", "05 61 00 00 00")


# -- all at once ----------------------------------------------------------------------------------------


def test_parse_identity_all_good(territory: Territory) -> None:
    values, errors = parse_identity(
        territory,
        {
            "structure": "MSP de Samatan",
            "departement": "Gers",
            "typologie": "CPTS/MSP",
            "contact_name": "Jeanne Sarrat",
            "contact_role": "Infirmière coordinatrice",
            "visit_date": "22/11/2026",
            "maillage": True,
        },
    )
    assert errors == {}
    assert set(values) == set(FIELD_LABELS)
    assert values["departement"] == "32"
    assert values["visit_date"] == "2026-11-22"
    assert values["maillage"] is True


def test_parse_identity_collects_every_error(territory: Territory) -> None:
    values, errors = parse_identity(
        territory, {"structure": "", "departement": "Paris", "typologie": "", "visit_date": "31/02/2026"}
    )
    assert set(errors) == {"structure", "departement", "typologie", "visit_date"}
    assert "Paris" in errors["departement"]
    assert all(message.strip() for message in errors.values())
    assert values["contact_name"] == ""
