"""« À faire » over 5,000 opportunities and 20,000 journal entries, against a bare query of due_items.

Run from the repository root:

    python bench/a_faire.py                        # 5,000 opportunities, 20,000 entries, 200 runs
    python bench/a_faire.py --opportunities 20000 --entries 80000
    python bench/a_faire.py --json

Data: a fresh database (schema as migrated by the app) filled by
`_common.seed_opportunities`: finished visits, each with its opportunity on a
plausible timeline over ten years (cadrage, lancement, formation, fin du
déploiement, M+1/M+3/M+6 up to the seeded « today »; old ones « Terminé »
or « Sans suite », recent ones « En attente » or on their way), free notes up
to the count of entries, and `due_items` computed by the domain's `due_items`
as the store does it. Bulk SQL inserts: the point is the reading.

Subject: `workspace.opportunities.due()`, what the Accueil's « À faire » and
`at-tui a-faire` read: the due items of open opportunities joined to their
visit (structure, département, archived or not) and opportunity (status),
overdue first, then by date, then the steps without a date.

Two groups: the whole list (`due()`, what `at-tui a-faire` prints), and
the Accueil's (`due(limit=N)`, `--screen`, 500 by default: the limit the
Accueil's « À faire » reads with, screens/home.py TODO_LIMIT).

Floor: `SELECT opportunity_id, activity, title, due, lead FROM due_items
ORDER BY due IS NULL, due` (with the same LIMIT in the screen group) on the
same connection, in the same run: the rows alone, in the same order, on the
same index.

Floor and subject alternate (order flipped every run). Target: subject p95
<= 5 ms in each group. The query plan of the subject is printed: it must use
the `due_items_by_date` index and no temporary B-tree for the ORDER BY.

Exit status 0 when the target is met in both groups, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

P95_TARGET_MS = 5.0
FLOOR_SQL = "SELECT opportunity_id, activity, title, due, lead FROM due_items ORDER BY due IS NULL, due LIMIT ?"


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 200, "measured subject/floor pairs")
    p.add_argument("--opportunities", type=int, default=5_000, help="opportunities (and visits) (default: 5000)")
    p.add_argument("--entries", type=int, default=20_000, help="journal entries in all (default: 20000)")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured pairs first (default: 10)")
    p.add_argument("--screen", type=int, default=500, help="rows of the Accueil's group (default: 500)")
    args = p.parse_args()
    verbose = not args.json

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-a-faire-") as tmp:
        os.environ["AT_TUI_HOME"] = tmp
        from at_tui.paths import database_path
        from at_tui.workspace import Workspace

        workspace = Workspace(database_path())
        try:
            c.progress(verbose, f"seeding {args.opportunities:,} opportunities, {args.entries:,} journal entries ...")
            started = time.perf_counter()
            counts = c.seed_opportunities(workspace, args.opportunities, args.entries)
            seed_s = time.perf_counter() - started
            db_mb = Path(database_path()).stat().st_size / 1e6
            plan = plan_of(workspace)
            groups = {name: measure(workspace, limit, args.warmup, args.runs)
                      for name, limit in (("whole list", None), (f"first {args.screen}", args.screen))}
        finally:
            workspace.close()

    uses_index = "due_items_by_date" in plan and "TEMP B-TREE" not in plan
    ok = uses_index and all(g["subject_ms"]["p95"] <= P95_TARGET_MS for g in groups.values())
    result = {
        "benchmark": "a_faire",
        "data": {**counts, "db_mb": round(db_mb, 1), "seed_s": round(seed_s, 2)},
        "runs": args.runs,
        "groups": groups,
        "query_plan": plan,
        "uses_index": uses_index,
        "p95_target_ms": P95_TARGET_MS,
        "ok": ok,
        "environment": c.environment(),
    }
    if args.json:
        c.dump_json(result)
        return 0 if ok else 1
    print(f"\n« À faire » with {counts['opportunities']:,} opportunities, {counts['journal']:,} journal entries,"
          f" {counts['due_items']:,} due items (database {db_mb:.1f} MB, seeded in {seed_s:.1f} s;"
          f" load {result['environment']['loadavg']})")
    print(f"  query plan: {plan}")
    print(f"  {'group':<12} {'rows':>6} {'due() p50':>10} {'p95':>8} {'bare p50':>9} {'p95':>8} {'ratio p50':>9} {'p95':>6}")
    for name, g in groups.items():
        s, f = g["subject_ms"], g["floor_ms"]
        print(f"  {name:<12} {g['rows']:>6,} {s['p50']:>8.2f}ms {s['p95']:>6.2f}ms {f['p50']:>7.2f}ms"
              f" {f['p95']:>6.2f}ms {g['ratio_p50']:>8.2f}x {g['ratio_p95']:>5.2f}x  {c.verdict(s['p95'], P95_TARGET_MS)}")
    figures = "; ".join(f"{name} p95 {g['subject_ms']['p95']:.2f} ms ({g['ratio_p95']:.2f}x the bare query)"
                        for name, g in groups.items())
    print(f"a_faire: {figures}; target p95 <= {P95_TARGET_MS:.0f} ms; index used: {'yes' if uses_index else 'NO'}")
    return 0 if ok else 1


def plan_of(workspace) -> str:
    """The query plan of the statement `due()` really runs (caught with a trace callback)."""
    statements: list[str] = []
    workspace.conn.set_trace_callback(statements.append)
    try:
        workspace.opportunities.due()
    finally:
        workspace.conn.set_trace_callback(None)
    (sql,) = [s for s in statements if "due_items" in s]
    return " ; ".join(str(r[-1]) for r in workspace.conn.execute(f"EXPLAIN QUERY PLAN {sql}"))


def measure(workspace, limit: int | None, warmup: int, runs: int) -> dict:
    """Subject and floor alternate, order flipped every run; milliseconds, rows fetched fully."""
    conn = workspace.conn
    store = workspace.opportunities
    bound = -1 if limit is None else limit

    def subject() -> int:
        return len(store.due(limit))

    def floor() -> int:
        return len(conn.execute(FLOOR_SQL, (bound,)).fetchall())

    subject_ms, floor_ms, rows = [], [], 0
    for i in range(warmup + runs):
        pair = [("subject", subject), ("floor", floor)]
        if i % 2:
            pair.reverse()
        for name, run in pair:
            started = time.perf_counter()
            count = run()
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                (subject_ms if name == "subject" else floor_ms).append(elapsed)
            if name == "subject":
                rows = count
    s, f = c.summary(subject_ms), c.summary(floor_ms)
    return {"rows": rows, "subject_ms": s, "floor_ms": f,
            "ratio_p50": c.ratio(s["p50"], f["p50"]), "ratio_p95": c.ratio(s["p95"], f["p95"])}


if __name__ == "__main__":
    sys.exit(main())
