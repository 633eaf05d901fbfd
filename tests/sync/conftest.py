"""What every sync test uses: a real central service process on a free port (`central_server`)."""

from __future__ import annotations

import pytest
from central_server import start_central


@pytest.fixture
def central(tmp_path):
    """The real central (`at-tui central serve`) on a fresh database under tmp_path, stopped after the test."""
    server = start_central(tmp_path)
    yield server
    server.stop()
