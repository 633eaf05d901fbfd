"""SVG snapshots of the argumentaire: step 1 of a CRT visit (guardrails first) and the
« Argumentaire SPICO » screen, at 80×24 and 120×36."""

from __future__ import annotations

import datetime as dt

import pytest

from at_tui.app import ATApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def snap_app(db_path, reference, seeded):
    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    return factory


@pytest.fixture
def crt_visit(db_path, reference, seeded) -> str:
    """A CRT visit next to the seeded ones (step 1 shows no timestamp)."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "CRT du Ségala", "departement": "12", "typologie": "CRT",
            "contact_name": "Paul Vidal", "contact_role": "Coordinateur", "visit_date": "21/11/2026",
        })
        assert errors == {}
        return visit.id
    finally:
        workspace.close()


@pytest.mark.parametrize("size", SIZES)
def test_crt_step_1_guardrails(snap_compare, snap_app, crt_visit, size):
    async def run_before(pilot) -> None:
        pilot.app.open_visit(crt_visit, "presentation")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_argumentaire_screen(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)
