"""A stored value the app cannot format (a timestamp past the calendar's end once shifted to
local time, garbage, a blob, an escape sequence in a name) never stops a screen from drawing:
the app starts, the Accueil lists the visit, the visit opens."""

from __future__ import annotations

import sqlite3
import time

import pytest
from textual.widgets import Static

from at_tui.domain.visit import INVALID_DATE, format_date, format_timestamp
from at_tui.screens.home import HomeScreen
from at_tui.widgets.visit_list import VisitList

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes the clipboard if echoed raw
BAD_UPDATED_AT = [
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "pas une date" + OSC52,
    b"\x00\xff",
    12345,
]


@pytest.fixture(params=["UTC0", "KIR-14", "HST10"], ids=["utc", "utc+14", "utc-10"])
def local_zone(request, monkeypatch):
    """The laptop's time zone: ±14 h pushes year 1 and year 9999 past the calendar's ends."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("value", [*BAD_UPDATED_AT, None, "2026-02-30"])
def test_formatting_is_total(value, local_zone):
    assert isinstance(format_timestamp(value), str)
    assert isinstance(format_date(value), str)


def _bad_visits(db_path, reference) -> list[str]:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    ids = []
    try:
        for index, _ in enumerate(BAD_UPDATED_AT):
            visit, errors = workspace.start_visit({
                "structure": f"Structure {index}", "departement": "31", "typologie": "CPTS/MSP",
                "visit_date": "20/11/2026",
            })
            assert errors == {}
            ids.append(visit.id)
    finally:
        workspace.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for visit_id, value in zip(ids, BAD_UPDATED_AT):
            conn.execute("UPDATE visits SET updated_at = ?, created_at = ? WHERE id = ?", (value, value, visit_id))
        conn.execute("UPDATE visits SET visit_date = ?, structure = ?, typologie = ? WHERE id = ?",
                     ("31/02/garbage" + OSC52, f"[b]CPTS{OSC52} du Sud", f"CPTS[/]{OSC52}", ids[2]))
    finally:
        conn.close()
    return ids


async def test_the_app_starts_and_lists_visits_with_unformattable_values(make_app, db_path, reference, local_zone):
    ids = _bad_visits(db_path, reference)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        home = app.screen
        assert isinstance(home, HomeScreen)
        listing = home.query_one("#visits", VisitList)
        assert {row.key for row in listing.rows} == set(ids)
        cells = {row.key: row.cells for row in listing.rows}
        shown = "\n".join(" ".join(row) for row in cells.values())
        assert "\x1b" not in shown and "\x07" not in shown
        assert cells[ids[2]][1] == "[b]CPTS du Sud"  # printable, shown as plain text
        assert cells[ids[2]][4] == INVALID_DATE
        assert cells[ids[3]][5] == INVALID_DATE and cells[ids[4]][5] == INVALID_DATE

        for visit_id in ids:  # each visit opens, its banner drawn
            app.open_visit(visit_id)
            await pilot.pause()
            banner = str(app.screen.query_one("#visit-banner", Static).render())
            assert "\x1b" not in banner
            if visit_id == ids[2]:
                assert "[b]CPTS du Sud" in banner and INVALID_DATE in banner
            await pilot.press("f2")  # the identity form formats the visit date too
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        app.go_home()
        await pilot.pause()
        assert app.is_running and app.crash_error is None


async def test_answers_of_the_wrong_type_do_not_stop_the_visit_screens(make_app, db_path, reference):
    """Answers stored with a type their question does not expect (written by hand, an older
    version, the central): every screen of the visit still draws."""
    from at_tui.screens.deliverables import DeliverablesScreen
    from at_tui.screens.questionnaire import QuestionnaireScreen
    from at_tui.screens.result import ResultScreen

    ids = _bad_visits(db_path, reference)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for key, value in {"q:situation_actuelle": "12", "q:fonctionnalites": '"texte"',
                           "q:utilisateurs_potentiels": '"beaucoup"', "q:opportunite": '"peut-être"',
                           "notes:presentation": "[1, 2]"}.items():
            conn.execute("INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?)",
                         (ids[0], key, value, "9999-12-31T23:59:59+00:00"))
    finally:
        conn.close()
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for key, screen_type in (("classification", QuestionnaireScreen),
                                 ("classification:resultat", ResultScreen),
                                 ("classification:livrables", DeliverablesScreen)):
            app.open_visit(ids[0], key)
            await pilot.pause()
            assert isinstance(app.screen, screen_type)
        app.open_visit(ids[0], "presentation")
        await pilot.pause()
        assert app.is_running and app.crash_error is None
