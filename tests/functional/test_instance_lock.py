"""One at-tui app per data folder: a second one says which process holds it and does not start;
a lock left by a process that died does not block; CLI commands work beside an open app."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from at_tui.screens.home import HomeScreen
from at_tui.store.instance_lock import ALREADY_OPEN_EXIT, LOCK_NAME, AlreadyOpen, InstanceLock

HOLD_LOCK = """
import sys, time
from pathlib import Path
from at_tui.store.instance_lock import InstanceLock
InstanceLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


async def _exit_code(app, pilot) -> int | None:
    for _ in range(100):
        if app.return_code is not None:
            break
        await pilot.pause(0.02)
    return app.return_code


async def test_a_second_app_on_the_same_folder_refuses_to_start_and_names_the_first(make_app):
    first = make_app()
    async with first.run_test() as pilot:
        await pilot.pause()
        assert isinstance(first.screen, HomeScreen)
        second = make_app()
        async with second.run_test() as other:
            assert await _exit_code(second, other) == ALREADY_OPEN_EXIT
        message = second.return_value
        assert isinstance(message, str)
        assert "Une autre fenêtre at-tui est déjà ouverte sur ce dossier" in message
        assert f"PID {os.getpid()}" in message
        assert second.workspace is None  # it never opened the database
        assert first.is_running and isinstance(first.screen, HomeScreen)


async def test_the_lock_is_released_when_the_app_quits(make_app):
    first = make_app()
    async with first.run_test() as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
    second = make_app()
    async with second.run_test() as pilot:
        await pilot.pause()
        assert second.return_code is None
        assert isinstance(second.screen, HomeScreen)


async def test_a_lock_left_by_a_killed_process_does_not_block(make_app, db_path):
    folder = db_path.parent
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        try:
            InstanceLock(folder).acquire()
            raise AssertionError("the lock should be held by the other process")
        except AlreadyOpen as error:
            assert f"PID {holder.pid}" in str(error)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    assert (folder / LOCK_NAME).exists()  # the file stays; the kernel dropped the lock with the process
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.return_code is None
        assert isinstance(app.screen, HomeScreen)


async def test_cli_commands_work_beside_an_open_app(make_app, at_home):
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        env = {**os.environ, "AT_TUI_HOME": str(at_home), "PYTHONIOENCODING": "utf-8"}
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "at_tui", "export"], env=env, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert '"visits"' in result.stdout
        assert time.monotonic() - started < 60
        assert app.is_running


def test_the_command_refuses_a_second_app_before_taking_the_screen(tmp_path) -> None:
    """`at-tui` beside an open app: the French sentence with the holder's PID on a normal
    terminal, exit 3, and the full-screen app never started (no alternate-screen switch)."""
    holder = InstanceLock(tmp_path)
    assert holder.acquire()
    try:
        env = {**os.environ, "AT_TUI_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
        result = subprocess.run([sys.executable, "-m", "at_tui"], env=env, capture_output=True, text=True,
                                timeout=60, check=False, stdin=subprocess.DEVNULL)
    finally:
        holder.release()
    assert result.returncode == ALREADY_OPEN_EXIT, result.stderr
    assert f"PID {os.getpid()}" in result.stderr and "déjà ouverte" in result.stderr
    assert "\x1b[?1049h" not in result.stdout + result.stderr and "Traceback" not in result.stderr
