"""Fixtures of the central service's tests, each on SQLite and on PostgreSQL (`central_db`,
ids `[sqlite]` / `[postgresql]`): an in-process API (three users: alice and bruno are ATs,
carole a CM) and a real server process (`central_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="dépendances du service central absentes (pip install 'at-tui[central]')")

from central_api import Api, make_api  # noqa: E402
from central_server import CentralServer, start_central  # noqa: E402


@pytest.fixture
def api(central_db: str) -> Iterator[Api]:
    yield from make_api(central_db)


@pytest.fixture
def central_server(tmp_path: Path, central_db: str) -> Iterator[CentralServer]:
    """A real `at-tui central serve` process on 127.0.0.1 (free port, this test's database)."""
    server = start_central(tmp_path, db=central_db)
    try:
        yield server
    finally:
        server.stop()
