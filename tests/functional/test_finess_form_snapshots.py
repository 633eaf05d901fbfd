"""SVG snapshots of « Nouvelle visite » with the FINESS suggestions open, at 80×24 and 120×36."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import type_text
from textual.widgets import Input

from at_tui.app import ATApp
from at_tui.synthetic.finess import structure_row, write_rows

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]

ROWS = [
    structure_row("320000036", "EHPAD LES TILLEULS", departement="32", routing="32000 AUCH", category="500"),
    structure_row("460000020", "EHPAD LES TILLEULS", departement="46", routing="46100 FIGEAC", category="500"),
    structure_row("310000051", "EHPAD RÉSIDENCE L'ÂGE D'OR", departement="31", routing="31600 MURET",
                  category="500"),
    structure_row("340000069", "EHPAD CŒUR D'HÉRAULT", departement="34", routing="34800 CLERMONT L'HERAULT",
                  category="500"),
    structure_row("460000012", "CENTRE HOSPITALIER DE CAHORS", departement="46", routing="46000 CAHORS",
                  category="355"),
]


@pytest.fixture
def snap_app(db_path, reference, seeded, tmp_path):
    from at_tui.importers.structures_store import import_finess
    from at_tui.store.migrations import open_database

    path = tmp_path / "finess.csv"
    write_rows(path, ROWS, encoding="cp1252")
    conn = open_database(db_path)
    try:
        import_finess(conn, path, imported_at="2026-11-20T08:00:00+00:00")
    finally:
        conn.close()

    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    return factory


@pytest.mark.parametrize("size", SIZES)
def test_nouvelle_visite_suggestions_finess(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await pilot.press("n")
        await pilot.pause()
        pilot.app.screen.query_one("#structure", Input).cursor_blink = False  # a steady cursor: stable SVG
        await type_text(pilot, "ehpad")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.press("down")  # the first suggestion chosen
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_nouvelle_visite_structure_finess_choisie(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await pilot.press("n")
        await pilot.pause()
        pilot.app.screen.query_one("#structure", Input).cursor_blink = False  # a steady cursor: stable SVG
        await type_text(pilot, "tilleuls")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)
