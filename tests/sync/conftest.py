"""What every sync test uses: a real central service process on a free port (`central`), on
SQLite and on PostgreSQL (`central_db`: each test runs on both, ids `[sqlite]` / `[postgresql]`)."""

from __future__ import annotations

import pytest
from central_server import start_central


@pytest.fixture
def central(tmp_path, central_db):
    """The real central (`at-tui central serve`) on this test's fresh database, stopped after the test."""
    server = start_central(tmp_path, db=central_db)
    yield server
    server.stop()
