"""The outbox in the local database: one pending operation per changed visit, written in the
transaction of the change; frozen when sent; answers filed; pulls never overwrite waiting work."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import IDENTITY

from at_tui.exchange.exporter import visit_content
from at_tui.store.migrations import MIGRATIONS, open_database
from at_tui.sync import outbox


def ops(conn: sqlite3.Connection) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT visit_id, state, base_rev FROM outbox ORDER BY seq")]


@pytest.fixture
def visit(workspace):
    created, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    return created


def test_changes_leave_one_pending_operation_per_visit(workspace, visit):
    workspace.save_answer(visit, "opportunite", True)
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    workspace.save_identity(visit.id, "contact_name", "Claire Martin")
    assert ops(workspace.conn) == [(visit.id, "pending", None)]
    other, _ = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    assert [(v, s) for v, s, _ in ops(workspace.conn)] == [(visit.id, "pending"), (other.id, "pending")]
    op_id = workspace.conn.execute("SELECT op_id FROM outbox LIMIT 1").fetchone()[0]
    assert len(op_id) == 36 and op_id[14] == "4"  # a version 4 UUID made by SQLite


def test_a_failed_change_leaves_no_operation(workspace, visit):
    from at_tui.store.db import StoreError

    with pytest.raises(StoreError):
        workspace.visits.set_answer("00000000-0000-4000-8000-000000000000", "q:opportunite", True)
    assert [v for v, _, _ in ops(workspace.conn)] == [visit.id]


def test_sent_operations_are_frozen_and_resent_as_they_were(workspace, visit):
    conn = workspace.conn
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    [first] = outbox.take_batch(conn, 10)
    assert first.base_rev == 0 and first.payload["answers"]["q:utilisateurs_potentiels"] == 12

    workspace.save_answer(visit, "utilisateurs_potentiels", "30")  # typed while the answer is lost
    assert [s for _, s, _ in ops(conn)] == ["sent", "pending"]
    [again] = outbox.take_batch(conn, 10)  # one in flight per visit
    assert again == first

    outbox.record_results(conn, [{"op_id": first.op_id, "status": "applied", "rev": 1}])
    [second] = outbox.take_batch(conn, 10)
    assert second.op_id != first.op_id and second.base_rev == 1
    assert second.payload["answers"]["q:utilisateurs_potentiels"] == 30
    outbox.record_results(conn, [{"op_id": second.op_id, "status": "duplicate", "rev": 2}])
    assert outbox.take_batch(conn, 10) == []
    assert outbox.summary(conn).waiting == 0
    assert conn.execute("SELECT rev FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()[0] == 2


def test_a_conflict_parks_the_visit_and_a_rejection_does_not_block_others(workspace, visit):
    conn = workspace.conn
    other, _ = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    first, second = outbox.take_batch(conn, 10)
    changed = {**first.payload, "identity": {**first.payload["identity"], "contact_name": "Autre contact"}}
    central = {"id": visit.id, "rev": 3, "owner": "marie", "content": changed,
               "followup": {"status": "en_cours", "lead": "CM", "comment": "RDV"}}
    outbox.record_results(conn, [
        {"op_id": first.op_id, "status": "conflict", "rev": 3, "central": central},
        {"op_id": second.op_id, "status": "rejected", "reason": "champ « identity.departement » : invalide"},
    ])
    summary = outbox.summary(conn)
    assert (summary.waiting, summary.conflicts, summary.rejected) == (0, 1, 1)
    kept = conn.execute("SELECT central_copy FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()[0]
    assert json.loads(kept)["followup"]["comment"] == "RDV"

    workspace.save_answer(visit, "utilisateurs_potentiels", "5")
    workspace.save_answer(other, "utilisateurs_potentiels", "5")
    batch = outbox.take_batch(conn, 10)
    assert [op.visit_id for op in batch] == [other.id]  # the conflicting visit waits for the AT
    # Nothing is ever deleted.
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 4


def test_a_pull_never_overwrites_a_visit_with_waiting_work(workspace, visit):
    conn = workspace.conn
    item = {"id": visit.id, "rev": 4, "owner": "marie", "content": {},
            "followup": {"status": "gagnee", "lead": "CM", "comment": ""}}
    assert outbox.apply_pulled(conn, [item], "visits", "17") == 1
    row = conn.execute("SELECT rev, central_copy, followup FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()
    assert row["rev"] == 0 and json.loads(row["central_copy"])["rev"] == 4  # kept aside
    assert json.loads(row["followup"])["status"] == "gagnee"
    assert outbox.get_state(conn, "cursor:visits") == "17"

    [op] = outbox.take_batch(conn, 10)
    outbox.record_results(conn, [{"op_id": op.op_id, "status": "applied", "rev": 5}])
    assert outbox.apply_pulled(conn, [{**item, "rev": 6}], "visits", "18") == 1
    assert conn.execute("SELECT rev FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()[0] == 6
    # Unknown visits (made on another laptop) are not created here.
    assert outbox.apply_pulled(conn, [{**item, "id": "00000000-0000-4000-8000-000000000001"}], "visits", "19") == 0


def test_a_newer_central_content_is_taken_when_nothing_waits_here(workspace, visit):
    """The AT's other laptop changed the visit (rev 2): this laptop takes that content, queues
    nothing for it, and its own next change is based on rev 2 and carries both changes."""
    conn = workspace.conn
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    [op] = outbox.take_batch(conn, 10)
    outbox.record_results(conn, [{"op_id": op.op_id, "status": "applied", "rev": 1}])
    elsewhere = json.loads(json.dumps(op.payload))
    elsewhere["answers"]["q:partenaires"] = "CH de Muret, HAD"
    elsewhere["identity"]["contact_role"] = "Directrice"
    item = {"id": visit.id, "rev": 2, "owner": "marie", "content": elsewhere,
            "followup": {"status": "a_traiter", "lead": "AT", "comment": ""}}
    assert outbox.apply_pulled(conn, [item], "visits", "20") == 1

    assert workspace.visits.answers(visit.id)["q:partenaires"] == "CH de Muret, HAD"
    assert workspace.visits.require(visit.id).contact_role == "Directrice"
    assert [state for _, state, _ in ops(conn)] == ["done"]  # nothing queued: it came from the central
    assert any(entry.field == "q:partenaires" for entry in workspace.visits.history(visit.id))

    workspace.save_answer(workspace.visits.require(visit.id), "utilisateurs_potentiels", "30")
    [mine] = outbox.take_batch(conn, 10)
    assert mine.base_rev == 2
    assert mine.payload["answers"]["q:partenaires"] == "CH de Muret, HAD"
    assert mine.payload["answers"]["q:utilisateurs_potentiels"] == 30
    # This laptop's own revision coming back changes nothing.
    outbox.record_results(conn, [{"op_id": mine.op_id, "status": "applied", "rev": 3}])
    before = visit_content(workspace, workspace.visits.require(visit.id))
    outbox.apply_pulled(conn, [{**item, "rev": 3, "content": mine.payload}], "visits", "21")
    assert visit_content(workspace, workspace.visits.require(visit.id)) == before
    assert [state for _, state, _ in ops(conn)] == ["done", "done"]


def test_a_failed_pull_keeps_the_previous_cursor(workspace, visit):
    conn = workspace.conn
    outbox.apply_pulled(conn, [], "visits", "5")
    with pytest.raises(KeyError):
        outbox.apply_pulled(conn, [{"rev": 1}], "visits", "9")  # malformed item: nothing kept
    assert outbox.get_state(conn, "cursor:visits") == "5"


def test_visits_of_an_older_database_get_their_first_operation(tmp_path: Path):
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:5])
    old.execute(
        """INSERT INTO visits (id, structure, departement, typologie, visit_date, playbook_id, playbook_version,
               questionnaire_id, questionnaire_version, current_step, created_at, updated_at)
           VALUES ('3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11', 'CPTS', '31', 'CPTS/MSP', '2026-11-22', 'spico', 1,
                   'recueil-use', 1, 'presentation', '2026-11-22T09:00:00+00:00', '2026-11-22T09:00:00+00:00')"""
    )
    old.close()
    conn = open_database(path)
    try:
        assert ops(conn) == [("3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11", "pending", None)]
    finally:
        conn.close()


def test_a_conflict_settled_field_by_field_is_queued_on_the_central_revision(workspace, visit):
    from at_tui.domain.conflicts import CENTRAL, LOCAL, differences, merge

    conn = workspace.conn
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    [op] = outbox.take_batch(conn, 10)
    central_content = json.loads(json.dumps(op.payload))
    central_content["identity"]["contact_name"] = "Claire Dupuis-Martin"
    central_content["answers"]["q:utilisateurs_potentiels"] = 40
    central_content["answers"]["q:opportunite"] = True
    workspace.save_identity(visit.id, "contact_role", "Présidente")  # typed meanwhile, on the laptop
    central = {"id": visit.id, "rev": 3, "owner": "marie", "content": central_content, "followup": None}
    outbox.record_results(conn, [{"op_id": op.op_id, "status": "conflict", "rev": 3, "central": central}])

    [(visit_id, kept)] = outbox.conflicts(conn)
    assert visit_id == visit.id
    local = visit_content(workspace, workspace.visits.require(visit.id))
    found = {d.path: (d.local, d.central) for d in differences(local, kept["content"])}
    assert found[("identity", "contact_name")] == ("Claire Dupuis", "Claire Dupuis-Martin")
    assert found[("identity", "contact_role")] == ("Présidente", "Coordinatrice")
    assert found[("answers", "q:utilisateurs_potentiels")] == (12, 40)
    assert found[("answers", "q:opportunite")] == (None, True)

    choices = {("identity", "contact_name"): CENTRAL, ("answers", "q:opportunite"): CENTRAL,
               ("identity", "contact_role"): LOCAL}
    outbox.resolve_conflict(conn, visit.id, merge(local, kept["content"], choices), kept["rev"])

    settled = workspace.visits.require(visit.id)
    assert (settled.contact_name, settled.contact_role) == ("Claire Dupuis-Martin", "Présidente")
    answers = workspace.visits.answers(visit.id)
    assert answers["q:utilisateurs_potentiels"] == 12 and answers["q:opportunite"] is True
    assert outbox.conflicts(conn) == []
    [next_op] = outbox.take_batch(conn, 10)
    assert next_op.base_rev == 3 and next_op.payload["identity"]["contact_name"] == "Claire Dupuis-Martin"
    states = [s for _, s, _ in ops(conn)]
    assert states.count("resolved") == 1  # the conflicting operation is kept
