"""The real client against the real central service (a uvicorn process on 127.0.0.1), with faults.

After every scenario: the central store holds exactly one copy of each visit, at its
latest revision and with the laptop's content, and no answer on the laptop is lost.
"""

from __future__ import annotations

import random

import httpx
import pytest
from central_server import followup_op
from fault_proxy import FaultProxy
from helpers import IDENTITY

from at_tui.exchange.exporter import visit_content
from at_tui.sync import outbox
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport

FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture
def tokens(central):
    return {"at": central.add_user("marie", "at"), "cm": central.add_user("paul", "cm")}


def transport(url: str, token: str, **options) -> Transport:
    return Transport(url, token, retry=options.pop("retry", FAST_RETRY), timeout=options.pop("timeout", 5.0),
                     rng=random.Random(1), **options)


def capture(workspace, count: int) -> list[str]:
    ids = []
    for index in range(count):
        visit, errors = workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
        assert not errors
        workspace.save_answer(visit, "utilisateurs_potentiels", str(10 + index))
        workspace.save_answer(visit, "opportunite", True)
        ids.append(visit.id)
    return ids


def central_visits(url: str, token: str) -> dict[str, dict]:
    items, cursor = [], "0"
    while True:
        page = httpx.get(f"{url}/v1/visits", params={"since": cursor, "limit": 1000},
                         headers={"Authorization": f"Bearer {token}"}).json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    by_id: dict[str, dict] = {}
    for item in items:
        by_id[item["id"]] = item  # a visit changed twice appears once, at its latest revision
    return by_id


def assert_in_agreement(workspace, url: str, cm_token: str) -> None:
    """One central copy per local visit, holding exactly the laptop's content; nothing waiting."""
    assert outbox.summary(workspace.conn).waiting == 0
    central = central_visits(url, cm_token)
    local = {v.id: visit_content(workspace, v) for v in workspace.visits.list()}
    assert set(central) == set(local)
    for visit_id, content in local.items():
        assert central[visit_id]["content"] == content, visit_id
        rev = workspace.conn.execute("SELECT rev FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()[0]
        assert central[visit_id]["rev"] == rev


def test_visits_captured_offline_are_sent_once_then_updates_follow(workspace, central, tokens):
    capture(workspace, 3)
    with transport(central.url, tokens["at"]) as client:
        report = sync(workspace, client)
        assert (report.sent, report.duplicates, report.conflicts, report.rejected, report.left) == (3, 0, 0, 0, 0)
        assert report.complete
        assert_in_agreement(workspace, central.url, tokens["cm"])

        visit = workspace.visits.list()[0]
        workspace.save_answer(visit, "utilisateurs_potentiels", "99")
        report = sync(workspace, client)
        assert report.sent == 1
        assert_in_agreement(workspace, central.url, tokens["cm"])
        assert sync(workspace, client).sent == 0  # nothing left


def test_the_cm_follow_up_comes_back_and_a_concurrent_follow_up_change_is_no_conflict(workspace, central, tokens):
    [visit_id] = capture(workspace, 1)
    with transport(central.url, tokens["at"]) as client:
        sync(workspace, client)
        answer = httpx.post(f"{central.url}/v1/push", headers=central.auth(tokens["cm"]), json={
            "operations": [followup_op(visit_id, base_rev=1, status="en_cours", comment="RDV le 3 décembre")]
        }).json()
        assert answer["results"][0]["status"] == "applied"

        report = sync(workspace, client)  # nothing waiting here: the pull brings the follow-up
        assert report.received == 1
        followup = workspace.conn.execute("SELECT followup FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()[0]
        assert "RDV le 3 décembre" in followup

        # The CM changes it again while the AT, offline, edits the visit: only the revision moved,
        # the AT's edit is sent again on the new revision in the same run (no conflict).
        httpx.post(f"{central.url}/v1/push", headers=central.auth(tokens["cm"]), json={
            "operations": [followup_op(visit_id, base_rev=2, status="gagnee", comment="Signé")]
        })
        visit = workspace.visits.require(visit_id)
        workspace.save_answer(visit, "utilisateurs_potentiels", "25")
        report = sync(workspace, client)
        assert (report.conflicts, report.sent) == (0, 1) and report.complete, report.lines()
        assert outbox.conflicts(workspace.conn) == []
        assert workspace.visits.answers(visit_id)["q:utilisateurs_potentiels"] == 25
        central_copy = central_visits(central.url, tokens["cm"])[visit_id]
        assert central_copy["followup"]["status"] == "gagnee" and central_copy["rev"] == 4
    assert_in_agreement(workspace, central.url, tokens["cm"])


@pytest.mark.parametrize(
    ("mode", "faults"),
    [("drop", 2), ("cut", 2), ("lose", 1), ("lose", 3), ("latency", None)],
)
def test_faults_never_duplicate_nor_lose_anything(workspace, central, tokens, mode, faults):
    proxy = FaultProxy(central.port)
    try:
        capture(workspace, 4)
        proxy.set(mode, faults=faults, delay=0.01)
        with transport(proxy.url, tokens["at"]) as client:
            report = sync(workspace, client)
        assert proxy.faults_done >= (faults or 1)
        if report.left:  # all the retries hit the fault: the next sync finishes the job
            proxy.set("pass")
            with transport(proxy.url, tokens["at"]) as client:
                report = sync(workspace, client)
        assert report.left == 0 and not report.errors
        assert_in_agreement(workspace, central.url, tokens["cm"])
        if mode == "lose":  # the server had committed: the resend was recognised, not applied twice
            ops = workspace.conn.execute("SELECT result FROM outbox WHERE state = 'done'").fetchall()
            assert any('"duplicate"' in row[0] for row in ops)
    finally:
        proxy.close()


def test_server_killed_then_restarted(workspace, central, tokens):
    capture(workspace, 2)
    with transport(central.url, tokens["at"]) as client:
        sync(workspace, client)
    central.restart(hard=True)  # SIGKILL: a crash
    central.kill()
    more = capture(workspace, 1)
    with transport(central.url, tokens["at"], retry=RetryPolicy(attempts=2, base=0.01, cap=0.01)) as client:
        report = sync(workspace, client)
    assert report.errors and report.left == 1 and not report.complete  # hors ligne: kept for later
    assert workspace.visits.get(more[0]) is not None
    central.start()
    with transport(central.url, tokens["at"]) as client:
        report = sync(workspace, client)
    assert report.complete
    assert_in_agreement(workspace, central.url, tokens["cm"])


def test_a_revoked_token_keeps_the_queue(workspace, central, tokens):
    capture(workspace, 1)
    central.revoke("marie")
    with transport(central.url, tokens["at"]) as client:
        report = sync(workspace, client)
    assert report.left == 1 and any("reconnectez-vous" in error for error in report.errors)
    assert tokens["at"] not in " ".join(report.errors)
    assert tokens["at"] not in central.logs()
