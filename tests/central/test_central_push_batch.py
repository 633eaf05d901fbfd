"""One push, many operations, on both backends: what a storage reads for the whole batch up
front (`central/push_reads.py`) and, on PostgreSQL, writes in a few grouped statements, must
give the same outcome as operations applied one by one (docs/sync-protocol.md, « Envoi »).

* operations of one push on the same visit or op id see the ones before them;
* an operation that fails (its decider, or a write that changes no row) is undone alone, the
  ones before it are committed, the error reaches the caller; on PostgreSQL this is the
  careful path taken again after the grouped one failed.

Users: alice and bruno are ATs, carole is a CM (see conftest.py).
"""

from __future__ import annotations

import uuid

import pytest
from central_db import query
from central_server import content_op, visit_content
from opportunity_ops import information_entry, journal_entry, opportunity_fields, opportunity_op

from at_tui.central import operations
from at_tui.central.storage import Decision, LedgerEntry, StorageError, VisitWrite, to_json

STAMP = "2026-12-06T08:00:00+00:00"


def new_id() -> str:
    return str(uuid.uuid4())


def test_operations_of_one_push_on_the_same_visit_see_each_other(api) -> None:
    visit_id = new_id()
    create = content_op(visit_id, 0, visit_content(visit_id))
    update = content_op(visit_id, 1, visit_content(visit_id, status="en_cours", current_step="cadrage"))
    fields = opportunity_fields(at_login="alice")
    opened = opportunity_op(visit_id, fields, None, [information_entry(visit_id)])
    note = journal_entry(id=new_id(), day="2026-11-23", created_at="2026-11-23T10:00:00.000000+00:00")
    noted = opportunity_op(visit_id, fields, fields, [note])
    stale = content_op(visit_id, 1, visit_content(visit_id))
    results = api.push("alice", create, update, opened, noted, create, stale)
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "applied", "duplicate", "conflict"]
    assert results[1]["rev"] == 2 and results[4]["rev"] == 1  # the duplicate answers as the first time
    assert results[5]["rev"] == 2 and results[5]["central"]["content"]["current_step"] == "cadrage"
    stored = api.get("carole", f"/v1/visits/{visit_id}").json()
    assert stored["rev"] == 2 and stored["content"]["current_step"] == "cadrage"
    assert [entry["id"] for entry in stored["opportunity"]["journal"]] == [f"{visit_id}:information", note["id"]]
    assert query(api.db, "SELECT count(*) FROM operations")[0][0] == 5  # each op id once
    [(seq,)] = query(api.db, "SELECT seq FROM visits")
    assert seq == api.storage.last_seq("visits")  # moved by the last write of the push


def test_a_push_of_many_visits_is_applied_whole(api) -> None:
    ids = [new_id() for _ in range(60)]
    results = api.push("alice", *(content_op(visit_id, 0, visit_content(visit_id)) for visit_id in ids))
    assert [r["status"] for r in results] == ["applied"] * 60
    opened = api.push("alice", *(
        opportunity_op(visit_id, opportunity_fields(at_login="alice"), None, [information_entry(visit_id)])
        for visit_id in ids
    ))
    assert [r["status"] for r in opened] == ["applied"] * 60
    positions = [row[0] for row in query(api.db, "SELECT seq FROM visits ORDER BY seq")]
    assert len(set(positions)) == 60
    assert query(api.db, "SELECT count(*) FROM opportunity_journal")[0][0] == 60


def creation(visit_id: str, op_id: str) -> operations.Decide:
    def decide(entry, visit) -> Decision:
        write = VisitWrite(visit_id, 0, 1, "alice", to_json({"id": visit_id}), "{}", STAMP)
        result = {"op_id": op_id, "status": "applied", "rev": 1}
        return Decision(result, write, LedgerEntry(op_id, "alice", visit_id, "f", "applied", result))

    return decide


def test_a_decider_that_fails_is_undone_alone_and_the_ones_before_it_stay(api) -> None:
    (first, first_op), (third, third_op) = (new_id(), new_id()), (new_id(), new_id())
    calls: list[str] = []

    def broken(entry, visit) -> Decision:
        calls.append("broken")
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        api.storage.apply_operations([
            (first_op, first, creation(first, first_op)),
            (new_id(), new_id(), broken),
            (third_op, third, creation(third, third_op)),
        ])
    assert api.storage.get_visit(first) is not None
    assert api.storage.get_visit(third) is None
    assert [row[0] for row in query(api.db, "SELECT op_id FROM operations")] == [first_op]


def test_a_write_that_changes_no_row_fails_its_operation_alone(api) -> None:
    visit_id = new_id()
    [created] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id)))
    assert created["status"] == "applied"
    first, first_op, second_op = new_id(), new_id(), new_id()

    def foreign_update(entry, visit) -> Decision:
        # An update naming another owner: the storage refuses it (a visit's owner never changes).
        write = VisitWrite(visit_id, 1, 2, "bruno", to_json({"id": visit_id}), "{}", STAMP)
        result = {"op_id": second_op, "status": "applied", "rev": 2}
        return Decision(result, write, LedgerEntry(second_op, "bruno", visit_id, "f", "applied", result))

    with pytest.raises(StorageError, match="propriétaire"):
        api.storage.apply_operations([
            (first_op, first, creation(first, first_op)),
            (second_op, visit_id, foreign_update),
        ])
    assert api.storage.get_visit(first) is not None
    assert api.storage.get_visit(visit_id).rev == 1 and api.storage.get_visit(visit_id).owner == "alice"
    assert second_op not in {row[0] for row in query(api.db, "SELECT op_id FROM operations")}
