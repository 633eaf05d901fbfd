"""An opportunity changed on both sides (issue 11 §3): its conflict and its refusals appear in
« Problèmes de synchronisation », the conflict is settled field by field (← this laptop,
→ the central) and the choice is queued on top of the central copy.

The conflict is made with the sync's own functions (at_tui.sync.opportunity_outbox): the
laptop sent its opportunity, the central answered « conflict » with its copy.
"""

from __future__ import annotations

import datetime as dt

import pytest
from answer_sets import finished_visit
from textual.widgets import DataTable, Static

from at_tui.app import ATApp
from at_tui.screens.opportunity import OpportunityScreen
from at_tui.screens.opportunity_conflict import OpportunityConflictScreen
from at_tui.screens.sync_problems import SyncProblemsScreen
from at_tui.sync import opportunity_outbox as oo
from at_tui.workspace import Workspace

TODAY = dt.date(2026, 12, 10)


def sent_once(workspace: Workspace) -> tuple[str, object]:
    """A finished visit the central knows, its opportunity's operation taken (sent)."""
    visit_id = finished_visit(workspace)
    assert workspace.ensure_opportunities() == 1
    workspace.conn.execute("INSERT INTO sync_visits (visit_id, rev, updated_at) VALUES (?, 1, 'x')", (visit_id,))
    workspace.conn.commit()
    [op] = oo.take_batch(workspace.conn, 10)
    return visit_id, op


@pytest.fixture
def in_conflict(db_path, reference) -> str:
    """Here: « Projet en cours »; on the central: « Sans suite » (structure fermée), CM paul."""
    workspace = Workspace(db_path, reference=reference)
    try:
        visit_id, op = sent_once(workspace)
        central_fields = {**op.payload["fields"], "status": "sans_suite", "status_reason": "structure fermée",
                          "cm_login": "paul"}
        central = {"id": visit_id, "rev": 1, "owner": "marie", "content": {},
                   "opportunity": {"fields": central_fields, "journal": [],
                                   "updated_at": "2026-12-03T09:00:00+00:00"}}
        workspace.opportunities.set_status(visit_id, workspace.lifecycle(), "projet_en_cours", None,
                                           author="marie", role="AT", day="2026-12-05")
        result = {"op_id": op.op_id, "status": "conflict", "rev": 1, "fields": ["status", "status_reason"],
                  "central": central}
        assert oo.record_results(workspace.conn, [result], workspace.lifecycle) == {op.op_id: "conflict"}
        return visit_id
    finally:
        workspace.close()


def table_rows(screen, table_id: str) -> list[list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_an_opportunity_conflict_is_settled_field_by_field(db_path, reference, in_conflict) -> None:
    app = ATApp(db_path, reference=reference, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        problems = app.screen
        assert isinstance(problems, SyncProblemsScreen)
        [row] = table_rows(problems, "sync-problems-table")
        assert row[0] == "Conflit opp." and row[1] == "MSP de Lectoure"
        detail = str(problems.query_one("#sync-problems-detail", Static).render())
        assert "L'opportunité de MSP de Lectoure a été modifiée sur ce poste et au central" in detail
        assert "statut, raison du statut" in detail

        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpportunityConflictScreen)
        assert table_rows(screen, "opportunity-conflict-table") == [
            ["Statut", "Projet en cours", "Sans suite", "← ce poste"],
            ["Raison du statut", "—", "structure fermée", "← ce poste"],
        ]
        await pilot.press("right", "down", "right")  # the central's status and its reason
        await pilot.pause()
        assert [r[3] for r in table_rows(screen, "opportunity-conflict-table")] == ["central →", "central →"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is problems
        assert table_rows(problems, "sync-problems-table") == []
        opportunity = app.workspace.opportunities.get(in_conflict)
        assert (opportunity.status, opportunity.status_reason) == ("sans_suite", "structure fermée")
        assert opportunity.cm_login == "paul"  # the central's, out of the conflict and left alone here
        assert oo.opportunity_conflicts(app.workspace.conn) == []
        [again] = oo.take_batch(app.workspace.conn, 10)
        assert again.payload["fields"]["status"] == "sans_suite"


async def test_echap_leaves_the_conflict_as_it_is(db_path, reference, in_conflict) -> None:
    app = ATApp(db_path, reference=reference, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.action_resolve_conflicts()  # the palette's « Résoudre les conflits »
        await pilot.pause()
        assert isinstance(app.screen, OpportunityConflictScreen)
        await pilot.press("right", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, OpportunityConflictScreen)
        assert len(oo.opportunity_conflicts(app.workspace.conn)) == 1
        assert app.workspace.opportunities.get(in_conflict).status == "projet_en_cours"


async def test_a_refused_opportunity_is_listed_with_its_reason_and_opens(db_path, reference) -> None:
    workspace = Workspace(db_path, reference=reference)
    visit_id, op = sent_once(workspace)
    oo.record_results(workspace.conn, [{"op_id": op.op_id, "status": "rejected", "code": "forbidden",
                                        "reason": "le statut est tenu par le chargé de mission (pilotage)"}])
    workspace.close()
    app = ATApp(db_path, reference=reference, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        problems = app.screen
        [row] = table_rows(problems, "sync-problems-table")
        assert row[0] == "Refus opp."
        assert "tenu par le chargé de mission (pilotage)" in str(
            problems.query_one("#sync-problems-detail", Static).render())
        assert problems.check_action("requeue", ()) is None  # `r` is for a refused visit
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OpportunityScreen) and app.screen.opportunity_id == visit_id


async def test_a_failed_write_keeps_the_choice_on_screen(db_path, reference, in_conflict) -> None:
    """The sync's write fails (a full disk): said in one French sentence, the screen stays."""
    import sqlite3

    def failing(*_args) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    app = ATApp(db_path, reference=reference, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        found = oo.opportunity_conflicts(app.workspace.conn)[0]
        app.push_screen(OpportunityConflictScreen(*found, resolve=failing))
        await pilot.pause()
        await pilot.press("right", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OpportunityConflictScreen)
        assert any("Choix non enregistré" in str(n.message) for n in app._notifications)
        assert len(oo.opportunity_conflicts(app.workspace.conn)) == 1


async def test_l_marks_a_refused_opportunity_read_and_its_row_leaves(db_path, reference) -> None:
    """The refused change is already undone here: `l` (shown on that row only) acknowledges it."""
    from at_tui.widgets.key_bar import KeyBar

    workspace = Workspace(db_path, reference=reference)
    visit_id, op = sent_once(workspace)
    oo.record_results(workspace.conn, [{"op_id": op.op_id, "status": "rejected", "code": "forbidden",
                                        "reason": "le statut est tenu par le chargé de mission (pilotage)"}])
    workspace.close()
    app = ATApp(db_path, reference=reference, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        problems = app.screen
        assert isinstance(problems, SyncProblemsScreen)
        [row] = table_rows(problems, "sync-problems-table")
        assert row[0] == "Refus opp."
        assert "Marquer lu" in str(problems.query_one(KeyBar).render())
        assert [c.title for c in problems.palette_commands()] == ["Marquer le refus de l'opportunité comme lu"]

        await pilot.press("l")
        await pilot.pause()
        assert table_rows(problems, "sync-problems-table") == []
        assert oo.rejected_opportunity_ops(app.workspace.conn) == []
        assert app.workspace.conn.execute(
            "SELECT state FROM opportunity_outbox WHERE op_id = ?", (op.op_id,)).fetchone()[0] == "resolved"
        assert any("Refus lu : l'opportunité de « MSP de Lectoure » quitte la liste" in str(n.message)
                   for n in app._notifications)
        assert problems.check_action("acknowledge", ()) is False  # no row left: the key leaves the Footer
        assert "Marquer lu" not in str(problems.query_one(KeyBar).render())
