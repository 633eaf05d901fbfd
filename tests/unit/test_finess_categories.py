"""The FINESS category → typology mapping (fixtures/finess/categories.toml), and its French errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from at_tui.importers.finess import FinessReader
from at_tui.importers.finess_reference import load_categories, load_territory, occitanie_departements
from at_tui.reference.loader import ReferenceDataError
from at_tui.synthetic.finess import structure_row, write_rows

CATEGORIES = "finess/categories.toml"


def edit(root: Path, old: str, new: str) -> None:
    path = root / CATEGORIES
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def error_of(root: Path) -> str:
    with pytest.raises(ReferenceDataError) as caught:
        load_categories(root)
    return str(caught.value)


def test_bundled_mapping():
    mapping = load_categories()
    expected = {
        "101": "CH", "106": "CH", "355": "CH", "292": "CH",
        "500": "EHPAD", "354": "ESSMS (autre)", "183": "ESSMS (autre)", "246": "ESSMS (autre)",
        "189": "ESSMS (autre)", "182": "ESSMS (autre)", "255": "ESSMS (autre)", "437": "ESSMS (autre)",
        "603": "MSP", "604": "CPTS", "606": "DAC", "124": "Centre de santé",
    }
    assert {code: mapping.typology(code) for code in expected} == expected
    assert mapping.typology("620") is None and mapping.typology(None) is None
    labels = {t.label for t in load_territory().offered_typologies}  # never a legacy label
    assert set(mapping.typologies.values()) <= labels
    assert all(mapping.labels[code] for code in mapping.typologies)


def test_departements_come_from_territory():
    assert occitanie_departements() == {d.code for d in load_territory().departements}
    assert len(occitanie_departements()) == 13


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('code = "500"\nlabel = "Etablissement d\'hébergement pour personnes âgées dépendantes (EHPAD)"\n'
         'typology = "EHPAD"',
         'code = "500"\nlabel = "Etablissement d\'hébergement pour personnes âgées dépendantes (EHPAD)"\n'
         'typology = "Maison de retraite"',
         "catégorie « 500 » (champ « typology ») : typologie « Maison de retraite » inconnue"),
        # A legacy label (still read in old visits) is not proposed for a new one.
        ('code = "500"\nlabel = "Etablissement d\'hébergement pour personnes âgées dépendantes (EHPAD)"\n'
         'typology = "EHPAD"',
         'code = "500"\nlabel = "Etablissement d\'hébergement pour personnes âgées dépendantes (EHPAD)"\n'
         'typology = "ESSMS/EHPAD"',
         "catégorie « 500 » (champ « typology ») : typologie « ESSMS/EHPAD » inconnue ou ancienne"),
        ('code = "606"', 'code = "6O6"', "catégorie « 6O6 » (champ « code ») : valeur '6O6' au format invalide"),
        ('code = "604"\nlabel = "Communauté Professionnelle Territoriale de Santé (C.P.T.S.)"\ntypology = "CPTS"',
         'code = "604"\nlabel = "Communauté Professionnelle Territoriale de Santé (C.P.T.S.)"',
         "catégorie « 604 » (champ « typology ») : champ obligatoire manquant"),
        ('code = "124"', 'code = "603"', "catégorie « 603 » (champ « code ») : code en double"),
        ('code = "101"', 'code = "101"\ncolor = "rouge"', "catégorie « 101 » (champ « color ») : champ inconnu"),
        ('code = "355"', "code = 355", "catégorie n° 2 (champ « code ») : un texte non vide est attendu, pas 355"),
        ("version = 1", 'version = "un"', "champ « version » : un nombre entier est attendu"),
        ('code = "189"', 'code = "189', "syntaxe TOML invalide"),
    ],
)
def test_a_corrupted_mapping_is_a_french_error_naming_file_item_and_field(fixtures_copy, old, new, expected):
    edit(fixtures_copy, old, new)
    message = error_of(fixtures_copy)
    assert message.startswith("Fichier finess/categories.toml")
    assert expected in message


def test_missing_mapping_file(fixtures_copy):
    (fixtures_copy / CATEGORIES).unlink()
    assert error_of(fixtures_copy) == "Fichier de données finess/categories.toml introuvable."


def test_the_importer_refuses_to_start_on_a_corrupted_mapping(fixtures_copy, tmp_path, monkeypatch):
    edit(fixtures_copy, 'typology = "DAC"', 'typology = "Dispositif"')
    monkeypatch.setenv("AT_TUI_FIXTURES", str(fixtures_copy))
    path = tmp_path / "f.csv"
    write_rows(path, [structure_row("310000010", "EHPAD")])
    with pytest.raises(ReferenceDataError, match=r"catégorie « 606 » \(champ « typology »\)"):
        FinessReader(path)
