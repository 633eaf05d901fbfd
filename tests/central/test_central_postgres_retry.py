"""A push that collides with a concurrent writer on PostgreSQL is rolled back whole and decided
again (issue 13; `postgres_storage`): nothing of the first attempt stays, nothing is applied
twice, and after a few failed attempts the push ends in a StorageError (503, the laptop re-sends).

The collision is made deterministic: the decider of one operation, on its first call(s), lets
another connection commit the very row the operation is about to create (what a concurrent
request not serialized by the advisory locks would do), so its INSERT hits the primary key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from at_tui.central.postgres_storage import ATTEMPTS, PostgresStorage  # noqa: E402
from at_tui.central.storage import Decision, LedgerEntry, StorageError, VisitWrite, to_json  # noqa: E402

STAMP = "2026-12-06T08:00:00+00:00"


@pytest.fixture
def storage(postgres_db: str) -> Iterator[PostgresStorage]:
    storage = PostgresStorage(postgres_db, pool_size=4)
    storage.add_user("alice", "at")
    try:
        yield storage
    finally:
        storage.close()


def sneak_in(url: str, visit_id: str) -> None:
    """Another writer commits `visit_id` now, outside the push's locks."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO visits (id, rev, owner, content, followup, updated_at, seq) VALUES "
            "(%s, 1, 'alice', '{\"by\":\"other\"}', '{}', %s, (pg_current_xact_id()::text::bigint << 20) + 1)",
            (visit_id, STAMP),
        )


def creator(visit_id: str, op_id: str, calls: list, before=None):
    """Creates `visit_id`, or answers « conflict » when it exists (as `operations` decides)."""

    def decide(entry, visit) -> Decision:
        calls.append(visit_id)
        if before is not None:
            before(len(calls))
        if visit is not None:
            result = {"op_id": op_id, "status": "conflict", "rev": visit.rev}
            return Decision(result, None, LedgerEntry(op_id, "alice", visit_id, "f", "conflict", result))
        write = VisitWrite(visit_id, 0, 1, "alice", to_json({"by": "push"}), "{}", STAMP)
        result = {"op_id": op_id, "status": "applied", "rev": 1}
        return Decision(result, write, LedgerEntry(op_id, "alice", visit_id, "f", "applied", result))

    return decide


def test_a_collision_rolls_the_whole_push_back_and_decides_it_again(storage: PostgresStorage, postgres_db: str) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    first_op, second_op = str(uuid.uuid4()), str(uuid.uuid4())
    first_calls: list = []
    second_calls: list = []

    def collide_once(call: int) -> None:
        if call == 1:
            sneak_in(postgres_db, second)

    results = storage.apply_operations([
        (first_op, first, creator(first, first_op, first_calls)),
        (second_op, second, creator(second, second_op, second_calls, collide_once)),
    ])
    # Decided twice: the second time on what was committed meanwhile.
    assert len(first_calls) == 2 and len(second_calls) == 2
    assert [r["status"] for r in results] == ["applied", "conflict"]
    assert storage.get_visit(first).rev == 1
    assert storage.get_visit(second).content == {"by": "other"}  # the other writer's, untouched
    with psycopg.connect(postgres_db) as conn:
        ledger = conn.execute("SELECT op_id, status FROM operations ORDER BY status").fetchall()
    assert ledger == [(first_op, "applied"), (second_op, "conflict")]  # each op once


def test_a_push_that_keeps_colliding_ends_in_a_storage_error_with_nothing_written(
    storage: PostgresStorage, postgres_db: str
) -> None:
    first, first_op = str(uuid.uuid4()), str(uuid.uuid4())
    calls: list = []
    seconds = [str(uuid.uuid4()) for _ in range(ATTEMPTS)]
    op_ids = [str(uuid.uuid4()) for _ in range(ATTEMPTS)]

    def collide_always(call: int) -> None:
        sneak_in(postgres_db, seconds[call - 1])

    def moving_target(entry, visit) -> Decision:
        # Each attempt aims at the next id, which another writer takes just before.
        call = len(calls) + 1
        calls.append(call)
        collide_always(call)
        target, op_id = seconds[call - 1], op_ids[call - 1]
        write = VisitWrite(target, 0, 1, "alice", to_json({"by": "push"}), "{}", STAMP)
        result = {"op_id": op_id, "status": "applied", "rev": 1}
        return Decision(result, write, LedgerEntry(op_id, "alice", target, "f", "applied", result))

    with pytest.raises(StorageError, match="Réessayez"):
        storage.apply_operations([
            (first_op, first, creator(first, first_op, [])),
            (str(uuid.uuid4()), str(uuid.uuid4()), moving_target),
        ])
    assert len(calls) == ATTEMPTS
    assert storage.get_visit(first) is None  # the operation before it was rolled back with it
    with psycopg.connect(postgres_db) as conn:
        assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 0
