"""Central content checked before a laptop takes it (at_tui.sync.central_content, outbox.apply_pulled):
what cannot be taken is kept aside with a French reason naming the visit and the field, the
visit keeps its local version, and a later valid revision is taken and clears it."""

from __future__ import annotations

import json

import pytest
from helpers import IDENTITY

from at_tui.exchange.exporter import export_visits
from at_tui.sync import outbox, parked
from at_tui.sync.central_content import checker, content_problem


@pytest.fixture
def synced_visit(workspace):
    """A visit whose first operation the central applied (revision 1)."""
    visit, errors = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    assert not errors
    [op] = outbox.take_batch(workspace.conn, 10)
    outbox.record_results(workspace.conn, [{"op_id": op.op_id, "status": "applied", "rev": 1}])
    return visit, op.payload


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("updated_at", "9999-12-31T23:59:59+00:00", "année 9999"),
    ("created_at", "0001-01-01T00:00:00+14:00", "année 1"),
    ("finished_at", "2026-11-22", "fuseau"),
])
def test_a_pulled_date_out_of_range_is_kept_aside_not_taken(workspace, synced_visit, field, value, fragment):
    visit, content = synced_visit
    bad = {**content, field: value, "answers": {"q:utilisateurs_potentiels": 99}}
    item = {"id": visit.id, "rev": 2, "owner": "marie", "content": bad, "followup": None}
    assert outbox.apply_pulled(workspace.conn, [item], "visits", "c-2", checker(workspace)) == 1
    [reason] = outbox.quarantined(workspace.conn)
    assert "EHPAD Les Tilleuls" in reason and visit.id in reason and field in reason and fragment in reason
    assert workspace.visits.get(visit.id) == visit  # the local version, untouched
    assert "q:utilisateurs_potentiels" not in workspace.visits.answers(visit.id)
    row = workspace.conn.execute("SELECT rev, central_copy FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()
    assert row[0] == 1 and json.loads(row[1])["rev"] == 2  # kept aside, not taken
    assert [p.kind for p in parked.problems(workspace.conn)] == [parked.QUARANTINED]
    assert export_visits(workspace)["visits"][0]["id"] == visit.id

    good = {**content, "answers": {"q:utilisateurs_potentiels": 30}}
    item = {"id": visit.id, "rev": 3, "owner": "marie", "content": good, "followup": None}
    outbox.apply_pulled(workspace.conn, [item], "visits", "c-3", checker(workspace))
    assert outbox.quarantined(workspace.conn) == [] and parked.problems(workspace.conn) == []
    assert workspace.visits.answers(visit.id)["q:utilisateurs_potentiels"] == 30  # the valid revision is taken


def test_content_problems_are_french_and_printable(workspace, synced_visit):
    visit, content = synced_visit
    assert content_problem(workspace, visit.id, content) is None
    assert "identifiant" in content_problem(workspace, "2b8e4c1a-0000-4000-8000-000000000000", content)
    hostile = {**content, "identity": {**content["identity"], "structure": "X\x1b]52;c;aGk=\x07"}, "status": "?"}
    reason = content_problem(workspace, visit.id, hostile)
    assert "status" in reason and "\x1b" not in reason and "\x07" not in reason
    assert content_problem(workspace, visit.id, None) == "contenu de la visite absent ou illisible"


def test_stored_errors_are_redacted(workspace, synced_visit):
    visit, _ = synced_visit
    workspace.save_answer(visit, "utilisateurs_potentiels", "5")
    [op] = outbox.take_batch(workspace.conn, 10)
    token = "att_" + "k" * 43
    outbox.record_attempt(workspace.conn, [op.op_id], f"le serveur dit : Authorization: Bearer {token}\x1b[2J")
    stored = workspace.conn.execute("SELECT last_error FROM outbox WHERE op_id = ?", (op.op_id,)).fetchone()[0]
    assert token not in stored and "\x1b" not in stored and "masqué" in stored
    outbox.record_results(workspace.conn, [{"op_id": op.op_id, "status": "rejected",
                                            "reason": f"en-tête reçu : Bearer {token}"}])
    last_error, result = workspace.conn.execute(
        "SELECT last_error, result FROM outbox WHERE op_id = ?", (op.op_id,)).fetchone()
    assert token not in last_error and token not in result
    [problem] = parked.problems(workspace.conn)
    assert token not in problem.reason and "masqué" in problem.reason
