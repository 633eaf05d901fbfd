"""Imported professionals in the lookup: bounded passes, best first, filters, after the bundled contacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from at_tui.domain.lookup import PROFESSIONAL, Query
from at_tui.importers.professionals_store import import_annuaire
from at_tui.store.directory import search, sync_contacts
from at_tui.store.migrations import open_database
from at_tui.synthetic.annuaire import activity_row, generate, write_rows

PEOPLE = [
    # (identifier, last name, first name, profession, structure, commune, postcode, département)
    ("10000000001", "Martin", "Hélène", "Infirmier", "Centre de santé du Gers", "Auch", "32000", "32"),
    ("10000000002", "Le Guen", "Gwënola", "Médecin", "CH de Mende", "Mende", "48000", "48"),
    ("10000000003", "Martinez", "Paul", "Pharmacien", "Pharmacie du Capitole", "Toulouse", "31000", "31"),
    ("10000000004", "Dupont", "Jean", "Médecin", "Cabinet Dupont", "Montauban", "82000", "82"),
    ("10000000005", "Marty", "Jeanne", "Masseur-kinésithérapeute", "Cabinet des Arènes", "Auch", "32000", "32"),
    ("10000000006", "Gers", "Anne", "Sage-femme", "Maternité de Tarbes", "Tarbes", "65000", "65"),
    ("10000000007", "Martin", "Hélène", "Infirmier", "EHPAD Les Tilleuls", "Mirande", "32300", "32"),
]


@pytest.fixture
def conn(tmp_path: Path, reference):
    rows = [
        activity_row(identifier=ident, last_name=last, first_name=first, profession=profession, structure=structure,
                     commune=commune, postcode=postcode, departement=dept, email=f"{first[0]}.{last}@example.fr".lower())
        for ident, last, first, profession, structure, commune, postcode, dept in PEOPLE
    ]
    source = write_rows(tmp_path / "annuaire.txt", rows)
    connection = open_database(tmp_path / "at-tui.sqlite3")
    sync_contacts(connection, reference.contacts, reference.territory)
    import_annuaire(connection, source)
    yield connection
    connection.close()


def professionals(conn, text: str, **filters) -> list[tuple[str, str]]:
    """(name, organisation) of the professionals found, in order."""
    return [(e.name, e.organisation) for e in search(conn, Query.parse(text, **filters)).entries
            if e.kind == PROFESSIONAL]


def test_name_prefixes_come_first_in_alphabetical_order(conn):
    found = professionals(conn, "mart")
    assert [name for name, _ in found] == ["Hélène Martin", "Hélène Martin", "Paul Martinez", "Jeanne Marty"]


def test_accents_and_first_name_last_name_order(conn):
    assert {org for _, org in professionals(conn, "helene martin")} == {"Centre de santé du Gers", "EHPAD Les Tilleuls"}
    assert professionals(conn, "martin helene") == professionals(conn, "MARTIN Hélène")
    assert [name for name, _ in professionals(conn, "gwenola")] == ["Gwënola Le Guen"]
    assert [name for name, _ in professionals(conn, "le guen")] == ["Gwënola Le Guen"]


def test_profession_structure_commune_and_departement_words(conn):
    assert [name for name, _ in professionals(conn, "pharma capitole")] == ["Paul Martinez"]
    assert {name for name, _ in professionals(conn, "auch")} == {"Hélène Martin", "Jeanne Marty"}
    # « Gers » is a name (Anne Gers, first: name pass) and a département (32, after).
    assert [name for name, _ in professionals(conn, "gers")][0] == "Anne Gers"
    assert {name for name, _ in professionals(conn, "gers")} >= {"Hélène Martin", "Jeanne Marty"}


def test_bundled_contacts_always_come_before_professionals(conn):
    entries = search(conn, Query.parse("gers")).entries
    kinds = [entry.kind for entry in entries]
    first_professional = kinds.index(PROFESSIONAL)
    assert "dac" in kinds[:first_professional] and "at" in kinds[:first_professional]
    assert all(kind == PROFESSIONAL for kind in kinds[first_professional:])


def test_filters(conn):
    in_32 = search(conn, Query.parse("mar", departement="32")).entries
    assert {e.name for e in in_32 if e.kind == PROFESSIONAL} == {"Hélène Martin", "Jeanne Marty"}
    assert all("32" in e.departements for e in in_32)
    only_pros = search(conn, Query.parse("gers", kind=PROFESSIONAL)).entries
    assert only_pros and {e.kind for e in only_pros} == {PROFESSIONAL}
    no_pros = search(conn, Query.parse("mart", kind="dac")).entries
    assert all(e.kind == "dac" for e in no_pros)
    # The professionals of a département, nothing typed, when that is the kind asked for.
    listed = search(conn, Query.parse("", departement="32", kind=PROFESSIONAL)).entries
    assert [e.name for e in listed] == ["Hélène Martin", "Hélène Martin", "Jeanne Marty"]


def test_browsing_without_words_shows_the_bundled_directory_only(conn, reference):
    results = search(conn, Query.parse(""))
    assert {e.kind for e in results.entries} != {PROFESSIONAL}
    assert PROFESSIONAL not in {e.kind for e in results.entries}
    assert results.professionals_total == len(PEOPLE)


def test_entries_of_professionals(conn):
    entry = next(e for e in search(conn, Query.parse("paul martinez")).entries if e.kind == PROFESSIONAL)
    assert entry.role == "Pharmacien"
    assert entry.departements == ("31",)
    assert entry.email == "p.martinez@example.fr"
    assert entry.commune == "31000 Toulouse"
    assert "Annuaire Santé" in entry.source and "10000000003" in entry.source
    assert entry.as_json()["kind"] == PROFESSIONAL


def test_a_page_is_bounded_and_says_when_there_is_more(tmp_path, reference):
    source = tmp_path / "big.txt"
    generate(source, 3000, seed=7, occitanie_share=1.0, no_departement_share=0.0)
    conn = open_database(tmp_path / "big.sqlite3")
    try:
        import_annuaire(conn, source)
        for text in ("m", "ma", "mart", "a b"):
            results = search(conn, Query.parse(text, limit=20))
            assert len(results.entries) == 20, text
            assert results.truncated, text
        # Rows are numbered in name order at import: a page in alphabetical order has rising ids.
        page = [e for e in search(conn, Query.parse("m", limit=50)).entries if e.kind == PROFESSIONAL]
        ids = [int(e.key.rsplit(":", 1)[1]) for e in page]
        assert len(ids) > 10 and ids == sorted(ids)
    finally:
        conn.close()
