"""Shared helpers for the benchmark scripts in `bench/` (stdlib only).

Every benchmark compares the app against a floor measured in the same run,
interleaved with it, and reports the ratio of medians: the machines are shared
and noisy, so only figures measured side by side can be compared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from typing import Any

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parser(description: str, default_runs: int, runs_help: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--runs", type=int, default=default_runs, help=f"{runs_help} (default: {default_runs})")
    p.add_argument("--json", action="store_true", help="print one JSON object (machine-readable) instead of text")
    return p


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): an observed value, stable for small samples."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "min": min(values),
        "p50": median(values),
        "p95": percentile(values, 95),
        "max": max(values),
    }


def ratio(subject: float, floor: float) -> float:
    return subject / floor if floor > 0 else float("inf")


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "OVER"


def environment() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load] if load else None,
    }


def textual_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("textual")
    except Exception:  # pragma: no cover - informative only
        return None


def dump_json(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def progress(enabled: bool, text: str) -> None:
    """Progress on stderr, so `--json` output on stdout stays parseable."""
    if enabled:
        print(text, file=sys.stderr, flush=True)


def timed_import(module, run) -> dict:
    """Run `run(on_progress)` (an importer call) with `module.immediate` timed: the swap.

    Returns the importer's report with the wall time, the time after the whole file was
    read ("after_read_s") and the time the database was locked for the swap ("locked_s").
    """
    import time

    read_done: list[float] = []
    locked: list[float] = []

    def on_progress(done: int, total: int) -> None:
        if done == total:
            read_done.append(time.perf_counter())

    original = module.immediate

    class TimedImmediate(original):  # the swap transaction, timed
        def __enter__(self):
            self.started = time.perf_counter()
            return super().__enter__()

        def __exit__(self, *exc):
            super().__exit__(*exc)
            locked.append(time.perf_counter() - self.started)

    module.immediate = TimedImmediate
    try:
        started = time.perf_counter()
        report = run(on_progress)
        ended = time.perf_counter()
    finally:
        module.immediate = original
    return {"report": report, "wall_s": ended - started, "after_read_s": ended - read_done[-1], "locked_s": locked[-1]}


def start_central(folder, user: str = "marie"):
    """A real `at-tui central serve` on 127.0.0.1 (free port, database under `folder`) and an AT
    user: (process, url, token, database path). Terminate the process when done."""
    import socket
    import subprocess
    import time
    from pathlib import Path

    import httpx

    db = Path(folder) / "central.sqlite3"
    env = {**os.environ, "AT_TUI_HOME": str(Path(folder) / "server-home")}
    made = subprocess.run([sys.executable, "-m", "at_tui", "central", "add-user", user, "--role", "at", "--db", str(db)],
                          capture_output=True, text=True, env=env, check=True)
    token = made.stdout.strip().splitlines()[-1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "at_tui", "central", "serve", "--db", str(db), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health").status_code == 200:
                return process, url, token, db
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the central service did not start")
