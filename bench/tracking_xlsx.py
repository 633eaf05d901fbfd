"""The SPICO tracking spreadsheet (XLSX) of 5,000 opportunities and 20,000 journal entries, against openpyxl alone.

Run from the repository root:

    python bench/tracking_xlsx.py                  # 5,000 opportunities, 20,000 entries, 5 pairs
    python bench/tracking_xlsx.py --opportunities 20000 --entries 80000 --runs 3
    python bench/tracking_xlsx.py --json

Data: a fresh laptop database (schema as migrated by the app) filled by
`_common.seed_opportunities` (finished visits, each with its opportunity on a
plausible timeline over ten years, free notes up to the count of entries),
plus the Recueil's « utilisateurs potentiels » answer of every visit (the
tracking file reads it).

Subject (a fresh `python -c` child per run): what `at-tui export --format
xlsx` does once the interpreter is up: open the Workspace, stream
`store.tracking.tracked_opportunities` through `domain.tracking.tracking_rows`
into `documents.tracking_xlsx.write_tracking_workbook` (openpyxl write-only,
sheets « Suivi » and « Synthèse »), saved atomically. Timed from before the
Workspace is opened (openpyxl's import included) to the file renamed.

Floor (a fresh child per run): openpyxl write-only writing the very same
cells (read back from the subject's first file with python-calamine, setup,
and held in memory before the clock starts), with the same date format and
header style, both sheets, to a file: the writer alone, no database, no
logic. Its peak RSS therefore includes holding every cell (the subject holds
none: it streams).

Both report their wall time and their own peak RSS (VmHWM, `_common.PEAK_KIB`).
Floor and subject alternate, order flipped every pair. Also measured once: the
real command `at-tui export --format xlsx` end to end (a fresh interpreter
running `python -m at_tui`, start included), its wall time and peak RSS.

Targets: subject p50 <= 3 s and peak RSS <= 150 MB. Exit status 0 when met, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

TARGET_S = 3.0
TARGET_MB = 150.0

SUBJECT = c.PEAK_KIB + """
import json, sys, time
from pathlib import Path

started = time.perf_counter()
from at_tui.domain.tracking import follow_up_labels
from at_tui.domain.classification import OFFER_LABELS
from at_tui.domain.tracking import tracking_rows
from at_tui.documents.tracking_xlsx import write_tracking_workbook
from at_tui.paths import database_path
from at_tui.store.tracking import tracked_opportunities
from at_tui.workspace import Workspace

workspace = Workspace(database_path())
lifecycle = workspace.lifecycle()
written = write_tracking_workbook(
    tracking_rows(tracked_opportunities(workspace.conn), lifecycle, workspace.territory), Path(sys.argv[1]),
    follow_up_labels=follow_up_labels(lifecycle), status_order=[s.label for s in lifecycle.statuses],
    offer_order=list(OFFER_LABELS.values()))
workspace.close()
elapsed = time.perf_counter() - started
print("BENCH " + json.dumps({"s": elapsed, "rows": written.count, "peak_kib": peak_kib()}))
"""

# The cells of both sheets, as JSON lines (dates as {"d": iso}); the header rows of « Suivi » and
# every row of « Synthèse » styled as headers, as the subject does.
FLOOR = c.PEAK_KIB + """
import datetime as dt, json, sys, time

def value(v):
    return dt.date.fromisoformat(v["d"]) if isinstance(v, dict) else v

sheets = json.load(open(sys.argv[1]))
cells = {name: [[value(v) for v in row] for row in rows] for name, rows in sheets.items()}
started = time.perf_counter()
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill, Alignment

workbook = Workbook(write_only=True)
font, fill, align = Font(bold=True), PatternFill("solid", fgColor="DDEBF7"), Alignment(wrap_text=True)
for name, rows in cells.items():
    sheet = workbook.create_sheet(name)
    for index, row in enumerate(rows):
        out = []
        for v in row:
            if isinstance(v, dt.date):
                cell = WriteOnlyCell(sheet, value=v)
                cell.number_format = "[$-40C]dd/mm/yyyy"
                out.append(cell)
            elif index == 0 or name != "Suivi":
                cell = WriteOnlyCell(sheet, value=v)
                cell.font, cell.fill, cell.alignment = font, fill, align
                out.append(cell)
            else:
                out.append(v)
        sheet.append(out)
workbook.save(sys.argv[2])
elapsed = time.perf_counter() - started
print("BENCH " + json.dumps({"s": elapsed, "rows": len(cells["Suivi"]) - 1, "peak_kib": peak_kib()}))
"""

SEED = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import _common as c
from at_tui.paths import database_path
from at_tui.store.db import immediate
from at_tui.workspace import Workspace

workspace = Workspace(database_path())
counts = c.seed_opportunities(workspace, int(sys.argv[2]), int(sys.argv[3]))
with immediate(workspace.conn):
    workspace.conn.execute(
        "INSERT OR REPLACE INTO answers (visit_id, key, value, updated_at) "
        "SELECT id, 'q:utilisateurs_potentiels', CAST(5 + abs(random() % 60) AS TEXT), created_at FROM opportunities")
workspace.close()
print("BENCH " + json.dumps(counts))
"""


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 5, "measured subject/floor pairs")
    p.add_argument("--opportunities", type=int, default=5_000, help="opportunities (and visits) (default: 5000)")
    p.add_argument("--entries", type=int, default=20_000, help="journal entries in all (default: 20000)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured pairs first (default: 1)")
    args = p.parse_args()
    verbose = not args.json

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-xlsx-") as tmp:
        os.environ["AT_TUI_HOME"] = tmp
        c.progress(verbose, f"seeding {args.opportunities:,} opportunities, {args.entries:,} journal entries ...")
        started = time.perf_counter()
        counts = c.run_json_child(SEED, os.path.dirname(os.path.abspath(__file__)), str(args.opportunities),
                                  str(args.entries))
        seed_s = time.perf_counter() - started
        db_mb = (Path(tmp) / "at-tui.sqlite3").stat().st_size / 1e6
        out = Path(tmp) / "out"
        out.mkdir()
        first = c.run_json_child(SUBJECT, str(out / "subject-0.xlsx"))
        cells_file = Path(tmp) / "cells.json"
        cells_file.write_text(json.dumps(read_cells(out / "subject-0.xlsx")))
        file_kb = (out / "subject-0.xlsx").stat().st_size / 1e3
        subject, floor = [], []
        for i in range(args.warmup + args.runs):
            pair = [("subject", SUBJECT, "subject"), ("floor", FLOOR, "floor")]
            if i % 2:
                pair.reverse()
            for name, code, prefix in pair:
                target = str(out / f"{prefix}-{i + 1}.xlsx")
                extra = (str(cells_file), target) if name == "floor" else (target,)
                c.progress(verbose, f"  run {i + 1}: {name} ...")
                measured = c.run_json_child(code, *extra)
                if i >= args.warmup:
                    (subject if name == "subject" else floor).append(measured)
                Path(target).unlink()
        command = run_command(tmp, out / "command.xlsx")

    s_time = c.summary([m["s"] for m in subject])
    f_time = c.summary([m["s"] for m in floor])
    s_mb = max(m["peak_kib"] for m in subject) / 1024
    f_mb = max(m["peak_kib"] for m in floor) / 1024
    ok = s_time["p50"] <= TARGET_S and s_mb <= TARGET_MB and first["rows"] == counts["opportunities"]
    result = {
        "benchmark": "tracking_xlsx",
        "data": {**counts, "db_mb": round(db_mb, 1), "seed_s": round(seed_s, 2), "rows": first["rows"],
                 "file_kb": round(file_kb)},
        "runs": args.runs,
        "subject_s": s_time, "floor_s": f_time, "ratio_p50": c.ratio(s_time["p50"], f_time["p50"]),
        "subject_peak_mb": round(s_mb, 1), "floor_peak_mb": round(f_mb, 1),
        "command": command,
        "targets": {"s": TARGET_S, "peak_mb": TARGET_MB},
        "ok": ok,
        "environment": c.environment(),
    }
    if args.json:
        c.dump_json(result)
        return 0 if ok else 1
    print(f"\nTracking XLSX of {first['rows']:,} opportunities, {counts['journal']:,} journal entries "
          f"(database {db_mb:.1f} MB, file {file_kb:.0f} kB; load {result['environment']['loadavg']})")
    print(f"  {'':<8} {'p50':>7} {'min':>7} {'max':>7} {'peak RSS':>9}")
    print(f"  {'subject':<8} {s_time['p50']:>6.2f}s {s_time['min']:>6.2f}s {s_time['max']:>6.2f}s {s_mb:>6.1f} MB")
    print(f"  {'floor':<8} {f_time['p50']:>6.2f}s {f_time['min']:>6.2f}s {f_time['max']:>6.2f}s {f_mb:>6.1f} MB")
    print(f"  command `at-tui export --format xlsx` end to end: {command['s']:.2f} s, peak RSS {command['peak_mb']:.1f} MB")
    print(f"tracking_xlsx: p50 {s_time['p50']:.2f} s ({result['ratio_p50']:.2f}x openpyxl alone), peak RSS {s_mb:.0f} MB "
          f"(floor {f_mb:.0f} MB); targets <= {TARGET_S:.0f} s {c.verdict(s_time['p50'], TARGET_S)}, "
          f"<= {TARGET_MB:.0f} MB {c.verdict(s_mb, TARGET_MB)}")
    return 0 if ok else 1


def read_cells(path: Path) -> dict[str, list[list]]:
    """Every cell of both sheets (python-calamine: not the writer), dates as {"d": iso}, empty as None."""
    import datetime as dt

    from python_calamine import CalamineWorkbook

    def plain(value):
        if value == "":
            return None
        if isinstance(value, dt.date):
            return {"d": value.isoformat()}
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    book = CalamineWorkbook.from_path(str(path))
    return {name: [[plain(v) for v in row] for row in book.get_sheet_by_name(name).to_python()]
            for name in ("Suivi", "Synthèse")}


# The real command in a fresh interpreter, as `python -m at_tui` runs it; then its own peak RSS
# (VmHWM: a forked child's ru_maxrss would start at this parent's).
COMMAND = c.PEAK_KIB + """
import json, runpy, sys
sys.argv = ["at-tui", "export", "--format", "xlsx", "--output", sys.argv[1]]
try:
    runpy.run_module("at_tui", run_name="__main__")
except SystemExit as exit:
    if exit.code:
        raise
print("BENCH " + json.dumps({"peak_kib": peak_kib()}))
"""


def run_command(home: str, target: Path) -> dict:
    """`at-tui export --format xlsx --output F` end to end: wall time from spawn to exit, its peak RSS."""
    os.environ["AT_TUI_HOME"] = home
    started = time.perf_counter()
    measured = c.run_json_child(COMMAND, str(target))
    return {"s": time.perf_counter() - started, "peak_mb": round(measured["peak_kib"] / 1024, 1)}


if __name__ == "__main__":
    sys.exit(main())
