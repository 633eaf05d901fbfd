"""Kill -9 a process that is saving answers, many times: nothing acknowledged is ever lost.

The worker (`crash_worker.py`) prints ACK only after `Workspace.save_answer` returned.
After every crash, the next run must find at least the last acknowledged value, and
at the end the database must be intact with a history consistent with the answers.

AT_TUI_CRASH_ROUNDS (default 30) and AT_TUI_CRASH_SEED tune the run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import at_tui

WORKER = Path(__file__).with_name("crash_worker.py")
SRC = Path(at_tui.__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("AT_TUI_CRASH_ROUNDS", "30"))
SEED = int(os.environ.get("AT_TUI_CRASH_SEED", "20261122"))
READY_TIMEOUT = 30.0
KEYS = ("situation_actuelle", "utilisateurs_potentiels")
LINE = re.compile(r"^(TRY|ACK) (\S+) (\d+)$")
COUNTER = re.compile(r"n° (\d+)")

@dataclass
class Journal:
    """What the workers said, over all rounds."""

    last_ack: dict[str, int] = field(default_factory=dict)
    acked: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in KEYS})
    tried: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in KEYS})
    killed_while_running: int = 0
    visit_ids: set[str] = field(default_factory=set)

    @property
    def max_ack(self) -> int:
        return max(self.last_ack.values(), default=0)


def worker_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    env["AT_TUI_HOME"] = str(home)
    env.pop("AT_TUI_FIXTURES", None)
    return env


def wait_for_ready(out: Path, process: subprocess.Popen, err: Path) -> str | None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        if text.startswith("READY ") and "\n" in text:
            return text.split("\n", 1)[0]
        if process.poll() is not None:
            pytest.fail(f"le worker s'est arrêté seul (code {process.returncode}) :\n{err.read_text()}")
        time.sleep(0.005)
    process.kill()
    pytest.fail("le worker n'a pas démarré à temps")


def run_round(index: int, home: Path, db_path: Path, rng: random.Random, journal: Journal) -> None:
    out = home / f"round-{index:03d}.out"
    err = home / f"round-{index:03d}.err"
    early_kill = index % 7 == 3  # sometimes strike during start-up (open, migrations, creation)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(WORKER), str(db_path)], stdout=stdout, stderr=stderr, env=worker_env(home)
        )
        try:
            if early_kill:
                time.sleep(rng.uniform(0.05, 0.4))
            else:
                ready = wait_for_ready(out, process, err)
                _, visit_id, resumed = ready.split()
                # Durability across the crash: the new process sees every acknowledged save.
                assert int(resumed) >= journal.max_ack, (
                    f"tour {index} : reprise à {resumed}, alors que {journal.max_ack} avait été confirmé"
                )
                journal.visit_ids.add(visit_id)
                time.sleep(rng.uniform(0.05, 0.4))
            if process.poll() is None:
                journal.killed_while_running += 1
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    if process.returncode != -signal.SIGKILL:
        pytest.fail(f"tour {index} : le worker a échoué (code {process.returncode}) :\n{err.read_text()}")

    for line in out.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match is None:
            assert line.startswith("READY ") or line == "", f"ligne inattendue : {line!r}"
            continue
        kind, key, value = match.group(1), match.group(2), int(match.group(3))
        assert key in KEYS, line
        if kind == "TRY":
            journal.tried[key].add(value)
        else:
            assert value in journal.tried[key], f"ACK sans TRY : {line}"
            assert value > journal.last_ack.get(key, 0), f"compteur non croissant : {line}"
            journal.acked[key].add(value)
            journal.last_ack[key] = value


def counter_of(key: str, value) -> int:
    if key == "situation_actuelle":
        match = COUNTER.search(value)
        assert match, value
        return int(match.group(1))
    return int(value)


def test_kill_9_never_loses_an_acknowledged_answer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db_path = home / "at-tui.sqlite3"
    rng = random.Random(SEED)
    journal = Journal()
    started = time.monotonic()
    for index in range(ROUNDS):
        run_round(index, home, db_path, rng, journal)
    elapsed = time.monotonic() - started

    # The test really exercised saves interrupted by kills.
    assert journal.killed_while_running >= ROUNDS // 2
    assert sum(len(v) for v in journal.acked.values()) > ROUNDS
    assert all(journal.acked[k] for k in KEYS)
    assert len(journal.visit_ids) == 1, journal.visit_ids

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        visits = conn.execute("SELECT id, updated_at FROM visits").fetchall()
        assert [v[0] for v in visits] == sorted(journal.visit_ids)
        visit_id, visit_updated = visits[0]
        stored = {
            key[2:]: (json.loads(value), updated)
            for key, value, updated in conn.execute(
                "SELECT key, value, updated_at FROM answers WHERE visit_id = ?", (visit_id,)
            )
        }
    finally:
        conn.close()
    # Read through the store: open edit sessions live in the answer rows.
    from at_tui.store.migrations import open_database
    from at_tui.store.visits import VisitStore

    store_conn = open_database(db_path)
    try:
        store = VisitStore(store_conn)
        visit_updated = store.require(visit_id).updated_at
        history = [(e.field, e.old_value, e.new_value, e.at) for e in store.history(visit_id)]
    finally:
        store_conn.close()

    assert set(stored) == set(KEYS)
    for key in KEYS:
        value, updated = stored[key]
        counter = counter_of(key, value)
        # At least as new as the last acknowledged save, and a value a worker really wrote.
        assert counter >= journal.last_ack[key], (key, counter, journal.last_ack[key])
        assert counter in journal.tried[key], (key, counter)
        assert counter == journal.last_ack[key] or counter not in journal.acked[key]
        assert updated <= visit_updated

    # History: the very first entry is the creation, then one consistent chain per field.
    assert (history[0][0], history[0][2]) == ("visite", "créée")
    for key in KEYS:
        chain = [(old, new, at) for field_, old, new, at in history if field_ == f"q:{key}"]
        assert chain, key
        assert chain[0][0] is None
        for previous, current in zip(chain, chain[1:]):
            assert current[0] == previous[1], f"historique incohérent pour {key}"
            assert current[2] >= previous[2]
        assert chain[-1][1] == stored[key][0]
        # Rapid saves of a field make one edit session: the history holds values
        # the workers really wrote, the last being the stored one.
        logged = {counter_of(key, new) for _, new, _ in chain}
        assert logged <= journal.tried[key]

    # The application itself reopens the crashed database normally.
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path)
    try:
        visit = workspace.visits.require(visit_id)
        answers = workspace.visits.answers(visit.id)
        assert answers[f"q:{KEYS[1]}"] == stored[KEYS[1]][0]
        assert workspace.save_answer(visit, KEYS[1], "7") == 7
    finally:
        workspace.close()

    print(f"{ROUNDS} tours, {sum(len(v) for v in journal.acked.values())} sauvegardes confirmées, {elapsed:.1f} s")


# -- kill -9 during an import of a public extract ---------------------------------------------------


def kill_import_at(kind: str, phase: str, home: Path, db_path: Path, source: Path, marker: Path) -> None:
    """Run the worker's import of `source` and SIGKILL it once it signals `phase` was reached."""
    process = subprocess.Popen(
        [sys.executable, str(WORKER), "import", kind, str(db_path), str(source), str(marker), phase],
        env=worker_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"l'import s'est terminé sans être tué : {process.communicate()}")
            if time.monotonic() > deadline:
                pytest.fail("l'import n'a pas atteint le point attendu à temps")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if phase == "swap":  # the kill really struck with uncommitted pages written to the WAL
        assert Path(f"{db_path}-wal").stat().st_size > 0


@pytest.mark.parametrize("phase", ["parse", "swap"])
def test_kill_9_during_a_finess_import_keeps_the_previous_one(tmp_path: Path, phase: str) -> None:
    from at_tui.importers.structures_store import complete_structures, import_finess, structures_count
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.finess import generate

    home = tmp_path / "home"
    home.mkdir()
    db_path = home / "at-tui.sqlite3"
    first = tmp_path / "first.csv"
    generate(first, 300, seed=1)
    conn = open_database(db_path)
    import_finess(conn, first, imported_at="2026-11-22T10:00:00+00:00")
    before = [tuple(r) for r in conn.execute("SELECT * FROM structures ORDER BY id")]
    word = before[0][-1].split()[0]  # name_folded
    completed = [s.finess for s in complete_structures(conn, word)]
    conn.close()
    big = tmp_path / "big.csv"
    generate(big, 6000, seed=8)
    kill_import_at("finess", phase, home, db_path, big, tmp_path / "marker")
    conn = open_database(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [tuple(r) for r in conn.execute("SELECT * FROM structures ORDER BY id")] == before
        assert [s.finess for s in complete_structures(conn, word)] == completed and completed
        report = import_finess(conn, big)  # and the next import goes through
        assert structures_count(conn) == report.kept > len(before)
    finally:
        conn.close()


@pytest.mark.parametrize("phase", ["parse", "swap"])
def test_kill_9_during_an_annuaire_import_keeps_the_previous_one(tmp_path: Path, phase: str) -> None:
    from at_tui.importers.professionals_store import import_annuaire, professionals_count
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.annuaire import generate

    home = tmp_path / "home"
    home.mkdir()
    db_path = home / "at-tui.sqlite3"
    first = tmp_path / "first.txt"
    generate(first, 400, seed=1, occitanie_share=0.6)
    conn = open_database(db_path)
    import_annuaire(conn, first, imported_at="2026-11-22T10:00:00+00:00")
    before = [tuple(r) for r in conn.execute("SELECT * FROM professionals ORDER BY id")]
    name = before[0][-1].split()[0]  # name_folded
    hits_before = [r[0] for r in conn.execute(
        "SELECT rowid FROM professionals_fts WHERE professionals_fts MATCH ?", (f'"{name}"*',)
    )]
    conn.close()
    big = tmp_path / "big.txt"
    generate(big, 40_000, seed=2, occitanie_share=0.5)
    kill_import_at("annuaire", phase, home, db_path, big, tmp_path / "marker")
    conn = open_database(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [tuple(r) for r in conn.execute("SELECT * FROM professionals ORDER BY id")] == before
        assert [r[0] for r in conn.execute(
            "SELECT rowid FROM professionals_fts WHERE professionals_fts MATCH ?", (f'"{name}"*',)
        )] == hits_before and hits_before
        report = import_annuaire(conn, big)  # and the next import goes through
        assert professionals_count(conn) == report.kept > len(before)
    finally:
        conn.close()
