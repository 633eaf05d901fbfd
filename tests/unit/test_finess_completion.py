"""Completing a structure in « Nouvelle visite » from the imported FINESS structures.

By FINESS number prefix, by name prefix and by word prefixes, insensitive to accents,
case and punctuation; the best matches first; bounded; index-backed.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from at_tui.domain.text import fold, search_fold
from at_tui.importers.structures_store import complete_structures, import_finess
from at_tui.store.migrations import open_database
from at_tui.synthetic.finess import generate, structure_row, write_rows

ROWS = [
    structure_row("460000012", "CENTRE HOSPITALIER DE CAHORS", long_name="CENTRE HOSPITALIER JEAN ROUGIER",
                  departement="46", routing="46000 CAHORS", category="355"),
    structure_row("460000020", "EHPAD LES TILLEULS", departement="46", routing="46100 FIGEAC", category="500"),
    structure_row("320000036", "Ehpad Les Tilleuls", departement="32", routing="32000 AUCH", category="500"),
    structure_row("460000038", "SSIAD DU QUERCY", departement="46", routing="46000 CAHORS", category="354"),
    structure_row("460000046", "MSP DE CAHORS", departement="46", routing="46000 CAHORS", category="603"),
    structure_row("310000051", "RÉSIDENCE L'ÂGE D'OR", departement="31", routing="31000 TOULOUSE"),
    structure_row("340000069", "CPTS CŒUR D'HÉRAULT", departement="34", routing="34800 CLERMONT L'HERAULT",
                  category="604"),
    structure_row("310000077", "HÔPITAL LOCAL DE MURET", departement="31", routing="31600 MURET", category="106"),
    structure_row("320000044", "DAC 32", long_name="DISPOSITIF D'APPUI À LA COORDINATION DU GERS",
                  departement="32", routing="32000 AUCH", category="606"),
    structure_row("820000019", "CPTS DU GRAND MONTAUBAN", departement="82", routing="82000 MONTAUBAN",
                  category="604"),
    structure_row("2A0000015", "EHPAD D'AJACCIO", departement="2A", routing="20000 AJACCIO"),  # not Occitanie
]


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "db.sqlite3")
    path = tmp_path / "finess.csv"
    write_rows(path, ROWS, encoding="cp1252")
    import_finess(connection, path)
    yield connection
    connection.close()


def finess(results) -> list[str]:
    return [s.finess for s in results]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ehpad tilleul", ["320000036", "460000020"]),
        ("EHPAD   Tilleuls", ["320000036", "460000020"]),
        ("éhpâd-TILLEUL", ["320000036", "460000020"]),
        ("tilleul ehpad", ["320000036", "460000020"]),
        ("tilleuls figeac", ["460000020"]),  # the commune narrows
        ("ehpad 32", ["320000036"]),  # and the département
        ("centre hospitalier de cahors", ["460000012"]),
        ("rougier", ["460000012"]),  # long name
        ("hopital", ["310000077"]),
        ("age d or", ["310000051"]),
        ("l'âge d'or", ["310000051"]),
        ("coeur d herault", ["340000069"]),
        ("cœur", ["340000069"]),
        ("dac 32", ["320000044"]),
        ("appui gers", ["320000044"]),
        ("cpts grand", ["820000019"]),
        ("ajaccio", []),
        ("zzz", []),
    ],
)
def test_completion_by_name(conn, typed, expected):
    assert sorted(finess(complete_structures(conn, typed))) == sorted(expected)


def test_name_matches_come_before_commune_matches(conn):
    results = complete_structures(conn, "cahors")
    # Names holding « Cahors » first (alphabetical), then what is only located in Cahors.
    assert finess(results) == ["460000012", "460000046", "460000038"]


def test_name_prefix_comes_first(conn):
    assert finess(complete_structures(conn, "cpts")) == ["340000069", "820000019"]
    assert finess(complete_structures(conn, "e")) == ["320000036", "460000020"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("310", ["310000051", "310000077"]),
        ("3400000 69", ["340000069"]),
        ("46000002", ["460000020"]),
        ("460000012", ["460000012"]),
        ("2a", []),
        ("99", []),
    ],
)
def test_completion_by_finess_number(conn, typed, expected):
    assert finess(complete_structures(conn, typed)) == expected


def test_results_carry_what_the_form_fills(conn):
    [ch] = complete_structures(conn, "centre hospitalier de cahors")
    assert (ch.name, ch.departement, ch.commune, ch.postcode, ch.typology) == (
        "CENTRE HOSPITALIER DE CAHORS", "46", "CAHORS", "46000", "CH",
    )
    [dac] = complete_structures(conn, "dac 32")
    assert dac.typology == "DAC"


def test_limit_and_empty_queries(conn):
    assert len(complete_structures(conn, "c", limit=2)) == 2
    assert complete_structures(conn, "c", limit=0) == []
    assert complete_structures(conn, "") == []
    assert complete_structures(conn, "  -- ' ") == []
    # What the AT types never reaches FTS5 as query syntax.
    assert finess(complete_structures(conn, 'ehpad "tilleul* OR (')) == []
    assert sorted(finess(complete_structures(conn, 'ehpad "tilleul*'))) == ["320000036", "460000020"]


def test_nothing_imported_yet(tmp_path):
    connection = open_database(tmp_path / "empty.sqlite3")
    try:
        assert complete_structures(connection, "ehpad") == []
    finally:
        connection.close()


def test_completion_stays_index_backed_and_bounded_on_a_large_import(tmp_path):
    connection = open_database(tmp_path / "big.sqlite3")
    path = tmp_path / "big.csv"
    generate(path, 6000, seed=12, occitanie_share=1.0)
    import_finess(connection, path)
    for typed in ("c", "ce", "centre hos", "ehpad til", "cahors", "310", "tilleuls figeac"):
        results = complete_structures(connection, typed, limit=8)
        assert 0 < len(results) <= 8, typed
    for sql in (
        "SELECT finess FROM structures s WHERE s.finess >= ? AND s.finess < ? ORDER BY s.finess LIMIT 8",
        "SELECT finess FROM structures s WHERE s.name_folded >= ? AND s.name_folded < ? ORDER BY s.name_folded LIMIT 8",
    ):
        plan = " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", ("a", "b")))
        assert "USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, plan
    connection.close()


# -- folding -------------------------------------------------------------------------------------


def reference(text: str) -> str:
    return fold(text).replace("œ", "oe").replace("æ", "ae")


def test_fast_folding_equals_fold_on_latin_text():
    for code in range(0x2FF):
        char = chr(code)
        if unicodedata.category(char) == "Cs":
            continue
        for text in (char, f"A{char}b", f"{char} {char}x"):
            assert search_fold(text) == reference(text), repr(text)
    alphabet = "aeiouyAEZ09 -'’.;ÉÈÊËÀÂÄÎÏÔÖÙÛÜÇŒÆœæéèàçñßøÅ°«»–—…\u00a0\u0301ǅ"
    rng = random.Random(4)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        assert search_fold(text) == reference(text), repr(text)
    assert search_fold("CENTRE HOSPITALIER DE NÎMES — Cœur d’Hérault") == "centre hospitalier de nimes coeur d herault"
    assert search_fold("Ελλάδα Straße") == reference("Ελλάδα Straße") == "ελλαδα strasse"
