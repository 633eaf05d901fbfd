"""SVG snapshots of a save that failed: the field and the header say « non enregistré » and why
(disk full), and the confirmation asked when leaving with unsaved values — at 80×24 and 120×36."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import TextArea

from at_tui.app import ATApp
from at_tui.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
NOTE = "situation_actuelle"


@pytest.fixture
def visit_id(db_path, reference) -> str:
    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP des Coteaux", "departement": "81", "typologie": "CPTS/MSP",
            "contact_name": "Anne Roux", "contact_role": "Coordinatrice", "visit_date": "10/11/2026",
        })
        assert errors == {}
        workspace.save_answer(visit, "opportunite", True)  # the needs questions show after a « oui »
        return visit.id
    finally:
        workspace.close()


def _app(db_path, reference) -> ATApp:
    return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 10), busy_timeout_ms=50)


async def _type_with_the_disk_full(app, pilot, visit_id) -> None:
    app.open_visit(visit_id, "classification")
    await pilot.pause()
    area = app.screen.query_one(f"#answer-{NOTE}", TextArea)
    area.focus()
    await pilot.press(*"Fax")
    await pilot.pause()
    conn = app.workspace.conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    area.insert(" et mails" + " non securises" * 300)  # needs new pages: the disk is full
    await pilot.pause()
    area.move_cursor((0, 0))  # the start of the field and its message in view, as the AT sees them
    app.screen.query_one("#visit-body").scroll_to_widget(area, animate=False, top=True)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
def test_saisie_non_enregistree(snap_compare, db_path, reference, visit_id, size):
    async def run_before(pilot) -> None:
        await _type_with_the_disk_full(pilot.app, pilot, visit_id)

    assert snap_compare(_app(db_path, reference), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_quitter_avec_des_saisies_non_enregistrees(snap_compare, db_path, reference, visit_id, size):
    async def run_before(pilot) -> None:
        await _type_with_the_disk_full(pilot.app, pilot, visit_id)
        await pilot.press("ctrl+q")
        await pilot.pause()

    assert snap_compare(_app(db_path, reference), run_before=run_before, terminal_size=size)
