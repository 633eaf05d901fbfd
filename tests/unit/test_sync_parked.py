"""What the sync set aside for the AT (at_tui.sync.parked): conflicts and refusals listed with the
central's reason, a refused visit sent again in one transaction (nothing deleted), the CM's follow-up."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from helpers import IDENTITY

from at_tui.sync import outbox, parked

REASON = "un chargé de mission ne modifie pas le contenu d'une visite, seulement son suivi"


def states(conn: sqlite3.Connection, visit_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT state FROM outbox WHERE visit_id = ? ORDER BY seq", (visit_id,))]


def start(workspace, structure: str) -> str:
    visit, errors = workspace.start_visit({**IDENTITY, "structure": structure})
    assert not errors
    return visit.id


def answer_all(workspace, answer) -> None:
    """Send every waiting operation and file `answer(op)` for each, as the central would."""
    batch = outbox.take_batch(workspace.conn, 100)
    outbox.record_results(workspace.conn, [answer(op) for op in batch])


def test_refusals_and_conflicts_are_listed_with_the_reason_as_received(workspace):
    refused = start(workspace, "EHPAD Les Tilleuls")
    conflicting = start(workspace, "CPTS du Grand Toulouse")
    fine = start(workspace, "MSP des Coteaux")

    def answer(op):
        if op.visit_id == refused:
            return {"op_id": op.op_id, "status": "rejected", "reason": REASON}
        if op.visit_id == conflicting:
            changed = {**op.payload, "identity": {**op.payload["identity"], "contact_name": "Autre contact"}}
            central = {"id": op.visit_id, "rev": 2, "owner": "marie", "content": changed, "followup": None}
            return {"op_id": op.op_id, "status": "conflict", "rev": 2, "central": central}
        return {"op_id": op.op_id, "status": "applied", "rev": 1}

    answer_all(workspace, answer)
    found = parked.problems(workspace.conn)
    assert [(p.visit_id, p.kind) for p in found] == [(conflicting, "conflict"), (refused, "rejected")]
    conflict, refusal = found
    assert refusal.reason == REASON and refusal.structure == "EHPAD Les Tilleuls" and refusal.count == 1
    assert refusal.visit_date == "2026-11-22" and refusal.departement == "31"
    assert conflict.reason == "" and conflict.structure == "CPTS du Grand Toulouse"
    assert fine not in {p.visit_id for p in found}


def test_a_visit_refused_twice_is_one_row_with_the_latest_reason(workspace):
    visit_id = start(workspace, "EHPAD Les Tilleuls")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": "visite introuvable"})
    workspace.save_identity(visit_id, "contact_name", "Jean Martin")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": REASON})
    [problem] = parked.problems(workspace.conn)
    assert (problem.count, problem.reason) == (2, REASON)


def test_a_refusal_without_reason_says_so():
    assert parked._reason(None, json.dumps({"status": "rejected", "reason": "visite introuvable"})) == "visite introuvable"
    assert parked._reason(None, None) == parked.UNKNOWN_REASON
    assert parked._reason(None, "pas du json") == parked.UNKNOWN_REASON
    assert parked._reason("trop long", None) == "trop long"


def test_requeue_keeps_the_refused_rows_and_queues_one_operation(workspace):
    refused = start(workspace, "EHPAD Les Tilleuls")
    other = start(workspace, "MSP des Coteaux")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": REASON})
    assert states(workspace.conn, refused) == ["rejected"]

    assert parked.requeue(workspace.conn, refused) == parked.Requeued(1, True)
    assert states(workspace.conn, refused) == ["resolved", "pending"]
    row = workspace.conn.execute("SELECT last_error, result FROM outbox WHERE visit_id = ? AND state = 'resolved'",
                                 (refused,)).fetchone()
    assert row["last_error"] == REASON and json.loads(row["result"])["reason"] == REASON  # kept as it was
    assert states(workspace.conn, other) == ["rejected"]  # only that visit
    assert outbox.summary(workspace.conn).rejected == 1 and outbox.summary(workspace.conn).waiting == 1
    assert parked.requeue(workspace.conn, refused) == parked.Requeued(0, False)  # nothing refused any more
    assert states(workspace.conn, refused) == ["resolved", "pending"]

    [op] = outbox.take_batch(workspace.conn, 10)
    assert op.visit_id == refused and op.payload["identity"]["structure"] == "EHPAD Les Tilleuls"


def test_requeue_after_a_correction_reuses_the_pending_operation(workspace):
    visit_id = start(workspace, "EHPAD Les Tilleuls")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": REASON})
    [problem] = parked.problems(workspace.conn)
    assert not problem.changed_since
    workspace.save_identity(visit_id, "contact_name", "Jean Martin")  # the correction queues one already
    assert states(workspace.conn, visit_id) == ["rejected", "pending"]
    [problem] = parked.problems(workspace.conn)
    assert problem.changed_since
    assert parked.requeue(workspace.conn, visit_id) == parked.Requeued(1, False)
    assert states(workspace.conn, visit_id) == ["resolved", "pending"]


def test_requeue_after_the_correction_was_applied_sends_nothing_more(workspace):
    visit_id = start(workspace, "EHPAD Les Tilleuls")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": REASON})
    workspace.save_identity(visit_id, "contact_name", "Jean Martin")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "applied", "rev": 1})
    assert parked.requeue(workspace.conn, visit_id) == parked.Requeued(1, False)
    assert states(workspace.conn, visit_id) == ["resolved", "done"]
    assert outbox.summary(workspace.conn).waiting == 0


def test_requeue_is_one_transaction(workspace):
    """A failure half-way (here: the insert) leaves the refused rows as they were."""
    visit_id = start(workspace, "EHPAD Les Tilleuls")
    answer_all(workspace, lambda op: {"op_id": op.op_id, "status": "rejected", "reason": REASON})
    workspace.conn.execute(
        "CREATE TEMP TRIGGER refuse_insert BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disque plein'); END")
    with pytest.raises(sqlite3.IntegrityError):
        parked.requeue(workspace.conn, visit_id)
    assert states(workspace.conn, visit_id) == ["rejected"]


def test_followup_as_the_pull_keeps_it(workspace):
    visit_id = start(workspace, "EHPAD Les Tilleuls")
    other = start(workspace, "MSP des Coteaux")
    assert parked.followup(workspace.conn, visit_id) is None and parked.followups(workspace.conn) == {}
    item = {"id": visit_id, "rev": 3, "owner": "marie", "content": {},
            "followup": {"status": "gagnee", "lead": "CM", "comment": "Convention signée le 3 décembre."}}
    outbox.apply_pulled(workspace.conn, [item, {**item, "id": other, "followup": None}], "visits", "c-3")
    followup = parked.followup(workspace.conn, visit_id)
    assert (followup.label, followup.lead_label, followup.comment) == (
        "Gagnée", "menée par le CM", "Convention signée le 3 décembre.")
    assert parked.followup(workspace.conn, other) is None  # "null" from the central: nothing to show
    assert set(parked.followups(workspace.conn)) == {visit_id}


@pytest.mark.parametrize("status,label", [("a_traiter", "À traiter"), ("en_cours", "En cours"), ("gagnee", "Gagnée"),
                                          ("perdue", "Perdue"), ("sans_suite", "Sans suite")])
def test_followup_labels_in_french(status, label):
    assert parked._followup(json.dumps({"status": status, "lead": "AT", "comment": ""})).label == label


def test_a_malformed_followup_is_not_shown():
    assert parked._followup("{") is None
    assert parked._followup(json.dumps({"lead": "CM"})) is None
    assert parked._followup(json.dumps(["gagnee"])) is None


def test_parked_does_not_import_textual():
    code = ("import sys, at_tui.sync.parked; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
