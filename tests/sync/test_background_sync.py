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


def test_background_sync_follows_the_server(tmp_path, monkeypatch, reference, at_home, central_db):
    db_path = tmp_path / "laptop.sqlite3"
    workspace = Workspace(db_path, reference=reference)
    visit, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")

    status = background.sync_once(db_path, reference)
    assert not status.configured and status.text() == ""  # no server: the app just works locally

    central = start_central(tmp_path, db=central_db)
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


def test_a_long_retry_after_holds_the_background_probes_until_its_time(tmp_path, monkeypatch, reference, at_home):
    """A server asking to wait an hour (429, Retry-After 3600) is not shortened nor hammered: the
    status says when the laptop tries again, and the app probes no sooner; nothing is lost."""
    from fake_sync_server import Answer, FakeServer

    db_path = tmp_path / "laptop.sqlite3"
    workspace = Workspace(db_path, reference=reference)
    visit, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    server = FakeServer()
    server.route("POST", "/v1/push", Answer(429, {"detail": "trop de requêtes"}, {"Retry-After": "3600"}))
    try:
        save_settings(server.url)
        monkeypatch.setenv("AT_TUI_TOKEN", "att_" + "x" * 43)
        before = dt.datetime.now(dt.UTC)
        status = background.sync_once(db_path, reference)
    finally:
        server.close()
    pushes = [r for r in server.requests if r[0] == "POST"]
    assert len(pushes) == 1  # asked once, not retried within the hour
    assert status.hold_until is not None
    assert dt.timedelta(minutes=59) < status.hold_until - before <= dt.timedelta(minutes=61)
    assert background.held(status) and not background.held(status, now=status.hold_until)
    assert "réessai après" in status.text() and status.waiting == 1
    assert workspace.visits.require(visit.id).structure == IDENTITY["structure"]
    workspace.close()


async def test_the_app_does_not_probe_while_the_server_asked_to_wait(db_path, reference, monkeypatch):
    from at_tui.app import ATApp

    calls = []
    monkeypatch.setattr(background, "sync_once", lambda *args, **kwargs: calls.append(args))
    app = ATApp(db_path, reference=reference)
    async with app.run_test() as pilot:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        app.sync_status = background.Status(configured=True, online=True, hold_until=later)
        app.request_sync(force=True)  # even a finished visit waits for the server's time
        await pilot.pause(0.2)
        assert calls == [] and not app._syncing
        app.sync_status = background.Status(configured=True, online=True, hold_until=dt.datetime.now(dt.UTC))
        app.request_sync()  # the time has come: the probe runs again
        await app.workers.wait_for_complete()
        assert len(calls) >= 1
