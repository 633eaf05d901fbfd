"""Names and messages from files, the central or another user are shown without their escape
sequences and never read as markup: an OSC 52 in a structure name must not reach the terminal
(it would write the clipboard), a « [/] » must not stop a screen from drawing."""

from __future__ import annotations

import sqlite3
import uuid

from textual.widgets import DataTable, Static

from at_tui.screens.home import HomeScreen
from at_tui.screens.sync_problems import SyncProblemsScreen

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
NAME = f"[/]CPTS{OSC52} [link=https://x.example]Sud\x1b[2J"
REASON = f"refusé[/b] : {OSC52}département inconnu"


def _refused_visit(db_path, reference) -> str:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "provisoire", "departement": "31", "typologie": "CPTS/MSP", "visit_date": "20/11/2026",
        })
        assert errors == {}
    finally:
        workspace.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("UPDATE visits SET structure = ? WHERE id = ?", (NAME, visit.id))
        conn.execute("DELETE FROM outbox WHERE visit_id = ?", (visit.id,))
        conn.execute(
            "INSERT INTO outbox (op_id, visit_id, state, last_error, created_at, updated_at) "
            "VALUES (?, ?, 'rejected', ?, '2026-11-20T08:00:00+00:00', '9999-12-31T23:59:59+00:00')",
            (str(uuid.uuid4()), visit.id, REASON),
        )
    finally:
        conn.close()
    return visit.id


def _no_escape(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text


async def test_names_and_server_reasons_are_shown_safely(make_app, db_path, reference):
    visit_id = _refused_visit(db_path, reference)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        app.action_sync_problems()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SyncProblemsScreen)
        cells = [str(cell) for cell in screen.query_one(DataTable).get_row_at(0)]
        _no_escape(" ".join(cells))
        detail = str(screen.query_one("#sync-problems-detail", Static).render())
        _no_escape(detail)
        assert "[/]CPTS [link=https://x.example]Sud" in detail  # the brackets shown as typed
        assert "refusé[/b] : département inconnu" in detail

        app.open_visit(visit_id)
        await pilot.pause()
        banner = str(app.screen.query_one("#visit-banner", Static).render())
        _no_escape(banner)
        assert "[/]CPTS [link=https://x.example]Sud" in banner
        assert app.is_running and app.crash_error is None
