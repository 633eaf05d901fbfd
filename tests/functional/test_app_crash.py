"""An unexpected error in the app ends it without Textual's crash screen, which prints the
traceback with the local variables (names of the people visited) on the terminal."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from at_tui.app import CRASH_EXIT
from at_tui.screens.home import HomeScreen


class Boom(RuntimeError):
    pass


class FaultyScreen(Screen):
    BINDINGS = [Binding("x", "explode", "Exploser")]

    def compose(self):
        yield Static("écran de test")

    def action_explode(self) -> None:
        contact_name = "Marie Dupont-Secretname"  # a local a rich traceback with locals would print
        raise Boom(f"panne de test ({len(contact_name)})")


async def test_a_crash_in_a_screen_ends_the_app_without_printing_locals(make_app, capfd):
    app = make_app()
    with pytest.raises(Boom):  # Pilot re-raises it at the end: a test never passes over a crash
        async with app.run_test() as pilot:
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            app.push_screen(FaultyScreen())
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
    assert isinstance(app.crash_error, Boom)
    assert app.return_code == CRASH_EXIT
    assert not app.is_running
    out, err = capfd.readouterr()
    for text in (out, err):
        assert "Secretname" not in text
        assert "Traceback" not in text
        assert "contact_name" not in text


async def test_worker_errors_stay_non_fatal(make_app):
    """A background sync or prewarm worker that fails does not end the app (exit_on_error=False)."""
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()

        def fail() -> None:
            raise Boom("panne de worker")

        worker = app.run_worker(fail, thread=True, group="prewarm", exit_on_error=False)
        for _ in range(50):
            if worker.is_finished:
                break
            await pilot.pause(0.02)
        assert worker.is_finished
        assert app.is_running and app.crash_error is None
