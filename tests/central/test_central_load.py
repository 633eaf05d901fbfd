"""The load bench (bench/central_load.py) at a small size, as a test of correctness on both backends
(issue 13 §3): laptops syncing at once against the real service lose nothing, store nothing twice,
get no error and are never throttled at the default settings. The full size is a benchmark."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "central_load.py"


def _bench():
    spec = importlib.util.spec_from_file_location("central_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_five_laptops_sync_at_once_exactly_once(central_db: str, tmp_path: Path) -> None:
    bench = _bench()
    backend = "postgresql" if bench.is_postgres(central_db) else "sqlite"
    result = bench.run(backend, central_db, tmp_path / "load", laptops=5, visits=20)
    assert result["errors"] == 0, result["error_samples"]
    assert result["exactly_once"], result["exactly_once_problems"]
    assert result["throttled"] == 0
    assert result["visits"] == 100 and result["batches"] == 10  # contents, then opportunities: a batch each
    assert result["batch_latency_s"]["n"] == 10 and result["floor_batch_latency_s"]["n"] == 10
    assert result["floor_errors"] == 0
