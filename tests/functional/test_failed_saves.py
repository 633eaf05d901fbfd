"""A save that fails in the app — disk full, read-only base, write lock held by another program,
I/O error — never stops the app and never loses what was typed: the value stays in the field,
the field and the header say it is not saved and why, and it goes through once the cause is gone."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import type_text
from small_disk import fill, needs_tmpfs, small_tmpfs, unmount
from textual.widgets import Input, TextArea
from textual.widgets._header import HeaderTitle

from at_tui.screens.questionnaire import QuestionnaireScreen
from at_tui.screens.unsaved_quit import UnsavedQuitScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.widgets.error_line import ErrorLine

SIZE = (120, 36)
NOTE = "situation_actuelle"  # a long_text question (TextArea)
BUSY_MS = 50  # the app's busy timeout in these tests: a held lock fails fast


def stored(db_path: Path, visit_id: str, key: str):
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute("SELECT value FROM answers WHERE visit_id = ? AND key = ?", (visit_id, key)).fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else None


def header(app) -> str:
    return str(app.screen.query_one(HeaderTitle).render())


def error_line(screen, question_id: str) -> str:
    line = screen.query_one(f"#field-{question_id}").query_one(ErrorLine)
    return str(line.render()) if line.display else ""


@pytest.fixture
def visit_id(db_path, reference) -> str:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP des Coteaux", "departement": "81", "typologie": "CPTS/MSP",
            "contact_name": "Anne Roux", "contact_role": "Coordinatrice", "visit_date": "10/11/2026",
        })
        assert errors == {}
        return visit.id
    finally:
        workspace.close()


@pytest.fixture
def fast_retry(monkeypatch):
    """The app retries unsaved values every 0.2 s instead of 5 s."""
    import at_tui.app

    monkeypatch.setattr(at_tui.app, "RETRY_SECONDS", 0.2)


def _app(db_path, reference):
    from at_tui.app import ATApp

    return ATApp(db_path, reference=reference, busy_timeout_ms=BUSY_MS)


class DiskFull:
    cause = "disque plein"

    def __init__(self, app, db_path):
        self.conn = app.workspace.conn

    def start(self):
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages}")

    def stop(self):
        self.conn.execute("PRAGMA max_page_count = 1073741823")


class ReadOnly:
    cause = "base en lecture seule"

    def __init__(self, app, db_path):
        self.conn = app.workspace.conn

    def start(self):
        self.conn.execute("PRAGMA query_only = ON")

    def stop(self):
        self.conn.execute("PRAGMA query_only = OFF")


class LockHeld:
    """Another program holds the write lock longer than the app's busy timeout."""

    cause = "base occupée par un autre programme"

    def __init__(self, app, db_path):
        self.db_path = db_path
        self.other = None

    def start(self):
        self.other = sqlite3.connect(self.db_path, isolation_level=None)
        self.other.execute("BEGIN IMMEDIATE")

    def stop(self):
        self.other.execute("ROLLBACK")
        self.other.close()


class IOError_:
    """The disk answers with an I/O error (SQLite's own text) until it is repaired."""

    cause = "erreur d'écriture sur le disque"

    def __init__(self, app, db_path):
        self.visits = app.workspace.visits
        self.real = self.visits.set_answer
        self.broken = False

        def set_answer(*args, **kwargs):
            if self.broken:
                raise sqlite3.OperationalError("disk I/O error")
            return self.real(*args, **kwargs)

        self.visits.set_answer = set_answer

    def start(self):
        self.broken = True

    def stop(self):
        self.broken = False


CAUSES = [DiskFull, ReadOnly, LockHeld, IOError_]


async def _open_note(app, pilot, visit_id) -> tuple[QuestionnaireScreen, TextArea]:
    app.open_visit(visit_id, "classification")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, QuestionnaireScreen)
    area = screen.query_one(f"#answer-{NOTE}", TextArea)
    area.focus()
    await pilot.pause()
    return screen, area


@pytest.mark.parametrize("fault", CAUSES, ids=lambda f: f.__name__.strip("_"))
async def test_a_failed_save_keeps_the_value_says_why_and_goes_through_later(
        fault, db_path, reference, visit_id, fast_retry):
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        screen, area = await _open_note(app, pilot, visit_id)
        await type_text(pilot, "Fax")
        await pilot.pause()
        assert stored(db_path, visit_id, f"q:{NOTE}") == "Fax"

        cause = fault(app, db_path)
        cause.start()
        # A long text (overflow pages): with the disk full, it cannot fit in pages already there.
        area.insert(" et mails" + " non securises" * 400)
        await pilot.pause()
        await type_text(pilot, " ok")
        await pilot.pause()

        typed = "Fax et mails" + " non securises" * 400 + " ok"
        assert app.is_running and app.screen is screen
        assert area.text == typed  # still in the field
        assert f"non enregistré : {cause.cause} — nouvel essai automatique" in error_line(screen, NOTE)
        assert "NON ENREGISTRÉE" in header(app) and cause.cause in header(app)
        assert stored(db_path, visit_id, f"q:{NOTE}") == "Fax"
        assert len(app.workspace.pending) == 1

        await pilot.pause(0.5)  # the timer retries: still failing, still said
        assert "non enregistré" in error_line(screen, NOTE)

        cause.stop()
        await pilot.pause(0.6)  # the next timer tick saves it
        assert stored(db_path, visit_id, f"q:{NOTE}") == typed
        assert error_line(screen, NOTE) == ""
        assert "NON ENREGISTRÉE" not in header(app)
        assert not app.workspace.pending


async def test_the_next_change_retries_every_unsaved_value(db_path, reference, visit_id):
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        screen, area = await _open_note(app, pilot, visit_id)
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await type_text(pilot, "Fax")
        await pilot.pause()
        assert "base en lecture seule" in error_line(screen, NOTE)

        app.workspace.conn.execute("PRAGMA query_only = OFF")
        users = screen.query_one("#answer-utilisateurs_potentiels", Input)
        users.focus()
        await type_text(pilot, "12")  # another field: it saves, and the note waiting goes with it
        await pilot.pause()
        assert stored(db_path, visit_id, "q:utilisateurs_potentiels") == 12
        assert stored(db_path, visit_id, f"q:{NOTE}") == "Fax"
        assert error_line(screen, NOTE) == ""


async def test_a_screen_drawn_again_shows_the_unsaved_value(db_path, reference, visit_id):
    """Leaving the questionnaire and coming back while the value waits: it is shown as typed."""
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        screen, area = await _open_note(app, pilot, visit_id)
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await type_text(pilot, "Fax")
        await pilot.pause()
        app.go_home()
        await pilot.pause()
        screen, area = await _open_note(app, pilot, visit_id)
        assert area.text == "Fax"
        assert "non enregistré : base en lecture seule" in error_line(screen, NOTE)


async def test_an_identity_field_that_cannot_be_saved_stays_as_typed(db_path, reference, visit_id):
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(VisitFormScreen(visit_id))
        await pilot.pause()
        form = app.screen
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await pilot.press("end")  # the structure's name is focused first, all selected
        await type_text(pilot, " Nord")
        await pilot.pause()
        assert form.query_one("#structure", Input).value == "MSP des Coteaux Nord"
        line = form.query_one("#structure-error", ErrorLine)
        assert line.display and "non enregistré : base en lecture seule" in str(line.render())
        app.workspace.conn.execute("PRAGMA query_only = OFF")
        app.retry_unsaved()
        await pilot.pause()
        assert not line.display
        assert app.workspace.visits.get(visit_id).structure == "MSP des Coteaux Nord"


async def test_quitting_with_unsaved_values_asks_first_and_names_them(db_path, reference, visit_id):
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        screen, area = await _open_note(app, pilot, visit_id)
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await type_text(pilot, "Fax")
        await pilot.pause()

        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedQuitScreen)
        text = str(app.screen.query_one("#unsaved-list").render())
        label = app.workspace.question_for(app.workspace.visits.get(visit_id), NOTE).label
        assert f"« MSP des Coteaux » : {label}" in text
        assert "base en lecture seule" in text
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.is_running and app.screen is screen

        app.workspace.conn.execute("PRAGMA query_only = OFF")
        await pilot.press("ctrl+q")  # one more try before asking: it goes through, the app quits
        await pilot.pause()
        assert not app.is_running
    assert stored(db_path, visit_id, f"q:{NOTE}") == "Fax"


async def test_quitting_anyway_leaves(db_path, reference, visit_id):
    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        await _open_note(app, pilot, visit_id)
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await type_text(pilot, "Fax")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedQuitScreen)
        await pilot.press("o")
        await pilot.pause()
        assert not app.is_running
    assert stored(db_path, visit_id, f"q:{NOTE}") is None


@needs_tmpfs
async def test_a_real_full_disk_under_the_app(tmp_path, monkeypatch, reference, fast_retry):
    """Done-when of issue 9: the app survives a disk filled under it (a small tmpfs), keeps the text
    and saves it once space is freed."""
    disk = small_tmpfs(tmp_path / "disk", "6m")
    try:
        monkeypatch.setenv("AT_TUI_HOME", str(disk / "home"))
        from at_tui.paths import database_path
        from at_tui.workspace import Workspace

        db_path = database_path()
        workspace = Workspace(db_path, reference=reference)
        visit, _ = workspace.start_visit({"structure": "MSP des Coteaux", "departement": "81",
                                          "typologie": "CPTS/MSP", "visit_date": "10/11/2026"})
        workspace.close()
        app = _app(db_path, reference)
        async with app.run_test(size=SIZE) as pilot:
            screen, area = await _open_note(app, pilot, visit.id)
            filler = fill(disk)
            typed = "Compte rendu" + " tres long" * 1500
            area.insert(typed)
            await pilot.pause()
            assert app.is_running and area.text == typed
            assert "non enregistré : disque plein" in error_line(screen, NOTE)
            filler.unlink()
            await pilot.pause(0.8)
            assert error_line(screen, NOTE) == ""
        assert stored(db_path, visit.id, f"q:{NOTE}") == typed
    finally:
        unmount(disk)


def test_while_the_lock_is_held_later_saves_wait_only_briefly(db_path, reference, visit_id):
    """The first save waits the whole busy timeout; while it waits to be saved, the next keystrokes
    do not freeze the screen that long again. Once saved, the usual timeout is back."""
    import time

    from at_tui.store.pending_writes import NotSaved
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference, busy_timeout_ms=1500)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        visit = workspace.visits.get(visit_id)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(NotSaved):
            workspace.save_answer(visit, NOTE, "Fax")
        assert time.monotonic() - started >= 1.4
        started = time.monotonic()
        with pytest.raises(NotSaved):
            workspace.save_answer(visit, NOTE, "Fax et mails")
        assert time.monotonic() - started < 1.0
        other.execute("ROLLBACK")
        assert workspace.retry_pending() == 1
        assert workspace.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1500
        assert stored(db_path, visit_id, f"q:{NOTE}") == "Fax et mails"
    finally:
        other.close()
        workspace.close()


async def test_a_new_visit_that_cannot_be_created_keeps_the_form(db_path, reference):
    from helpers import fill_new_visit_form

    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = await fill_new_visit_form(pilot, "CPTS du Lauragais", "31", "CPTS")
        app.workspace.conn.execute("PRAGMA query_only = ON")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.is_running and app.screen is form
        assert form.query_one("#structure", Input).value == "CPTS du Lauragais"
        assert any("Visite non créée : base en lecture seule" in n.message for n in app._notifications)
        assert app.workspace.visits.list() == []
        app.workspace.conn.execute("PRAGMA query_only = OFF")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [v.structure for v in app.workspace.visits.list()] == ["CPTS du Lauragais"]


async def test_a_ticked_action_that_cannot_be_saved_is_kept_and_saved_later(db_path, reference, visit_id):
    from textual.widgets import Checkbox

    app = _app(db_path, reference)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_visit(visit_id, "presentation")
        await pilot.pause()
        box = app.screen.query("Checkbox.action").first(Checkbox)
        key = "check:presentation:" + box.id.removeprefix("check-")
        app.workspace.conn.execute("PRAGMA query_only = ON")
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert app.is_running and box.value is True
        assert "NON ENREGISTRÉE" in header(app)
        assert stored(db_path, visit_id, key) is None
        app.workspace.conn.execute("PRAGMA query_only = OFF")
        app.retry_unsaved()
        await pilot.pause()
        assert stored(db_path, visit_id, key) is True
        assert "NON ENREGISTRÉE" not in header(app)
