"""Importing the public Annuaire Santé extract (PS_LibreAcces_Personne_activite), on real files in tmp_path.

Columns found by name whatever the header's capitalisation or order, the
trailing `|`, encodings, the Occitanie filter (département, else postcode),
duplicates, malformed lines counted with their line numbers, files that are not
the extract, the rows and word index as the lookup reads them, atomic
replacement (a failed or interrupted import leaves the previous one intact),
and the `at-tui import-annuaire` command.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import at_tui
from at_tui.domain.text import search_fold
from at_tui.importers.annuaire import AnnuaireReader, Professional, column_key, read_annuaire
from at_tui.importers.finess import ImporterError
from at_tui.importers.professionals_store import import_annuaire, last_annuaire_import, professionals_count
from at_tui.store.migrations import open_database
from at_tui.synthetic.annuaire import COLUMNS, activity_row, generate, header, write_rows

SRC = Path(at_tui.__file__).resolve().parent.parent
STAMP = "2026-11-22T10:00:00+00:00"


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "at-tui.sqlite3")
    yield connection
    connection.close()


def stored(conn: sqlite3.Connection) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT * FROM professionals ORDER BY id")]


def fts(conn: sqlite3.Connection, match: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT rowid FROM professionals_fts WHERE professionals_fts MATCH ?", (match,))]


def integrity(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


HELENE = activity_row(
    identifier="10001234567", last_name="LEFÈVRE", first_name="Hélène", profession="Médecin",
    specialty="Cardiologie et maladies vasculaires", structure="CENTRE HOSPITALIER D'AUCH", commune="AUCH",
    postcode="32000", phone="05 62 61 32 32", email="h.lefevre@ch-auch.fr", departement="32",
    departement_name="Gers", mode="Salarié",
)
BENOIT = activity_row(
    identifier="10007654321", last_name="N'DIAYE", first_name="Benoît", profession="Infirmier",
    structure="CABINET INFIRMIER DU CENTRE", commune="MONTPELLIER", postcode="34000", departement="34",
    departement_name="Hérault",
)
GWENOLA = activity_row(
    identifier="10005555555", last_name="SAINT-MARTIN", first_name="Gwënola", profession="Sage-femme",
    structure="MAISON DE SANTÉ DE FIGEAC", commune="FIGEAC", postcode="46100", departement="46",
    departement_name="Lot",
)
PARISIAN = activity_row(
    identifier="10009999999", last_name="DUPONT", first_name="Jean", profession="Pharmacien",
    structure="PHARMACIE DES LILAS", commune="PARIS", postcode="75020", departement="75", departement_name="Paris",
)
FIRST_IMPORT = [HELENE, BENOIT, GWENOLA, PARISIAN]


def small_file(path: Path, rows: list, **options) -> Path:
    return write_rows(path, rows, **options)


def as_tuple(row: Professional) -> tuple:
    return tuple(row)


# -- columns by name ------------------------------------------------------------------------------


def test_the_lookup_columns_are_read_by_name(tmp_path):
    professionals, report = read_annuaire(small_file(tmp_path / "a.txt", FIRST_IMPORT))
    assert professionals[0] == Professional(
        "10001234567", "LEFÈVRE", "Hélène", "Médecin", "Cardiologie et maladies vasculaires",
        "CENTRE HOSPITALIER D'AUCH", "AUCH", "32000", "0562613232", "h.lefevre@ch-auch.fr", "32",
    )
    # Empty optional fields are None; the first name may be empty, never None.
    assert professionals[1] == Professional(
        "10007654321", "N'DIAYE", "Benoît", "Infirmier", None, "CABINET INFIRMIER DU CENTRE", "MONTPELLIER",
        "34000", None, None, "34",
    )
    assert [p.identifier for p in professionals] == ["10001234567", "10007654321", "10005555555"]
    assert (report.read, report.kept, report.skipped_other_region, report.malformed) == (4, 3, 1, 0)
    assert report.columns == COLUMNS and report.people == 3


@pytest.mark.parametrize("case", ["real", "lower", "upper", "drift"])
def test_header_capitalisation_drift_does_not_matter(tmp_path, case):
    expected, _ = read_annuaire(small_file(tmp_path / "real.txt", FIRST_IMPORT))
    path = small_file(tmp_path / f"{case}.txt", FIRST_IMPORT, header_line=header(case))
    assert header(case) != header("real") or case == "real"
    professionals, report = read_annuaire(path)
    assert professionals == expected and report.malformed == 0


def test_column_names_are_compared_without_accents_spaces_or_punctuation(tmp_path):
    assert column_key("Code Département (structure)") == column_key("  code departement(Structure) ")
    assert column_key("Nom d'exercice") == column_key("NOM D’EXERCICE") == "nomdexercice"
    assert column_key("Téléphone (coord. structure)") != column_key("Téléphone 2 (coord. structure)")
    odd = [{"Code Département (structure)": " Code  departement (STRUCTURE)", "Prénom d'exercice": "Prenom d exercice",
            "Adresse e-mail (coord. structure)": "Adresse email (coord structure)"}.get(c, c) for c in COLUMNS]
    path = small_file(tmp_path / "odd.txt", FIRST_IMPORT, header_line="|".join(odd) + "|")
    professionals, _ = read_annuaire(path)
    assert professionals == read_annuaire(small_file(tmp_path / "real.txt", FIRST_IMPORT))[0]
    assert professionals[0].first_name == "Hélène" and professionals[0].email == "h.lefevre@ch-auch.fr"


def test_columns_in_another_order(tmp_path):
    expected, _ = read_annuaire(small_file(tmp_path / "a.txt", FIRST_IMPORT))
    reordered = list(reversed(COLUMNS))
    path = small_file(tmp_path / "b.txt", FIRST_IMPORT, columns=reordered)
    assert path.read_text(encoding="utf-8").startswith("Libellé section tableau pharmaciens|")
    assert read_annuaire(path)[0] == expected
    # A generated file with shuffled columns counts exactly as the generator wrote it.
    import random

    shuffled = list(COLUMNS)
    random.Random(5).shuffle(shuffled)
    summary = generate(tmp_path / "c.txt", 1500, seed=5, occitanie_share=0.5, columns=shuffled, malformed=4)
    professionals, report = read_annuaire(tmp_path / "c.txt")
    assert report.kept == summary.kept == len(professionals) and report.malformed == 4
    assert [e.line for e in report.examples] == [line for line, _ in summary.malformed_lines]


def test_the_trailing_bar_is_expected_but_tolerated_when_missing(tmp_path):
    text = small_file(tmp_path / "a.txt", FIRST_IMPORT).read_text(encoding="utf-8")
    assert all(line.endswith("|") for line in text.splitlines())
    expected, _ = read_annuaire(tmp_path / "a.txt")
    # Data lines without their trailing `|`, under a header that has it.
    without = "\n".join(line[:-1] if n else line for n, line in enumerate(text.splitlines())) + "\n"
    (tmp_path / "b.txt").write_text(without, encoding="utf-8")
    professionals, report = read_annuaire(tmp_path / "b.txt")
    assert professionals == expected and report.malformed == 0
    # A header without it, data lines with it.
    (tmp_path / "c.txt").write_text(text.replace("pharmaciens|\n", "pharmaciens\n", 1), encoding="utf-8")
    professionals, report = read_annuaire(tmp_path / "c.txt")
    assert professionals == expected and report.malformed == 0


# -- encodings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_cp1252_and_utf8_with_or_without_bom_give_the_same_rows(tmp_path, newline):
    results = {}
    for encoding in ("utf-8", "cp1252", "utf-8-sig"):
        path = tmp_path / f"{encoding}.txt"
        generate(path, 800, seed=3, encoding=encoding, occitanie_share=0.5, malformed=2, newline=newline)
        professionals, report = read_annuaire(path)
        assert report.encoding == encoding
        results[encoding] = (professionals, report.read, report.kept, report.duplicates, report.malformed)
    assert results["utf-8"] == results["cp1252"] == results["utf-8-sig"]
    names = " ".join(f"{p.last_name} {p.first_name}" for p in results["utf-8"][0])
    assert any(char in names for char in "éèëïÉÈË") and "Ã" not in names
    assert "\ufeff" not in results["utf-8-sig"][0][0].identifier


def test_encoding_is_detected_on_the_bytes(tmp_path):
    cp1252 = small_file(tmp_path / "a.txt", FIRST_IMPORT, encoding="cp1252")
    assert "Hélène".encode("cp1252") in cp1252.read_bytes()
    professionals, report = read_annuaire(cp1252)
    assert report.encoding_label == "Windows-1252"
    assert professionals[0].first_name == "Hélène" and professionals[2].first_name == "Gwënola"
    latin = tmp_path / "b.txt"  # 0x81 is undefined in Windows-1252: the file is Latin-1
    latin.write_bytes(cp1252.read_bytes().replace(b"CABINET INFIRMIER", b"CABINET\x81INFIRMIER"))
    professionals, report = read_annuaire(latin)
    assert report.encoding == "latin-1"
    assert professionals[0].first_name == "Hélène"
    assert professionals[1].structure == "CABINETINFIRMIER DU CENTRE"  # the control character dropped


def test_utf8_names_double_encoded_are_repaired(tmp_path):
    broken = [list(HELENE)]
    broken[0][COLUMNS.index("Prénom d'exercice")] = "Hélène".encode().decode("cp1252")  # « HÃ©lÃ¨ne »
    professionals, report = read_annuaire(small_file(tmp_path / "a.txt", broken))
    assert professionals[0].first_name == "Hélène" and report.mojibake_repaired == 1


# -- what is kept --------------------------------------------------------------------------------------


def test_occitanie_only_by_departement_else_by_postcode(tmp_path):
    no_code = activity_row(identifier="10000000011", last_name="ROUQUETTE", postcode="12000", commune="RODEZ",
                           structure="CABINET ROUQUETTE")
    corsica = activity_row(identifier="10000000012", last_name="COLONNA", postcode="20000", commune="AJACCIO")
    reunion = activity_row(identifier="10000000013", last_name="HOARAU", departement="974", postcode="97400")
    nowhere = activity_row(identifier="10000000014", last_name="SANSADRESSE")
    foreign = activity_row(identifier="10000000015", last_name="SMITH", postcode="GL")
    one_digit = activity_row(identifier="10000000016", last_name="ARIEGEOIS", departement="9", postcode="09000")
    cedex = activity_row(identifier="10000000017", last_name="CEDEX", cedex="31059 TOULOUSE CEDEX 9",
                         structure="CHU DE TOULOUSE")
    rows = [no_code, corsica, reunion, nowhere, foreign, one_digit, cedex]
    professionals, report = read_annuaire(small_file(tmp_path / "a.txt", rows))
    assert [(p.last_name, p.departement, p.commune, p.postcode) for p in professionals] == [
        ("ROUQUETTE", "12", "RODEZ", "12000"), ("ARIEGEOIS", "09", None, "09000"),
        ("CEDEX", "31", "TOULOUSE", "31059"),
    ]
    assert (report.read, report.kept, report.skipped_other_region, report.skipped_no_departement) == (7, 3, 2, 2)


def test_without_a_departement_column_the_postcode_gives_it(tmp_path):
    columns = [c for c in COLUMNS if c not in ("Code Département (structure)", "Libellé Département (structure)")]
    path = small_file(tmp_path / "a.txt", FIRST_IMPORT, columns=columns)
    professionals, report = read_annuaire(path)
    assert [(p.last_name, p.departement) for p in professionals] == [("LEFÈVRE", "32"), ("N'DIAYE", "34"),
                                                                      ("SAINT-MARTIN", "46")]
    assert report.skipped_other_region == 1


def test_departements_come_from_the_territory_or_the_caller(tmp_path):
    path = small_file(tmp_path / "a.txt", FIRST_IMPORT)
    reader = AnnuaireReader(path)
    assert reader.departements == {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}
    assert reader.departement_names["32"] == "Gers" and reader.departement_names["34"] == "Hérault"
    professionals, _ = read_annuaire(path, departements={"75"})
    assert [p.last_name for p in professionals] == ["DUPONT"]


def test_exact_repeats_of_identifier_structure_and_commune_are_dropped(tmp_path):
    second_specialty = list(HELENE)
    second_specialty[COLUMNS.index("Libellé savoir-faire")] = "Médecine du sport"
    elsewhere = list(HELENE)
    elsewhere[COLUMNS.index("Raison sociale site")] = "CLINIQUE DU GERS"
    colleague = list(HELENE)
    colleague[COLUMNS.index("Identifiant PP")] = "10001234568"
    rows = [HELENE, second_specialty, elsewhere, HELENE, colleague]
    professionals, report = read_annuaire(small_file(tmp_path / "a.txt", rows))
    assert [(p.identifier, p.structure, p.specialty) for p in professionals] == [
        ("10001234567", "CENTRE HOSPITALIER D'AUCH", "Cardiologie et maladies vasculaires"),
        ("10001234567", "CLINIQUE DU GERS", "Cardiologie et maladies vasculaires"),
        ("10001234568", "CENTRE HOSPITALIER D'AUCH", "Cardiologie et maladies vasculaires"),
    ]
    assert report.duplicates == 2 and report.people == 2


def test_a_generated_file_is_counted_exactly_as_written(tmp_path):
    path = tmp_path / "annuaire.txt"
    summary = generate(path, 5000, seed=11, occitanie_share=0.3, malformed=6)
    professionals, report = read_annuaire(path)
    assert report.read == summary.rows + 6
    assert report.kept == summary.kept == len(professionals)
    assert report.duplicates == summary.duplicates > 0
    assert report.skipped_other_region == summary.other_region > 0
    assert report.skipped_no_departement == summary.no_departement > 0
    assert report.people == summary.kept_people
    assert report.read == (report.kept + report.duplicates + report.skipped_other_region
                           + report.skipped_no_departement + report.malformed)
    assert summary.departement_from_postcode > 0
    assert len({p.identifier for p in professionals}) < len(professionals)  # people repeat
    assert {p.departement for p in professionals} <= set(AnnuaireReader(path).departements)


# -- malformed lines ----------------------------------------------------------------------------------


def test_malformed_lines_are_counted_with_their_line_number_and_a_french_reason(tmp_path):
    good = "|".join(HELENE) + "|"
    short = "|".join(BENOIT[:20]) + "|"
    bar_inside = "|".join(GWENOLA).replace("MAISON DE SANTÉ", "MAISON | SANTÉ") + "|"
    no_identifier = list(BENOIT)
    no_identifier[COLUMNS.index("Identifiant PP")] = "  "
    no_name = list(GWENOLA)
    no_name[COLUMNS.index("Nom d'exercice")] = ""
    rows = [good, short, "", bar_inside, no_identifier, no_name, "   ", good.replace("10001234567", "10001234560")]
    professionals, report = read_annuaire(small_file(tmp_path / "a.txt", rows))
    assert [p.identifier for p in professionals] == ["10001234567", "10001234560"]
    assert report.malformed == 4 and report.read == 6  # blank lines are not rows
    assert [(e.line, e.reason) for e in report.examples] == [
        (3, "20 colonne(s) au lieu des 52 de l'en-tête (ligne coupée ?)"),
        (5, "53 colonne(s) au lieu des 52 de l'en-tête (un « | » dans une valeur ?)"),
        (6, "identifiant manquant (colonne « Identifiant PP »)"),
        (7, "nom manquant (colonne « Nom d'exercice »)"),
    ]
    summary = report.summary_lines()
    assert summary[1] == ("6 ligne(s) lue(s), 2 gardée(s) (Occitanie, 2 professionnel(s)), 0 hors région, "
                          "0 sans département, 0 doublon(s), 4 ligne(s) mal formée(s).")
    assert summary[2:] == [f"  ligne {e.line} : {e.reason}" for e in report.examples]


def test_generated_malformed_lines_are_found_where_they_were_written(tmp_path):
    summary = generate(tmp_path / "a.txt", 3000, seed=4, malformed=8)
    _, report = read_annuaire(tmp_path / "a.txt")
    assert [e.line for e in report.examples] == [line for line, _ in summary.malformed_lines]
    assert report.malformed == 8


def test_only_the_first_examples_are_kept(tmp_path):
    rows = [HELENE] + ["10000000001|TRONQUÉE"] * 30
    _, report = read_annuaire(small_file(tmp_path / "a.txt", rows))
    assert report.malformed == 30 and len(report.examples) == 20
    assert report.examples[-1].line == 22
    assert report.summary_lines()[-1] == "  … et 10 autre(s) ligne(s) mal formée(s)."


# -- files that cannot be imported -----------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_an_empty_file_is_a_clear_french_error(tmp_path, content):
    path = tmp_path / "vide.txt"
    path.write_bytes(content)
    with pytest.raises(ImporterError, match=r"est vide : aucun extrait de l'Annuaire Santé à importer"):
        AnnuaireReader(path)


def test_a_missing_required_column_is_named_with_the_columns_found(tmp_path):
    columns = [c for c in COLUMNS if c != "Identifiant PP"]
    with pytest.raises(ImporterError) as caught:
        AnnuaireReader(small_file(tmp_path / "a.txt", FIRST_IMPORT, columns=columns))
    message = str(caught.value)
    assert "n'est pas un extrait de l'Annuaire Santé" in message
    assert "colonne(s) manquante(s) : « Identifiant PP »." in message
    assert "Colonnes trouvées (ligne 1) : « Type d'identifiant PP », « Identification nationale PP »" in message
    assert "Rien n'a été importé" in message
    no_place = [c for c in COLUMNS if c not in ("Code Département (structure)", "Code postal (coord. structure)")]
    with pytest.raises(ImporterError, match=r"« Code Département \(structure\) » \(ou à défaut « Code postal"):
        AnnuaireReader(small_file(tmp_path / "b.txt", FIRST_IMPORT, columns=no_place))


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        ("finess;etalab;111;2026-05-12\nstructureet;310000010;;EHPAD\n", "importez-le avec « at-tui import-finess »"),
        ("Identifiant PP;Nom d'exercice;Code postal\n1;DUPONT;31000\n", "pas séparés par « | »"),
        ("Bonjour, ceci est une lettre.\n", "Colonnes trouvées (ligne 1) : « Bonjour, ceci est une lettre. »"),
        ("\n\nnom|prénom|ville|\nDUPONT|Jean|Auch|\n", "Colonnes trouvées (ligne 3) : « nom », « prénom », « ville »"),
    ],
)
def test_a_file_that_is_not_the_extract_is_refused_in_french(tmp_path, content, hint):
    path = tmp_path / "autre.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImporterError) as caught:
        AnnuaireReader(path)
    assert "n'est pas un extrait de l'Annuaire Santé" in str(caught.value) and hint in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"PK\x03\x04\x14\x00", "archive compressée"), (b"\xff\xfeI\x00d\x00", "UTF-16"),
     (b"Identifiant PP|\n\x00\x01", "octets nuls")],
)
def test_binary_files_and_missing_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "binaire.txt"
    path.write_bytes(content)
    with pytest.raises(ImporterError, match=expected):
        AnnuaireReader(path)
    with pytest.raises(ImporterError, match="introuvable"):
        AnnuaireReader(tmp_path / "absent.txt")


# -- storage ------------------------------------------------------------------------------------------------


def test_nothing_imported_yet(conn):
    assert professionals_count(conn) == 0 and last_annuaire_import(conn) is None
    old = sqlite3.connect(":memory:")  # a database without the v5 tables
    assert professionals_count(old) == 0 and last_annuaire_import(old) is None
    old.close()


def test_import_stores_the_lookup_columns_and_the_word_index(conn, tmp_path):
    report = import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT), imported_at=STAMP)
    assert professionals_count(conn) == report.kept == 3 and last_annuaire_import(conn) == STAMP
    assert stored(conn) == [
        (1, "10001234567", "LEFÈVRE", "Hélène", "Médecin", "Cardiologie et maladies vasculaires",
         "CENTRE HOSPITALIER D'AUCH", "AUCH", "32000", "0562613232", "h.lefevre@ch-auch.fr", "32", STAMP,
         "lefevre helene"),
        (2, "10007654321", "N'DIAYE", "Benoît", "Infirmier", None, "CABINET INFIRMIER DU CENTRE", "MONTPELLIER",
         "34000", None, None, "34", STAMP, "n diaye benoit"),
        (3, "10005555555", "SAINT-MARTIN", "Gwënola", "Sage-femme", None, "MAISON DE SANTÉ DE FIGEAC", "FIGEAC",
         "46100", None, None, "46", STAMP, "saint martin gwenola"),
    ]
    assert fts(conn, '"helene"*') == [1]
    assert fts(conn, '"hel"*') == [1]
    assert fts(conn, 'name_words : ("gwen"* AND "saint"*)') == [3]
    assert fts(conn, '"diaye"* "beno"*') == [2]
    assert fts(conn, 'other_words : "cardiologie"*') == [1]
    assert fts(conn, 'other_words : ("maison"* "figeac"*)') == [3]
    assert fts(conn, 'other_words : "infirmier"*') == [2]
    assert fts(conn, 'departement_words : "gers"*') == [1]
    assert fts(conn, 'departement_words : "32"') == [1]
    assert fts(conn, 'departement_words : "herault"*') == [2]
    assert fts(conn, 'name_words : "cardio"*') == []  # each kind of words in its own column
    assert fts(conn, '"dupont"*') == []  # Paris is not kept
    assert integrity(conn) == "ok"


def test_only_the_lookup_columns_are_stored(conn, tmp_path):
    """Personal data: what the lookup does not need never reaches the database file."""
    row = list(HELENE)
    row[COLUMNS.index("Libellé Voie (coord. structure)")] = "RUE TRÈS PRIVÉE DU TEST"
    row[COLUMNS.index("Numéro SIRET site")] = "98765432109876"
    row[COLUMNS.index("Libellé civilité")] = "Madame-Test"
    import_annuaire(conn, small_file(tmp_path / "a.txt", [row]))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = Path(conn.execute("PRAGMA database_list").fetchone()[2]).read_bytes()
    assert "LEFÈVRE".encode() in db
    for private in ("RUE TRÈS PRIVÉE", "98765432109876", "Madame-Test"):
        assert private.encode() not in db


def test_rows_are_numbered_in_name_order(conn, tmp_path):
    path = tmp_path / "a.txt"
    generate(path, 3000, seed=21, occitanie_share=0.4)
    report = import_annuaire(conn, path)
    rows = conn.execute("SELECT id, name_folded, identifier, last_name, first_name FROM professionals ORDER BY id").fetchall()
    assert len(rows) == report.kept > 500
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert [(r[1], r[2]) for r in rows] == sorted((r[1], r[2]) for r in rows)
    assert all(r[1] == search_fold(f"{r[3]} {r[4]}") for r in rows)
    # The word index follows: its rowids are the ids, so its results come out alphabetically.
    hits = fts(conn, '"ma"*')
    assert len(hits) > 20 and hits == sorted(hits)
    names = [conn.execute("SELECT name_folded FROM professionals WHERE id = ?", (h,)).fetchone()[0] for h in hits]
    assert names == sorted(names)
    codes = ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82")
    every_departement = "departement_words : (" + " OR ".join(f'"{code}"' for code in codes) + ")"
    assert len(fts(conn, every_departement)) == report.kept


def test_reimport_replaces_the_previous_one(conn, tmp_path):
    import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT), imported_at=STAMP)
    assert fts(conn, '"gwenola"*') == [3]
    second = list(BENOIT)
    second[COLUMNS.index("Raison sociale site")] = "CENTRE DE SANTÉ DE LUNEL"
    newcomer = activity_row(identifier="10002222222", last_name="ABADIE", first_name="Zoé", profession="Orthophoniste",
                            commune="TARBES", postcode="65000", departement="65")
    report = import_annuaire(conn, small_file(tmp_path / "b.txt", [second, newcomer], encoding="cp1252"),
                             imported_at="2026-12-01T09:00:00+00:00")
    assert report.kept == professionals_count(conn) == 2
    assert [(r[0], r[1], r[6]) for r in stored(conn)] == [
        (1, "10002222222", None), (2, "10007654321", "CENTRE DE SANTÉ DE LUNEL"),
    ]
    assert last_annuaire_import(conn) == "2026-12-01T09:00:00+00:00"
    assert fts(conn, '"gwenola"*') == [] and fts(conn, '"helene"*') == []
    assert fts(conn, '"zoe"*') == [1] and fts(conn, 'other_words : "lunel"*') == [2]
    assert integrity(conn) == "ok"


def test_a_file_without_occitanie_rows_or_only_a_header_keeps_the_previous_import(conn, tmp_path):
    import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT))
    before = stored(conn)
    with pytest.raises(ImporterError, match="Aucun professionnel d'Occitanie") as caught:
        import_annuaire(conn, small_file(tmp_path / "paris.txt", [PARISIAN, activity_row(identifier="1", last_name="X")]))
    assert "2 ligne(s) lue(s) : 1 hors région, 1 sans département, 0 mal formée(s)" in str(caught.value)
    assert "Les professionnels déjà importés sont conservés." in str(caught.value)
    with pytest.raises(ImporterError, match="ne contient que son en-tête"):
        import_annuaire(conn, small_file(tmp_path / "header.txt", []))
    with pytest.raises(ImporterError, match="Aucun professionnel d'Occitanie"):
        import_annuaire(conn, small_file(tmp_path / "bad.txt", ["1|2|3"] * 3))
    with pytest.raises(ImporterError, match="colonne\\(s\\) manquante\\(s\\)"):
        import_annuaire(conn, small_file(tmp_path / "other.txt", FIRST_IMPORT,
                                         columns=[c for c in COLUMNS if c != "Nom d'exercice"]))
    assert stored(conn) == before and fts(conn, '"helene"*') == [1]
    assert not conn.in_transaction


class Interrupted(Exception):
    pass


def test_an_import_interrupted_by_the_progress_callback_leaves_the_previous_data(conn, tmp_path):
    import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT))
    before = stored(conn)
    big = tmp_path / "big.txt"
    generate(big, 8000, seed=9, occitanie_share=0.5)
    calls = []

    def stop_midway(done: int, total: int) -> None:
        calls.append(done)
        if 0 < done < total:
            raise Interrupted

    with pytest.raises(Interrupted):
        import_annuaire(conn, big, on_progress=stop_midway)
    assert calls[0] == 0 and 0 < calls[-1] < big.stat().st_size
    assert stored(conn) == before
    assert fts(conn, '"helene"*') == [1] and fts(conn, '"gwenola"*') == [3]
    assert integrity(conn) == "ok" and not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0] == 0  # staging dropped
    report = import_annuaire(conn, big)  # the same connection imports normally afterwards
    assert professionals_count(conn) == report.kept > 1000


def test_a_failure_inside_the_swap_rolls_everything_back(conn, tmp_path):
    import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT))
    before = stored(conn)
    conn.execute(
        "CREATE TEMP TRIGGER simulated_failure BEFORE INSERT ON main.professionals WHEN NEW.identifier = '10003333333' "
        "BEGIN SELECT RAISE(ABORT, 'panne simulée'); END"
    )
    failing = activity_row(identifier="10003333333", last_name="ZORRO", departement="31", commune="TOULOUSE")
    with pytest.raises(ImporterError, match="panne simulée") as caught:
        import_annuaire(conn, small_file(tmp_path / "b.txt", [BENOIT, failing]))
    assert "Les professionnels déjà importés sont conservés." in str(caught.value)
    assert stored(conn) == before
    assert fts(conn, '"helene"*') == [1] and fts(conn, '"zorro"*') == []
    assert integrity(conn) == "ok"
    assert conn.execute("SELECT count(*) FROM temp.sqlite_master WHERE type = 'table'").fetchone()[0] == 0


def test_the_database_stays_writable_while_a_file_is_parsed(conn, tmp_path):
    """Staging is TEMP: the app can save a visit while the CLI parses a big file."""
    db_path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    big = tmp_path / "big.txt"
    generate(big, 6000, seed=4)
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS app_writes (n INTEGER)")
    writes = []

    def write_from_the_app(done: int, total: int) -> None:
        if 0 < done < total:
            other.execute("BEGIN IMMEDIATE")  # would raise « database is locked » with timeout=0
            other.execute("INSERT INTO app_writes VALUES (?)", (done,))
            other.execute("COMMIT")
            writes.append(done)

    import_annuaire(conn, big, on_progress=write_from_the_app)
    assert writes and other.execute("SELECT count(*) FROM app_writes").fetchone()[0] == len(writes)
    other.close()


def test_progress_calls_and_the_text_progress_bar(conn, tmp_path):
    from at_tui.importers.progress import TextProgress

    path = tmp_path / "a.txt"
    generate(path, 4000, seed=6)
    calls = []
    import_annuaire(conn, path, on_progress=lambda done, total: calls.append((done, total)))
    total = path.stat().st_size
    assert calls[0] == (0, total) and calls[-1] == (total, total) and len(calls) > 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    out = io.StringIO()
    with TextProgress("Import Annuaire Santé", out, force=True) as bar:
        import_annuaire(conn, path, on_progress=bar)
    text = out.getvalue()
    assert text.startswith(f"\rImport Annuaire Santé [{'.' * 30}]   0%")
    assert text.rstrip("\n").rsplit("\r", 1)[1].startswith(f"Import Annuaire Santé [{'#' * 30}] 100%")


# -- the command line --------------------------------------------------------------------------------------------


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env["AT_TUI_HOME"] = str(home)
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "at_tui", *args],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )


def test_import_annuaire_command_end_to_end(tmp_path, monkeypatch):
    home = tmp_path / "home"
    path = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    summary = generate(path, 3000, seed=8, occitanie_share=0.4, malformed=3, encoding="cp1252")
    result = run_cli(home, "import-annuaire", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Fichier {path} (Windows-1252, 52 colonnes)"
    assert lines[1].startswith(f"{summary.rows + 3} ligne(s) lue(s), {summary.kept} gardée(s) (Occitanie, ")
    assert f"{summary.other_region} hors région, {summary.no_departement} sans département, " \
           f"{summary.duplicates} doublon(s), 3 ligne(s) mal formée(s)." in lines[1]
    assert [line.split(" : ")[0] for line in lines[2:]] == [f"  ligne {n}" for n, _ in summary.malformed_lines]

    monkeypatch.setenv("AT_TUI_HOME", str(home))
    from at_tui.paths import database_path

    db = database_path()
    conn = open_database(db)
    try:
        assert professionals_count(conn) == summary.kept
        before = stored(conn)
    finally:
        conn.close()

    # A file that is not the extract: a French message, a non-zero exit, the previous import kept.
    finess = tmp_path / "finess.csv"
    finess.write_text("finess;etalab;111;2026-05-12\n", encoding="utf-8")
    for bad, fragment in ((finess, "at-tui import-finess"), (tmp_path / "absent.txt", "introuvable")):
        result = run_cli(home, "import-annuaire", str(bad))
        assert result.returncode != 0 and result.stdout == ""
        assert result.stderr.startswith("at-tui : ") and fragment in result.stderr
        assert "Traceback" not in result.stderr
    conn = open_database(db)
    try:
        assert stored(conn) == before
    finally:
        conn.close()


# -- imports that cannot lie (issue 9 §6) --------------------------------------------------------


@pytest.mark.parametrize(("change", "expected"), [("append", "a changé"), ("replace", "a changé"), ("delete", "a disparu")])
def test_a_file_that_changes_while_it_is_read_is_refused_and_nothing_is_replaced(conn, tmp_path, change, expected):
    import_annuaire(conn, small_file(tmp_path / "a.txt", FIRST_IMPORT))
    before = stored(conn)
    big = tmp_path / "big.txt"
    generate(big, 6000, seed=5, occitanie_share=0.5)
    other = tmp_path / "other.txt"
    generate(other, 6000, seed=6, occitanie_share=0.5)
    changed = []

    def change_midway(done: int, total: int) -> None:
        if 0 < done < total and not changed:
            changed.append(done)
            if change == "append":
                with big.open("a", encoding="utf-8") as handle:
                    handle.write("|".join(HELENE) + "|\n")
            elif change == "replace":
                os.replace(other, big)
            else:
                big.unlink()

    with pytest.raises(ImporterError, match=f"le fichier {expected} pendant la lecture") as caught:
        import_annuaire(conn, big, on_progress=change_midway)
    assert changed, "the callback never ran mid-import: the file is too small for the test"
    assert "Rien n'a été remplacé" in str(caught.value)
    assert stored(conn) == before and integrity(conn) == "ok"


def test_a_utf8_extract_with_one_stray_windows_1252_byte_keeps_every_other_accent(tmp_path):
    path = small_file(tmp_path / "a.txt", FIRST_IMPORT)
    data = path.read_bytes()
    # Benoît's line: its « î » in Windows-1252 (one byte); Hélène's line stays UTF-8.
    mixed = data.replace("Benoît".encode(), "Benoît".encode("cp1252"))
    path.write_bytes(mixed)
    professionals, report = read_annuaire(path)
    assert [p.first_name for p in professionals] == ["Hélène", "Benoît", "Gwënola"]
    assert professionals[1].departement == "34" and professionals[1].commune == "MONTPELLIER"
    assert report.encoding == "utf-8" and report.fallback_lines == 1
    summary = "\n".join(report.summary_lines())
    assert "1 ligne(s) hors UTF-8 lue(s) en Windows-1252, chacune seule (ligne(s) 3)" in summary
    assert "Ã" not in summary


def test_a_truncated_last_line_is_reported_as_a_truncated_file(tmp_path):
    path = small_file(tmp_path / "a.txt", FIRST_IMPORT)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"PHARMACIE DES")])
    professionals, report = read_annuaire(path)
    assert len(professionals) == 3 and report.truncated_line == 5 and report.malformed == 1
    summary = "\n".join(report.summary_lines())
    assert "Attention, ligne 5 : dernière ligne incomplète : fichier tronqué ?" in summary
    assert "ligne 5 : dernière ligne incomplète : fichier tronqué ? (" in summary
    # A short line in the middle of the file is malformed, not a truncation.
    lines = data.split(b"\n")
    lines[2] = lines[2][:40]
    path.write_bytes(b"\n".join(lines))
    _, report = read_annuaire(path)
    assert report.truncated_line is None and report.malformed == 1


def test_a_file_keeping_less_than_half_of_the_previous_import_needs_force(conn, tmp_path):
    full = tmp_path / "full.txt"
    generate(full, 2000, seed=4, occitanie_share=0.5)
    kept = import_annuaire(conn, full).kept
    before = stored(conn)
    partial = small_file(tmp_path / "partial.txt", FIRST_IMPORT)
    with pytest.raises(ImporterError) as caught:
        import_annuaire(conn, partial)
    message = str(caught.value)
    assert f"ne donne que 3 ligne(s) de professionnels d'Occitanie, contre {kept} à l'import précédent" in message
    assert "at-tui import-annuaire --force" in message and "conservés" in message
    assert stored(conn) == before
    assert import_annuaire(conn, partial, force=True).kept == professionals_count(conn) == 3


def test_escape_sequences_in_the_header_never_reach_a_message(tmp_path):
    osc52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
    path = tmp_path / "a.txt"
    path.write_text(f"Identifiant{osc52}|Nom{osc52}|\x1b[31mRouge|\n1|X|Y|\n", encoding="utf-8")
    with pytest.raises(ImporterError) as caught:
        AnnuaireReader(path)
    message = str(caught.value)
    assert "\x1b" not in message and "\x07" not in message and "\x9b" not in message
    assert "« Rouge »" in message
