"""Cold start to the interactive Accueil screen, against a bare Textual app.

Run from the repository root:

    python bench/startup.py               # default: 2 warm-up pairs + 15 measured pairs
    python bench/startup.py --runs 30
    python bench/startup.py --json        # one JSON object on stdout
    python bench/startup.py --importtime  # also: where the app's import time goes

Each run is a fresh `python -c` child. We measure the wall time from spawn to
the child's exit (reaped with `os.wait4`), and the child's peak RSS
(`ru_maxrss`, KiB on Linux). Floor and subject alternate (ABAB...), and their
order is flipped every pair, so machine noise and drift hit both.

Floor:   a minimal App (Header, Static, Footer), headless, exiting after its
         first refresh (`await pilot.pause(); pilot.app.exit()`).
Subject: the real ATApp on a database already holding visits with answers
         (AT_TUI_HOME in a temp dir). Its auto-pilot checks that the Accueil
         (HomeScreen) is the active screen and lists every seeded visit before
         exiting; the child exits with status 3 otherwise, which fails the run.

Besides time-to-exit (the headline figure), each child also reports the
moment its auto-pilot saw the first screen ready (CLOCK_MONOTONIC is shared
between processes on Linux): "to ready" is spawn -> that moment. The gap
between "to ready" and "to exit" is shutdown, including any background work
the app started that the interpreter waits for at exit.

Bytecode: by default the children cache compiled bytecode under the temp
dir (PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE dropped), as an installed
app would have it; the warm-up pairs fill that cache. `--no-pyc-cache` keeps
the environment as it is instead (an editable install under
PYTHONDONTWRITEBYTECODE=1 then compiles `src/at_tui` at every start).

History: `--opportunities N` adds N finished visits with their opportunity
and `--journal-entries M` journal entries in all (default 4 per opportunity),
with what is due (`_common.seed_opportunities`, bulk SQL in a child process),
e.g. `--opportunities 5000` for ten years of a busy AT or a CM's region
(issue 11): start-up must not grow with history. The Accueil then lists
every one of those visits too, and the subject waits for all its rows.

Targets: time ratio <= 1.3x, peak RSS ratio <= 1.5x. Exit status 0 when both
are met, 1 when one is over, other values on errors (a child that fails).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

TIME_TARGET = 1.3
RSS_TARGET = 1.5
DEFAULT_VISITS = 40
DEFAULT_FINISHED = 10
EXIT_NOT_READY = 3

FLOOR_CODE = textwrap.dedent(
    """
    import time
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("Hello")
            yield Footer()

    ready_at = []

    async def auto(pilot):
        await pilot.pause()
        ready_at.append(time.monotonic())
        pilot.app.exit()

    app = Bare()
    app.run(headless=True, auto_pilot=auto)
    print("BENCH ready=%r pauses=1 rows=-1" % ready_at[0])
    """
)

SUBJECT_CODE = textwrap.dedent(
    """
    import sys, time
    from at_tui.app import ATApp
    from at_tui.paths import database_path

    EXPECTED_ROWS = {expected_rows}
    state = {{}}

    def accueil_rows(app):
        screen = app.screen
        if type(screen).__name__ != "HomeScreen":
            return None
        from at_tui.widgets.visit_list import VisitList  # already imported by the Accueil
        listings = list(screen.query(VisitList))
        # The visits' list (id "visits"); « À faire » above it, a list of the same kind, is not counted.
        visits = [listing for listing in listings if listing.id == "visits"] or listings
        return sum(listing.row_count for listing in visits)

    async def auto(pilot):
        await pilot.pause()
        pauses = 1
        rows = accueil_rows(pilot.app)
        # Normally ready after the first pause; allow a little slack, bounded.
        while (rows is None or rows < EXPECTED_ROWS) and pauses < 200:
            await pilot.pause(0.005)
            pauses += 1
            rows = accueil_rows(pilot.app)
        state["ready"] = time.monotonic()
        state["pauses"] = pauses
        state["rows"] = rows
        state["screen"] = type(pilot.app.screen).__name__
        pilot.app.exit()

    app = ATApp(database_path())
    app.run(headless=True, auto_pilot=auto)
    if state.get("screen") != "HomeScreen" or state.get("rows") != EXPECTED_ROWS:
        print("not an interactive Accueil: %r (expected %d rows), return_code=%r"
              % (state, EXPECTED_ROWS, app.return_code), file=sys.stderr)
        sys.exit({exit_not_ready})
    if app.return_code:
        print("app exited with return code %r" % app.return_code, file=sys.stderr)
        sys.exit(app.return_code)
    print("BENCH ready=%r pauses=%d rows=%d" % (state["ready"], state["pauses"], state["rows"]))
    """
)

_BENCH_LINE = re.compile(r"^BENCH ready=([0-9.e+-]+) pauses=(\d+) rows=(-?\d+)$", re.M)


# -- the data the subject starts on ------------------------------------------


def seed_database(home: Path, visits: int, finished: int) -> int:
    """Create `visits` visits with answers through the app's own Workspace; return the count."""
    os.environ["AT_TUI_HOME"] = str(home)
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    workspace = Workspace(database_path())
    typologies = ["CPTS/MSP", "CH", "ESSMS/EHPAD", "DAC", "Communauté 360"]
    departements = ["31", "09", "11", "34", "81", "65"]
    try:
        for i in range(visits):
            visit, errors = workspace.start_visit(
                {
                    "structure": f"Structure de santé n°{i + 1} — Maison pluriprofessionnelle",
                    "departement": departements[i % len(departements)],
                    "typologie": typologies[i % len(typologies)],
                    "contact_name": f"Dr Camille Martin-{i}",
                    "contact_role": "Coordinatrice",
                    "visit_date": "22/11/2026",
                    "maillage": False,
                }
            )
            if visit is None:
                raise SystemExit(f"seeding failed: {errors}")
            answers = {
                "opportunite": True,
                "situation_actuelle": "Échanges par messagerie sécurisée et téléphone ; "
                "dossiers papier partagés en réunion de concertation. " * 3,
                "besoins_sante": "Parcours insuffisance cardiaque, sorties d'hospitalisation, soins palliatifs.",
                "types_professionnels": "Médecins généralistes, infirmiers, pharmaciens, kinésithérapeutes.",
                "fonctionnalites": ["partage_documents", "echanges_messages"],
                "partenaires": "CH de proximité, HAD, DAC 31.",
                "utilisateurs_potentiels": 12 + i,
                "temporalite": "trimestre",
                "messagerie_seule": False,
                "dossiers_coordination": i % 2 == 0,
            }
            for question_id, raw in answers.items():
                workspace.save_answer(visit, question_id, raw)
            if i < finished:
                workspace.visits.set_status(visit.id, "terminee")
        return len(workspace.visits.list())
    finally:
        workspace.close()
        del os.environ["AT_TUI_HOME"]


def seed_professionals(home: Path, rows: int, source: Path) -> None:
    """Import a synthetic Annuaire Santé extract of `rows` rows, all in Occitanie.

    In a child process: a forked child's peak RSS starts at its parent's, so this
    process must stay as small as the apps it measures.
    """
    code = textwrap.dedent(
        f"""
        from at_tui.importers.professionals_store import import_annuaire
        from at_tui.synthetic.annuaire import generate
        from at_tui.paths import database_path
        from at_tui.store.migrations import open_database

        generate({str(source)!r}, {rows}, seed=1, occitanie_share=1.0, no_departement_share=0.0)
        conn = open_database(database_path())
        import_annuaire(conn, {str(source)!r})
        conn.close()
        """
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "AT_TUI_HOME": str(home)}, check=True)
    source.unlink()


def seed_history(home: Path, opportunities: int, entries: int) -> dict:
    """Add `opportunities` opportunities and `entries` journal entries (in a child process, as above)."""
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import _common
        from at_tui.paths import database_path
        from at_tui.workspace import Workspace

        workspace = Workspace(database_path())
        try:
            print(json.dumps(_common.seed_opportunities(workspace, {opportunities}, {entries})))
        finally:
            workspace.close()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "AT_TUI_HOME": str(home)},
                          check=True, capture_output=True, text=True)
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


# -- one child ---------------------------------------------------------------


def run_child(code: str, env: dict[str, str], scratch: Path) -> dict:
    out_path, err_path = scratch / "child.out", scratch / "child.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=scratch,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        end = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, tell Popen
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(
            f"child failed (exit {proc.returncode}):\n--- stdout ---\n{stdout[-2000:]}\n--- stderr ---\n{stderr[-4000:]}"
        )
    match = _BENCH_LINE.search(stdout)
    if match is None:
        raise SystemExit(f"child printed no BENCH line:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return {
        "wall_s": end - start,
        "ready_s": float(match.group(1)) - start,
        "pauses": int(match.group(2)),
        "rows": int(match.group(3)),
        "maxrss_kib": usage.ru_maxrss,
    }


def child_env(home: Path | None, pycache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}  # no devtools, no PRESS
    env.pop("AT_TUI_HOME", None)
    env.pop("AT_TUI_FIXTURES", None)
    if pycache is not None:
        # Bytecode cached like an installed app has it, but in our temp dir (nothing
        # written into src/ or site-packages). The warm-up pairs fill it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if home is not None:
        env["AT_TUI_HOME"] = str(home)
    return env


# -- optional: where the subject's import time goes -----------------------------


def import_profile(code: str, env: dict[str, str], scratch: Path, top: int = 20) -> dict:
    """Run the subject once under -X importtime; return the biggest cumulative entries.

    This covers every import of the run, including those of background work
    (the reference-data worker thread) and of the exit path.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env, cwd=scratch, capture_output=True, text=True, check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append({"self_us": int(m.group(1)), "cumulative_us": int(m.group(2)),
                         "depth": (len(m.group(3)) - 1) // 2, "module": m.group(4)})
    # Top-level imports (depth 0) are what the entry code pulls in directly or first.
    top_level = sorted((r for r in rows if r["depth"] == 0), key=lambda r: -r["cumulative_us"])[:top]
    third_party = {}
    for r in rows:
        root = r["module"].split(".")[0]
        third_party[root] = third_party.get(root, 0) + r["self_us"]
    by_package = sorted(third_party.items(), key=lambda kv: -kv[1])[:top]
    at_tui_modules = sorted(
        {r["module"] for r in rows if r["module"].startswith("at_tui")}
    )
    return {
        "total_self_us": sum(r["self_us"] for r in rows),
        "modules": len(rows),
        "top_level": top_level,
        "self_time_by_package_us": by_package,
        "at_tui_modules": at_tui_modules,
    }


# -- main ----------------------------------------------------------------------


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], default_runs=15, runs_help="measured floor/subject pairs")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured pairs first (pyc, page cache) (default: 2)")
    p.add_argument("--visits", type=int, default=DEFAULT_VISITS, help=f"visits in the database (default: {DEFAULT_VISITS})")
    p.add_argument("--importtime", action="store_true", help="also profile the subject's imports (-X importtime)")
    p.add_argument("--professionals", type=int, default=0,
                   help="also import this many synthetic Annuaire Santé rows first (start-up must not grow with it)")
    p.add_argument("--opportunities", type=int, default=0,
                   help="also add this many finished visits with their opportunity (start-up must not grow with them)")
    p.add_argument("--journal-entries", type=int, default=None,
                   help="journal entries in all with --opportunities (default: 4 per opportunity)")
    p.add_argument(
        "--no-pyc-cache", action="store_true",
        help="children inherit the bytecode settings as they are (with PYTHONDONTWRITEBYTECODE=1 and no "
        "__pycache__, every start compiles from source); by default children cache bytecode in the temp dir",
    )
    args = p.parse_args()
    if args.runs < 1:
        p.error("--runs must be >= 1")
    verbose = not args.json

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-startup-") as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        c.progress(verbose, f"seeding {args.visits} visits in {home} ...")
        rows = seed_database(home, args.visits, min(DEFAULT_FINISHED, args.visits // 4))
        if args.professionals:
            c.progress(verbose, f"importing {args.professionals:,} synthetic professionals ...")
            seed_professionals(home, args.professionals, tmp_path / "annuaire.txt")
        history = {"opportunities": 0, "journal": 0, "due_items": 0}
        if args.opportunities:
            entries = args.journal_entries if args.journal_entries is not None else 4 * args.opportunities
            c.progress(verbose, f"adding {args.opportunities:,} opportunities and {entries:,} journal entries ...")
            history = seed_history(home, args.opportunities, entries)
            rows += history["opportunities"]
        pycache = None if args.no_pyc_cache else tmp_path / "pycache"
        if pycache is not None and args.warmup < 1:
            p.error("--warmup must be >= 1 to fill the bytecode cache (or pass --no-pyc-cache)")
        floor_env, subject_env = child_env(None, pycache), child_env(home, pycache)
        subject_code = SUBJECT_CODE.format(expected_rows=rows, exit_not_ready=EXIT_NOT_READY)

        floor, subject = [], []
        total = args.warmup + args.runs
        for i in range(total):
            warm = i < args.warmup
            # ABAB with the order flipped every pair (AB BA AB ...): no side always goes first.
            order = [("floor", FLOOR_CODE, floor_env), ("subject", subject_code, subject_env)]
            if i % 2:
                order.reverse()
            pair = {}
            for name, code, env in order:
                pair[name] = run_child(code, env, scratch)
            if not warm:
                floor.append(pair["floor"])
                subject.append(pair["subject"])
            c.progress(
                verbose,
                f"  {'warm-up' if warm else 'run'} {i + 1 - (0 if warm else args.warmup)}/"
                f"{args.warmup if warm else args.runs}: floor {pair['floor']['wall_s']:.3f}s "
                f"{pair['floor']['maxrss_kib'] / 1024:.1f}MiB | subject {pair['subject']['wall_s']:.3f}s "
                f"{pair['subject']['maxrss_kib'] / 1024:.1f}MiB (ready {pair['subject']['ready_s']:.3f}s, "
                f"{pair['subject']['pauses']} pause(s))",
            )
        profile = import_profile(subject_code, subject_env, scratch) if args.importtime else None

    def col(runs, key):
        return [r[key] for r in runs]

    f_wall, s_wall = c.summary(col(floor, "wall_s")), c.summary(col(subject, "wall_s"))
    f_ready, s_ready = c.summary(col(floor, "ready_s")), c.summary(col(subject, "ready_s"))
    f_rss, s_rss = c.summary(col(floor, "maxrss_kib")), c.summary(col(subject, "maxrss_kib"))
    time_ratio = c.ratio(s_wall["p50"], f_wall["p50"])
    ready_ratio = c.ratio(s_ready["p50"], f_ready["p50"])
    rss_ratio = c.ratio(s_rss["p50"], f_rss["p50"])
    # Ratio within each pair: robust to slow drifts of the machine during the run.
    paired = [s["wall_s"] / f["wall_s"] for f, s in zip(floor, subject)]
    paired_ratio = c.median(paired)
    ok = time_ratio <= TIME_TARGET and rss_ratio <= RSS_TARGET

    result = {
        "benchmark": "startup",
        "runs": args.runs,
        "warmup": args.warmup,
        "visits": rows,
        "professionals": args.professionals,
        "opportunities": history["opportunities"],
        "journal_entries": history["journal"],
        "due_items": history["due_items"],
        "bytecode": "inherited environment" if args.no_pyc_cache else "cached (PYTHONPYCACHEPREFIX in temp dir)",
        "targets": {"time_ratio": TIME_TARGET, "rss_ratio": RSS_TARGET},
        "time_ratio": time_ratio,
        "time_ratio_paired_median": paired_ratio,
        "ready_ratio": ready_ratio,
        "rss_ratio": rss_ratio,
        "ok": ok,
        "floor": {"wall_s": f_wall, "ready_s": f_ready, "maxrss_kib": f_rss},
        "subject": {"wall_s": s_wall, "ready_s": s_ready, "maxrss_kib": s_rss,
                    "pauses_max": max(col(subject, "pauses"))},
        "raw": {"floor": floor, "subject": subject},
        "environment": {**c.environment(), "textual": c.textual_version()},
    }
    if profile is not None:
        result["import_profile"] = profile

    if args.json:
        c.dump_json(result)
        return 0 if ok else 1

    def line(label, f, s, unit, scale=1.0, fmt=".3f"):
        return (f"  {label:<18} floor p50 {f['p50'] * scale:{fmt}}{unit} p95 {f['p95'] * scale:{fmt}}{unit}"
                f" | subject p50 {s['p50'] * scale:{fmt}}{unit} p95 {s['p95'] * scale:{fmt}}{unit}")

    sys.stderr.flush()
    print()
    extra = (f", {history['opportunities']:,} opportunities, {history['journal']:,} journal entries"
             if history["opportunities"] else "")
    print(f"startup ({args.runs} pairs after {args.warmup} warm-up, {rows} visits{extra}, bytecode {result['bytecode']},"
          f" Python {result['environment']['python']}, Textual {result['environment']['textual']},"
          f" load {result['environment']['loadavg']})")
    print(line("spawn -> exit", f_wall, s_wall, "s"))
    print(line("spawn -> ready", f_ready, s_ready, "s"))
    print(line("peak RSS", f_rss, s_rss, "MiB", 1 / 1024, ".1f"))
    print(f"  raw floor wall s:   {' '.join(f'{x:.3f}' for x in col(floor, 'wall_s'))}")
    print(f"  raw subject wall s: {' '.join(f'{x:.3f}' for x in col(subject, 'wall_s'))}")
    print(f"  raw floor RSS MiB:  {' '.join(f'{x / 1024:.1f}' for x in col(floor, 'maxrss_kib'))}")
    print(f"  raw subject RSS MiB:{' '.join(f'{x / 1024:.1f}' for x in col(subject, 'maxrss_kib'))}")
    print(f"  time ratio of medians {time_ratio:.2f}x (median of per-pair ratios {paired_ratio:.2f}x);"
          f" to-ready ratio {ready_ratio:.2f}x; exit - ready: floor {(f_wall['p50'] - f_ready['p50']) * 1000:.0f} ms,"
          f" subject {(s_wall['p50'] - s_ready['p50']) * 1000:.0f} ms")
    if profile is not None:
        print()
        print(f"import profile of the subject (-X importtime, one run, {profile['modules']} modules,"
              f" {profile['total_self_us'] / 1000:.0f} ms total self time):")
        print("  top-level imports by cumulative time:")
        for r in profile["top_level"][:12]:
            print(f"    {r['cumulative_us'] / 1000:7.1f} ms  {r['module']}")
        print("  self time by top package:")
        for name, us in profile["self_time_by_package_us"][:12]:
            print(f"    {us / 1000:7.1f} ms  {name}")
        print(f"  at_tui modules imported during the run: {', '.join(profile['at_tui_modules'])}")
    print()
    print(
        f"startup: ratio {time_ratio:.2f}x (target <= {TIME_TARGET}x) {c.verdict(time_ratio, TIME_TARGET)}; "
        f"peak RSS ratio {rss_ratio:.2f}x (target <= {RSS_TARGET}x) {c.verdict(rss_ratio, RSS_TARGET)}; "
        f"median {s_wall['p50']:.3f}s vs floor {f_wall['p50']:.3f}s, "
        f"{s_rss['p50'] / 1024:.1f} MiB vs floor {f_rss['p50'] / 1024:.1f} MiB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
