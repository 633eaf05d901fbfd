"""Archived visits against the real central service: a visit created by mistake and archived
before it was ever sent stays off the region's record until restored; a visit the
central already holds keeps syncing while archived."""

from __future__ import annotations

import random

import httpx
from helpers import IDENTITY

from at_tui.sync import outbox
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport


def central_ids(url: str, token: str) -> dict[str, dict]:
    page = httpx.get(f"{url}/v1/visits", params={"since": "0", "limit": 1000},
                     headers={"Authorization": f"Bearer {token}"}).json()
    return {item["id"]: item for item in page["items"]}


def test_archived_visits_never_sent_stay_here_until_restored(workspace, central):
    at, cm = central.add_user("marie", "at"), central.add_user("paul", "cm")
    kept, _ = workspace.start_visit(dict(IDENTITY))
    workspace.save_answer(kept, "utilisateurs_potentiels", "12")
    mistake, _ = workspace.start_visit({**IDENTITY, "structure": "Visite créée par erreur"})
    workspace.visits.set_archived(mistake.id, True)

    with Transport(central.url, at, retry=RetryPolicy(attempts=4, base=0.01, cap=0.05), timeout=5.0,
                   rng=random.Random(1)) as client:
        report = sync(workspace, client)
        assert (report.sent, report.left, report.rejected) == (1, 0, 0), report.lines()
        assert set(central_ids(central.url, cm)) == {kept.id}
        assert outbox.summary(workspace.conn).held == 1

        # Archived once the central holds it: a later change is sent all the same.
        workspace.visits.set_archived(kept.id, True)
        assert sync(workspace, client).sent == 0  # archiving itself sends nothing
        workspace.save_answer(workspace.visits.require(kept.id), "utilisateurs_potentiels", "40")
        assert sync(workspace, client).sent == 1
        assert central_ids(central.url, cm)[kept.id]["content"]["answers"]["q:utilisateurs_potentiels"] == 40

        workspace.visits.set_archived(mistake.id, False)
        report = sync(workspace, client)
        assert (report.sent, report.left) == (1, 0), report.lines()
        assert set(central_ids(central.url, cm)) == {kept.id, mistake.id}
