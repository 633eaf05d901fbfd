"""A CM's first pull of 20,000 visits with their opportunities and journals, against the same pages fetched and discarded.

Run from the repository root (needs the central extra: pip install -e '.[central]'):

    python bench/cm_first_pull.py                      # 20,000 opportunities, 80,000 journal entries
    python bench/cm_first_pull.py --opportunities 2000
    python bench/cm_first_pull.py --runs 3 --json

Setup (not timed): a real `at-tui central serve` process on 127.0.0.1 (its own SQLite
database, WAL, synchronous=FULL), an AT user and a CM user. One visit is made and finished
through the app's Workspace (a Recueil classified « simple »), its opportunity opened and
three activities recorded (cadrage, lancement, formation: four journal entries with the
« Information »). Its `content` and `opportunity` operations, as the laptop sends them, are
the template of `--opportunities` visits (new ids, structures and départements), pushed by
the AT through `POST /v1/push` in batches of 500 operations.

Subject: in a child process, a fresh CM laptop database (`sync_state` role cm) runs
`at_tui.sync.engine.pull` over `Transport` (httpx, keep-alive): pages of 500 visits, each
page's visits, opportunities and journal entries and its cursor in one local transaction.
The child reads its peak RSS after the first quarter of the pages and at the end: a pull
that streams pages keeps the second close to the first.

Floor: in another child, the same pages (same URLs and cursors) fetched by a plain httpx
client, bytes read and discarded. Subject and floor alternate, run by run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

DEPARTEMENTS = ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]
PUSH_OPERATIONS = 500
BOUNDED = 1.5  # peak RSS at the end ≤ 1.5 × the peak after the first quarter of the pages
ANSWERS = {  # a Recueil classified « simple » (tests/answer_sets.py SIMPLE_ANSWERS)
    "opportunite": True, "situation_actuelle": "Téléphone et SMS.", "besoins_sante": "Sorties d'hospitalisation",
    "types_professionnels": "Médecins, IDE", "fonctionnalites": ["echanges_messages"],
    "utilisateurs_potentiels": 8, "professionnels_hors_structure": 2, "temporalite": "mois",
    "messagerie_seule": True, "dossiers_coordination": False, "parametrage": ["aucune"],
    "demandes_complexes": ["aucune"], "portee_strategique": ["aucune"],
}


def template(folder: Path) -> tuple[dict, dict]:
    """The content and the opportunity payloads of one real finished visit with four journal entries."""
    from at_tui.reference.loader import load_reference
    from at_tui.store.visit_content import content_json
    from at_tui.workspace import Workspace

    workspace = Workspace(folder / "template.sqlite3", reference=load_reference())
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
            "contact_name": "Dr Claire Roux", "contact_role": "Médecin", "visit_date": "01/12/2026"})
        if errors:
            raise SystemExit(f"capture refused: {errors}")
        for question, value in ANSWERS.items():
            workspace.save_answer(visit, question, value)
        workspace.visits.set_status(visit.id, "terminee")
        if workspace.ensure_opportunities() != 1:
            raise SystemExit("the template visit opened no opportunity")
        lifecycle = workspace.lifecycle()
        for activity, day in (("cadrage", "2026-12-10"), ("lancement", "2027-01-05"), ("formation", "2027-01-12")):
            workspace.opportunities.add_entry(visit.id, lifecycle, activity, day, author="marie", role="AT",
                                              text="Compte rendu de l'étape.")
        content = json.loads(content_json(workspace.conn, visit.id))
        row, entries, _ = workspace.opportunities.exchange_copy(visit.id)
    finally:
        workspace.close()
    from at_tui.domain.opportunity_fields import OPPORTUNITY_FIELDS

    fields = {name: row[name] for name in OPPORTUNITY_FIELDS} | {"at_login": "marie"}
    journal = [{"id": e.id, "activity": e.activity, "type": e.type, "title": e.title, "day": e.day,
                "author": "marie", "role": e.role, "text": e.text, "answers": dict(e.answers),
                "supersedes": e.supersedes, "created_at": e.created_at} for e in entries]
    return content | {"owner": "marie"}, {"fields": fields, "base": None, "journal": journal}


def operations(content: dict, opportunity: dict, count: int):
    """The two operations of each of `count` visits made from the template, in push order."""
    for index in range(count):
        visit_id = str(uuid.uuid4())
        departement = DEPARTEMENTS[index % len(DEPARTEMENTS)]
        identity = content["identity"] | {"structure": f"MSP n° {index + 1} du {departement}",
                                           "departement": departement}
        journal = [entry | {"id": f"{visit_id}:information" if entry["activity"] == "information" else str(uuid.uuid4())}
                   for entry in opportunity["journal"]]
        yield {"op_id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "content", "base_rev": 0,
               "payload": content | {"id": visit_id, "identity": identity}}
        yield {"op_id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "opportunity", "base_rev": 0,
               "payload": opportunity | {"journal": journal}}


def push_all(url: str, token: str, content: dict, opportunity: dict, count: int, verbose: bool) -> float:
    import httpx

    started = time.perf_counter()
    batch: list[dict] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        def send() -> None:
            answer = client.post("/v1/push", json={"operations": batch})
            answer.raise_for_status()
            refused = [r for r in answer.json()["results"] if r["status"] != "applied"]
            if refused:
                raise SystemExit(f"the central refused the seed: {refused[:2]}")
            batch.clear()

        for done, operation in enumerate(operations(content, opportunity, count), start=1):
            batch.append(operation)
            if len(batch) == PUSH_OPERATIONS:
                send()
            if verbose and done % 10_000 == 0:
                c.progress(verbose, f"  {done // 2} visits pushed")
        if batch:
            send()
    return time.perf_counter() - started


SUBJECT = c.PEAK_KIB + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from at_tui.sync import engine, outbox
    from at_tui.sync.engine import Report
    from at_tui.sync.transport import Transport
    from at_tui.workspace import Workspace

    url, token, db, pages = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    workspace = Workspace(Path(db))
    outbox.set_state(workspace.conn, "login", "claire")
    outbox.set_state(workspace.conn, "role", "cm")
    workspace.lifecycle()  # the bundled playbook (pydantic) is loaded at start-up, not by the pull
    quarter = {}

    class Counting(Transport):
        asked = 0

        def get(self, path, params=None):
            Counting.asked += 1
            if Counting.asked == max(1, pages // 4) + 1:
                quarter["kib"] = peak_kib()
            return super().get(path, params)

    with Counting(url, token, timeout=60) as transport:
        started = time.perf_counter()
        report = Report()
        engine.pull(workspace, transport, report)
        pull_s = time.perf_counter() - started
    count = lambda table: workspace.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    result = {"received": report.received, "visits": count("visits"), "opportunities": count("opportunities"),
              "journal": count("journal"), "pull_s": pull_s, "quarter_peak_kib": quarter.get("kib", peak_kib()),
              "pull_peak_kib": peak_kib()}
    workspace.close()
    print("BENCH " + json.dumps(result))
    """
)



def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 1, "measured runs (subject and floor alternating)")
    p.add_argument("--opportunities", type=int, default=20_000, help="visits with an opportunity (default: 20000)")
    args = p.parse_args()
    verbose = not args.json
    import subprocess

    from at_tui.sync.engine import PAGE

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-cm-pull-") as tmp:
        folder = Path(tmp)
        process, url, at_token, db = c.start_central(folder)
        try:
            made = subprocess.run(
                [sys.executable, "-m", "at_tui", "central", "add-user", "claire", "--role", "cm", "--db", str(db)],
                capture_output=True, text=True, check=True, env={**os.environ, "AT_TUI_HOME": str(folder / "home")})
            cm_token = made.stdout.strip().splitlines()[-1]
            content, opportunity = template(folder)
            entries = len(opportunity["journal"]) * args.opportunities
            c.progress(verbose, f"pushing {args.opportunities} visits with their opportunities ({entries} entries) ...")
            seed_s = push_all(url, at_token, content, opportunity, args.opportunities, verbose)
            cursors = c.page_cursors(url, cm_token, "/v1/visits", PAGE)
            cursors_file = folder / "cursors.json"
            cursors_file.write_text(json.dumps(cursors))
            subjects, floors = [], []
            for run in range(args.runs):
                c.progress(verbose, f"run {run + 1}/{args.runs}: the CM's first pull ...")
                subject = c.run_json_child(SUBJECT, url, cm_token, str(folder / f"cm-{run}.sqlite3"), str(len(cursors)))
                if not (subject["visits"] == subject["opportunities"] == args.opportunities
                        and subject["journal"] == entries):
                    raise SystemExit(f"the CM laptop holds {subject} of {args.opportunities} / {entries}")
                subjects.append(subject)
                c.progress(verbose, f"run {run + 1}/{args.runs}: the same pages, bytes only ...")
                floors.append(c.run_json_child(c.PAGES_FLOOR, url, cm_token, str(cursors_file), str(PAGE), "/v1/visits"))
        finally:
            process.terminate()
            process.wait(timeout=30)

    pull_s = c.median([s["pull_s"] for s in subjects])
    floor_s = c.median([f["floor_s"] for f in floors])
    peak = max(s["pull_peak_kib"] for s in subjects) / 1024
    quarter = max(s["quarter_peak_kib"] for s in subjects) / 1024
    bounded = peak <= BOUNDED * quarter
    result = {
        "benchmark": "cm_first_pull", "environment": c.environment(), "opportunities": args.opportunities,
        "journal_entries": entries, "page": PAGE, "pages": len(cursors), "megabytes": floors[-1]["bytes"] / 1e6,
        "seed_s": seed_s, "pull_s": pull_s, "pull_opportunities_per_s": args.opportunities / pull_s,
        "pull_peak_mib": peak, "quarter_peak_mib": quarter, "memory_bounded": bounded,
        "floor_s": floor_s, "floor_peak_mib": max(f["floor_peak_kib"] for f in floors) / 1024,
        "ratio": c.ratio(pull_s, floor_s), "runs": {"subject": subjects, "floor": floors},
    }
    if args.json:
        c.dump_json(result)
    else:
        print(f"\nfirst pull of a CM: {args.opportunities} visits with their opportunities and {entries} journal "
              f"entries ({result['megabytes']:.1f} MB in {len(cursors)} pages of {PAGE}; pushed in {seed_s:.1f} s):")
        print(f"  pull   {pull_s:6.2f} s  {result['pull_opportunities_per_s']:7.0f} opportunities/s   "
              f"peak RSS {peak:.1f} MiB (after a quarter of the pages: {quarter:.1f} MiB, "
              f"{'bounded' if bounded else 'GROWING'})")
        print(f"  floor  {floor_s:6.2f} s   peak RSS {result['floor_peak_mib']:.1f} MiB  (same pages, bytes only)")
        print(f"  ratio  {result['ratio']:.2f}x the floor")
    return 0 if bounded else 1


if __name__ == "__main__":
    sys.exit(main())
