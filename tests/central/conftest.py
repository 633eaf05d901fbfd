"""Fixtures of the central service's tests: an in-process API on a temporary SQLite database
(three users: alice and bruno are ATs, carole a CM) and a real server process (`central_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="dépendances du service central absentes (pip install 'at-tui[central]')")

from central_api import Api, make_api  # noqa: E402
from central_server import CentralServer, start_central  # noqa: E402


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path / "central.sqlite3")


@pytest.fixture
def central_server(tmp_path: Path) -> Iterator[CentralServer]:
    """A real `at-tui central serve` process on 127.0.0.1 (free port, temporary database)."""
    server = start_central(tmp_path)
    try:
        yield server
    finally:
        server.stop()
