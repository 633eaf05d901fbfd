"""SVG snapshots of the main screens, at 80×24 and 120×36."""

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




@pytest.mark.parametrize("size", SIZES)
def test_accueil(snap_compare, snap_app, size):
    assert snap_compare(snap_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_nouvelle_visite(snap_compare, snap_app, size):
    assert snap_compare(snap_app(), press=["n"], terminal_size=size)


@pytest.mark.parametrize(
    "stop",
    ["presentation", "classification", "classification:resultat", "classification:livrables"],
)
@pytest.mark.parametrize("size", SIZES)
def test_visit_screens(snap_compare, snap_app, seeded, size, stop):
    app = snap_app()

    async def run_before(pilot) -> None:
        pilot.app.open_visit(seeded["cpts"], stop)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)
