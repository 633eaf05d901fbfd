"""Crash-test worker: saves answers in a loop until it is killed.

Usage: python crash_worker.py [DB_PATH]   (default: the database under AT_TUI_HOME)

Protocol, one line per event on stdout, flushed at once:
  READY <visit id> <last counter found on disk>
  TRY <question id> <counter>     before a save starts
  ACK <question id> <counter>     after the save returned (the answer is committed)

Counters only grow, across runs too: each run resumes from what it finds on disk,
so "stored >= last ACK" is the durability check of the parent test.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from at_tui.workspace import Workspace

# Run as a script (PYTHONPATH=src): the tests' shared helpers are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers import IDENTITY  # noqa: E402

LONG_TEXT = "situation_actuelle"
INTEGER = "utilisateurs_potentiels"
COUNTER = re.compile(r"n° (\d+)")


def long_text(counter: int) -> str:
    # Sizes vary (a few bytes to several KB) so that rows sometimes overflow a page.
    body = "Échanges entre IDE et médecins traitants par SMS 👩‍⚕️, appels au DAC.\n" * (counter % 60)
    return f"Compte rendu de la visite — enregistrement n° {counter}\n{body}"


def counter_of(key: str, value) -> int:
    if value is None:
        return 0
    if key == LONG_TEXT:
        match = COUNTER.search(value)
        return int(match.group(1)) if match else 0
    return int(value)


def database_path() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    from at_tui.paths import database_path as default_path

    return default_path()


def main() -> None:
    workspace = Workspace(database_path())
    visits = workspace.visits.list()
    if visits:
        visit = visits[0]
    else:
        visit, errors = workspace.start_visit(dict(IDENTITY))
        if errors:
            raise SystemExit(f"identité refusée : {errors}")
    answers = workspace.visits.answers(visit.id)
    counter = max(counter_of(key, answers.get(f"q:{key}")) for key in (LONG_TEXT, INTEGER))
    print(f"READY {visit.id} {counter}", flush=True)
    while True:
        counter += 1
        key = LONG_TEXT if counter % 2 == 0 else INTEGER
        raw = long_text(counter) if key == LONG_TEXT else str(counter)
        print(f"TRY {key} {counter}", flush=True)
        workspace.save_answer(visit, key, raw)
        print(f"ACK {key} {counter}", flush=True)


def import_until_killed(kind: str, db: str, source: str, marker: str, phase: str) -> None:
    """`crash_worker.py import KIND DB SOURCE MARKER PHASE`: import a FINESS (KIND « finess ») or
    Annuaire Santé (« annuaire ») extract, write MARKER and wait to be killed when PHASE is
    reached: « parse » (the file half read) or « swap » (inside the write transaction, the rows
    rewritten, the word index half-built)."""
    import time

    from at_tui.importers.professionals_store import import_annuaire
    from at_tui.importers.structures_store import import_finess
    from at_tui.store.migrations import open_database

    importer, index = {
        "finess": (import_finess, "structures_fts"),
        "annuaire": (import_annuaire, "professionals_fts"),
    }[kind]
    conn = open_database(db)
    conn.execute("PRAGMA cache_size = 16")  # spill uncommitted pages into the WAL before the commit

    def signal_and_wait():
        Path(marker).write_text("ready")
        time.sleep(60)

    def on_progress(done, total):
        if phase == "parse" and 0 < done < total:
            signal_and_wait()

    def trace(statement):
        if phase == "swap" and statement.startswith(f"INSERT INTO main.{index} (rowid"):
            conn.set_progress_handler(signal_and_wait, 5000)

    conn.set_trace_callback(trace)
    importer(conn, source, on_progress=on_progress)
    print("NOT KILLED", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["import"]:
        import_until_killed(*sys.argv[2:7])
    else:
        main()
