"""Pulling the reference data sets from the REAL central service (a uvicorn process), and using them.

Published with the real CLI (`at-tui central publish`), pulled with the real Transport,
read back by a Workspace as the app reads it (lookup, argumentaire, playbooks).
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
from central_server import start_central
from helpers import IDENTITY
from reference_source import add_contacts, contact, copy_fixtures, edit, publish, remove_contact

from at_tui.central.backends import open_storage
from at_tui.domain.lookup import Query
from at_tui.store import pulled_reference
from at_tui.sync import outbox, reference_pull
from at_tui.sync.engine import Report
from at_tui.sync.reference_pull import pull_reference
from at_tui.sync.transport import Offline, RetryPolicy, SyncError, Transport
from at_tui.workspace import Workspace

FAST_RETRY = RetryPolicy(attempts=3, base=0.01, cap=0.05)


@pytest.fixture
def token(central):
    return central.add_user("marie", "at")


@pytest.fixture
def source(tmp_path) -> Path:
    return copy_fixtures(tmp_path / "source")


def transport(url: str, token: str) -> Transport:
    return Transport(url, token, retry=FAST_RETRY, timeout=10.0, rng=random.Random(1))


def published(central, root: Path) -> None:
    result = publish(central.db, root)
    assert result.returncode == 0, result.stderr


def pull(workspace, url: str, token: str, **options) -> int:
    with transport(url, token) as client:
        return pull_reference(workspace, client, Report(), **options)


def rows(workspace, dataset: str) -> dict[str, tuple]:
    return {key: (content, deleted) for key, content, deleted in pulled_reference.items(workspace.conn, dataset)}


def found(workspace, text: str) -> list[str]:
    return [entry.key for entry in workspace.search_directory(Query.parse(text)).entries]


class CutAfter:
    """A transport whose `cut`-th GET fails as a network cut would (after the retries)."""

    def __init__(self, inner: Transport, cut: int) -> None:
        self.inner, self.cut, self.calls = inner, cut, []

    def get(self, path: str, params: dict | None = None):
        self.calls.append((path, dict(params or {})))
        if len(self.calls) == self.cut:
            raise Offline("coupure simulée")
        return self.inner.get(path, params)


def test_publish_pull_cursor_then_nothing_new(workspace, central, token, reference) -> None:
    published(central, None)
    argumentaire = len(reference.argumentaire.sheets) + len(reference.argumentaire.pages)
    expected = len(reference.contacts) + argumentaire + len(reference.playbooks)
    assert pull(workspace, central.url, token) == expected
    assert set(rows(workspace, "contacts")) == {c.id for c in reference.contacts}
    cursors = {d: outbox.get_state(workspace.conn, f"cursor:reference:{d}") for d in ("contacts", "argumentaire", "playbooks")}
    assert all(cursor and cursor != "0" for cursor in cursors.values()), cursors

    assert pull(workspace, central.url, token) == 0  # nothing changed centrally: nothing comes
    assert {d: outbox.get_state(workspace.conn, f"cursor:reference:{d}") for d in cursors} == cursors


def test_a_change_brings_just_that_item_and_the_lookup_follows(workspace, central, token, source) -> None:
    published(central, source)
    pull(workspace, central.url, token)
    assert "dac-09-christine-diaz" in found(workspace, "christine diaz")  # the directory is copied

    edit(source, "directory/dac.toml", 'name = "Christine Diaz"', 'name = "Christine Diazounet"')
    add_contacts(source, [contact("zz-jeanne-test", "Jeanne Testeuse", "32")])
    remove_contact(source, "directory/dac.toml", "dac-09-jean-francois-pouches")
    published(central, source)
    assert pull(workspace, central.url, token) == 3
    pulled = rows(workspace, "contacts")
    assert pulled["dac-09-jean-francois-pouches"] == (None, True)  # a tombstone
    assert '"Christine Diazounet"' in pulled["dac-09-christine-diaz"][0]

    # Same workspace, same session: the next search copies the directory again.
    assert found(workspace, "diazounet") == ["dac-09-christine-diaz"]
    assert found(workspace, "jeanne testeuse") == ["zz-jeanne-test"]  # a contact only the central has
    assert "dac-09-jean-francois-pouches" not in found(workspace, "pouches")  # withdrawn: the bundled one too
    entry = workspace.search_directory(Query.parse("testeuse")).entries[0]
    assert entry.email == "zz-jeanne-test@exemple.fr" and entry.departements == ("32",)


def test_a_page_and_its_cursor_are_committed_together(workspace, central, token) -> None:
    published(central, None)
    with transport(central.url, token) as client:
        cut = CutAfter(client, cut=2)
        with pytest.raises(Offline):
            pull_reference(workspace, cut, Report(), page_size=25, datasets=("contacts",))
        first_page = httpx.get(f"{central.url}/v1/reference/contacts", params={"since": "0", "limit": 25},
                               headers=central.auth(token)).json()
        assert set(rows(workspace, "contacts")) == {item["key"] for item in first_page["items"]}  # page 1 kept
        assert outbox.get_state(workspace.conn, "cursor:reference:contacts") == first_page["cursor"]

        again = CutAfter(client, cut=0)
        received = pull_reference(workspace, again, Report(), page_size=25, datasets=("contacts",))
        assert again.calls[0][1]["since"] == first_page["cursor"]  # page 2 is asked again, not page 1
        assert received == len(workspace.reference.contacts) - 25

    # A failure inside the page's transaction keeps neither the rows nor the cursor.
    def broken_set_state(*args, **kwargs):
        raise RuntimeError("panne pendant l'écriture du curseur")

    fresh = Workspace(workspace.db_path.with_name("autre.sqlite3"), reference=workspace.reference)
    try:
        with pytest.MonkeyPatch.context() as patch, transport(central.url, token) as client:
            patch.setattr(reference_pull, "set_state", broken_set_state)
            with pytest.raises(RuntimeError):
                pull_reference(fresh, client, Report(), datasets=("contacts",))
        assert rows(fresh, "contacts") == {}
        assert outbox.get_state(fresh.conn, "cursor:reference:contacts") is None
    finally:
        fresh.close()


def test_a_recreated_central_means_a_full_resync_that_loses_nothing_until_it_completes(
    workspace, central, token, source, tmp_path, new_central_db
) -> None:
    add_contacts(source, [contact("zz-jeanne-test", "Jeanne Testeuse"), contact("zz-paul-test", "Paul Testeur")])
    published(central, source)
    pull(workspace, central.url, token)
    before = rows(workspace, "contacts")
    old_cursor = outbox.get_state(workspace.conn, "cursor:reference:contacts")
    assert "zz-jeanne-test" in before and found(workspace, "jeanne testeuse") == ["zz-jeanne-test"]
    central.stop()

    # The central database is recreated (new instance); the new publication no longer has Jeanne.
    second = start_central(tmp_path / "recreated", db=new_central_db("recreated"))
    try:
        new_token = second.add_user("marie", "at")
        edit(source, "directory/zz-tests.toml", 'name = "Paul Testeur"', 'name = "Paul Testeur-Nouveau"')
        remove_contact(source, "directory/zz-tests.toml", "zz-jeanne-test")
        published(second, source)

        with transport(second.url, new_token) as client:
            cut = CutAfter(client, cut=3)  # 410, the resync's first page, then a cut
            with pytest.raises(Offline):
                pull_reference(workspace, cut, Report(), page_size=20, datasets=("contacts",))
            assert [call[1]["since"] for call in cut.calls] == [old_cursor, "0", cut.calls[2][1]["since"]]
            assert cut.calls[2][1]["since"] != "0"  # the 410, then the full resync from "0", cut on its page 2
            during = rows(workspace, "contacts")
            assert set(during) == set(before)  # nothing removed before the resync completes
            assert found(workspace, "jeanne testeuse") == ["zz-jeanne-test"]

            received = pull_reference(workspace, client, Report(), page_size=20, datasets=("contacts",))
        assert received > 0
        after = rows(workspace, "contacts")
        assert "zz-jeanne-test" not in after  # the central no longer has it: forgotten once complete
        assert set(after) == set(before) - {"zz-jeanne-test"}
        assert '"Paul Testeur-Nouveau"' in after["zz-paul-test"][0]
        assert found(workspace, "jeanne testeuse") == []
        assert found(workspace, "testeur nouveau") == ["zz-paul-test"]
        assert workspace.conn.execute("SELECT count(*) FROM pulled_reference WHERE stale = 1").fetchone()[0] == 0
    finally:
        second.stop()


def test_invalid_pulled_items_are_ignored_and_valid_ones_take_precedence(
    db_path, central, token, source, reference
) -> None:
    edit(source, "argumentaire/crt.toml", 'title = "Centres de Ressources Territoriaux (CRT)"',
         'title = "CRT — fiche revue au central"')
    edit(source, "playbooks/spico.toml", "\nversion = 2\n", "\nversion = 3\n")
    published(central, source)
    storage = open_storage(central.db)  # what a faulty or newer publisher could write
    try:
        storage.put_reference_item("contacts", "zz-mauvais", {"id": "zz-mauvais", "kind": "dac", "name": "Mauvais"})
        storage.put_reference_item("contacts", "zz-autre-cle", {**_valid_contact("zz-pas-la-cle"), "name": "Clé Fausse"})
        storage.put_reference_item("contacts", "zz-dept", _valid_contact("zz-dept", "Dorothée Ailleurs", ["75"]))
        storage.put_reference_item("argumentaire", "sheet:dac", {"id": "dac", "title": "sans garde-fous"})
        storage.put_reference_item("argumentaire", "sheet:pco", "pas un objet")
        storage.put_reference_item("playbooks", "spico@4", {"id": "spico", "version": 4})
        storage.put_reference_item("contacts", "zz-valide", _valid_contact("zz-valide", name="Valentine Valide"))
    finally:
        storage.close()

    bundled = Workspace(db_path)  # loads the bundled files and lays the pulled data over them
    try:
        started, errors = bundled.start_visit(dict(IDENTITY))
        assert not errors and started.playbook_version == 2  # before the pull: the bundled version
    finally:
        bundled.close()
    workspace = Workspace(db_path)
    try:
        pull(workspace, central.url, token)
    finally:
        workspace.close()

    workspace = Workspace(db_path)
    try:
        merged = workspace.reference
        assert merged.argumentaire.sheet("crt").title == "CRT — fiche revue au central"  # valid: replaces
        for invalid in ("dac", "pco"):  # invalid pulled sheets: the bundled ones stay
            assert merged.argumentaire.sheet(invalid) == reference.argumentaire.sheet(invalid)
        assert set(merged.playbooks) == {("spico", 1), ("spico", 2), ("spico", 3)}  # spico@4 is invalid
        assert merged.current_playbook().version == 3

        new_visit, errors = workspace.start_visit(dict(IDENTITY))
        assert not errors and new_visit.playbook_version == 3  # new visits: the newest version
        assert workspace.playbook_for(workspace.visits.require(started.id)).version == 2  # kept its own

        assert found(workspace, "valentine") == ["zz-valide"]
        assert found(workspace, "mauvais") == [] and found(workspace, "fausse") == []
        assert found(workspace, "dorothee ailleurs") == []  # a département the territory does not have
    finally:
        workspace.close()


def test_a_malformed_page_stores_nothing(workspace) -> None:
    class Garbled:
        def get(self, path, params=None):
            return {"items": [{"key": 3, "deleted": False}], "cursor": "x-1", "more": False}

    with pytest.raises(SyncError):
        pull_reference(workspace, Garbled(), Report())
    assert rows(workspace, "contacts") == {}
    assert outbox.get_state(workspace.conn, "cursor:reference:contacts") is None


def _valid_contact(contact_id: str, name: str = "Contact Valide", departements: list[str] | None = None) -> dict:
    return {
        "id": contact_id, "kind": "referent", "name": name, "organisation": "GRADeS Occitanie", "role": "Test",
        "departements": departements or ["31"], "source": {"file": "tests", "slide": "test"},
        "last_checked": "2026-11-22",
    }
