"""The bundled directory in SQLite and its lookup: copy on change, word prefixes, filters, the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_cli import run_cli

from at_tui.domain.lookup import Query
from at_tui.store.directory import search, sync_contacts
from at_tui.store.migrations import open_database


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "at-tui.sqlite3")
    yield connection
    connection.close()


@pytest.fixture
def synced(conn, reference):
    assert sync_contacts(conn, reference.contacts, reference.territory)
    return conn


def names(conn: sqlite3.Connection, text: str, **filters) -> list[str]:
    return [entry.name for entry in search(conn, Query.parse(text, **filters)).entries]


def test_copied_once_then_only_when_the_directory_changes(conn, reference):
    assert sync_contacts(conn, reference.contacts, reference.territory)
    count = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
    assert count == len(reference.contacts)
    assert not sync_contacts(conn, reference.contacts, reference.territory)

    renamed = reference.contacts[0].model_copy(update={"name": "Hélène Nouvelle"})
    assert sync_contacts(conn, (renamed, *reference.contacts[1:]), reference.territory)
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == count
    assert names(conn, "helene nouv") == ["Hélène Nouvelle"]
    assert names(conn, reference.contacts[0].name) != [reference.contacts[0].name]


def test_a_failed_copy_leaves_the_previous_directory(conn, reference):
    sync_contacts(conn, reference.contacts, reference.territory)
    duplicate = (*reference.contacts, reference.contacts[0])  # contact_id is UNIQUE: the copy fails
    with pytest.raises(sqlite3.IntegrityError):
        sync_contacts(conn, duplicate, reference.territory)
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == len(reference.contacts)
    assert names(conn, "dac 32")


@pytest.mark.parametrize(
    ("typed", "expected_kind", "expected_email_part"),
    [
        ("DAC 32", "dac", "dac32"),
        ("dac 31", "dac", "dac31"),
        ("Gers", "at", None),
        ("32", "dac", "dac32"),
        ("cocon", "projet", None),
        ("LIST-SPICO", "boite", "list.spico"),
        ("bal spico", "boite", "spico@"),
    ],
)
def test_what_the_issue_asks_to_find(synced, typed, expected_kind, expected_email_part):
    entries = search(synced, Query.parse(typed)).entries
    assert entries, typed
    kinds = [entry.kind for entry in entries]
    assert expected_kind in kinds[:3], (typed, kinds)
    if expected_email_part:
        assert any(expected_email_part in (entry.email or "") for entry in entries[:3])


def test_gers_and_32_find_the_gers_at_and_the_dac_32_referents(synced):
    for typed in ("Gers", "gers", "32"):
        found = {(e.kind, e.name) for e in search(synced, Query.parse(typed)).entries}
        assert ("at", "Marie-Pierre Thezan-Labat") in found, typed
        assert {name for kind, name in found if kind == "dac"} == {"Romain Eychenne", "Fabien Debat"}, typed


def test_a_directory_too_large_to_rank_gives_its_matches_in_file_order(synced, monkeypatch):
    """Past a curated directory's size the matches are not ranked (ranking costs every match):
    the same contacts are found, bounded by the limit, in the files' order."""
    from at_tui.store import directory

    ranked = search(synced, Query.parse("dac")).entries
    monkeypatch.setattr(directory, "RANKED_AT_MOST", 3)
    unranked = search(synced, Query.parse("dac")).entries
    assert {e.name for e in unranked} == {e.name for e in ranked}
    ids = [row[0] for row in synced.execute("SELECT contact_id FROM contacts ORDER BY id")]
    found = [e.key for e in unranked]
    assert found == sorted(found, key=ids.index)
    assert len(search(synced, Query.parse("d", limit=4)).entries) == 4


def test_accents_case_and_punctuation_do_not_matter(synced):
    assert names(synced, "gwënola") == names(synced, "GWENOLA") == names(synced, "gwenola")
    assert names(synced, "gwenola")
    assert names(synced, "jean-françois") == names(synced, "jean francois") == ["Jean-François Pouches"]
    assert names(synced, "fréaud") == names(synced, "freaud")


def test_every_word_must_match_as_a_prefix(synced):
    assert names(synced, "dac 09 pouch") == ["Jean-François Pouches"]
    assert names(synced, "dac 09 nobody") == []
    assert names(synced, "zzz") == []


def test_filters_by_departement_and_kind(synced):
    in_gers = search(synced, Query.parse("", departement="32")).entries
    assert in_gers and all("32" in entry.departements for entry in in_gers)
    assert {"dac", "at", "cm"} <= {entry.kind for entry in in_gers}  # the Ouest sector's CM covers the Gers
    dac = search(synced, Query.parse("", departement="32", kind="dac")).entries
    assert [entry.kind for entry in dac] == ["dac", "dac"]
    assert names(synced, "cocon", kind="dac") == []


def test_nothing_typed_lists_the_directory_dac_referents_first(synced, reference):
    entries = search(synced, Query.parse("")).entries
    assert len(entries) == len(reference.contacts)
    kinds = [entry.kind for entry in entries]
    assert kinds[0] == "dac" and kinds[-1] == "canal"
    assert kinds == sorted(kinds, key=["dac", "at", "map", "cm", "referent", "projet", "boite", "canal"].index)


def test_limit_is_honoured(synced):
    assert len(search(synced, Query.parse("", limit=5)).entries) == 5
    assert search(synced, Query.parse("dac", limit=0)).entries == ()


def test_an_entry_carries_its_source_and_check_date(synced):
    entry = search(synced, Query.parse("romain eychenne")).entries[0]
    assert entry.source == "Kit SPICO AT, diapositive « Dispositif d'appui à la Coordination (DAC) — tableau des référents »"
    assert entry.last_checked == "2026-11-22"
    assert entry.as_json()["departement"] == "32"


# -- at-tui contacts -----------------------------------------------------------------------


def test_cli_contacts_json(tmp_path):
    result = run_cli(tmp_path / "home", "contacts", "DAC", "32", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert {"name", "organisation", "role", "departement", "email", "phone", "kind", "source"} <= set(found[0])
    assert [item["name"] for item in found if item["kind"] == "dac"] == ["Romain Eychenne", "Fabien Debat"]
    assert all(item["departement"] for item in found)


def test_cli_contacts_text_limit_and_filters(tmp_path):
    home = tmp_path / "home"
    result = run_cli(home, "contacts", "--limit", "3")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 3
    assert "--limit" in result.stderr

    result = run_cli(home, "contacts", "-d", "Lozère", "--type", "dac")
    lines = result.stdout.splitlines()
    assert lines and all("DAC 48" in line for line in lines)

    result = run_cli(home, "contacts", "cocon")
    assert "Cocon" in result.stdout and "|" in result.stdout


def test_cli_contacts_nothing_found_or_bad_arguments(tmp_path):
    home = tmp_path / "home"
    result = run_cli(home, "contacts", "zzzxq")
    assert result.returncode == 1
    assert result.stdout == "" and "Aucun contact trouvé" in result.stderr

    result = run_cli(home, "contacts", "-d", "75", "dac")
    assert result.returncode == 2
    assert "n'est pas un département d'Occitanie" in result.stderr

    result = run_cli(home, "contacts", "--limit", "0", "dac")
    assert result.returncode == 2 and "entre 1 et 10000" in result.stderr
