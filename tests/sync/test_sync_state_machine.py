"""A hypothesis state machine: local edits, CM edits, pushes with faults, pulls, laptop restarts.

The central service runs in-process (its real FastAPI app, on SQLite and on PostgreSQL: a new
central database per run of the machine); faults
are injected in the HTTP transport: a request lost before the server, or a response
lost after the server committed. Invariants:

- nothing acknowledged on the laptop is ever lost (every saved answer is still there);
- at most one central row per visit and per operation id;
- conflicts are surfaced, never silently overwritten (the laptop's answers stay);
- after a fault-free push and pull, with conflicts settled, both sides agree.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from central.central_api import make_api
from central_db import query
from central_server import followup_op
from helpers import IDENTITY
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from at_tui.domain.conflicts import merge
from at_tui.exchange.exporter import visit_content
from at_tui.reference.loader import load_reference
from at_tui.sync import outbox
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace

REFERENCE = load_reference()


class FaultyTransport(httpx.BaseTransport):
    """Delegates to the in-process app; `lose_before`/`lose_after` requests fail on the way."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lose_before = 0
        self.lose_after = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.lose_before:
            self.lose_before -= 1
            raise httpx.ConnectError("connexion coupée (test)", request=request)
        response = self.inner.handle_request(request)
        if self.lose_after:
            self.lose_after -= 1
            response.read()
            raise httpx.ReadError("réponse perdue après validation (test)", request=request)
        return response


class SyncMachine(RuleBasedStateMachine):
    new_central_db: Callable[..., str]  # the test's maker of central databases (`new_central_db` fixture)

    @initialize()
    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="at-tui-sm-"))
        self.central_db = type(self).new_central_db("central")
        self._api = make_api(self.central_db)  # a generator: its finally closes it
        self.api = next(self._api)
        self.db_path = self.folder / "laptop.sqlite3"
        self.workspace = Workspace(self.db_path, reference=REFERENCE)
        self.settled = False  # the AT settled conflicts at least once
        self.acknowledged: dict[str, int] = {}  # visit id -> the last value saved for the question
        self.faults = FaultyTransport(self.api.client._transport)

    def teardown(self) -> None:
        if hasattr(self, "workspace"):
            self.workspace.close()
            next(self._api, None)

    def client(self) -> Transport:
        return Transport("http://central", self.api.tokens["alice"], http=self.faults,
                         retry=RetryPolicy(attempts=3, base=0, cap=0), sleep=lambda _: None, rng=random.Random(0))

    # -- rules ----------------------------------------------------------------------

    @rule(value=st.integers(0, 500))
    def capture(self, value: int) -> None:
        visit, errors = self.workspace.start_visit(dict(IDENTITY))
        assert not errors
        self.workspace.save_answer(visit, "utilisateurs_potentiels", str(value))
        self.acknowledged[visit.id] = value

    @precondition(lambda self: self.acknowledged)
    @rule(data=st.data(), value=st.integers(0, 500))
    def edit(self, data, value: int) -> None:
        visit_id = data.draw(st.sampled_from(sorted(self.acknowledged)))
        self.workspace.save_answer(self.workspace.visits.require(visit_id), "utilisateurs_potentiels", str(value))
        self.acknowledged[visit_id] = value

    @precondition(lambda self: self.acknowledged)
    @rule(data=st.data(), comment=st.text(alphabet="abc ", max_size=10))
    def cm_edits_the_follow_up(self, data, comment: str) -> None:
        visit_id = data.draw(st.sampled_from(sorted(self.acknowledged)))
        found = self.api.client.get(f"/v1/visits/{visit_id}", headers=self.api.headers("carole"))
        if found.status_code == 200:
            self.api.push("carole", followup_op(visit_id, base_rev=found.json()["rev"], comment=comment))

    @rule(before=st.integers(0, 4), after=st.integers(0, 4))
    def push_and_pull_with_faults(self, before: int, after: int) -> None:
        self.faults.lose_before, self.faults.lose_after = before, after
        with self.client() as client:
            sync(self.workspace, client)
        self.faults.lose_before = self.faults.lose_after = 0

    @rule()
    def restart_the_laptop(self) -> None:
        self.workspace.close()
        self.workspace = Workspace(self.db_path, reference=REFERENCE)

    @rule()
    def settle_conflicts_keeping_the_laptop(self) -> None:
        self.settled = True
        for visit_id, central in outbox.conflicts(self.workspace.conn):
            local = visit_content(self.workspace, self.workspace.visits.require(visit_id))
            outbox.resolve_conflict(self.workspace.conn, visit_id, merge(local, central["content"], {}), central["rev"])

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def nothing_acknowledged_is_lost(self) -> None:
        if not hasattr(self, "workspace"):
            return
        for visit_id, value in self.acknowledged.items():
            assert self.workspace.visits.answers(visit_id)["q:utilisateurs_potentiels"] == value

    @invariant()
    def at_most_one_central_row_per_visit_and_operation(self) -> None:
        if not hasattr(self, "api"):
            return
        [(visits, duplicate_visits)] = query(self.central_db, "SELECT count(*), count(*) - count(DISTINCT id) FROM visits")
        [(duplicate_ops,)] = query(self.central_db, "SELECT count(*) - count(DISTINCT op_id) FROM operations")
        assert duplicate_visits == 0 and duplicate_ops == 0
        assert visits <= len(self.acknowledged)

    @invariant()
    def conflicts_are_surfaced_never_settled_silently(self) -> None:
        """Every conflict the central answered is parked for the AT, or was settled by the AT."""
        if not hasattr(self, "workspace"):
            return
        for state, result in self.workspace.conn.execute("SELECT state, result FROM outbox WHERE result IS NOT NULL"):
            answered = json.loads(result)
            if "conflict" in (answered["status"], answered.get("original_status")):
                assert state in ("conflict", "resolved"), (state, answered["status"])
                if state == "resolved":
                    assert self.settled, "a conflict was settled without the AT"

    def check_agreement(self) -> None:
        """A fault-free push and pull, conflicts settled: both sides agree."""
        for _ in range(3):
            self.settle_conflicts_keeping_the_laptop()
            with self.client() as client:
                report = sync(self.workspace, client)
            if report.complete:
                break
        assert report.complete, report.lines()
        for visit_id, value in self.acknowledged.items():
            central = self.api.client.get(f"/v1/visits/{visit_id}", headers=self.api.headers("alice")).json()
            assert central["content"]["answers"]["q:utilisateurs_potentiels"] == value
            assert central["content"] == visit_content(self.workspace, self.workspace.visits.require(visit_id))


class AgreeingMachine(SyncMachine):
    def teardown(self) -> None:
        if hasattr(self, "workspace"):
            self.check_agreement()
        super().teardown()


SETTINGS = settings(
    max_examples=25, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_sync_machine(new_central_db) -> None:
    """The machine's runs on this test's backend, each on a new central database."""
    machine = type("Machine", (AgreeingMachine,), {"new_central_db": staticmethod(new_central_db)})
    run_state_machine_as_test(machine, settings=SETTINGS)
