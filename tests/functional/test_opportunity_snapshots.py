"""SVG snapshots of an opportunity (steps 4 to 7) at 80×24 and 120×36: its screen with M+1
overdue, and « Enregistrer une activité » with the « Suivi des usages » form."""

from __future__ import annotations

import datetime as dt

import pytest
from answer_sets import SIMPLE_ANSWERS
from helpers import FixedClock

from at_tui.app import ATApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
TODAY = dt.date(2027, 3, 3)  # M+1 (due 28/02/2027) overdue


@pytest.fixture
def opportunity_id(db_path, reference) -> str:
    """A « simple » opportunity after its cadrage, training and end of deployment."""
    from at_tui.sync.outbox import set_state
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    workspace.visits.clock = FixedClock()
    workspace.opportunities.clock = workspace.visits.clock
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
            "contact_name": "Dr Claire Roux", "contact_role": "Médecin", "visit_date": "01/12/2026"})
        assert not errors, errors
        for question, value in SIMPLE_ANSWERS.items():
            workspace.save_answer(visit, question, value)
        workspace.visits.set_status(visit.id, "terminee")
        set_state(workspace.conn, "login", "claire.at", now="2026-12-01T08:00:00+00:00")
        workspace.conn.commit()
        workspace.ensure_opportunities()
        lifecycle = workspace.lifecycle()
        for activity, day, text in (
            ("cadrage", "2026-12-10", "Déploiement acté avec la coordinatrice."),
            ("formation", "2027-01-12", "Six professionnels formés, supports remis."),
            ("fin-deploiement", "2027-01-31", ""),
        ):
            workspace.opportunities.add_entry(visit.id, lifecycle, activity, day, author="claire.at", role="AT",
                                              text=text)
        workspace.opportunities.set_check(visit.id, "qualification:creation-comptes", True, "claire.at")
        return visit.id
    finally:
        workspace.close()


def _app(db_path, reference) -> ATApp:
    return ATApp(db_path, reference=reference, today=lambda: TODAY)


@pytest.mark.parametrize("size", SIZES)
def test_opportunity_screen(snap_compare, db_path, reference, opportunity_id, size):
    async def run_before(pilot) -> None:
        pilot.app.open_opportunity(opportunity_id)
        await pilot.pause()

    assert snap_compare(_app(db_path, reference), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_record_dialog_with_the_follow_up_form(snap_compare, db_path, reference, opportunity_id, size):
    async def run_before(pilot) -> None:
        pilot.app.open_opportunity(opportunity_id)
        await pilot.pause()
        await pilot.press("r")  # M+1, overdue, is proposed with its form
        await pilot.pause()

    assert snap_compare(_app(db_path, reference), run_before=run_before, terminal_size=size)
