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
    if path.exists() and not path.is_dir():
        from at_tui.store.db import StoreError

        raise StoreError(f"Le dossier de données {path} est un fichier, pas un dossier : corrigez AT_TUI_HOME.")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        from at_tui.store.db import StoreError
        from at_tui.store.errors import explain

        raise StoreError(explain(error, f"Création du dossier de données {path}")) from None
    return path


def private_dir(path: Path) -> Path:
    """`path` created if needed and kept 0700: crash reports and backups name structures and people."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def database_path() -> Path:
    return data_dir() / "at-tui.sqlite3"


def exports_dir() -> Path:
    """Where the app writes exports: 0700, like every folder that names people."""
    return private_dir(data_dir() / "exports")


def fixtures_root() -> Traversable:
    """The bundled fixtures, or AT_TUI_FIXTURES (to try new data files without rebuilding)."""
    override = os.environ.get("AT_TUI_FIXTURES")
    if override:
        return Path(override)
    return resources.files("at_tui") / "fixtures"
