"""SVG snapshots of the « Annuaire » lookup and a contact card, at 80×24 and 120×36."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import type_text
from textual.widgets import Input

from at_tui.app import ATApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def snap_app(db_path, reference, seeded):
    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    return factory


async def open_lookup_and_type(pilot, text: str) -> None:
    await pilot.press("f3")
    await pilot.pause()
    pilot.app.screen.query_one(Input).cursor_blink = False  # a blinking cursor makes snapshots flaky
    await type_text(pilot, text)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_lookup(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await open_lookup_and_type(pilot, "dac 3")

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_contact_card(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await open_lookup_and_type(pilot, "gers")
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_lookup_inside_a_visit(snap_compare, snap_app, seeded, size):
    async def run_before(pilot) -> None:
        pilot.app.open_visit(seeded["cpts"])
        await pilot.pause()
        await open_lookup_and_type(pilot, "")

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)
