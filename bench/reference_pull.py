"""Pulling 200,000 published contacts into a fresh laptop database, against the same pages fetched and discarded.

Run from the repository root (needs the central extra: pip install -e '.[central]'):

    python bench/reference_pull.py                    # 200,000 contacts
    python bench/reference_pull.py --contacts 20000
    python bench/reference_pull.py --runs 3 --json

Setup (not timed): a real `at-tui central serve` process on 127.0.0.1 (its own SQLite
database, WAL, synchronous=FULL), an AT user, and `--contacts` synthetic, valid contacts
published in one transaction by `at_tui.central.publish.publish` — the code behind
`at-tui central publish`, fed in memory: the CLI reads TOML, and parsing a 60 MB TOML file
alone takes over a minute (tomllib is pure Python). The page cursors are collected once.

Subject: in a child process, `at_tui.sync.reference_pull.pull_reference` of the contacts
data set into a fresh laptop database over `Transport` (httpx, keep-alive): pages of
1,000, each page's rows and its cursor in one local transaction. Then, timed apart (not
part of the pull), the directory copy the lookup needs after such a pull
(`Workspace.ensure_directory`: validation of every pulled contact, word index), which the
app runs in a worker thread.

Floor: in another child, the same pages (same URLs and cursors) fetched by a plain httpx
client, bytes read and discarded.

Each child reads its own peak RSS (VmHWM in /proc/self/status): a forked child's ru_maxrss
starts at its parent's. Subject and floor alternate, run by run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

DEPARTEMENTS = ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]
FIRST = ["Camille", "Jean", "Marie", "Luc", "Sophie", "Hélène", "Nicolas", "Anne", "Paul", "Claire", "Mathilde"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Fabre"]


def synthetic_contact(n: int) -> dict:
    """A valid contact (the laptop validates it with the app's model), about 400 bytes of JSON."""
    return {
        "id": f"syn-{n:06d}", "kind": "referent",
        "name": f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}-{n}",
        "organisation": f"Maison de santé pluriprofessionnelle n° {n // 7}",
        "role": "Coordinatrice de parcours", "departements": [DEPARTEMENTS[n % len(DEPARTEMENTS)]],
        "email": f"coordination.{n}@msp-exemple.fr", "phone": f"05 61 {n % 100:02d} {n // 100 % 100:02d} {n // 10000:02d}",
        "notes": "Contact synthétique du banc de mesure.",
        "source": {"file": "bench/reference_pull.py", "slide": "contacts synthétiques"}, "last_checked": "2026-11-22",
    }


def publish(db: Path, count: int) -> float:
    from at_tui.central.publish import Source, publish
    from at_tui.central.sqlite_storage import SQLiteStorage

    contacts = {f"syn-{n:06d}": synthetic_contact(n) for n in range(count)}
    storage = SQLiteStorage(db)
    try:
        started = time.perf_counter()
        counts = publish(storage, Source("bench", {"contacts": contacts, "argumentaire": {}, "playbooks": {}}))
        elapsed = time.perf_counter() - started
    finally:
        storage.close()
    if counts["contacts"].new != count:
        raise SystemExit(f"published {counts['contacts'].new} of {count}")
    return elapsed


SUBJECT = c.PEAK_KIB + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from at_tui.sync.engine import Report
    from at_tui.sync.reference_pull import PAGE, pull_reference
    from at_tui.sync.transport import Transport
    from at_tui.workspace import Workspace

    url, token, db = sys.argv[1:4]
    workspace = Workspace(Path(db))
    with Transport(url, token, timeout=60) as transport:
        started = time.perf_counter()
        rows = pull_reference(workspace, transport, Report(), datasets=("contacts",))
        pull_s = time.perf_counter() - started
    pull_kib = peak_kib()
    stored = workspace.conn.execute("SELECT count(*) FROM pulled_reference WHERE dataset = 'contacts'").fetchone()[0]
    workspace.reference  # loading the bundled data (pydantic) is not part of the copy
    started = time.perf_counter()
    workspace.ensure_directory()
    copy_s = time.perf_counter() - started
    listed = workspace.conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
    workspace.close()
    print("BENCH " + json.dumps({"rows": rows, "stored": stored, "pull_s": pull_s, "pull_peak_kib": pull_kib,
                                 "copy_s": copy_s, "listed": listed, "copy_peak_kib": peak_kib()}))
    """
)



def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 1, "measured runs (subject and floor alternating)")
    p.add_argument("--contacts", type=int, default=200_000, help="contacts to publish and pull (default: 200000)")
    args = p.parse_args()
    verbose = not args.json
    from at_tui.sync.reference_pull import PAGE

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-reference-") as tmp:
        folder = Path(tmp)
        process, url, token, db = c.start_central(folder)
        try:
            c.progress(verbose, f"publishing {args.contacts} contacts ...")
            publish_s = publish(db, args.contacts)
            cursors_file = folder / "cursors.json"
            cursors = c.page_cursors(url, token, "/v1/reference/contacts", PAGE)
            cursors_file.write_text(json.dumps(cursors))
            subjects, floors = [], []
            for run in range(args.runs):
                c.progress(verbose, f"run {run + 1}/{args.runs}: pull ...")
                subject = c.run_json_child(SUBJECT, url, token, str(folder / f"laptop-{run}.sqlite3"))
                if not subject["rows"] == subject["stored"] == args.contacts:
                    raise SystemExit(f"pulled {subject['rows']} rows, stored {subject['stored']} of {args.contacts}")
                if subject["listed"] < args.contacts:
                    raise SystemExit(f"the directory lists {subject['listed']} contacts of {args.contacts}")
                subjects.append(subject)
                c.progress(verbose, f"run {run + 1}/{args.runs}: the same pages, bytes only ...")
                floors.append(c.run_json_child(c.PAGES_FLOOR, url, token, str(cursors_file), str(PAGE), "/v1/reference/contacts"))
        finally:
            process.terminate()
            process.wait(timeout=30)

    pull_s = c.median([s["pull_s"] for s in subjects])
    floor_s = c.median([f["floor_s"] for f in floors])
    result = {
        "benchmark": "reference_pull", "environment": c.environment(), "contacts": args.contacts, "page": PAGE,
        "pages": len(cursors),
        "megabytes": floors[-1]["bytes"] / 1e6, "publish_s": publish_s,
        "pull_s": pull_s, "pull_rows_per_s": args.contacts / pull_s,
        "pull_peak_mib": max(s["pull_peak_kib"] for s in subjects) / 1024,
        "floor_s": floor_s, "floor_rows_per_s": args.contacts / floor_s,
        "floor_peak_mib": max(f["floor_peak_kib"] for f in floors) / 1024,
        "ratio": c.ratio(pull_s, floor_s),
        "directory_copy_s": c.median([s["copy_s"] for s in subjects]),
        "directory_copy_peak_mib": max(s["copy_peak_kib"] for s in subjects) / 1024,
        "runs": {"subject": subjects, "floor": floors},
    }
    if args.json:
        c.dump_json(result)
    else:
        print(f"\npull of {args.contacts} contacts ({result['megabytes']:.1f} MB of pages of {PAGE}; "
              f"published in {publish_s:.1f} s, one transaction):")
        print(f"  pull        {pull_s:6.2f} s  {result['pull_rows_per_s']:8.0f} rows/s   "
              f"peak RSS {result['pull_peak_mib']:.1f} MiB")
        print(f"  floor       {floor_s:6.2f} s  {result['floor_rows_per_s']:8.0f} rows/s   "
              f"peak RSS {result['floor_peak_mib']:.1f} MiB  (same pages, bytes only)")
        print(f"  ratio       {result['ratio']:.2f}x the floor")
        print(f"  then the directory copy for the lookup: {result['directory_copy_s']:.2f} s, "
              f"peak RSS {result['directory_copy_peak_mib']:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
