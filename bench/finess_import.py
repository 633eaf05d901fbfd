"""Importing a FINESS extract, against a bare csv + executemany; then completion latency.

Run from the repository root:

    python bench/finess_import.py                      # 100,000 rows, 3 measured pairs
    python bench/finess_import.py --rows 20000 --runs 5
    python bench/finess_import.py --occitanie-share 0.09   # the national file's proportion
    python bench/finess_import.py --json               # one JSON object on stdout

The file: `at_tui.synthetic.finess.generate`, Windows-1252, with its
`geolocalisation` rows (one per structure, as in the geolocated etalab release)
and a few malformed lines; by default 85% of the structures are in Occitanie
(a stress case: the national file keeps about 9%).

Subject: `import_finess(conn, path)` into a fresh database opened by
`at_tui.store.db.connect` (WAL, synchronous=FULL): each line decoded as UTF-8, or
alone as Windows-1252, parsing and checking it, staging in a TEMP table, then the
atomic swap (one BEGIN IMMEDIATE: structures, name index, FTS5 word index).
"after the read" is the time from the last progress call (the whole file read)
to the end; "locked" is the swap alone (BEGIN IMMEDIATE to COMMIT), the only
time the database is locked for writing.

Floor: the same connection settings on a fresh file; `csv.reader` over the file
opened in the known encoding, the Occitanie `structureet` rows kept by a set
lookup, and the same 12 columns inserted by one bare `executemany` into a plain
table (no index) inside one BEGIN IMMEDIATE transaction. No detection, no
checks, no folding, no index: what any import of these rows costs at least.

Floor and subject alternate (ABAB, order flipped every pair). Target: import
time ratio of medians <= 3x.

Completion: on the subject's database, `complete_structures(conn, text, 8)` for
1-character queries, 3-character prefixes of name words, two words being typed
("ehpa ti"), queries that match nothing (every pass runs to the end), and full
names (as the AT would paste them), each timed on its own, warm; against a raw index query on
the folded name (`name_folded >= ? AND name_folded < ? LIMIT 8`) for the same
texts. Target: p95 <= 10 ms in every group.

Exit status 0 when both targets are met, 1 otherwise.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

IMPORT_TARGET = 3.0
COMPLETION_P95_TARGET_MS = 10.0
SEED = 20261122


def floor_import(db_path: Path, source: Path, departements: frozenset[str]) -> tuple[float, int]:
    from at_tui.store.migrations import open_database

    started = time.perf_counter()
    conn = open_database(db_path)
    conn.execute(
        "CREATE TABLE plain (finess, finess_ej, name, long_name, departement, routing, phone, category_code, "
        "category_label, imported_at, name_folded, extra)"
    )
    rows = []
    with source.open(encoding="cp1252", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if row and row[0] == "structureet" and len(row) >= 32 and row[13] in departements:
                rows.append((row[1], row[2], row[3], row[4], row[13], row[15], row[16], row[18], row[19], "", row[3], ""))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, len(rows)


def subject_import(db_path: Path, source: Path) -> dict:
    from at_tui.importers import structures_store
    from at_tui.store.migrations import open_database

    def run(on_progress):
        conn = open_database(db_path)
        try:
            return structures_store.import_finess(conn, source, on_progress=on_progress)
        finally:
            conn.close()

    timed = c.timed_import(structures_store, run)
    report = timed.pop("report")
    return {**timed, "read": report.read, "kept": report.kept, "malformed": report.malformed}


def completion_queries(conn, rng: random.Random, count: int) -> dict[str, list[str]]:
    rows = conn.execute("SELECT name FROM structures ORDER BY random() LIMIT ?", (count * 3,)).fetchall()
    names = [r[0] for r in rows]
    three, two_words = [], []
    for name in names:
        words = [w for w in name.split() if len(w) >= 3 and w.isalpha()]
        if words:
            three.append(rng.choice(words)[:3].lower())
        if len(words) >= 2:
            first, second = rng.sample(words, 2)
            two_words.append(f"{first[:4].lower()} {second[:2].lower()}")  # typing the second word
    misses = ["zq", "xylo", "ehpad zz", "kw", "centre qx", "tilleuls zz", "wq", "jjj"]
    return {
        "1 char": [rng.choice("abcdefghijlmnoprstv3") for _ in range(count)],
        "3 chars": three[:count],
        "2 words": two_words[:count],
        "no match": [misses[i % len(misses)] for i in range(count)],
        "full name": names[:count],
    }


def time_calls(function, texts: list[str], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            function(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 3, "measured pairs of (floor, subject) imports")
    p.add_argument("--rows", type=int, default=100_000, help="structureet rows in the file (default: 100000)")
    p.add_argument("--occitanie-share", type=float, default=0.85, help="share of Occitanie rows (default: 0.85)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up pairs, not counted (default: 1)")
    p.add_argument("--queries", type=int, default=60, help="completion queries per group (default: 60)")
    p.add_argument("--repeat", type=int, default=5, help="times each completion query is run (default: 5)")
    args = p.parse_args()
    if args.runs < 1 or args.rows < 1:
        p.error("--runs and --rows must be >= 1")
    verbose = not args.json

    from at_tui.domain.text import search_fold
    from at_tui.importers.finess_reference import occitanie_departements
    from at_tui.importers.structures_store import complete_structures
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.finess import generate

    departements = occitanie_departements()
    with tempfile.TemporaryDirectory(prefix="at-tui-bench-finess-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "finess.csv"
        c.progress(verbose, f"generating {args.rows} rows in {source} ...")
        started = time.perf_counter()
        summary = generate(source, args.rows, seed=SEED, encoding="cp1252", occitanie_share=args.occitanie_share,
                           malformed=10)
        generation_s = time.perf_counter() - started
        size_mib = source.stat().st_size / 2**20
        c.progress(verbose, f"  {size_mib:.1f} MiB, {summary.lines} lines, {summary.occitanie} in Occitanie "
                            f"({generation_s:.1f}s)")

        floor: list[float] = []
        subject: list[dict] = []
        kept_floor = 0
        last_db = None
        total = args.warmup + args.runs
        for i in range(total):
            warm = i < args.warmup
            order = ["floor", "subject"] if i % 2 == 0 else ["subject", "floor"]
            pair = {}
            for name in order:
                db = tmp_path / f"{name}-{i}.sqlite3"
                if name == "floor":
                    pair["floor"], kept_floor = floor_import(db, source, departements)
                else:
                    pair["subject"] = subject_import(db, source)
                    if last_db is not None:
                        for suffix in ("", "-wal", "-shm"):
                            Path(f"{last_db}{suffix}").unlink(missing_ok=True)
                    last_db = db
                if name == "floor":
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{db}{suffix}").unlink(missing_ok=True)
            if not warm:
                floor.append(pair["floor"])
                subject.append(pair["subject"])
            c.progress(verbose, f"  {'warm-up' if warm else 'run'} {i + 1 - (0 if warm else args.warmup)}/"
                                f"{args.warmup if warm else args.runs}: floor {pair['floor']:.2f}s | subject "
                                f"{pair['subject']['wall_s']:.2f}s (after the read {pair['subject']['after_read_s']:.2f}s, "
                                f"locked {pair['subject']['locked_s']:.2f}s)")

        c.progress(verbose, "completion latency ...")
        conn = open_database(last_db)
        rng = random.Random(SEED)
        groups = completion_queries(conn, rng, args.queries)

        def raw(text: str):
            folded = search_fold(text)
            if not folded:
                return []
            upper = folded[:-1] + chr(ord(folded[-1]) + 1)
            return conn.execute(
                "SELECT finess, name FROM structures WHERE name_folded >= ? AND name_folded < ? "
                "ORDER BY name_folded LIMIT 8", (folded, upper)
            ).fetchall()

        completion = {}
        for label, texts in groups.items():
            time_calls(lambda t: complete_structures(conn, t), texts, 1)  # warm the page cache
            subject_ms = time_calls(lambda t: complete_structures(conn, t), texts, args.repeat)
            floor_ms = time_calls(raw, texts, args.repeat)
            hits = sum(1 for t in texts if complete_structures(conn, t))
            completion[label] = {"queries": len(texts), "with_results": hits,
                                 "subject_ms": c.summary(subject_ms), "floor_ms": c.summary(floor_ms)}
        structures = conn.execute("SELECT count(*) FROM structures").fetchone()[0]
        conn.close()

    walls = [s["wall_s"] for s in subject]
    s_wall, f_wall = c.summary(walls), c.summary(floor)
    ratio = c.ratio(s_wall["p50"], f_wall["p50"])
    read, kept = subject[0]["read"], subject[0]["kept"]
    worst_p95 = max(g["subject_ms"]["p95"] for g in completion.values())
    ok = ratio <= IMPORT_TARGET and worst_p95 <= COMPLETION_P95_TARGET_MS
    result = {
        "benchmark": "finess_import",
        "runs": args.runs,
        "warmup": args.warmup,
        "file": {"rows": args.rows, "occitanie": summary.occitanie, "lines": summary.lines,
                 "mib": round(size_mib, 2), "generation_s": generation_s},
        "targets": {"import_ratio": IMPORT_TARGET, "completion_p95_ms": COMPLETION_P95_TARGET_MS},
        "import_ratio": ratio,
        "subject": {"wall_s": s_wall, "after_read_s": c.summary([s["after_read_s"] for s in subject]),
                    "locked_s": c.summary([s["locked_s"] for s in subject]),
                    "read": read, "kept": kept, "malformed": subject[0]["malformed"],
                    "rows_per_s": read / s_wall["p50"], "kept_per_s": kept / s_wall["p50"]},
        "floor": {"wall_s": f_wall, "kept": kept_floor, "rows_per_s": read / f_wall["p50"]},
        "completion": completion,
        "structures": structures,
        "ok": ok,
        "raw": {"floor_s": floor, "subject_s": walls},
        "environment": c.environment(),
    }
    if args.json:
        c.dump_json(result)
        return 0 if ok else 1

    sys.stderr.flush()
    print()
    print(f"finess_import ({args.runs} pairs after {args.warmup} warm-up; {args.rows} rows, {size_mib:.1f} MiB, "
          f"{kept} kept in Occitanie; Python {result['environment']['python']}, load {result['environment']['loadavg']})")
    print(f"  floor   p50 {f_wall['p50']:.2f}s p95 {f_wall['p95']:.2f}s  ({read / f_wall['p50']:,.0f} rows/s)")
    print(f"  subject p50 {s_wall['p50']:.2f}s p95 {s_wall['p95']:.2f}s  ({read / s_wall['p50']:,.0f} rows/s read, "
          f"{kept / s_wall['p50']:,.0f} kept/s)")
    print(f"          after the read p50 {result['subject']['after_read_s']['p50']:.2f}s, of which the swap "
          f"(database locked) p50 {result['subject']['locked_s']['p50']:.2f}s")
    print(f"  raw floor s:   {' '.join(f'{x:.2f}' for x in floor)}")
    print(f"  raw subject s: {' '.join(f'{x:.2f}' for x in walls)}")
    print("  completion (ms, 8 results max)      subject p50   p95   max  | raw name-prefix index p50   p95")
    for label, g in completion.items():
        s, f = g["subject_ms"], g["floor_ms"]
        print(f"    {label:<10} {g['queries']:>3} queries, {g['with_results']:>3} with results  {s['p50']:6.2f} "
              f"{s['p95']:6.2f} {s['max']:6.2f}  |  {f['p50']:6.2f} {f['p95']:6.2f}")
    print()
    print(f"finess_import: ratio {ratio:.2f}x (target <= {IMPORT_TARGET}x) {c.verdict(ratio, IMPORT_TARGET)}; "
          f"completion worst p95 {worst_p95:.2f} ms (target <= {COMPLETION_P95_TARGET_MS:.0f} ms) "
          f"{c.verdict(worst_p95, COMPLETION_P95_TARGET_MS)}; median {s_wall['p50']:.2f}s vs floor {f_wall['p50']:.2f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
