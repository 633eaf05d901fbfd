"""The app's background sync (`sync_once`) against the real service: no server configured,
server stopped (hors ligne, nothing lost), server up (sent), and, with nothing to send, the
CMs' follow-ups still fetched now and then."""

from __future__ import annotations

import datetime as dt

import httpx
from central_server import followup_op, start_central
from helpers import IDENTITY

from at_tui.sync import background, outbox
from at_tui.sync.credentials import save_settings
from at_tui.workspace import Workspace


def test_background_sync_follows_the_server(tmp_path, monkeypatch, reference, at_home):
    db_path = tmp_path / "laptop.sqlite3"
    workspace = Workspace(db_path, reference=reference)
    visit, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")

    status = background.sync_once(db_path, reference)
    assert not status.configured and status.text() == ""  # no server: the app just works locally

    central = start_central(tmp_path)
    try:
        marie = central.add_user("marie", "at")
        carole = central.add_user("carole", "cm")
        save_settings(central.url)
        monkeypatch.setenv("AT_TUI_TOKEN", marie)
        central.stop()

        status = background.sync_once(db_path, reference)
        assert status.configured and not status.online and status.waiting == 1
        assert "hors ligne" in status.text() and "1 en attente" in status.text()
        assert workspace.visits.answers(visit.id)["q:utilisateurs_potentiels"] == 12

        central.start()
        status = background.sync_once(db_path, reference)
        assert status.online and status.waiting == 0 and status.last_success is not None
        assert "tout est envoyé" in status.text()

        # Nothing waits on the laptop; a CM updates the follow-up centrally.
        answer = httpx.post(central.url + "/v1/push", headers=central.auth(carole), timeout=30,
                            json={"operations": [followup_op(visit.id, 1, status="en_cours",
                                                             comment="RDV le 3 décembre")]})
        assert answer.json()["results"][0]["status"] == "applied"
        status = background.sync_once(db_path, reference)
        followup = workspace.conn.execute("SELECT followup FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()
        assert followup[0] is None or "RDV" not in followup[0]  # just synced: no pull yet
        # Fifteen minutes later, the next probe pulls it.
        earlier = (dt.datetime.now(dt.UTC) - background.PULL_EVERY).isoformat()
        outbox.set_state(workspace.conn, "last_success", earlier)
        status = background.sync_once(db_path, reference)
        followup = workspace.conn.execute("SELECT followup FROM sync_visits WHERE visit_id = ?", (visit.id,)).fetchone()
        assert "RDV le 3 décembre" in followup[0]
        assert status.online and status.last_success > earlier
    finally:
        central.stop()
        workspace.close()
