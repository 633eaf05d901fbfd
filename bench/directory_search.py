"""Lookup latency with a large imported Annuaire Santé, against a raw FTS5 query; the app's RSS with it.

Run from the repository root:

    python bench/directory_search.py                    # 200,000 professionals
    python bench/directory_search.py --rows 2000000     # the national order of magnitude
    python bench/directory_search.py --home DIR         # keep (or reuse) the imported database
    python bench/directory_search.py --json

Data: `at_tui.synthetic.annuaire.generate` writes an extract of
`--rows` activity rows, all in Occitanie, imported with `import_annuaire` (the
real path: parsing, staging, atomic swap, word index) into a fresh database,
plus the bundled contacts (`sync_contacts`).

Subject: `at_tui.store.directory.search(conn, Query.parse(text))`, what the
lookup screen and `at-tui contacts` run on each keystroke (bundled contacts
ranked first, then bounded passes over the professionals, 100 rows at most),
on a warm read connection, for query groups: 1, 2 and 4 first letters of real
names, full names typed « prénom nom », a 2-letter prefix filtered on a
département, and words that match nothing.

Floor: a raw FTS5 query for the same words on the same data in the same run,
unranked (`professionals_fts MATCH '"ma"*' LIMIT 100`): finding rows, with
no ordering at all. For reference the naive ranked query (`ORDER BY rank`) is
timed too on a few queries: it is what a straightforward search would cost.

Floor and subject alternate query by query. Targets: p95 <= 10 ms in every
group up to 200,000 rows, <= 30 ms at 2,000,000.

RSS: the real app, headless, on this database, opens the lookup (F3), types
« ma », then « rtin », waits for the results and exits; peak RSS of that child
against a bare Textual app. Target <= 120 MB.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

SEED = 20261122
RSS_TARGET_MB = 120.0


def p95_target(rows: int) -> float:
    return 10.0 if rows <= 200_000 else 30.0


# -- data ----------------------------------------------------------------------------------


def prepare(home: Path, rows: int, verbose: bool) -> tuple[Path, dict]:
    """The app's database under `home`, with `rows` generated professionals imported (reused if there)."""
    os.environ["AT_TUI_HOME"] = str(home)
    from at_tui.importers.professionals_store import import_annuaire, professionals_count
    from at_tui.paths import database_path
    from at_tui.reference.loader import load_reference
    from at_tui.store.directory import sync_contacts
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.annuaire import generate

    db = database_path()
    conn = open_database(db)
    info: dict = {}
    try:
        if professionals_count(conn) == 0:
            source = home / "annuaire.txt"
            c.progress(verbose, f"generating {rows:,} rows in {source} ...")
            generate(source, rows, seed=SEED, occitanie_share=1.0, no_departement_share=0.0)
            c.progress(verbose, "importing ...")
            start = time.perf_counter()
            import_annuaire(conn, source)
            info["import_s"] = time.perf_counter() - start
            info["file_mb"] = source.stat().st_size / 1e6
            source.unlink()
        reference = load_reference()
        sync_contacts(conn, reference.contacts, reference.territory)
        info["professionals"] = professionals_count(conn)
        info["db_mb"] = db.stat().st_size / 1e6
    finally:
        conn.close()
    return db, info


def query_groups(conn: sqlite3.Connection, per_group: int) -> dict[str, list[tuple[str, str | None]]]:
    """Texts as an AT would type them, drawn from the imported names: (text, département filter)."""
    from at_tui.domain.text import search_fold

    rng = random.Random(SEED)
    total = conn.execute("SELECT max(id) FROM professionals").fetchone()[0]
    people = []
    for _ in range(per_group):
        row = conn.execute(
            "SELECT last_name, first_name, departement FROM professionals WHERE id = ?", (rng.randint(1, total),)
        ).fetchone()
        people.append((search_fold(row[0]), search_fold(row[1]), row[2]))
    return {
        "1 letter": [(last[:1], None) for last, _, _ in people],
        "2 letters": [(last[:2], None) for last, _, _ in people],
        "4 letters": [(last[:4], None) for last, _, _ in people],
        "full name": [(f"{first} {last}", None) for last, first, _ in people],
        "2 letters + dépt": [(last[:2], dept) for last, _, dept in people],
        "no match": [(f"zq{last[:3]}x", None) for last, _, _ in people],
    }


def measure(conn: sqlite3.Connection, groups: dict, ranked_sample: int) -> dict:
    from at_tui.domain.lookup import Query
    from at_tui.store.directory import search

    floor_sql = "SELECT rowid FROM professionals_fts WHERE professionals_fts MATCH ? LIMIT 100"
    ranked_sql = "SELECT rowid FROM professionals_fts WHERE professionals_fts MATCH ? ORDER BY rank LIMIT 100"
    result = {}
    for name, texts in groups.items():
        subject, floor, ranked, found = [], [], [], []
        for index, (text, dept) in enumerate(texts):
            query = Query.parse(text, departement=dept)
            match = query.match_expression() + (f' AND {{departement_words}} : "{dept}"' if dept else "")
            search(conn, query)  # warm this query's pages, like the keystroke before it would
            start = time.perf_counter()
            found.append(len(search(conn, query).entries))
            subject.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            conn.execute(floor_sql, (match,)).fetchall()
            floor.append((time.perf_counter() - start) * 1000)
            if index < ranked_sample:
                start = time.perf_counter()
                conn.execute(ranked_sql, (match,)).fetchall()
                ranked.append((time.perf_counter() - start) * 1000)
        result[name] = {
            "subject_ms": c.summary(subject),
            "floor_ms": c.summary(floor),
            "ranked_ms": c.summary(ranked) if ranked else None,
            "results_median": c.median(found),
            "example": texts[0][0] + (f" (dépt {texts[0][1]})" if texts[0][1] else ""),
        }
    return result


# -- the app's RSS ---------------------------------------------------------------------------

# The child reads its own peak RSS: a forked child's ru_maxrss starts at the parent's.
PEAK = """
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return "hwm_kib=" + line.split()[1]
    import resource
    return "hwm_kib=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

APP_CODE = PEAK + textwrap.dedent(
    """
    import sys
    from at_tui.app import ATApp
    from at_tui.paths import database_path

    found = []

    async def auto(pilot):
        app = pilot.app
        await pilot.pause()
        await pilot.press("f3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        for chunk in ("m", "a", "r", "t", "i", "n"):
            await pilot.press(chunk)
            await app.workers.wait_for_complete()
            await pilot.pause()
        found.append(len(app.screen.entries))
        app.exit()

    ATApp(database_path()).run(headless=True, auto_pilot=auto, size=(100, 30))
    print("BENCH found=%d %s" % (found[0], peak()))
    """
)

BARE_CODE = PEAK + textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("Hello")
            yield Footer()

    async def auto(pilot):
        await pilot.pause()
        pilot.app.exit()

    Bare().run(headless=True, auto_pilot=auto)
    print("BENCH found=0 %s" % peak())
    """
)


def child_rss_mb(code: str, home: Path) -> tuple[float, str]:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env["AT_TUI_HOME"] = str(home)
    env.pop("AT_TUI_FIXTURES", None)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    out, err = proc.communicate()
    line = next((text for text in out.splitlines() if text.startswith("BENCH")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"child failed:\n{out[-2000:]}\n{err[-3000:]}")
    return int(line.rsplit("hwm_kib=", 1)[1]) / 1024, line


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 200, "queries per group")
    p.add_argument("--rows", type=int, default=200_000, help="professionals to generate and import (default: 200000)")
    p.add_argument("--home", type=Path, help="AT_TUI_HOME to use and keep (reused when it already holds an import)")
    p.add_argument("--ranked", type=int, default=20, help="queries per group also run ranked (default: 20)")
    args = p.parse_args()
    verbose = not args.json
    scratch = tempfile.TemporaryDirectory(prefix="at-tui-bench-")
    home = args.home or Path(scratch.name)
    home.mkdir(parents=True, exist_ok=True)
    db, info = prepare(home, args.rows, verbose)

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    groups = query_groups(conn, args.runs)
    c.progress(verbose, f"timing {len(groups)} groups x {args.runs} queries ...")
    timings = measure(conn, groups, args.ranked)
    conn.close()

    c.progress(verbose, "app RSS with the directory loaded ...")
    app_rss, app_line = child_rss_mb(APP_CODE, home)
    bare_rss, _ = child_rss_mb(BARE_CODE, home)

    target = p95_target(info["professionals"])
    met = all(g["subject_ms"]["p95"] <= target for g in timings.values()) and app_rss <= RSS_TARGET_MB
    result = {
        "benchmark": "directory_search",
        "environment": c.environment(),
        "data": info,
        "groups": timings,
        "p95_target_ms": target,
        "app_rss_mb": app_rss,
        "bare_textual_rss_mb": bare_rss,
        "app_run": app_line,
        "rss_target_mb": RSS_TARGET_MB,
        "targets_met": met,
    }
    if args.json:
        c.dump_json(result)
        return 0 if met else 1

    print(f"\nLookup with {info['professionals']:,} professionals imported (database {info['db_mb']:.0f} MB)")
    if "import_s" in info:
        print(f"import of the {info['file_mb']:.0f} MB file: {info['import_s']:.1f} s")
    print(f"{'group':<18} {'search p50':>10} {'p95':>8} {'raw FTS5 p50':>13} {'p95':>8} {'ratio p95':>9}"
          f" {'ranked p95':>11}  example")
    for name, g in timings.items():
        s, f = g["subject_ms"], g["floor_ms"]
        ranked = f"{g['ranked_ms']['p95']:.1f}" if g["ranked_ms"] else "-"
        print(f"{name:<18} {s['p50']:>8.2f}ms {s['p95']:>6.2f}ms {f['p50']:>11.2f}ms {f['p95']:>6.2f}ms"
              f" {c.ratio(s['p95'], f['p95']):>8.1f}x {ranked:>9}ms  {g['example']!r}"
              f"  {c.verdict(s['p95'], target)}")
    print(f"target: p95 <= {target:.0f} ms in every group")
    print(f"app peak RSS with the lookup used: {app_rss:.1f} MB (bare Textual app {bare_rss:.1f} MB, "
          f"{c.ratio(app_rss, bare_rss):.2f}x); target <= {RSS_TARGET_MB:.0f} MB  "
          f"{c.verdict(app_rss, RSS_TARGET_MB)}  [{app_line}]")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
