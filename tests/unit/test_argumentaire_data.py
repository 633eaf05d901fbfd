"""The argumentaire (fixtures/argumentaire/): one sheet per structure type of seed 001 with
its guardrails, the general pages, and French errors for malformed files."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from data_helpers import SEED_FILES, assert_french, assert_names, copy_fixtures, edit, load_error, needs_seeds, seed_text

from at_tui.domain.argumentaire import SECTION_TITLES, Sheet
from at_tui.reference.loader import ReferenceData

SEED_001 = "001_f565f25cf5719294.txt"
CRT = "argumentaire/crt.toml"
C360 = "argumentaire/communaute-360.toml"

# Seed 001, « Présentation et argumentaire SPICO — focus par typologie de structure »: one
# slide per structure type -> the territory typologies it applies to (legacy labels included:
# an old visit opens on the same sheet).
SHEETS = {
    "crt": "CRT",
    "cpts-msp": ("CPTS", "MSP", "Centre de santé", "Professionnels libéraux", "CPTS/MSP"),
    "communaute-360": "Communauté 360",
    "ch": "CH",
    "essms": ("EHPAD", "ESSMS (autre)", "ESSMS/EHPAD"),
    "dac": "DAC",
    "pco": "PCO",
    "art-51": "Projet Art. 51",
    "mro": "MRO",
    "rpo": "RPO",
    "diabete-occitanie": "Diabète Occitanie",
    "oncomip-pediatrique": "Oncomip pédiatrique",
}
PAGES = [
    "presentation-spico", "strategie-deploiement", "maillage", "collaboration-at-cm",
    "positionnement-medimail", "positionnement-teleexpertise",
]


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    return copy_fixtures(tmp_path)


def fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{5,}", fold(text)))


def sheet(reference: ReferenceData, sheet_id: str) -> Sheet:
    return reference.argumentaire.sheet(sheet_id)


def guardrail_texts(reference: ReferenceData, sheet_id: str) -> list[str]:
    return [fold(g.text) for g in sheet(reference, sheet_id).guardrails]


# -- bundled data ----------------------------------------------------------------------


def test_one_sheet_per_structure_type(reference: ReferenceData) -> None:
    assert reference.territory is not None
    assert {s.id for s in reference.argumentaire.sheets} == set(SHEETS)
    covered = set()
    for sheet_id, labels in SHEETS.items():
        for label in (labels,) if isinstance(labels, str) else labels:
            assert reference.argumentaire.for_typology(label) == sheet(reference, sheet_id), label
            covered.add(label)
    assert covered == {t.label for t in reference.territory.typologies} - {"Autre"}
    assert reference.argumentaire.for_typology("Autre") is None


def test_sheets_cite_seed_001_and_have_sections(reference: ReferenceData) -> None:
    for item in reference.argumentaire.sheets:
        assert item.source.file == SEED_001, item.id
        assert item.source.slide.strip(), item.id
        assert item.put_forward, item.id
        assert item.referent, item.id
        titles = [title for title, _ in item.sections()]
        assert titles == [t for t in SECTION_TITLES.values() if t in titles], item.id  # seed order
    for item in reference.argumentaire.pages:
        assert item.source.file in SEED_FILES, item.id


@needs_seeds
def test_sections_follow_the_seed(reference: ReferenceData) -> None:
    """Faithful to the seed: nearly every word of 5+ letters of a section is in seed 001."""
    seed = words(seed_text(SEED_001))
    texts = [(f"{s.id}:{title}", text) for s in reference.argumentaire.sheets for title, text in s.sections()]
    texts += [(p.id, p.body) for p in reference.argumentaire.pages]
    for where, text in texts:
        own = words(text)
        missing = own - seed
        assert len(missing) <= max(2, len(own) // 10), (where, sorted(missing))


def test_crt_guardrails_waves_and_ars_go(reference: ReferenceData) -> None:
    texts = guardrail_texts(reference, "crt")
    assert any("vagues" in t and "go de l'ars" in t for t in texts), texts
    assert any("chefs de projet" in t and "charges de mission" in t and "avant toute discussion" in t for t in texts)
    assert any("equipes ressource" in t for t in texts)


def test_communaute_360_is_never_contacted_directly(reference: ReferenceData) -> None:
    texts = guardrail_texts(reference, "communaute-360")
    assert any("ne pas contacter directement" in t and re.search(r"\bcm\b", t) for t in texts), texts
    assert any("valide par l'ars" in t for t in texts)
    assert any("sur etagere" in t for t in texts)


def test_what_not_to_propose_becomes_guardrails(reference: ReferenceData) -> None:
    assert any("groupes de favoris" in t for t in guardrail_texts(reference, "cpts-msp"))
    assert any("expertise" in t for t in guardrail_texts(reference, "ch"))
    assert any("expertise" in t for t in guardrail_texts(reference, "essms"))
    assert any("parcours specifiques" in t for t in guardrail_texts(reference, "rpo"))
    assert any("assistance" in t for t in guardrail_texts(reference, "diabete-occitanie"))
    # The DAC and Oncomip slides warn about nothing.
    assert sheet(reference, "dac").guardrails == ()
    assert sheet(reference, "oncomip-pediatrique").guardrails == ()


def test_guardrails_are_short_and_identified(reference: ReferenceData) -> None:
    for item in reference.argumentaire.sheets:
        ids = [g.id for g in item.guardrails]
        assert len(ids) == len(set(ids)), item.id
        for guardrail in item.guardrails:
            assert len(guardrail.text) <= 200, (item.id, guardrail.id)
            assert guardrail.text.endswith("."), (item.id, guardrail.id)


def test_referents_are_directory_contacts(reference: ReferenceData) -> None:
    contacts = {c.id: c for c in reference.contacts}
    for item in reference.argumentaire.sheets:
        assert item.referents, item.id
        for contact_id in item.referents:
            assert contact_id in contacts, (item.id, contact_id)
    assert [contacts[c].name for c in sheet(reference, "crt").referents] == ["Lala Ndiaye"]
    art51 = {contacts[c].email for c in sheet(reference, "art-51").referents}
    assert {
        "anaphel.baptiste@chu-montpellier.fr", "dsppea34@chu-montpellier.fr",
        "cocon@perinatalite-occitanie.fr", "parcours-tsla@occitadys.fr",
    } <= art51


def test_art_51_covers_the_four_projects(reference: ReferenceData) -> None:
    art51 = sheet(reference, "art-51")
    for project in ("Lymphorac", "DSPP", "Cocon", "Occitadys"):
        assert project in art51.use_cases, project
        assert project in art51.other, project


def test_general_pages(reference: ReferenceData) -> None:
    pages = reference.argumentaire.pages
    assert [p.id for p in pages] == PAGES  # by `order`
    body = {p.id: p.body for p in pages}
    assert "financé par l'ARS" in body["presentation-spico"]
    assert "Medimail" in body["positionnement-medimail"] and "hors région" in body["positionnement-medimail"]
    assert "Omnidoc" in body["positionnement-teleexpertise"] and "Rofim" in body["positionnement-teleexpertise"]
    assert "kit de maillage" in body["maillage"] and "« Maillage »" in body["maillage"]
    assert reference.argumentaire.page("maillage").title == "Le maillage dans le cadre de SPICO"


# -- malformed files ----------------------------------------------------------------------


def test_guardrails_not_a_list(fixtures_copy: Path) -> None:
    text = (fixtures_copy / CRT).read_text(encoding="utf-8")
    start = text.index("guardrails = [")
    (fixtures_copy / CRT).write_text(text[:start] + 'guardrails = "Attendre le go de l\'ARS."\n', encoding="utf-8")
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="guardrails")
    assert "une liste est attendue" in message
    assert_french(message)


def test_guardrails_missing(fixtures_copy: Path) -> None:
    text = (fixtures_copy / CRT).read_text(encoding="utf-8")
    (fixtures_copy / CRT).write_text(text[: text.index("guardrails = [")], encoding="utf-8")
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="guardrails")
    assert "manquant" in message
    assert_french(message)


def test_guardrail_without_text(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CRT, '{ id = "compte-structure", text =', '{ id = "compte-structure", texte =')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="compte-structure", field="text")
    assert "« crt »" in message
    assert_french(message)


def test_duplicate_guardrail_id(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CRT, '{ id = "compte-structure"', '{ id = "vagues-go-ars"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt")
    assert "« vagues-go-ars » en double" in message
    assert_french(message)


def test_unknown_typology(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CRT, 'typologies = ["CRT"]', 'typologies = ["Centre de ressources"]')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="typologies")
    assert "« Centre de ressources »" in message
    assert_french(message)


def test_typology_with_two_sheets(fixtures_copy: Path) -> None:
    edit(fixtures_copy, C360, 'typologies = ["Communauté 360"]', 'typologies = ["CRT"]')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="typologies")
    assert C360 in message
    assert_french(message)


def test_referent_pointing_nowhere(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CRT, 'referents = ["referent-lala-ndiaye"]', 'referents = ["referent-inconnu"]')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="referents")
    assert "« referent-inconnu »" in message
    assert_french(message)


def test_sheet_without_sections(fixtures_copy: Path) -> None:
    text = (fixtures_copy / "argumentaire" / "dac.toml").read_text(encoding="utf-8")
    head = text[: text.index("put_forward = ")]
    (fixtures_copy / "argumentaire" / "dac.toml").write_text(head + "guardrails = []\n", encoding="utf-8")
    message = load_error(fixtures_copy)
    assert_names(message, file="argumentaire/dac.toml", item="dac")
    assert "aucune section" in message
    assert_french(message)


def test_unknown_field_in_a_sheet(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CRT, 'typologies = ["CRT"]', 'typologies = ["CRT"]\nautre = "texte"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CRT, item="crt", field="autre")
    assert "champ inconnu" in message
    assert_french(message)


def test_page_without_body(fixtures_copy: Path) -> None:
    name = "argumentaire/pages/maillage.toml"
    text = (fixtures_copy / name).read_text(encoding="utf-8")
    (fixtures_copy / name).write_text(text[: text.index("body = ")], encoding="utf-8")
    message = load_error(fixtures_copy)
    assert_names(message, file=name, item="maillage", field="body")
    assert_french(message)


def test_duplicate_page_id(fixtures_copy: Path) -> None:
    edit(fixtures_copy, "argumentaire/pages/maillage.toml", 'id = "maillage"', 'id = "presentation-spico"')
    message = load_error(fixtures_copy)
    assert_names(message, file="argumentaire/pages/presentation-spico.toml", item="presentation-spico", field="id")
    assert_french(message)


def test_missing_argumentaire_folder(fixtures_copy: Path) -> None:
    shutil.rmtree(fixtures_copy / "argumentaire")
    assert "« argumentaire » introuvable" in load_error(fixtures_copy)
