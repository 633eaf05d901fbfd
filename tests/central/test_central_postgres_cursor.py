"""Cursors on PostgreSQL never skip a row committed late (issue 13; docs/sync-protocol.md,
« Curseurs sur PostgreSQL »).

Two writers on real connections (the storage's pool, one thread each): the first takes its
position, then waits inside its transaction; the second takes a larger position and commits
first. A pull in between must not serve the second (a client would then hold a cursor past
the first, and skip it for ever); after both commit, a client pulling from its cursor gets
every row exactly once, in position order. Then the same with several writers, interleaved
at random (fixed seeds), pulled by a client page by page.

The bound is the server's oldest transaction still writing, in any database: a test sharing
its server with others (CI's) may see a committed row a moment later than it commits. So a
row that must come is awaited a few seconds (`pull_until`), while what must not be served
yet is checked at once (another transaction can only hold back more).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from at_tui.central.postgres_storage import SERVABLE, PostgresStorage  # noqa: E402
from at_tui.central.storage import (  # noqa: E402
    STREAM_VISITS,
    Decision,
    LedgerEntry,
    VisitWrite,
    format_cursor,
    parse_cursor,
    to_json,
)

STAMP = "2026-12-06T08:00:00+00:00"
WAIT = 30


@pytest.fixture
def storage(postgres_db: str) -> Iterator[PostgresStorage]:
    storage = PostgresStorage(postgres_db, pool_size=12)
    storage.add_user("alice", "at")
    try:
        yield storage
    finally:
        storage.close()


def creation(visit_id: str, op_id: str, before: Callable[[], None] | None = None):
    """A decider creating `visit_id` (what `operations` decides for a new visit); `before` runs first."""

    def decide(entry, visit) -> Decision:
        if before is not None:
            before()
        assert entry is None and visit is None
        write = VisitWrite(visit_id, 0, 1, "alice", to_json({"id": visit_id}), "{}", STAMP)
        result = {"op_id": op_id, "status": "applied", "rev": 1}
        return Decision(result, write, LedgerEntry(op_id, "alice", visit_id, "fingerprint", "applied", result))

    return decide


class Writer:
    """One push of two new visits in one transaction: the first written (its position taken),
    then it waits, inside the transaction, until `release()`; then it commits."""

    def __init__(self, storage: PostgresStorage) -> None:
        self.ids = [str(uuid.uuid4()), str(uuid.uuid4())]
        self.positioned = threading.Event()
        self._go = threading.Event()
        self.error: BaseException | None = None

        def hold() -> None:
            self.positioned.set()
            assert self._go.wait(WAIT)

        ops = [(str(uuid.uuid4()), self.ids[0], None), (str(uuid.uuid4()), self.ids[1], hold)]
        self._thread = threading.Thread(
            target=self._run, args=(storage, [(op, vid, creation(vid, op, before)) for op, vid, before in ops])
        )

    def _run(self, storage: PostgresStorage, operations) -> None:
        try:
            storage.apply_operations(operations)
        except BaseException as error:  # noqa: BLE001 - reported by release()
            self.error = error
            self.positioned.set()

    def start(self) -> None:
        self._thread.start()
        assert self.positioned.wait(WAIT)
        assert self.error is None, self.error

    def release(self) -> None:
        self._go.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive() and self.error is None, self.error


class Client:
    """A laptop's pull: pages of `limit` from its cursor, the cursor kept from one pull to the next."""

    def __init__(self, storage: PostgresStorage, limit: int = 2) -> None:
        self.storage = storage
        self.limit = limit
        self.after = 0
        self.served: list[str] = []

    def pull(self) -> list[str]:
        got: list[str] = []
        while True:
            page = self.storage.visits_since(self.after, self.limit)
            for visit in page.items:
                assert visit.seq > self.after  # in position order, never behind the cursor
                self.after = visit.seq
                got.append(visit.id)
            if not page.more:
                break
        self.served += got
        return got

    def pull_until(self, count: int, seconds: float = 10) -> list[str]:
        """Pull until `count` rows came in this call (or time is up): what it got."""
        got: list[str] = []
        deadline = time.monotonic() + seconds
        while True:
            got += self.pull()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


def test_a_writer_that_took_its_position_first_and_commits_last_is_not_skipped(storage: PostgresStorage) -> None:
    client = Client(storage)
    early = Writer(storage)
    early.start()  # its first visit has its position; the transaction is still open
    late_id, late_op = str(uuid.uuid4()), str(uuid.uuid4())
    storage.apply_operations([(late_op, late_id, creation(late_id, late_op))])  # committed first
    assert storage.get_visit(late_id) is not None  # committed and readable by id…
    assert client.pull() == []  # …but not served while a transaction with a smaller position is open
    early.release()
    assert client.pull_until(3) == [*early.ids, late_id]  # position order: the early writer's first
    positions = [storage.get_visit(visit_id).seq for visit_id in client.served]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert client.pull() == []
    assert client.served == [*early.ids, late_id]  # each row once


@pytest.mark.parametrize("seed", range(6))
def test_random_interleavings_of_writers_and_pulls_serve_each_row_exactly_once(
    storage: PostgresStorage, seed: int
) -> None:
    rng = random.Random(seed)
    writers = [Writer(storage) for _ in range(5)]
    waiting, open_, committed = list(writers), [], []
    clients = [Client(storage, limit=rng.choice((1, 2, 3))) for _ in range(2)]
    while waiting or open_:
        action = rng.choice(["start"] * bool(waiting) + ["commit"] * bool(open_) + ["pull"])
        if action == "start":
            writer = waiting.pop(0)
            writer.start()
            open_.append(writer)
        elif action == "commit":
            writer = open_.pop(rng.randrange(len(open_)))
            writer.release()
            committed.append(writer)
        else:
            rng.choice(clients).pull()
        for client in clients:  # nothing is ever served from an open transaction
            open_ids = {visit_id for writer in open_ for visit_id in writer.ids}
            assert not open_ids & set(client.served)
    every = {visit_id for writer in writers for visit_id in writer.ids}
    for client in clients:
        client.pull_until(len(every) - len(client.served))
        assert len(client.served) == len(set(client.served)) == len(every)  # each row exactly once
        assert set(client.served) == every


def test_positions_fit_a_cursor_and_come_back_from_it(storage: PostgresStorage) -> None:
    visit_id, op_id = str(uuid.uuid4()), str(uuid.uuid4())
    storage.apply_operations([(op_id, visit_id, creation(visit_id, op_id))])
    seq = storage.get_visit(visit_id).seq
    assert seq > 1 << 20  # the writing transaction's id, shifted
    assert storage.last_seq(STREAM_VISITS) == seq
    assert parse_cursor(storage, format_cursor(storage.instance, seq), STREAM_VISITS) == seq
    assert parse_cursor(storage, format_cursor(storage.instance, seq + 1), STREAM_VISITS) is None  # ahead: 410


def test_a_reference_item_committed_late_is_not_skipped_either(storage: PostgresStorage, postgres_db: str) -> None:
    """The reference stream has the same bound: an item written by an open transaction holds back
    the items committed after it, and is served before them once committed."""
    import psycopg

    with psycopg.connect(postgres_db) as early:  # a transaction, open until the end of the block
        early.execute(
            "INSERT INTO reference_items (dataset, key, content, deleted, updated_at, seq) VALUES "
            "('contacts', 'early', '1', false, %s, (pg_current_xact_id()::text::bigint << 20) + 1)",
            (STAMP,),
        )
        storage.put_reference_item("contacts", "late", 2)
        assert storage.reference_since("contacts", 0, 10).items == []
        held = early.execute(f"SELECT count(*) FROM reference_items WHERE seq < {SERVABLE}").fetchone()[0]
        assert held == 0
    deadline = time.monotonic() + 10
    while not (items := storage.reference_since("contacts", 0, 10).items) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [item.key for item in items] == ["early", "late"]
