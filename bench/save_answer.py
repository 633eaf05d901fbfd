"""Saving one answer through the app's real path, against a raw single-row SQLite commit.

Run from the repository root:

    python bench/save_answer.py              # default: 2000 operations each side
    python bench/save_answer.py --runs 4000
    python bench/save_answer.py --json       # one JSON object on stdout
    python bench/save_answer.py --profile    # also: where the subject's time goes (cProfile)

Subject: `Workspace.save_answer(visit, question_id, raw)` on a real database
file, alternating a long_text question whose text grows by one word per call
(what typing in a TextArea does: each change saves the whole text) and an
integer question with a new value each call, so every call really writes
(validation, read of the old value, upsert, visit timestamp, history row,
commit with WAL + synchronous=FULL).

Floor: the same connection settings as the app (WAL, synchronous=FULL,
busy_timeout, foreign_keys; isolation_level=None) on a separate file in the
same temp dir, one `BEGIN IMMEDIATE; INSERT OR REPLACE INTO t(k, v) VALUES
(?, ?); COMMIT` per operation, writing the same keys and the same
JSON-encoded values as the subject (same payload size).

Both run in this process, interleaved in blocks (floor block, subject block,
then the other order next time), each operation timed on its own. We report
p50/p95 in ms and the ratio of medians. Target: ratio <= 1.5x. Exit status 0
when met, 1 when over.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

TARGET = 1.5
TEXT_QUESTION = "situation_actuelle"  # long_text
COUNT_QUESTION = "utilisateurs_potentiels"  # integer
MAX_TEXT = 15_000  # below LONG_TEXT_MAX (20,000): start a new text past this size
WORDS = (
    "la structure échange aujourd'hui par messagerie sécurisée et par téléphone ; les dossiers "
    "de coordination circulent sur papier lors des réunions pluriprofessionnelles du jeudi, "
    "avec l'infirmière de coordination, le médecin traitant et l'équipe du DAC"
).split()


def values(n: int) -> list[tuple[str, object]]:
    """The n (question, raw value) pairs to save, alternating, every one different from the last."""
    ops: list[tuple[str, object]] = []
    words: list[str] = []
    for i in range(n):
        if i % 2 == 0:
            if sum(map(len, words)) + len(words) > MAX_TEXT:  # stay under the app's limit on long runs
                words = [f"({i})"]
            words.append(WORDS[len(words) % len(WORDS)])
            ops.append((TEXT_QUESTION, " ".join(words)))
        else:
            ops.append((COUNT_QUESTION, str(10 + i % 400_000)))  # typed digits, as the Input gives them
    return ops


def encoded(question_id: str, raw: object) -> str:
    """What the app stores for this value (JSON text), for the floor to write the same bytes."""
    value = int(raw) if question_id == COUNT_QUESTION else raw
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def open_floor(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10)
    for pragma in ("busy_timeout = 10000", "journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    if sys.platform == "darwin":
        conn.execute("PRAGMA fullfsync = ON")
    conn.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
    return conn


def open_subject(path: Path):
    from at_tui.workspace import Workspace

    workspace = Workspace(path)
    workspace.reference  # noqa: B018 - loaded before timing, as in the app after start-up
    visit, errors = workspace.start_visit(
        {
            "structure": "MSP des Coteaux",
            "departement": "31",
            "typologie": "CPTS/MSP",
            "contact_name": "Dr Camille Martin",
            "contact_role": "Coordinatrice",
            "visit_date": "22/11/2026",
            "maillage": False,
        }
    )
    if visit is None:
        raise SystemExit(f"could not start a visit: {errors}")
    workspace.save_answer(visit, "opportunite", True)  # the questions below apply
    return workspace, visit


def history_count(workspace, visit_id: str) -> int:
    return workspace.conn.execute("SELECT count(*) FROM history WHERE visit_id = ?", (visit_id,)).fetchone()[0]


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], default_runs=2000, runs_help="operations on each side")
    p.add_argument("--block", type=int, default=50, help="operations per interleaved block (default: 50)")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured operations on each side first (default: 50)")
    p.add_argument("--profile", action="store_true", help="also cProfile extra subject saves and print the top functions")
    args = p.parse_args()
    if args.runs < 2 or args.block < 1:
        p.error("--runs must be >= 2 and --block >= 1")
    verbose = not args.json

    perf = time.perf_counter_ns
    with tempfile.TemporaryDirectory(prefix="at-tui-bench-save-") as tmp:
        tmp_path = Path(tmp)
        workspace, visit = open_subject(tmp_path / "at-tui.sqlite3")
        floor_conn = open_floor(tmp_path / "floor.sqlite3")
        try:
            save = workspace.save_answer

            def floor_op(question_id: str, raw: object) -> int:
                payload = encoded(question_id, raw)  # outside the timed region below
                start = perf()
                floor_conn.execute("BEGIN IMMEDIATE")
                floor_conn.execute("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)", (question_id, payload))
                floor_conn.execute("COMMIT")
                return perf() - start

            conn = workspace.conn
            unchanged: list[int] = []

            def subject_op(question_id: str, raw: object) -> int:
                before = conn.total_changes
                start = perf()
                save(visit, question_id, raw)
                elapsed = perf() - start
                if conn.total_changes == before:  # checked outside the timed region
                    unchanged.append(len(unchanged))
                return elapsed

            # Warm-up (caches, statements, file growth), not measured.
            for question_id, raw in values(args.warmup):
                floor_op(question_id, raw)
                subject_op(question_id, raw)
            unchanged.clear()

            ops = values(args.runs)
            # Both sides go through the same sequence, shifted so that no value repeats
            # the warm-up's (integers stay <= 900,010, under the app's 1,000,000 limit).
            ops = [(q, f"Suite. {raw}" if q == TEXT_QUESTION else str(int(raw) + 10**6 // 2)) for q, raw in ops]
            floor_ns: list[int] = []
            floor_kind: list[str] = []
            subject_ns: list[int] = []
            subject_kind: list[str] = []
            subject_len: list[int] = []
            start_wall = time.monotonic()
            blocks = range(0, len(ops), args.block)
            for b, first in enumerate(blocks):
                block = ops[first : first + args.block]
                sides = ("floor", "subject") if b % 2 == 0 else ("subject", "floor")
                for side in sides:
                    if side == "floor":
                        for question_id, raw in block:
                            floor_ns.append(floor_op(question_id, raw))
                            floor_kind.append(question_id)
                    else:
                        for question_id, raw in block:
                            subject_ns.append(subject_op(question_id, raw))
                            subject_kind.append(question_id)
                            subject_len.append(len(raw))
                if verbose and (b + 1) % max(1, len(blocks) // 5) == 0:
                    c.progress(verbose, f"  {first + len(block)}/{len(ops)} operations each side")
            elapsed = time.monotonic() - start_wall

            # Every call must have written something, and the last values must be there.
            answers = workspace.visits.answers(visit.id)
            last_text = next(raw for q, raw in reversed(ops) if q == TEXT_QUESTION)
            if unchanged or answers.get(f"q:{TEXT_QUESTION}") != last_text:
                raise SystemExit(f"subject did not write every call: {len(unchanged)} of {len(ops)} saves changed nothing")
            history_rows = history_count(workspace, visit.id)
            db_size = sum(f.stat().st_size for f in tmp_path.glob("at-tui.sqlite3*"))

            profile_rows = None
            if args.profile:
                profile_rows = profile_subject(save, visit, args.block * 10)
        finally:
            workspace.close()
            floor_conn.close()

    ms = lambda ns: [x / 1e6 for x in ns]  # noqa: E731
    f, s = c.summary(ms(floor_ns)), c.summary(ms(subject_ns))
    ratio = c.ratio(s["p50"], f["p50"])
    ratio_p95 = c.ratio(s["p95"], f["p95"])
    # The two questions make a two-humped distribution (the overall p50 sits between
    # them), so each question is also compared with the floor writing the same values.
    by_kind = {}
    for kind in (TEXT_QUESTION, COUNT_QUESTION):
        sk = c.summary([t / 1e6 for t, k in zip(subject_ns, subject_kind) if k == kind])
        fk = c.summary([t / 1e6 for t, k in zip(floor_ns, floor_kind) if k == kind])
        by_kind[kind] = {"subject": sk, "floor": fk, "ratio": c.ratio(sk["p50"], fk["p50"])}
    # How the long text's size shows: first and last tenth of the long_text saves.
    text_ops = [(t / 1e6, n) for t, k, n in zip(subject_ns, subject_kind, subject_len) if k == TEXT_QUESTION]
    tenth = max(1, len(text_ops) // 10)
    early, late = text_ops[:tenth], text_ops[-tenth:]
    growth = {
        "first_tenth": {"chars": [early[0][1], early[-1][1]], "p50_ms": c.median([t for t, _ in early])},
        "last_tenth": {"chars": [late[0][1], late[-1][1]], "p50_ms": c.median([t for t, _ in late])},
    }
    ok = ratio <= TARGET
    result = {
        "benchmark": "save_answer",
        "operations_each": len(ops),
        "block": args.block,
        "target_ratio": TARGET,
        "ratio": ratio,
        "ratio_p95": ratio_p95,
        "ok": ok,
        "floor_ms": f,
        "subject_ms": s,
        "by_question_ms": by_kind,
        "subject_long_text_growth": growth,
        "subject_db_bytes_after": db_size,
        "subject_history_rows_after": history_rows,
        "elapsed_s": elapsed,
        "environment": c.environment(),
    }
    if profile_rows is not None:
        result["profile_top_tottime"] = profile_rows
    if args.json:
        result["raw_ms"] = {"floor": ms(floor_ns), "subject": ms(subject_ns)}
        c.dump_json(result)
        return 0 if ok else 1

    sys.stderr.flush()
    print()
    print(f"save_answer ({len(ops)} operations each side, blocks of {args.block}, {elapsed:.1f}s,"
          f" Python {result['environment']['python']}, load {result['environment']['loadavg']})")
    for label, st in (("floor (raw commit)", f), ("subject (save_answer)", s)):
        print(f"  {label:<22} p50 {st['p50']:.3f} ms  p95 {st['p95']:.3f} ms  min {st['min']:.3f}  max {st['max']:.3f}")
    for kind, k in by_kind.items():
        print(f"    {kind:<24} subject p50 {k['subject']['p50']:.3f} ms p95 {k['subject']['p95']:.3f} ms"
              f" | floor p50 {k['floor']['p50']:.3f} ms p95 {k['floor']['p95']:.3f} ms | ratio {k['ratio']:.2f}x")
    print(f"    long_text {growth['first_tenth']['chars'][0]}-{growth['first_tenth']['chars'][1]} chars:"
          f" p50 {growth['first_tenth']['p50_ms']:.3f} ms; {growth['last_tenth']['chars'][0]}-"
          f"{growth['last_tenth']['chars'][1]} chars: p50 {growth['last_tenth']['p50_ms']:.3f} ms")
    print(f"  p95 ratio {ratio_p95:.2f}x; subject database + WAL after the run: {db_size / 1e6:.1f} MB,"
          f" {history_rows} history rows")
    print("  raw: --json prints every operation's time (floor and subject, in run order)")
    if profile_rows is not None:
        print()
        print("  cProfile of extra subject saves, top functions by own time:")
        for row in profile_rows:
            print(f"    {row['tottime_ms']:8.1f} ms own {row['cumtime_ms']:8.1f} ms cum {row['calls']:>7} calls  {row['function']}")
    print()
    print(
        f"save_answer: ratio {ratio:.2f}x (target <= {TARGET}x) {c.verdict(ratio, TARGET)}; "
        f"p50 {s['p50']:.3f} ms vs floor {f['p50']:.3f} ms, p95 {s['p95']:.3f} ms vs floor {f['p95']:.3f} ms; "
        + ", ".join(f"{kind} {k['ratio']:.2f}x" for kind, k in by_kind.items())
    )
    return 0 if ok else 1


def profile_subject(save, visit, n: int, top: int = 15) -> list[dict]:
    """cProfile `n` more saves (continuing the growing text); not part of the timed figures."""
    import cProfile
    import pstats

    ops = [(q, f"Profil. {raw}" if q == TEXT_QUESTION else str(int(raw) + 10**6 // 4)) for q, raw in values(n)]
    profiler = cProfile.Profile()
    profiler.enable()
    for question_id, raw in ops:
        save(visit, question_id, raw)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_cc, nc, tt, ct, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]:
        short = filename.replace(c.REPO_ROOT + os.sep, "")
        rows.append({"function": f"{short}:{line}({name})", "calls": nc, "tottime_ms": tt * 1000, "cumtime_ms": ct * 1000})
    return rows


if __name__ == "__main__":
    sys.exit(main())
