"""The conflict screen by keyboard: values side by side, a side picked per field, the result queued."""

from __future__ import annotations

import json

from helpers import IDENTITY
from textual.widgets import DataTable

from at_tui.screens.conflict import ConflictScreen
from at_tui.sync import outbox


def make_conflict(workspace) -> str:
    visit, errors = workspace.start_visit(dict(IDENTITY))
    assert not errors
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    [op] = outbox.take_batch(workspace.conn, 10)
    central = json.loads(json.dumps(op.payload))
    central["identity"]["contact_name"] = "Claire Dupuis-Martin"
    central["answers"]["q:utilisateurs_potentiels"] = 40
    outbox.record_results(workspace.conn, [{
        "op_id": op.op_id, "status": "conflict", "rev": 2,
        "central": {"id": visit.id, "rev": 2, "owner": "marie", "content": central, "followup": None},
    }])
    return visit.id


async def test_pick_per_field_then_save(make_app, workspace):
    visit_id = make_conflict(workspace)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_resolve_conflicts()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        table = screen.query_one(DataTable)
        labels = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert labels == ["Contact (nom)", "Nombre estimé d'utilisateurs potentiels dans la structure"]
        assert table.get_row_at(0)[1:3] == ["Claire Dupuis", "Claire Dupuis-Martin"]
        await pilot.press("right")  # contact name: the central value
        assert table.get_row_at(0)[3] == "central →"
        await pilot.press("down", "right", "left")  # users: changed mind, this laptop's
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ConflictScreen)

    visit = workspace.visits.require(visit_id)
    assert visit.contact_name == "Claire Dupuis-Martin"
    assert workspace.visits.answers(visit_id)["q:utilisateurs_potentiels"] == 12
    assert outbox.conflicts(workspace.conn) == []
    [op] = outbox.take_batch(workspace.conn, 10)
    assert op.base_rev == 2


async def test_escape_keeps_the_conflict_for_later(make_app, workspace):
    make_conflict(workspace)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_resolve_conflicts()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConflictScreen)
    assert len(outbox.conflicts(workspace.conn)) == 1
