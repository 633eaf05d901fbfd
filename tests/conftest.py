"""Shared fixtures: an isolated AT_TUI_HOME per test and apps on real SQLite files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from at_tui.reference import ReferenceData, load_reference


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return load_reference()


@pytest.fixture
def at_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "at-home"
    monkeypatch.setenv("AT_TUI_HOME", str(home))
    return home


@pytest.fixture
def db_path(at_home: Path) -> Path:
    from at_tui.paths import database_path

    return database_path()


@pytest.fixture
def make_app(db_path: Path, reference: ReferenceData) -> Callable:
    """An app on the test's database, with the reference data already loaded (deterministic)."""

    def factory():
        from at_tui.app import ATApp

        return ATApp(db_path, reference=reference)

    return factory
