"""`at-tui central publish`, run as the IT team runs it (a separate process), on a temporary database
(a SQLite file and a PostgreSQL database: `central_db`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from central_db import holds_nothing
from reference_source import add_contacts, contact, copy_fixtures, edit, publish, remove_contact, restore

from at_tui.central.backends import open_storage
from at_tui.central.publish import PublishError, load_source
from at_tui.central.publish import publish as publish_source
from at_tui.central.storage import STREAM_REFERENCE, ReferenceWrite
from at_tui.domain.argumentaire import Sheet
from at_tui.domain.directory import Contact
from at_tui.domain.playbook import Playbook


def published(db: str, dataset: str, after: int = 0) -> list:
    storage = open_storage(db)
    try:
        return storage.reference_since(dataset, after, 1_000_000).items
    finally:
        storage.close()


def last_position(db: str) -> int:
    storage = open_storage(db)
    try:
        return storage.last_seq(STREAM_REFERENCE)
    finally:
        storage.close()


def assert_ok(result) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def assert_refused(result, *fragments: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("at-tui : "), result.stderr
    assert "Rien n'a été publié" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return copy_fixtures(tmp_path / "source")


@pytest.fixture
def db(central_db: str) -> str:
    return central_db


def test_first_publish_of_the_bundled_data_validates_every_item_with_the_app_models(db, reference) -> None:
    out = assert_ok(publish(db))  # no folder: the data bundled in the package
    contacts = published(db, "contacts")
    assert {item.key for item in contacts} == {c.id for c in reference.contacts}
    assert f"contacts : {len(reference.contacts)} nouveau(x), 0 modifié(s), 0 retiré(s), 0 inchangé(s)." in out
    by_key = {item.key: item for item in contacts}
    for bundled in reference.contacts:
        assert Contact.model_validate(by_key[bundled.id].content) == bundled  # what the laptop will read back
    sheets = {item.key: item.content for item in published(db, "argumentaire") if item.key.startswith("sheet:")}
    assert {Sheet.model_validate(content) for content in sheets.values()} == set(reference.argumentaire.sheets)
    pages = [item for item in published(db, "argumentaire") if item.key.startswith("page:")]
    assert len(pages) == len(reference.argumentaire.pages)
    playbooks = {item.key: item for item in published(db, "playbooks")}
    assert set(playbooks) == {"spico@1", "spico@2"}  # every version bundled, the older ones for their visits
    for version in (1, 2):
        assert Playbook.model_validate(playbooks[f"spico@{version}"].content) == reference.playbooks[("spico", version)]


def test_publishing_again_unchanged_gives_no_new_position(db, source) -> None:
    assert_ok(publish(db, source))
    before = last_position(db)
    out = assert_ok(publish(db, source))
    assert last_position(db) == before
    assert "0 nouveau(x), 0 modifié(s), 0 retiré(s)" in out
    assert "Rien n'a changé" in out


def test_one_changed_contact_is_the_one_new_item(db, source) -> None:
    assert_ok(publish(db, source))
    before = last_position(db)
    edit(source, "directory/dac.toml", 'name = "Christine Diaz"', 'name = "Christine Diaz-Martin"')
    out = assert_ok(publish(db, source))
    assert "contacts : 0 nouveau(x), 1 modifié(s), 0 retiré(s)" in out
    [changed] = published(db, "contacts", after=before)
    assert changed.key == "dac-09-christine-diaz" and changed.content["name"] == "Christine Diaz-Martin"
    assert published(db, "argumentaire", after=before) == [] and published(db, "playbooks", after=before) == []


def test_a_removed_contact_becomes_a_tombstone_and_a_new_one_an_item(db, source) -> None:
    assert_ok(publish(db, source))
    before = last_position(db)
    remove_contact(source, "directory/dac.toml", "dac-09-christine-diaz")
    add_contacts(source, [contact("zz-jeanne-test", "Jeanne Testeuse")])
    out = assert_ok(publish(db, source))
    assert "contacts : 1 nouveau(x), 0 modifié(s), 1 retiré(s)" in out
    changes = {item.key: item for item in published(db, "contacts", after=before)}
    assert set(changes) == {"dac-09-christine-diaz", "zz-jeanne-test"}
    assert changes["dac-09-christine-diaz"].deleted and changes["dac-09-christine-diaz"].content is None
    assert not changes["zz-jeanne-test"].deleted

    # Put back: a new position again, no longer a tombstone.
    after_removal = last_position(db)
    restore(source, "directory/dac.toml")
    out = assert_ok(publish(db, source))
    assert "contacts : 1 nouveau(x), 0 modifié(s), 0 retiré(s)" in out
    [back] = published(db, "contacts", after=after_removal)
    assert back.key == "dac-09-christine-diaz" and not back.deleted


def test_an_invalid_file_publishes_nothing_and_names_file_and_field(db, source) -> None:
    assert_ok(publish(db, source))
    before = last_position(db)
    edit(source, "directory/dac.toml", 'email = "anim.territorial.diaz@dac09.fr"', 'email = "pas-une-adresse"')
    edit(source, "directory/dac.toml", 'name = "Jean-François Pouches"', 'name = "Jean-François Pouches-Martin"')
    assert_refused(publish(db, source), "directory/dac.toml", "dac-09-christine-diaz", "email")
    assert last_position(db) == before  # the valid change in the same folder was not published either


def test_an_invalid_file_on_a_first_publish_creates_no_database(db, source) -> None:
    edit(source, "argumentaire/crt.toml", 'typologies = ["CRT"]', 'typologies = ["Inconnue"]')
    assert_refused(publish(db, source), "argumentaire/crt.toml", "typologies")
    assert holds_nothing(db)


def test_a_missing_folder_is_refused(db, tmp_path) -> None:
    assert_refused(publish(db, tmp_path / "absent"), "introuvable")


def test_a_published_playbook_version_is_immutable_bump_it_to_publish(db, source) -> None:
    assert_ok(publish(db, source))
    before = last_position(db)
    edit(source, "playbooks/spico.toml", 'title = "Déploiement SPICO — offre Coordination"',
         'title = "Déploiement SPICO — offre Coordination (révisée)"')
    edit(source, "directory/dac.toml", 'name = "Christine Diaz"', 'name = "Christine Diaz-Martin"')
    assert_refused(publish(db, source), "playbooks/spico.toml", "« spico » version 2", "augmentez « version »")
    assert last_position(db) == before  # one transaction: the contact change was not published either

    edit(source, "playbooks/spico.toml", "\nversion = 2\n", "\nversion = 3\n")
    (source / "playbooks" / "spico-v1.toml").unlink()  # an older version gone from the folder stays published
    out = assert_ok(publish(db, source))
    assert "processus : 1 nouveau(x), 0 modifié(s), 0 retiré(s), 0 inchangé(s) ; 2 version(s) absente(s)" in out
    playbooks = {item.key: item for item in published(db, "playbooks")}
    assert set(playbooks) == {"spico@1", "spico@2", "spico@3"}
    assert not playbooks["spico@1"].deleted and not playbooks["spico@2"].deleted  # never withdrawn
    assert playbooks["spico@3"].content["title"].endswith("(révisée)")


def test_a_publication_is_one_transaction_even_at_scale(db) -> None:
    """Many items: one transaction, every position distinct and in order (a position's value
    is the backend's: a counter on SQLite, the transaction's id on PostgreSQL)."""
    storage = open_storage(db)
    try:
        count = 20_000
        written = storage.put_reference_items(
            lambda read: [ReferenceWrite("contacts", f"c{n:06d}", {"n": n}) for n in range(count)]
        )
        every = storage.reference_since("contacts", 0, count + 1)
        positions = [item.seq for item in every.items]
        assert written == count and len(every.items) == count and not every.more
        assert positions == sorted(set(positions)) and storage.last_seq(STREAM_REFERENCE) == positions[-1]
        assert [item.key for item in every.items] == [f"c{n:06d}" for n in range(count)]
        page = storage.reference_since("contacts", positions[-3], 10)
        assert [item.key for item in page.items] == ["c019998", "c019999"] and not page.more

        def refuse(read):
            assert sum(1 for _ in read("contacts")) == count  # the reader sees every current item
            raise PublishError("refusé")

        with pytest.raises(PublishError):
            storage.put_reference_items(refuse)
        assert storage.last_seq(STREAM_REFERENCE) == positions[-1]
    finally:
        storage.close()


def test_the_source_is_validated_with_the_app_loader(source) -> None:
    edit(source, "playbooks/spico.toml", 'questionnaire = "recueil-use"', 'questionnaire = "absent"')
    with pytest.raises(PublishError) as error:
        load_source(source)
    assert "playbooks/spico.toml" in str(error.value) and "questionnaire" in str(error.value)


def test_publish_in_process_counts_match_what_is_written(db, source) -> None:
    storage = open_storage(db)
    try:
        first = publish_source(storage, load_source(source))
        assert first["contacts"].new == len(published(db, "contacts"))
        again = publish_source(storage, load_source(source))
        assert all(one.written == 0 for one in again.values())
        assert again["contacts"].unchanged == first["contacts"].new
    finally:
        storage.close()
