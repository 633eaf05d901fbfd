"""Shared helpers for the benchmark scripts in `bench/` (stdlib only).

Every benchmark compares the app against a floor measured in the same run,
interleaved with it, and reports the ratio of medians: the machines are shared
and noisy, so only figures measured side by side can be compared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from typing import Any

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parser(description: str, default_runs: int, runs_help: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--runs", type=int, default=default_runs, help=f"{runs_help} (default: {default_runs})")
    p.add_argument("--json", action="store_true", help="print one JSON object (machine-readable) instead of text")
    return p


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): an observed value, stable for small samples."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "min": min(values),
        "p50": median(values),
        "p95": percentile(values, 95),
        "max": max(values),
    }


def ratio(subject: float, floor: float) -> float:
    return subject / floor if floor > 0 else float("inf")


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "OVER"


def environment() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load] if load else None,
    }


def textual_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("textual")
    except Exception:  # pragma: no cover - informative only
        return None


def dump_json(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def progress(enabled: bool, text: str) -> None:
    """Progress on stderr, so `--json` output on stdout stays parseable."""
    if enabled:
        print(text, file=sys.stderr, flush=True)


def timed_import(module, run) -> dict:
    """Run `run(on_progress)` (an importer call) with `module.immediate` timed: the swap.

    Returns the importer's report with the wall time, the time after the whole file was
    read ("after_read_s") and the time the database was locked for the swap ("locked_s").
    """
    import time

    read_done: list[float] = []
    locked: list[float] = []

    def on_progress(done: int, total: int) -> None:
        if done == total:
            read_done.append(time.perf_counter())

    original = module.immediate

    class TimedImmediate(original):  # the swap transaction, timed
        def __enter__(self):
            self.started = time.perf_counter()
            return super().__enter__()

        def __exit__(self, *exc):
            super().__exit__(*exc)
            locked.append(time.perf_counter() - self.started)

    module.immediate = TimedImmediate
    try:
        started = time.perf_counter()
        report = run(on_progress)
        ended = time.perf_counter()
    finally:
        module.immediate = original
    return {"report": report, "wall_s": ended - started, "after_read_s": ended - read_done[-1], "locked_s": locked[-1]}


def start_central(folder, user: str = "marie"):
    """A real `at-tui central serve` on 127.0.0.1 (free port, database under `folder`) and an AT
    user: (process, url, token, database path). Terminate the process when done."""
    import socket
    import subprocess
    import time
    from pathlib import Path

    import httpx

    db = Path(folder) / "central.sqlite3"
    env = {**os.environ, "AT_TUI_HOME": str(Path(folder) / "server-home")}
    made = subprocess.run([sys.executable, "-m", "at_tui", "central", "add-user", user, "--role", "at", "--db", str(db)],
                          capture_output=True, text=True, env=env, check=True)
    token = made.stdout.strip().splitlines()[-1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "at_tui", "central", "serve", "--db", str(db), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health").status_code == 200:
                return process, url, token, db
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the central service did not start")


# -- opportunities (issue 11): ten years of a busy AT, or a CM's region ---------------------------

BENCH_TODAY = "2026-12-05"  # the day the seeded history stops (follow-ups after it are not done)


def seed_opportunities(workspace, opportunities: int, entries: int, seed: int = 20261205) -> dict[str, int]:
    """Add `opportunities` finished visits, each with its opportunity, and `entries` journal
    entries in all, with their `due_items`, by bulk SQL inserts consistent with schema v10.

    Each opportunity follows the playbook's lifecycle on a plausible timeline (cadrage,
    lancement, formation, fin du déploiement, M+1/M+3/M+6 as long as they fall before
    BENCH_TODAY; older ones « Terminé », some « Sans suite », recent ones « En attente »); free
    notes make up the count of entries. What is due is computed by the domain's own
    `due_items`, as the store does it. The visits are marked synced (no outbox rows), as a
    long history would be. Returns the counts written."""
    import datetime as dt
    import random
    import uuid

    from at_tui.domain.due_dates import add_months
    from at_tui.domain.opportunity import JournalEntry, Opportunity, due_items
    from at_tui.store.db import immediate
    from at_tui.store.opportunities import STATUS_TYPE

    conn = workspace.conn
    template = conn.execute(
        "SELECT playbook_id, playbook_version, questionnaire_id, questionnaire_version FROM visits LIMIT 1").fetchone()
    if template is None:  # an empty database: one real visit stores the playbook's snapshots
        workspace.start_visit({"structure": "Visite modèle", "departement": "31", "typologie": "MSP",
                               "visit_date": "01/12/2026"})
        template = conn.execute(
            "SELECT playbook_id, playbook_version, questionnaire_id, questionnaire_version FROM visits LIMIT 1"
        ).fetchone()
    lifecycle = workspace.lifecycle()
    activity = {a.id: a for a in lifecycle.activities}
    rng = random.Random(seed)
    today = dt.date.fromisoformat(BENCH_TODAY)
    departements = [d.code for d in workspace.territory.departements]
    typologies = ["MSP", "CPTS", "CH", "EHPAD", "DAC", "SSIAD"]
    offers = [("discussions_simple", "AT", "CM")] * 6 + [("discussions_complexe", "CM", "AT")] * 3 + [
        ("dossiers", "CM", "AT")]

    visits, opps, journal, due, synced = [], [], [], [], []
    per_opportunity: list[list[JournalEntry]] = []
    stamp = f"{BENCH_TODAY}T08:00:00.000000+00:00"

    def typed(day: dt.date) -> str:  # an entry is written the day it happens (the CM–AT pack reads it)
        return f"{day.isoformat()}T17:00:00.000000+00:00"

    def entry(opp_id: str, activity_id: str, day: dt.date, text: str = "", answers=None) -> JournalEntry:
        a = activity[activity_id]
        return JournalEntry(str(uuid.UUID(int=rng.getrandbits(128))), opp_id, a.id, a.type, a.title,
                            day.isoformat(), "marie", "AT", text, answers or {}, None, typed(day))

    for i in range(opportunities):
        opp_id = str(uuid.UUID(int=rng.getrandbits(128)))
        # Three in ten are older than a year: « Terminé » or closed. Recent ones: some closed, many
        # still « En attente », half on their way (20,000 entries for 5,000 is four each on average).
        old = rng.random() < 0.3
        fate = rng.random()
        closed = fate < 0.65 if old else fate < 0.1
        deployed = not closed and (old or fate >= 0.55)
        age = rng.randint(400, 3650) if old else rng.randint(20, 399)
        visit_day = today - dt.timedelta(days=age)
        offer, lead, support = rng.choice(offers)
        dept = departements[i % len(departements)]
        typologie = typologies[i % len(typologies)]
        structure = f"{typologie} n°{i + 1} — structure de santé du {dept}"
        status, reason, launch, end = "en_attente", None, None, None
        log = [JournalEntry(f"{opp_id}:information", opp_id, "information", activity["information"].type,
                            activity["information"].title, visit_day.isoformat(), "marie", "AT",
                            "Visite SPICO : besoins, fonctionnalités, partenaires.", {}, None, typed(visit_day))]
        if closed:  # without deployment
            status, reason = "sans_suite", "Pas de projet à court terme."
            log.append(JournalEntry(str(uuid.UUID(int=rng.getrandbits(128))), opp_id, "statut", STATUS_TYPE,
                                    "Statut « Sans suite »", min(today, visit_day + dt.timedelta(days=30)).isoformat(),
                                    "marie", "AT", reason, {}, None,
                                    typed(min(today, visit_day + dt.timedelta(days=30)))))
        elif deployed:  # as far as the calendar allows
            day = visit_day + dt.timedelta(days=rng.randint(7, 40))
            steps = [("cadrage", day)]
            day += dt.timedelta(days=rng.randint(7, 30))
            steps.append(("lancement", day))
            day += dt.timedelta(days=rng.randint(7, 30))
            steps.append(("formation", day))
            day += dt.timedelta(days=rng.randint(14, 60))
            steps.append(("fin-deploiement", day))
            for follow_up, months in (("suivi-m1", 1), ("suivi-m3", 3), ("suivi-m6", 6)):
                steps.append((follow_up, add_months(day, months) + dt.timedelta(days=rng.randint(-3, 12))))
            for activity_id, when in steps:
                if when > today:
                    break
                answers = {"usages_en_run": True} if activity_id == "suivi-m6" else {}
                log.append(entry(opp_id, activity_id, when, "Compte rendu.", answers))
                if activity_id == "cadrage":
                    status = "projet_en_cours"
                elif activity_id == "lancement":
                    launch = when.isoformat()
                elif activity_id == "fin-deploiement":
                    end = when.isoformat()
                elif activity_id == "suivi-m6":
                    status = "termine"
                    log.append(JournalEntry(str(uuid.UUID(int=rng.getrandbits(128))), opp_id, "statut", STATUS_TYPE,
                                            "Statut « Terminé »", when.isoformat(), "marie", "AT", "", {}, None,
                                            typed(when)))
        visits.append((opp_id, structure, dept, typologie, "Dr Camille Martin", "Coordinatrice", visit_day.isoformat(),
                       *template, "classification", "terminee", stamp, stamp, stamp))
        opps.append((opp_id, template[0], template[1], offer, lead, support, status, reason, "marie",
                     visit_day.isoformat(), launch, end, stamp, stamp))
        synced.append((opp_id, stamp))
        per_opportunity.append(log)
        journal.extend(log)
    if len(journal) > entries:
        raise SystemExit(f"{len(journal)} lifecycle entries already exceed --entries {entries}")
    while len(journal) < entries:  # free notes, anywhere in an opportunity's life
        k = rng.randrange(opportunities)
        visit_day = dt.date.fromisoformat(opps[k][9])
        note = entry(opps[k][0], "note", visit_day + dt.timedelta(days=rng.randint(0, (today - visit_day).days)),
                     "Appel de la coordinatrice : point d'étape.")
        per_opportunity[k].append(note)
        journal.append(note)
    identity = {v[0]: (v[1], v[2]) for v in visits}
    for row, log in zip(opps, per_opportunity):
        structure, departement = identity[row[0]]
        opportunity = Opportunity(row[0], structure, departement, row[3], row[4], row[5], row[6], row[7], row[8], None,
                                  row[9], row[10], row[11])
        due.extend((d.opportunity_id, d.activity, d.title, d.due, d.lead, structure, departement, row[6])
                   for d in due_items(opportunity, log, lifecycle))

    with immediate(conn):
        conn.execute("INSERT INTO sync_pause (reason) VALUES ('bench')")  # history, not changes to send
        conn.executemany(
            """INSERT INTO visits (id, structure, departement, typologie, contact_name, contact_role, visit_date,
                   playbook_id, playbook_version, questionnaire_id, questionnaire_version, current_step, status,
                   created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            visits)
        conn.executemany("INSERT INTO sync_visits (visit_id, rev, updated_at) VALUES (?, 1, ?)", synced)
        conn.executemany(
            """INSERT INTO opportunities (id, playbook_id, playbook_version, offer, lead, support, status,
                   status_reason, at_login, visit_date, launch_date, deployment_end, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", opps)
        conn.executemany(
            """INSERT INTO journal (id, opportunity_id, activity, type, title, day, author, role, text, answers,
                   supersedes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(e.id, e.opportunity_id, e.activity, e.type, e.title, e.day, e.author, e.role, e.text,
              json.dumps(dict(e.answers)), e.supersedes, e.created_at) for e in journal])
        conn.executemany("INSERT INTO due_items (opportunity_id, activity, title, due, lead, structure, departement, "
                         "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", due)
        conn.execute("DELETE FROM sync_pause")
    conn.execute("PRAGMA optimize")
    return {"opportunities": len(opps), "journal": len(journal), "due_items": len(due)}


# -- children that measure themselves -----------------------------------------------------------

# The child reads its own peak RSS: a forked child's ru_maxrss starts at the parent's.
PEAK_KIB = """
def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def run_json_child(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter (the repository's src first on the path); the JSON it
    prints on a line starting with « BENCH »."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.path.join(REPO_ROOT, "src"),
                                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    line = next((text for text in done.stdout.splitlines() if text.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(line.removeprefix("BENCH "))


def page_cursors(url: str, token: str, path: str, limit: int) -> list[str]:
    """The `since` of every page a full pull of `path` asks for (setup, not timed)."""
    import httpx

    cursors, cursor = [], "0"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while True:
            cursors.append(cursor)
            page = client.get(path, params={"since": cursor, "limit": limit}).json()
            cursor = page["cursor"]
            if not page["more"]:
                return cursors


# The floor of a pull: the same pages (same URLs and cursors), bytes read and discarded.
# Arguments: url, token, cursors file (JSON list), page size, path.
PAGES_FLOOR = PEAK_KIB + """
import json, sys, time
import httpx

url, token, cursors_file, limit, path = sys.argv[1:6]
cursors = json.load(open(cursors_file))
with httpx.Client(base_url=url, headers={"Authorization": "Bearer " + token}, timeout=60) as client:
    started = time.perf_counter()
    size = 0
    for cursor in cursors:
        response = client.get(path, params={"since": cursor, "limit": limit})
        response.raise_for_status()
        size += len(response.content)
    floor_s = time.perf_counter() - started
print("BENCH " + json.dumps({"floor_s": floor_s, "bytes": size, "floor_peak_kib": peak_kib()}))
"""
