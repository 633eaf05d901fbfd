"""SVG snapshots of the deliverables at 80×24: an MSP (« 32 libéraux », not « CPTS »), a
« Professionnels libéraux » structure, and a legacy « CPTS/MSP » visit with its warning."""

from __future__ import annotations

import datetime as dt

import pytest
from answer_sets import SIMPLE_ANSWERS

from at_tui.app import ATApp

# Classified « simple »: every criterion answered, « Aucune » where none applies.
ANSWERS = SIMPLE_ANSWERS


def visit(db_path, reference, **identity) -> str:
    """A visit whose screen shows no timestamp: only the visit date, fixed here."""
    from at_tui.domain.visit import notes_key
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        created, errors = workspace.start_visit({
            "contact_name": "Anne Roque", "contact_role": "Coordinatrice", "visit_date": "20/11/2026", **identity,
        })
        assert errors == {} and created is not None
        workspace.save_note(created.id, notes_key("presentation"), "Présentation à l'équipe, très intéressée.")
        for question_id, raw in ANSWERS.items():
            workspace.save_answer(created, question_id, raw)
        return created.id
    finally:
        workspace.close()


IDENTITIES = [
    pytest.param({"structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP", "maillage": True}, id="msp"),
    pytest.param({"structure": "Cabinet infirmier des Remparts", "departement": "32",
                  "typologie": "Professionnels libéraux"}, id="liberaux"),
    pytest.param({"structure": "MSP des Coteaux", "departement": "31", "typologie": "CPTS/MSP"}, id="legacy"),
]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_deliverables_80x24(snap_compare, db_path, reference, identity):
    visit_id = visit(db_path, reference, **identity)
    app = ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    async def run_before(pilot) -> None:
        pilot.app.open_visit(visit_id, "classification:livrables")
        await pilot.pause()
        # The opportunity (its name, a warning) at the top of the body, as the AT scrolls to it.
        body = pilot.app.screen.query_one("#visit-body")
        body.scroll_to(y=6, animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))
