"""A central copy this laptop cannot take (quarantine), seen by keyboard in « Problèmes de
synchronisation »: listed as « Écartée » with its French reason, the visit opened from the list
with its local version intact."""

from __future__ import annotations

from helpers import IDENTITY, press_to
from textual.widgets import DataTable, Static

from at_tui.screens.sync_problems import SyncProblemsScreen
from at_tui.screens.visit_base import VisitScreen
from at_tui.sync import outbox
from at_tui.sync.central_content import checker


def set_aside(workspace) -> str:
    """A synced visit, then a pulled revision with a year 9999 date: kept aside, not taken."""
    visit, errors = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    assert not errors
    [op] = outbox.take_batch(workspace.conn, 10)
    outbox.record_results(workspace.conn, [{"op_id": op.op_id, "status": "applied", "rev": 1}])
    bad = {**op.payload, "updated_at": "9999-12-31T23:59:59+00:00"}
    item = {"id": visit.id, "rev": 2, "owner": "marie", "content": bad, "followup": None}
    outbox.apply_pulled(workspace.conn, [item], "visits", "c-2", checker(workspace))
    return visit.id


async def test_a_visit_set_aside_is_listed_with_its_reason_and_opens(make_app, workspace):
    visit_id = set_aside(workspace)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await press_to(pilot, "s", SyncProblemsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[:4] == ["Écartée", "EHPAD Les Tilleuls", "31", "22/11/2026"]
        detail = str(screen.query_one("#sync-problems-detail", Static).render())
        assert "ne peut pas être prise par ce poste" in detail
        assert "updated_at" in detail and "année 9999" in detail
        visit = await press_to(pilot, "enter", VisitScreen)
        assert visit.visit.id == visit_id
