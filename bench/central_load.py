"""A region on a Monday morning: N laptops syncing at once against the real central service, on SQLite and PostgreSQL.

Run from the repository root (needs the central extra: pip install -e '.[central]'):

    python bench/central_load.py                          # 50 laptops x 200 visits, both backends
    python bench/central_load.py --backend postgresql --workers 2
    python bench/central_load.py --laptops 5 --visits 20 --json
    python bench/central_load.py --spread 60              # the laptops start over a minute, not at one instant
    python bench/central_load.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres

Setup (not timed): for each backend, a fresh database — a SQLite file, or a new database on
a PostgreSQL server (`--pg-url`, an admin URL; else a throwaway server started here by
tests/postgres_server.py with PostgreSQL's durable defaults: fsync on) —, one AT user per
laptop and one CM made with the real CLI (`at-tui central add-user`), and a real
`at-tui central serve` process on 127.0.0.1 at its default settings (rate limit included),
with `--workers` processes on PostgreSQL (SQLite serves from one). Every request body is
built before the clock starts.

Subject: every laptop at once, as `at_tui.sync.engine` does it — `GET /v1/me`, its visits'
`content` operations in batches of 200 (engine.BATCH), then, in the next round, their
opportunities (`opportunity` operations: the fields and two journal entries each), then a
full pull of its visits (`GET /v1/visits`, pages of 500: engine.PAGE). The laptops are
asyncio tasks, each with its own httpx connection, in this one process: the machine has 2
cores and the service needs them; 50 client interpreters would take the CPU the service is
measured on, while async clients that only send ready bytes and read answers cost little.

Floor: the same clients POST the same bodies, in the same batches, all at once, to
`POST /v1/noop` of the same service (it authenticates and reads the body, nothing else).

Checked and reported: errors (any answer other than 200 and « applied »; target 0), the
exactly-once check (each laptop pulls each of its visits once, content, opportunity fields and
journal equal to what it sent; a CM's full pull afterwards finds every visit once, rev 1),
throttled requests (429: must be 0 at the default settings), batch latency p50/p95 (target
p95 <= 2 s), the total time, and the push phase against the floor.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

BATCH = 200  # at_tui.sync.engine.BATCH: operations per push
PAGE = 500  # at_tui.sync.engine.PAGE: visits per pulled page
P95_TARGET_S = 2.0
STARTUP_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 300.0
BACKENDS = ("sqlite", "postgresql")


def is_postgres(db: str) -> bool:
    """The rule of `at_tui.central.backends.is_postgres`: a PostgreSQL URL, else a SQLite file."""
    return str(db).startswith(("postgresql://", "postgres://"))


# -- what a laptop sends (the shapes of tests/central_server.py and tests/central/opportunity_ops.py) --------


def visit_content(visit_id: str, laptop: int, index: int) -> dict[str, Any]:
    """A visit as a laptop pushes it: identity, a few answers and a long note."""
    return {
        "id": visit_id,
        "identity": {
            "structure": f"Maison de santé pluriprofessionnelle n° {index} du poste {laptop}",
            "departement": ("31", "09", "11", "34", "81", "65", "32")[index % 7],
            "typologie": "CPTS/MSP",
            "contact_name": f"Dr Camille Martin-{index}",
            "contact_role": "Coordinatrice",
            "visit_date": "2026-11-22",
            "maillage": index % 2 == 0,
            "commune": "Saint-Gaudens",
            "finess": "",
        },
        "playbook": {"id": "spico", "version": 1},
        "questionnaire": {"id": "recueil-use", "version": 1},
        "status": "en_cours",
        "current_step": "presentation",
        "created_at": "2026-11-22T09:30:02.114512+00:00",
        "updated_at": "2026-11-22T09:45:00.000000+00:00",
        "finished_at": None,
        "answers": {
            "q:opportunite": True,
            "q:utilisateurs_potentiels": 12 + index % 30,
            "notes:presentation": "Échanges par messagerie sécurisée et téléphone ; dossiers papier partagés. " * 4,
        },
        "override": None,
    }


def opportunity_fields(login: str) -> dict[str, Any]:
    return {
        "playbook_id": "spico", "playbook_version": 2, "offer": "discussions_simple", "lead": "AT", "support": "CM",
        "status": "en_attente", "status_reason": None, "at_login": login, "cm_login": None,
        "visit_date": "2026-11-22", "launch_date": None, "deployment_end": None,
    }


def journal(visit_id: str, login: str) -> list[dict[str, Any]]:
    """The entry an opportunity opens with, and a note."""
    return [
        {"id": f"{visit_id}:information", "activity": "information", "type": "Information", "title": "Information",
         "day": "2026-11-22", "author": login, "role": "AT", "text": "Présentation de l'offre SPICO.", "answers": {},
         "supersedes": None, "created_at": "2026-11-22T10:00:00.000000+00:00"},
        {"id": str(uuid.uuid4()), "activity": "note", "type": "Note", "title": "Note", "day": "2026-11-23",
         "author": login, "role": "AT", "text": "Rappeler la coordinatrice pour le cadrage.", "answers": {},
         "supersedes": None, "created_at": "2026-11-23T10:00:00.000000+00:00"},
    ]


@dataclass
class Laptop:
    login: str
    token: str
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # visit id -> content, fields, journal
    bodies: list[bytes] = field(default_factory=list)  # the push requests, in order
    op_ids: list[set[str]] = field(default_factory=list)  # each body's op ids


def prepare(laptop: Laptop, number: int, visits: int) -> None:
    """The laptop's visits and its push bodies: contents first, then (next round) opportunities."""
    contents, opportunities = [], []
    for index in range(visits):
        visit_id = str(uuid.uuid4())
        content = visit_content(visit_id, number, index)
        fields, entries = opportunity_fields(laptop.login), journal(visit_id, laptop.login)
        laptop.sent[visit_id] = {"content": content, "fields": fields, "journal": entries}
        contents.append({"op_id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "content", "base_rev": 0,
                         "payload": content})
        opportunities.append({"op_id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "opportunity", "base_rev": 0,
                              "payload": {"fields": fields, "base": None, "journal": entries}})
    for queue in (contents, opportunities):
        for start in range(0, len(queue), BATCH):
            batch = queue[start:start + BATCH]
            laptop.bodies.append(json.dumps({"operations": batch}, ensure_ascii=False).encode("utf-8"))
            laptop.op_ids.append({op["op_id"] for op in batch})


# -- the service ------------------------------------------------------------------------------------


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env.update(PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1", AT_TUI_HOME=str(folder / "server-home"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(c.REPO_ROOT, "src"), os.environ.get("PYTHONPATH")]))
    return env


def cli(folder: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "at_tui", "central", *args], capture_output=True, text=True,
                          encoding="utf-8", env=_env(folder), check=False, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"at-tui central {args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def add_user(folder: Path, db: str, login: str, role: str) -> str:
    token = cli(folder, "add-user", login, "--role", role, "--db", db).strip().splitlines()[-1]
    if not token.startswith("att_"):
        raise SystemExit(f"no token for {login}")
    return token


class Service:
    """`at-tui central serve` on a free port of 127.0.0.1; its output kept in `folder`."""

    def __init__(self, folder: Path, db: str, workers: int) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.out = open(folder / "service.stdout", "wb")
        self.err = open(folder / "service.stderr", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "at_tui", "central", "serve", "--db", db, "--port", str(self.port),
             "--workers", str(workers)],
            stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL, env=_env(folder))
        import httpx

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the central service stopped at start:\n{self.stderr()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"the central service did not start:\n{self.stderr()}")

    def stderr(self) -> str:
        self.err.flush()
        return (self.folder / "service.stderr").read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM, as systemd does); the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.out.close()
        self.err.close()
        return self.process.returncode


# -- the clients -----------------------------------------------------------------------------------


@dataclass
class Tally:
    errors: list[str] = field(default_factory=list)
    throttled: int = 0
    batch_s: list[float] = field(default_factory=list)
    laptop_s: list[float] = field(default_factory=list)
    pull_s: list[float] = field(default_factory=list)
    deferred: int = 0  # visits a laptop received only at its next sync (see next_sync)

    def error(self, text: str) -> None:
        if len(self.errors) < 1000:
            self.errors.append(text[:300])


async def _request(client, tally: Tally, method: str, path: str, **kwargs):
    """One request; None (and an error counted) unless it answers 200."""
    import httpx

    try:
        answer = await client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        tally.error(f"{method} {path}: {type(error).__name__} {error}")
        return None
    if answer.status_code == 429:
        tally.throttled += 1
    if answer.status_code != 200:
        tally.error(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        return None
    return answer


async def sync(laptop: Laptop, url: str, tally: Tally, pulled: dict[str, list[dict]], start: asyncio.Event,
               delay: float = 0.0) -> None:
    """What one laptop does: who am I, push every batch in turn, pull everything back."""
    import httpx

    headers = {"Authorization": f"Bearer {laptop.token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        await start.wait()
        await asyncio.sleep(delay)
        began = time.perf_counter()
        if await _request(client, tally, "GET", "/v1/me") is None:
            return
        for body, op_ids in zip(laptop.bodies, laptop.op_ids):
            sent_at = time.perf_counter()
            answer = await _request(client, tally, "POST", "/v1/push", content=body)
            if answer is None:
                return  # a laptop stops its sync at the first failed batch (it resumes next time)
            results = answer.json()["results"]
            tally.batch_s.append(time.perf_counter() - sent_at)
            if {r["op_id"] for r in results} != op_ids:
                tally.error(f"{laptop.login}: answers for other operations than those sent")
            for result in results:
                if result["status"] != "applied":
                    tally.error(f"{laptop.login}: {result['status']} {json.dumps(result, ensure_ascii=False)[:200]}")
        pull_began = time.perf_counter()
        got = await pull_pages(client, tally, "0")
        if got is None:
            return
        ended = time.perf_counter()
        tally.pull_s.append(ended - pull_began)
        tally.laptop_s.append(ended - began)
        pulled[laptop.login] = got


async def pull_pages(client, tally: Tally, cursor: str) -> tuple[list[dict], str] | None:
    """A pull from `cursor` until `more` is false: the items and the last cursor (None on an error)."""
    items = []
    while True:
        answer = await _request(client, tally, "GET", "/v1/visits", params={"since": cursor, "limit": PAGE})
        if answer is None:
            return None
        page = answer.json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            return items, cursor


async def next_sync(fleet: list[Laptop], url: str, tally: Tally, pulled: dict[str, tuple[list[dict], str]]) -> None:
    """Each laptop's next pull, from its cursor, once every laptop is done (not timed): on PostgreSQL,
    a row is served only once every transaction older than it has ended (docs/sync-protocol.md,
    « Curseurs sur PostgreSQL »), so under load a laptop may get some of its visits at its next sync."""
    import httpx

    async def one(laptop: Laptop) -> None:
        if laptop.login not in pulled:
            return
        items, cursor = pulled[laptop.login]
        headers = {"Authorization": f"Bearer {laptop.token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            got = await pull_pages(client, tally, cursor)
        if got is not None:
            pulled[laptop.login] = (items + got[0], got[1])
            tally.deferred += len(got[0])

    await asyncio.gather(*(one(laptop) for laptop in fleet))


async def noop(laptop: Laptop, url: str, tally: Tally, start: asyncio.Event, delay: float = 0.0) -> None:
    """The floor: the same bodies, in the same order, at the same moments, to the no-op endpoint."""
    import httpx

    headers = {"Authorization": f"Bearer {laptop.token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        await start.wait()
        await asyncio.sleep(delay)
        for body in laptop.bodies:
            sent_at = time.perf_counter()
            if await _request(client, tally, "POST", "/v1/noop", content=body) is None:
                return
            tally.batch_s.append(time.perf_counter() - sent_at)


async def all_at_once(coroutines) -> float:
    """Run the laptops' coroutines together, released at the same instant; the wall time."""
    start = asyncio.Event()
    tasks = [asyncio.create_task(make(start)) for make in coroutines]
    await asyncio.sleep(0.5)  # every client made and waiting
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - began


# -- the checks -------------------------------------------------------------------------------------


def exactly_once(laptops: list[Laptop], pulled: dict[str, tuple[list[dict], str]], everything: list[dict]) -> list[str]:
    """What breaks « every visit exactly once, content equal » (a laptop's two pulls together, and a
    CM's full pull): empty when all is well."""
    problems: list[str] = []
    for laptop in laptops:
        if laptop.login not in pulled:
            problems.append(f"{laptop.login}: no complete pull")
            continue
        items = pulled[laptop.login][0]
        ids = [item["id"] for item in items]
        if len(ids) != len(set(ids)) or set(ids) != set(laptop.sent):
            problems.append(f"{laptop.login}: pulled {len(ids)} ({len(set(ids))} distinct) of {len(laptop.sent)} sent")
        for item in items:
            sent = laptop.sent.get(item["id"])
            opportunity = item.get("opportunity") or {}
            if sent is None:
                problems.append(f"{laptop.login}: pulled a visit it did not send")
            elif item["content"] != sent["content"] or item["rev"] != 1 or item["owner"] != laptop.login:
                problems.append(f"{laptop.login}: visit {item['id']} differs from what was sent")
            elif opportunity.get("fields") != sent["fields"] or sorted(
                    opportunity.get("journal") or [], key=lambda e: e["id"]) != sorted(sent["journal"],
                                                                                       key=lambda e: e["id"]):
                problems.append(f"{laptop.login}: opportunity of {item['id']} differs from what was sent")
            if len(problems) > 20:
                return problems
    expected = sum(len(laptop.sent) for laptop in laptops)
    ids = [item["id"] for item in everything]
    if len(ids) != expected or len(set(ids)) != expected:
        problems.append(f"central: {len(ids)} visits ({len(set(ids))} distinct) for {expected} sent")
    return problems


def full_pull(url: str, token: str) -> list[dict]:
    """Every visit of the region, as a CM pulls it (not timed)."""
    import httpx

    items, cursor = [], "0"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT_S) as client:
        while True:
            page = client.get("/v1/visits", params={"since": cursor, "limit": 1000})
            page.raise_for_status()
            data = page.json()
            items += data["items"]
            cursor = data["cursor"]
            if not data["more"]:
                return items


# -- one backend ------------------------------------------------------------------------------------


def run(backend: str, db: str, folder: Path, laptops: int, visits: int, workers: int = 1,
        verbose: bool = False, spread: float = 0.0) -> dict[str, Any]:
    """The whole measure on one database (`db`: a `--db` value of `backend`); the figures and checks.
    `spread`: the laptops start one after the other over that many seconds (0: all at the same instant)."""
    folder.mkdir(parents=True, exist_ok=True)
    c.progress(verbose, f"[{backend}] {laptops + 1} users through the CLI ...")
    fleet = [Laptop(f"at{n:03d}", add_user(folder, db, f"at{n:03d}", "at")) for n in range(1, laptops + 1)]
    cm_token = add_user(folder, db, "cm-region", "cm")
    for number, laptop in enumerate(fleet, 1):
        prepare(laptop, number, visits)
    service = Service(folder, db, workers)
    try:
        c.progress(verbose, f"[{backend}] {laptops} laptops x {visits} visits, all at once ...")
        tally, pulled = Tally(), {}
        delays = [spread * n / laptops for n in range(laptops)]
        total_s = asyncio.run(all_at_once(
            [lambda start, lt=lt, d=d: sync(lt, service.url, tally, pulled, start, d) for lt, d in zip(fleet, delays)]))
        c.progress(verbose, f"[{backend}] the floor: the same bodies to /v1/noop ...")
        floor = Tally()
        floor_s = asyncio.run(all_at_once(
            [lambda start, lt=lt, d=d: noop(lt, service.url, floor, start, d) for lt, d in zip(fleet, delays)]))
        c.progress(verbose, f"[{backend}] each laptop's next pull, then checking every visit ...")
        asyncio.run(next_sync(fleet, service.url, tally, pulled))
        problems = exactly_once(fleet, pulled, full_pull(service.url, cm_token))
    finally:
        status = service.stop()
    if status != 0:
        tally.error(f"the service ended with status {status} on SIGTERM:\n{service.stderr()}")
    push_batches = sum(len(laptop.bodies) for laptop in fleet)
    latency = c.summary(tally.batch_s) if tally.batch_s else None
    floor_latency = c.summary(floor.batch_s) if floor.batch_s else None
    result = {
        "backend": backend, "workers": workers, "laptops": laptops, "visits_per_laptop": visits, "spread_s": spread,
        "visits": laptops * visits, "batches": push_batches,
        "megabytes": sum(len(b) for laptop in fleet for b in laptop.bodies) / 1e6,
        "errors": len(tally.errors), "error_samples": tally.errors[:5], "throttled": tally.throttled + floor.throttled,
        "exactly_once": not problems, "exactly_once_problems": problems[:5], "deferred_to_next_sync": tally.deferred,
        "total_s": total_s, "batch_latency_s": latency, "laptop_sync_s": c.summary(tally.laptop_s) if tally.laptop_s
        else None, "pull_s": c.summary(tally.pull_s) if tally.pull_s else None,
        "floor_total_s": floor_s, "floor_errors": len(floor.errors), "floor_batch_latency_s": floor_latency,
    }
    if latency and floor_latency:
        result["p50_ratio"] = c.ratio(latency["p50"], floor_latency["p50"])
        result["p95_ratio"] = c.ratio(latency["p95"], floor_latency["p95"])
    result["targets_met"] = (result["errors"] == 0 and result["exactly_once"] and result["throttled"] == 0
                             and latency is not None and latency["p95"] <= P95_TARGET_S)
    return result


def report(result: dict[str, Any]) -> None:
    r = result
    workers = f", {r['workers']} processes" if r["workers"] > 1 else ""
    spread = f", starting over {r['spread_s']:g} s" if r["spread_s"] else ", all at the same instant"
    print(f"\n{r['backend']}{workers}{spread}: {r['laptops']} laptops x {r['visits_per_laptop']} visits "
          f"({r['visits']} visits, {r['batches']} push batches, {r['megabytes']:.1f} MB)")
    print(f"  errors       {r['errors']:6d}   (target 0: {'OK' if r['errors'] == 0 else 'OVER'})"
          + (f"  e.g. {r['error_samples'][0]}" if r["error_samples"] else ""))
    print(f"  exactly once {'yes' if r['exactly_once'] else 'NO':>6}"
          + (f"   {r['exactly_once_problems'][0]}" if r["exactly_once_problems"] else ""))
    print(f"  next sync    {r['deferred_to_next_sync']:6d}   visits a laptop received only at its next pull "
          "(PostgreSQL: rows behind a transaction still running)")
    print(f"  throttled    {r['throttled']:6d}   (429 at the default rate limit; target 0: "
          f"{'OK' if r['throttled'] == 0 else 'OVER'})")
    lat, floor = r["batch_latency_s"], r["floor_batch_latency_s"]
    if lat:
        print(f"  push batch   p50 {lat['p50']:6.2f} s  p95 {lat['p95']:6.2f} s  max {lat['max']:6.2f} s   "
              f"(target p95 <= {P95_TARGET_S:.0f} s: {c.verdict(lat['p95'], P95_TARGET_S)})")
    if floor:
        print(f"  no-op batch  p50 {floor['p50']:6.2f} s  p95 {floor['p95']:6.2f} s  max {floor['max']:6.2f} s")
    if "p95_ratio" in r:
        print(f"  latency      {r['p50_ratio']:.1f}x the floor at p50, {r['p95_ratio']:.1f}x at p95")
    if r["pull_s"]:
        print(f"  pull         p50 {r['pull_s']['p50']:6.2f} s  p95 {r['pull_s']['p95']:6.2f} s (each laptop's own visits)")
    started = f", the {r['spread_s']:g} s of starts included" if r["spread_s"] else ""
    print(f"  total        {r['total_s']:6.2f} s  (every laptop synced: push and pull{started})   "
          f"no-op floor {r['floor_total_s']:6.2f} s   ratio {c.ratio(r['total_s'], r['floor_total_s']):.1f}x")


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 1, "unused (one run per backend)")
    p.add_argument("--laptops", type=int, default=50, help="laptops syncing at once (default: 50)")
    p.add_argument("--visits", type=int, default=200, help="visits each laptop pushes (default: 200)")
    p.add_argument("--backend", choices=[*BACKENDS, "both"], default="both", help="default: both")
    p.add_argument("--workers", type=int, default=1,
                   help="service processes on PostgreSQL (default: 1; SQLite always serves from one)")
    p.add_argument("--spread", type=float, default=0.0,
                   help="seconds over which the laptops start, one after the other (default: 0, all at once)")
    p.add_argument("--pg-url", help="admin URL of a PostgreSQL server to make the database on "
                                    "(default: a throwaway durable server started here)")
    args = p.parse_args()
    verbose = not args.json
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    results = []
    with tempfile.TemporaryDirectory(prefix="at-tui-bench-load-") as tmp:
        folder = Path(tmp)
        pg_server = None
        try:
            for backend in backends:
                if backend == "sqlite":
                    db, workers = str(folder / "sqlite" / "central.sqlite3"), 1
                    (folder / "sqlite").mkdir()
                else:
                    sys.path.insert(0, os.path.join(c.REPO_ROOT, "tests"))
                    import postgres_server

                    admin = args.pg_url
                    if admin is None:
                        if not (shutil.which("initdb") and shutil.which("pg_ctl")):
                            raise SystemExit(postgres_server.MISSING)
                        c.progress(verbose, "[postgresql] starting a throwaway server (fsync on) ...")
                        pg_server = postgres_server.start(None, fast=False)  # its own folder: the server user reads it
                        admin = pg_server.url
                    db, workers = postgres_server.new_database(admin, prefix="load"), args.workers
                results.append(run(backend, db, folder / backend, args.laptops, args.visits, workers, verbose,
                                   args.spread))
        finally:
            if pg_server is not None:
                pg_server.stop()
    met = all(r["targets_met"] for r in results)
    if args.json:
        c.dump_json({"benchmark": "central_load", "environment": c.environment(), "results": results,
                     "targets_met": met})
    else:
        for result in results:
            report(result)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
