"""The AT's housekeeping below the screens: schema v9 (visits.archived_at) from v8 data, archiving
that is neither content, history nor a sync operation, the outbox holding back an archived
visit the central never received, and the step counter counting steps of the process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import IDENTITY

from at_tui.domain.flow import position, visit_flow
from at_tui.exchange import export_visits
from at_tui.store.migrations import MIGRATIONS, SCHEMA_VERSION, open_database, schema_version
from at_tui.sync import outbox


def pending(conn: sqlite3.Connection, visit_id: str) -> int:
    return conn.execute("SELECT count(*) FROM outbox WHERE visit_id = ? AND state = 'pending'",
                        (visit_id,)).fetchone()[0]


@pytest.fixture
def visit(workspace):
    created, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    workspace.save_answer(created, "utilisateurs_potentiels", "12")
    return created


# -- migration v9 ----------------------------------------------------------------------


def test_v8_database_gains_archived_at_and_keeps_its_visits_and_outbox(tmp_path: Path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:8])
    old.execute(
        """INSERT INTO visits (id, structure, departement, typologie, visit_date, playbook_id, playbook_version,
               questionnaire_id, questionnaire_version, current_step, created_at, updated_at)
           VALUES ('v1', 'CPTS du Grand Toulouse', '31', 'CPTS/MSP', '2026-11-22', 'spico', 1, 'recueil-use', 1,
                   'presentation', '2026-11-22T09:00:00+00:00', '2026-11-22T09:00:00+00:00')"""
    )
    old.execute("UPDATE outbox SET state = 'done', payload = '{}', result = '{\"rev\": 1}'")
    old.commit()
    old.close()

    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 9
        assert tuple(conn.execute("SELECT structure, archived_at FROM visits").fetchone()) == (
            "CPTS du Grand Toulouse", None)
        assert [tuple(r) for r in conn.execute("SELECT visit_id, state FROM outbox")] == [("v1", "done")]
        # Archiving and restoring queue nothing; a change of content still does.
        conn.execute("UPDATE visits SET archived_at = '2026-12-01T10:00:00+00:00'")
        conn.execute("UPDATE visits SET archived_at = NULL")
        assert pending(conn, "v1") == 0
        conn.execute("UPDATE visits SET structure = 'CPTS Nord'")
        assert pending(conn, "v1") == 1
        # An imported visit is still never queued (v8's rule kept by the recreated trigger).
        conn.execute("UPDATE outbox SET state = 'done'")
        conn.execute("UPDATE visits SET origin = 'import', structure = 'Autre'")
        assert pending(conn, "v1") == 0
    finally:
        conn.close()
    backups = list((tmp_path / "sauvegardes").iterdir())
    assert any("avant-migration-v8" in b.name for b in backups)


# -- archiving in the store ----------------------------------------------------------------


def test_archiving_hides_keeps_and_restores_without_touching_content_or_history(workspace, visit):
    store = workspace.visits
    before_content = json.dumps(export_visits(workspace)["visits"][0], sort_keys=True)
    history = store.history(visit.id)
    updated_at = store.require(visit.id).updated_at

    assert store.set_archived(visit.id, True) is True
    assert store.set_archived(visit.id, True) is False  # already archived
    assert store.archived_at(visit.id) is not None
    assert [v.id for v in store.list(archived=False)] == []
    assert [v.id for v in store.list(archived=True)] == [visit.id]
    assert [v.id for v in store.list()] == [visit.id]  # every visit: the export's list
    # Not the visit's content: the export is the same text, no history entry, no new date.
    assert json.dumps(export_visits(workspace)["visits"][0], sort_keys=True) == before_content
    assert "archived" not in json.dumps(export_visits(workspace))
    assert store.history(visit.id) == history
    assert store.require(visit.id).updated_at == updated_at

    assert store.set_archived(visit.id, False) is True
    assert store.archived_at(visit.id) is None
    assert [v.id for v in store.list(archived=False)] == [visit.id]


def test_archiving_an_unknown_visit_says_so(workspace):
    from at_tui.store.db import StoreError

    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.set_archived("00000000-0000-4000-8000-000000000000", True)


# -- the outbox --------------------------------------------------------------------------


def test_an_archived_visit_never_sent_waits_and_leaves_once_restored(workspace, visit):
    conn = workspace.conn
    other, _ = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    workspace.visits.set_archived(visit.id, True)
    assert outbox.summary(conn).waiting == 1 and outbox.summary(conn).held == 1

    batch = outbox.take_batch(conn, 10)
    assert [op.visit_id for op in batch] == [other.id]  # not the archived one
    assert pending(conn, visit.id) == 1  # kept, nothing deleted
    workspace.save_answer(visit, "utilisateurs_potentiels", "14")  # edited while archived: still held
    assert outbox.take_batch(conn, 10) == batch  # only the other's, in flight

    workspace.visits.set_archived(visit.id, False)
    assert outbox.summary(conn).held == 0
    [restored, again] = outbox.take_batch(conn, 10)  # oldest first: the archived visit's was queued first
    assert again == batch[0]
    assert restored.visit_id == visit.id and restored.payload["answers"]["q:utilisateurs_potentiels"] == 14


def test_an_archived_visit_the_central_holds_keeps_syncing(workspace, visit):
    conn = workspace.conn
    [first] = outbox.take_batch(conn, 10)
    outbox.record_results(conn, [{"op_id": first.op_id, "status": "applied", "rev": 1}])

    workspace.visits.set_archived(visit.id, True)
    assert pending(conn, visit.id) == 0  # archiving is not a change to send
    workspace.save_answer(visit, "utilisateurs_potentiels", "30")
    [second] = outbox.take_batch(conn, 10)
    assert (second.visit_id, second.base_rev) == (visit.id, 1)
    assert outbox.summary(conn).held == 0


def test_a_sent_operation_without_answer_is_sent_again_even_once_archived(workspace, visit):
    """The central may already hold it: the visit counts as known, and the answer is still due."""
    conn = workspace.conn
    [first] = outbox.take_batch(conn, 10)
    workspace.visits.set_archived(visit.id, True)
    assert outbox.take_batch(conn, 10) == [first]


# -- the step counter --------------------------------------------------------------------------


def test_the_step_counter_counts_steps_of_the_process_not_screens(reference):
    playbook = reference.current_playbook("spico")
    stops = visit_flow(playbook)
    labels = [position(playbook, stops, index).label() for index in range(len(stops))]
    total = len(playbook.steps)
    assert total == 7
    assert labels == [
        "Étape 1/7 · Présentation offres",
        "Étape 2/7 · Démonstration 1er niveau",
        "Étape 3/7 · Classification — Recueil des besoins (1/3)",
        "Étape 3/7 · Classification — Résultat (2/3)",
        "Étape 3/7 · Classification — Livrables CRM (3/3)",
    ]
    assert max(len(label) for label in labels) <= 78  # one line of the banner at 80 columns
