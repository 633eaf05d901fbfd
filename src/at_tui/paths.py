"""Where the app keeps its data: platformdirs, or AT_TUI_HOME when set (tests, several profiles)."""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

APP_NAME = "at-tui"


def data_dir() -> Path:
    home = os.environ.get("AT_TUI_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs  # lazy: not needed when AT_TUI_HOME is set

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return data_dir() / "at-tui.sqlite3"


def exports_dir() -> Path:
    path = data_dir() / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fixtures_root() -> Traversable:
    """The bundled fixtures, or AT_TUI_FIXTURES (to try new data files without rebuilding)."""
    override = os.environ.get("AT_TUI_FIXTURES")
    if override:
        return Path(override)
    return resources.files("at_tui") / "fixtures"
