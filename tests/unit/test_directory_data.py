"""The contacts directory (fixtures/directory/): faithful to seed 001, validated, and French
errors naming file, contact and field when a file is malformed."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from data_helpers import SEED_FILES, assert_french, assert_names, copy_fixtures, edit, load_error, needs_seeds, seed_text

from at_tui.domain.directory import Contact, ContactKind
from at_tui.reference.loader import ReferenceData

SEED_001 = "001_f565f25cf5719294.txt"
DAC_FILE = "directory/dac.toml"
AT_FILE = "directory/equipe-at.toml"
CM_FILE = "directory/equipe-cm.toml"

# Seed 001, slide « Dispositif d'appui à la Coordination (DAC) », table « Structure / Référent
# au sein du DAC / Mail »: every row, in the seed's order (structure, e-mail).
DAC_TABLE = [
    ("DAC 09", "anim.territorial.diaz@dac09.fr"),
    ("DAC 09", "anim.territorial.pouches@dac09.fr"),
    ("DAC 11", "k.anquet@dac11.fr"),
    ("DAC 11", "k.andrieu@dac11.fr"),
    ("DAC 12", "emma.maurel@dac12.fr"),
    ("DAC 12", "contact@dac12.fr"),
    ("DAC 30", "cyril.giraud@dac30.fr"),
    ("DAC 31", "muriel.boyer@dac31.fr"),
    ("DAC 31", "audrey.albrespy@dac31.fr"),
    ("DAC 32", "r.eychenne@dac32.fr"),
    ("DAC 32", "f.debat@dac32.fr"),
    ("DAC 34", "coordo.polyvalent@dac34.org"),
    ("DAC 34", "coordo.centre@dac34.org"),
    ("DAC 34", "coordo.est@dac34.org"),
    ("DAC 46", "julie.frejaville@dac46.fr"),
    ("DAC 46", "alison.geranton@dac46.fr"),
    ("DAC 48", "direction@dac48.fr"),
    ("DAC 48", "avalette@dac48.fr"),
    ("DAC 48", "contact@dac48.fr"),
    ("DAC 65", "d.vigueur@resapy.fr"),
    ("DAC 65", "f.borga@resapy.fr"),
    ("DAC 66", "laurent.font@dac66.fr"),
    ("DAC 66", "fanny.bresson@dac66.fr"),
    ("DAC 81", "l.bernadou@dac81.fr"),
    ("DAC 81", "n.blanc@dac81.fr"),
    ("DAC 81", "c.labeaute@dac81.fr"),
    ("DAC 82", "t.vacher@dac82.fr"),
]

# Seed 001, slides « Les équipes — Focus sur l'équipe AT » (two slides): AT -> (départements, MAP).
AT_TEAM = {
    "Lucie Arickx": (("46",), "Clémence Boulouis"),
    "Agnès Basquin": (("81",), "Clémence Boulouis"),
    "Adjaratou Assani": (("34",), "Clémence Boulouis"),
    "Céline Deeljore": (("34",), "Clémence Boulouis"),
    "Kévin Benezet": (("30",), "Clémence Boulouis"),
    "Ania Bouldoires": (("12", "48"), "Clémence Boulouis"),
    "Alexandre Blois": (("82",), "Clémence Boulouis"),
    "Emilie Baye": (("65",), "Nathalie Andrieux"),
    "Christophe Camusso": (("31",), "Nathalie Andrieux"),
    "Marie-Pierre Thezan-Labat": (("32",), "Nathalie Andrieux"),
    "Elodie Tirefort": (("09", "11"), "Nathalie Andrieux"),
    "Sébastien Ruiz": (("66",), "Clémence Boulouis"),
}

# Seed 001, slide « Focus sur l'équipe de CM – en refonte »: a word of each role.
CM_ROLES = {
    "Estelle Jeandel": "paramétrage",
    "Emilie Baye": "indicateurs",
    "Amélie": "Ouest",
    "Gwenola Verrier": "expérimentations",
    "Alice Roux": "Est",
}

# Seed 001, slide « Lymphorac, DSPPea, Cocon, Occitadys — Art. 51 », section « Autre ? ».
PROJECT_EMAILS = {
    "Lymphorac": "anaphel.baptiste@chu-montpellier.fr",
    "DSPP": "dsppea34@chu-montpellier.fr",
    "Cocon": "cocon@perinatalite-occitanie.fr",
    "Occitadys": "parcours-tsla@occitadys.fr",
}

EMAIL = re.compile(r"^[a-z0-9][a-z0-9._-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    return copy_fixtures(tmp_path)


def of_kind(reference: ReferenceData, kind: str) -> list[Contact]:
    return [c for c in reference.contacts if c.kind == kind]


def by_name(contacts: list[Contact]) -> dict[str, Contact]:
    return {c.name: c for c in contacts}


def fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))


# -- bundled data ----------------------------------------------------------------------


def test_directory_loads_with_counts_by_kind(reference: ReferenceData) -> None:
    counts = Counter(c.kind.value for c in reference.contacts)
    assert counts == {
        "dac": len(DAC_TABLE),  # 27
        "at": len(AT_TEAM),  # 12
        "map": 2,
        "cm": len(CM_ROLES),  # 5
        "referent": 7,  # Lala Ndiaye, Lucien Lucido, Camille Fréaud, Estelle Jeandel, Gwenola Verrier, Hédi Dakhil, Stéphanie Mauger
        "projet": len(PROJECT_EMAILS),  # 4
        "boite": 2,
        "canal": 2,
    }
    assert set(counts) == {k.value for k in ContactKind}


def test_every_row_of_the_dac_table(reference: ReferenceData) -> None:
    dac = of_kind(reference, "dac")
    assert [(c.organisation, c.email) for c in dac] == DAC_TABLE
    for contact in dac:
        code = contact.organisation.removeprefix("DAC ")
        assert contact.departements == (code,)
        assert contact.source.file == SEED_001
        assert "DAC" in contact.source.slide


def test_dac_32_and_the_accueil_line(reference: ReferenceData) -> None:
    dac = by_name(of_kind(reference, "dac"))
    assert {n for n, c in dac.items() if c.organisation == "DAC 32"} == {"Romain Eychenne", "Fabien Debat"}
    assert dac["Accueil"].organisation == "DAC 48"
    assert dac["Accueil"].email == "contact@dac48.fr"


def test_at_team_by_departement_with_their_map(reference: ReferenceData) -> None:
    maps = {c.id: c for c in of_kind(reference, "map")}
    ats = by_name(of_kind(reference, "at"))
    assert set(ats) == set(AT_TEAM)
    for name, (departements, manager) in AT_TEAM.items():
        assert ats[name].departements == departements, name
        assert ats[name].manager in maps, name
        assert maps[ats[name].manager].name == manager, name


def test_each_departement_has_an_at(reference: ReferenceData) -> None:
    assert reference.territory is not None
    covered = {code for c in of_kind(reference, "at") for code in c.departements}
    assert covered == {d.code for d in reference.territory.departements}
    assert len(covered) == 13


def test_map_api_and_referent_spico(reference: ReferenceData) -> None:
    maps = by_name(of_kind(reference, "map"))
    assert "MAP API" in maps["Clémence Boulouis"].role
    referents = by_name(of_kind(reference, "referent"))
    assert referents["Hédi Dakhil"].role == "Référent SPICO"


def test_cm_team_and_their_roles(reference: ReferenceData) -> None:
    cms = by_name(of_kind(reference, "cm"))
    assert set(cms) == set(CM_ROLES)
    for name, word in CM_ROLES.items():
        assert word.casefold() in cms[name].role.casefold(), (name, cms[name].role)
    assert cms["Amélie"].sector == "Ouest"
    assert cms["Alice Roux"].sector == "Est"


def test_referents_per_structure_type(reference: ReferenceData) -> None:
    referents = by_name(of_kind(reference, "referent"))
    est, ouest = referents["Lucien Lucido"], referents["Camille Fréaud"]
    assert (est.sector, ouest.sector) == ("Est", "Ouest")
    for label in ("CPTS", "MSP", "Centre de santé", "Professionnels libéraux", "Communauté 360", "CH", "EHPAD",
                  "ESSMS (autre)", "PCO"):
        assert label in est.structure_types and label in ouest.structure_types, label
    assert "DAC" in est.structure_types
    assert referents["Estelle Jeandel"].structure_types == ("DAC",)
    assert referents["Estelle Jeandel"].sector == "Ouest"
    assert referents["Lala Ndiaye"].structure_types == ("CRT",)
    assert set(referents["Gwenola Verrier"].structure_types) == {
        "Projet Art. 51", "MRO", "RPO", "Diabète Occitanie", "Oncomip pédiatrique"
    }
    assert "Oncomip pédiatrique" in ouest.structure_types
    assert referents["Stéphanie Mauger"].source.file == "000_8cd7b3c9dcb7e50e.txt"


def test_structure_types_are_territory_typologies(reference: ReferenceData) -> None:
    assert reference.territory is not None
    labels = {t.label for t in reference.territory.offered_typologies}  # the bundled data: no legacy label
    for contact in reference.contacts:
        assert set(contact.structure_types) <= labels, contact.id


def test_project_referents_with_their_emails(reference: ReferenceData) -> None:
    projects = of_kind(reference, "projet")
    for project, email in PROJECT_EMAILS.items():
        [found] = [c for c in projects if c.email == email]
        assert project.casefold() in found.organisation.casefold()


def test_mailboxes_and_teams_channel(reference: ReferenceData) -> None:
    boxes = {c.name: c.email for c in of_kind(reference, "boite")}
    assert boxes == {"LIST-SPICO": "list.spico@esante-occitanie.fr", "BAL SPICO": "spico@esante-occitanie.fr"}
    channels = of_kind(reference, "canal")
    assert any("Teams" in c.name and "@SPICO" in c.name for c in channels)


def test_every_contact_cites_a_seed_and_a_check_date(reference: ReferenceData) -> None:
    for contact in reference.contacts:
        assert contact.source.file in SEED_FILES, contact.id
        assert contact.source.slide.strip(), contact.id
        assert isinstance(contact.last_checked, dt.date)
        # Transcribed from the seeds on 2026-11-22; a later check may only move it forward.
        assert contact.last_checked >= dt.date(2026, 11, 22), contact.id


def test_ids_unique_and_departements_and_sectors_exist(reference: ReferenceData) -> None:
    assert reference.territory is not None
    ids = [c.id for c in reference.contacts]
    assert len(ids) == len(set(ids))
    codes = {d.code for d in reference.territory.departements}
    sectors = {d.sector for d in reference.territory.departements}
    for contact in reference.contacts:
        assert set(contact.departements) <= codes, contact.id
        assert contact.sector is None or contact.sector in sectors, contact.id


def test_emails_well_formed_and_unique(reference: ReferenceData) -> None:
    emails = [c.email for c in reference.contacts if c.email]
    assert len(emails) == len(DAC_TABLE) + len(PROJECT_EMAILS) + 2
    assert len(emails) == len(set(emails))
    for email in emails:
        assert EMAIL.match(email), email


@needs_seeds
def test_every_email_and_person_is_in_the_seeds(reference: ReferenceData) -> None:
    """Nothing invented: each e-mail appears verbatim in a seed, each person's surname too."""
    seeds = seed_text(SEED_001) + seed_text("000_8cd7b3c9dcb7e50e.txt")
    folded = fold(seeds)
    for contact in reference.contacts:
        if contact.email:
            assert contact.email in seeds, contact.email
        if contact.kind in ("dac", "at", "map", "cm", "referent") and contact.name != "Accueil":
            for word in re.split(r"[\s-]+", contact.name):  # « Jean- / François » is split in the seed
                assert fold(word) in folded, (contact.id, word)


# -- malformed files ----------------------------------------------------------------------

EYCHENNE = 'id = "dac-32-romain-eychenne"\nkind = "dac"'
THEZAN_MANAGER = 'departements = ["32"]\nmanager = "map-nathalie-andrieux"'


def test_unknown_kind(fixtures_copy: Path) -> None:
    edit(fixtures_copy, DAC_FILE, EYCHENNE, 'id = "dac-32-romain-eychenne"\nkind = "medecin"')
    message = load_error(fixtures_copy)
    assert_names(message, file=DAC_FILE, item="dac-32-romain-eychenne", field="kind")
    assert "'medecin'" in message and "non reconnue" in message
    assert "'referent'" in message  # the allowed kinds are listed
    assert_french(message)


@pytest.mark.parametrize("bad", ["r.eychenne@dac32", "r.eychenne.dac32.fr", "r eychenne@dac32.fr", "@dac32.fr"])
def test_bad_email(fixtures_copy: Path, bad: str) -> None:
    edit(fixtures_copy, DAC_FILE, 'email = "r.eychenne@dac32.fr"', f'email = "{bad}"')
    message = load_error(fixtures_copy)
    assert_names(message, file=DAC_FILE, item="dac-32-romain-eychenne", field="email")
    assert "adresse e-mail invalide" in message
    assert_french(message)


def test_unknown_departement(fixtures_copy: Path) -> None:
    edit(fixtures_copy, DAC_FILE, 'departements = ["32"]\nemail = "r.eychenne', 'departements = ["33"]\nemail = "r.eychenne')
    message = load_error(fixtures_copy)
    assert_names(message, file=DAC_FILE, item="dac-32-romain-eychenne", field="departements")
    assert "« 33 »" in message and "territory.toml" in message
    assert_french(message)


def test_malformed_departement_code_in_an_at(fixtures_copy: Path) -> None:
    edit(fixtures_copy, AT_FILE, 'departements = ["12", "48"]', 'departements = ["12", "Lozère"]')
    message = load_error(fixtures_copy)
    assert_names(message, file=AT_FILE, item="at-ania-bouldoires", field="departements")
    assert_french(message)


def test_unknown_sector(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CM_FILE, 'sector = "Est"', 'sector = "Nord"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CM_FILE, item="cm-alice-roux", field="sector")
    assert "« Nord »" in message
    assert_french(message)


def test_manager_pointing_nowhere(fixtures_copy: Path) -> None:
    edit(fixtures_copy, AT_FILE, THEZAN_MANAGER, 'departements = ["32"]\nmanager = "map-personne"')
    message = load_error(fixtures_copy)
    assert_names(message, file=AT_FILE, item="at-marie-pierre-thezan-labat", field="manager")
    assert "« map-personne »" in message
    assert_french(message)


def test_manager_must_be_a_map(fixtures_copy: Path) -> None:
    edit(fixtures_copy, AT_FILE, THEZAN_MANAGER, 'departements = ["32"]\nmanager = "at-elodie-tirefort"')
    message = load_error(fixtures_copy)
    assert_names(message, file=AT_FILE, item="at-marie-pierre-thezan-labat", field="manager")
    assert "« map »" in message
    assert_french(message)


def test_duplicate_id_in_one_file(fixtures_copy: Path) -> None:
    edit(fixtures_copy, DAC_FILE, 'id = "dac-32-fabien-debat"', 'id = "dac-32-romain-eychenne"')
    message = load_error(fixtures_copy)
    assert_names(message, file=DAC_FILE, item="dac-32-romain-eychenne", field="id")
    assert "double" in message
    assert_french(message)


def test_duplicate_id_across_files(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CM_FILE, 'id = "cm-alice-roux"', 'id = "at-lucie-arickx"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CM_FILE, item="at-lucie-arickx", field="id")
    assert AT_FILE in message  # where the id was first used
    assert_french(message)


def test_unknown_structure_type(fixtures_copy: Path) -> None:
    edit(fixtures_copy, "directory/referents.toml", 'structure_types = ["CRT"]', 'structure_types = ["Clinique"]')
    message = load_error(fixtures_copy)
    assert_names(message, file="directory/referents.toml", item="referent-lala-ndiaye", field="structure_types")
    assert_french(message)


def test_missing_source_and_bad_date(fixtures_copy: Path) -> None:
    edit(fixtures_copy, DAC_FILE,
         'email = "t.vacher@dac82.fr"\nsource = { file = "001_f565f25cf5719294.txt", '
         'slide = "Dispositif d\'appui à la Coordination (DAC) — tableau des référents" }\nlast_checked = 2026-11-22',
         'email = "t.vacher@dac82.fr"\nlast_checked = "hier"')
    message = load_error(fixtures_copy)
    assert_names(message, file=DAC_FILE, item="dac-82-thibault-vacher", field="source")
    assert_names(message, file=DAC_FILE, item="dac-82-thibault-vacher", field="last_checked")
    assert "AAAA-MM-JJ" in message
    assert_french(message)


def test_manager_on_a_non_at(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CM_FILE, 'sector = "Est"', 'sector = "Est"\nmanager = "map-clemence-boulouis"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CM_FILE, item="cm-alice-roux", field="manager")
    assert_french(message)


def test_unknown_field(fixtures_copy: Path) -> None:
    edit(fixtures_copy, CM_FILE, 'sector = "Est"', 'sector = "Est"\ntelephone = "05 00 00 00 00"')
    message = load_error(fixtures_copy)
    assert_names(message, file=CM_FILE, item="cm-alice-roux", field="telephone")
    assert "champ inconnu" in message
    assert_french(message)


def test_missing_directory_folder(fixtures_copy: Path) -> None:
    import shutil

    shutil.rmtree(fixtures_copy / "directory")
    assert "« directory » introuvable" in load_error(fixtures_copy)
