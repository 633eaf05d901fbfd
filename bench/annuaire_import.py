"""Importing an Annuaire Santé extract, against a bare csv + executemany; with the peak memory of each.

Run from the repository root:

    python bench/annuaire_import.py                       # 200,000 rows, 3 measured pairs
    python bench/annuaire_import.py --rows 2000000 --runs 1   # the national file's size
    python bench/annuaire_import.py --occitanie-share 0.5     # a stress case: half the rows kept
    python bench/annuaire_import.py --json                # one JSON object on stdout

The file: `at_tui.synthetic.annuaire.generate`, UTF-8, the 52 published
columns, a few malformed lines; by default 10% of the people practise in
Occitanie (the national file keeps about 9%), people repeat over several
activity rows, 2% of the rows have no address.

Subject: `import_annuaire(conn, path)` into a fresh database opened by
`at_tui.store.migrations.open_database` (WAL, synchronous=FULL, schema v5):
encoding detection on the raw bytes, the header's columns found by name, every
line split and checked, the Occitanie rows kept, duplicates dropped, names and
words folded, staging in a TEMP table, ordering by name, then the atomic swap
(one BEGIN IMMEDIATE: professionals, its three indexes, the FTS5 word index).
"after the read" is the time from the last progress call (the whole file read)
to the end; "locked" is the swap alone (BEGIN IMMEDIATE to COMMIT), the only time
the database is locked for writing.

Floor: a fresh database opened the same way; `csv.reader` (delimiter `|`, no
quoting) over the file opened in the known encoding, the columns taken at the
positions of their exact published names, the rows of an Occitanie
département kept by a set lookup, and the same 12 columns inserted by one bare
`executemany` into a plain table (no index) inside one BEGIN IMMEDIATE. No
detection, no checks, no folding, no deduplication, no index: what any import
of these rows costs at least.

Each import runs in a fresh Python process (so that its peak RSS, ru_maxrss, is
its own); the time is measured inside it, from opening the database to the
end, modules already imported. Floor and subject alternate (ABAB, order flipped
every pair). Target: import time ratio of medians <= 3x; peak RSS reported
(the subject's memory must not grow with the file: it streams it).

Exit status 0 when the target is met, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

IMPORT_TARGET = 3.0
SEED = 20261122
SRC = os.path.join(c.REPO_ROOT, "src")
# The columns the lookup keeps, by their published names.
WANTED = (
    "Identifiant PP", "Nom d'exercice", "Prénom d'exercice", "Libellé profession", "Libellé savoir-faire",
    "Raison sociale site", "Libellé commune (coord. structure)", "Code postal (coord. structure)",
    "Téléphone (coord. structure)", "Adresse e-mail (coord. structure)", "Code Département (structure)",
)


def rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_floor(db_path: str, source: str) -> dict:
    import csv

    from at_tui.importers.finess_reference import occitanie_departements
    from at_tui.store.migrations import open_database

    departements = occitanie_departements()
    baseline = rss_kib()
    started = time.perf_counter()
    conn = open_database(db_path)
    conn.execute(
        "CREATE TABLE plain (identifier, last_name, first_name, profession, specialty, structure, commune, "
        "postcode, phone, email, departement, imported_at)"
    )
    rows = []
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE)
        names = next(reader)
        at = [names.index(name) for name in WANTED]
        departement = at[-1]
        for row in reader:
            if len(row) > departement and row[departement] in departements:
                rows.append((*(row[i] for i in at), ""))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return {"wall_s": time.perf_counter() - started, "kept": len(rows), "rss_baseline_kib": baseline,
            "rss_peak_kib": rss_kib()}


def child_subject(db_path: str, source: str) -> dict:
    from at_tui.importers import professionals_store
    from at_tui.store.migrations import open_database

    def run(on_progress):
        conn = open_database(db_path)
        try:
            return professionals_store.import_annuaire(conn, source, on_progress=on_progress)
        finally:
            conn.close()

    baseline = rss_kib()
    timed = c.timed_import(professionals_store, run)
    report = timed.pop("report")
    return {
        **timed,
        "read": report.read,
        "kept": report.kept,
        "people": report.people,
        "duplicates": report.duplicates,
        "other_region": report.skipped_other_region,
        "no_departement": report.skipped_no_departement,
        "malformed": report.malformed,
        "rss_baseline_kib": baseline,
        "rss_peak_kib": rss_kib(),
    }


def run_child(kind: str, db_path: Path, source: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    env.pop("AT_TUI_FIXTURES", None)
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", kind, str(db_path), str(source)],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{kind} import failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def remove_database(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        kind, db_path, source = sys.argv[2:5]
        result = child_floor(db_path, source) if kind == "floor" else child_subject(db_path, source)
        print(json.dumps(result))
        return 0
    p = c.parser(__doc__.splitlines()[0], 3, "measured pairs of (floor, subject) imports")
    p.add_argument("--rows", type=int, default=200_000, help="activity rows in the file (default: 200000)")
    p.add_argument("--occitanie-share", type=float, default=0.1,
                   help="share of the people practising in Occitanie (default: 0.1)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up pairs, not counted (default: 1)")
    args = p.parse_args()
    if args.runs < 1 or args.rows < 1:
        p.error("--runs and --rows must be >= 1")
    verbose = not args.json
    sys.path.insert(0, SRC)
    from at_tui.synthetic.annuaire import generate

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-annuaire-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "PS_LibreAcces_Personne_activite.txt"
        c.progress(verbose, f"generating {args.rows} rows in {source} ...")
        started = time.perf_counter()
        summary = generate(source, args.rows, seed=SEED, encoding="utf-8", occitanie_share=args.occitanie_share,
                           malformed=10)
        generation_s = time.perf_counter() - started
        size_mib = source.stat().st_size / 2**20
        c.progress(verbose, f"  {size_mib:.1f} MiB, {summary.lines} lines, {summary.occitanie} rows in Occitanie, "
                            f"{summary.kept} once duplicates dropped ({generation_s:.1f}s)")

        floor: list[dict] = []
        subject: list[dict] = []
        total = args.warmup + args.runs
        for i in range(total):
            warm = i < args.warmup
            pair = {}
            for name in (["floor", "subject"] if i % 2 == 0 else ["subject", "floor"]):
                db = tmp_path / f"{name}-{i}.sqlite3"
                pair[name] = run_child(name, db, source)
                remove_database(db)
            if not warm:
                floor.append(pair["floor"])
                subject.append(pair["subject"])
            s, f = pair["subject"], pair["floor"]
            c.progress(verbose, f"  {'warm-up' if warm else 'run'} {i + 1 - (0 if warm else args.warmup)}/"
                                f"{args.warmup if warm else args.runs}: floor {f['wall_s']:.2f}s "
                                f"({f['rss_peak_kib'] / 1024:.0f} MiB) | subject {s['wall_s']:.2f}s "
                                f"(after the read {s['after_read_s']:.2f}s, locked {s['locked_s']:.2f}s; "
                                f"{s['rss_peak_kib'] / 1024:.0f} MiB)")

    s_wall = c.summary([s["wall_s"] for s in subject])
    f_wall = c.summary([f["wall_s"] for f in floor])
    ratio = c.ratio(s_wall["p50"], f_wall["p50"])
    first = subject[0]
    s_rss = c.summary([s["rss_peak_kib"] / 1024 for s in subject])
    f_rss = c.summary([f["rss_peak_kib"] / 1024 for f in floor])
    s_base = c.summary([s["rss_baseline_kib"] / 1024 for s in subject])
    ok = ratio <= IMPORT_TARGET
    result = {
        "benchmark": "annuaire_import",
        "runs": args.runs,
        "warmup": args.warmup,
        "file": {"rows": args.rows, "lines": summary.lines, "mib": round(size_mib, 2), "people": summary.people,
                 "occitanie_rows": summary.occitanie, "generation_s": generation_s},
        "targets": {"import_ratio": IMPORT_TARGET},
        "import_ratio": ratio,
        "subject": {"wall_s": s_wall, "after_read_s": c.summary([s["after_read_s"] for s in subject]),
                    "locked_s": c.summary([s["locked_s"] for s in subject]),
                    "rss_peak_mib": s_rss, "rss_before_mib": s_base,
                    **{k: first[k] for k in ("read", "kept", "people", "duplicates", "other_region",
                                             "no_departement", "malformed")},
                    "rows_per_s": first["read"] / s_wall["p50"]},
        "floor": {"wall_s": f_wall, "kept": floor[0]["kept"], "rss_peak_mib": f_rss,
                  "rows_per_s": first["read"] / f_wall["p50"]},
        "ok": ok,
        "raw": {"floor_s": [f["wall_s"] for f in floor], "subject_s": [s["wall_s"] for s in subject]},
        "environment": c.environment(),
    }
    if args.json:
        c.dump_json(result)
        return 0 if ok else 1

    print()
    print(f"annuaire_import ({args.runs} pairs after {args.warmup} warm-up; {args.rows} rows, {size_mib:.1f} MiB, "
          f"{first['kept']} kept in Occitanie; Python {result['environment']['python']}, "
          f"load {result['environment']['loadavg']})")
    print(f"  floor   p50 {f_wall['p50']:.2f}s p95 {f_wall['p95']:.2f}s  ({first['read'] / f_wall['p50']:,.0f} rows/s), "
          f"peak RSS p50 {f_rss['p50']:.0f} MiB")
    print(f"  subject p50 {s_wall['p50']:.2f}s p95 {s_wall['p95']:.2f}s  ({first['read'] / s_wall['p50']:,.0f} rows/s), "
          f"peak RSS p50 {s_rss['p50']:.0f} MiB (before the import {s_base['p50']:.0f} MiB)")
    print(f"          after the read p50 {result['subject']['after_read_s']['p50']:.2f}s, of which the swap "
          f"(database locked) p50 {result['subject']['locked_s']['p50']:.2f}s")
    print(f"          read {first['read']}, kept {first['kept']} ({first['people']} people), "
          f"{first['duplicates']} duplicates, {first['other_region']} elsewhere, "
          f"{first['no_departement']} without département, {first['malformed']} malformed")
    print(f"  raw floor s:   {' '.join(f'{f:.2f}' for f in result['raw']['floor_s'])}")
    print(f"  raw subject s: {' '.join(f'{s:.2f}' for s in result['raw']['subject_s'])}")
    print()
    print(f"annuaire_import: ratio {ratio:.2f}x (target <= {IMPORT_TARGET}x) {c.verdict(ratio, IMPORT_TARGET)}; "
          f"median {s_wall['p50']:.2f}s vs floor {f_wall['p50']:.2f}s; peak RSS {s_rss['p50']:.0f} MiB "
          f"vs floor {f_rss['p50']:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
