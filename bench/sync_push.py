"""Pushing 10,000 realistic visits to a local central service, against the same bytes POSTed to its no-op endpoint.

Run from the repository root (needs the central extra: pip install -e '.[central]'):

    python bench/sync_push.py                 # 10,000 visits
    python bench/sync_push.py --visits 2000
    python bench/sync_push.py --json

Setup (not timed): a real `at-tui central serve` process on 127.0.0.1 (its own
SQLite database, WAL, synchronous=FULL), an AT user, and a laptop database holding
`--visits` visits captured through the app's Workspace (identity and ten answers
each, a long note among them), so the outbox holds one operation per visit.

Subject: `at_tui.sync.engine.push` over `Transport` (httpx, keep-alive): batches of
200 operations; the payloads are built from the database and frozen in the outbox
(one transaction per batch), POSTed (the next batch is prepared meanwhile), applied
by the service one savepoint per operation with its ledger and one commit per batch,
and the results filed locally.

Floor: the exact request bodies the subject sent (read back from the outbox), POSTed
in the same batches by the same kind of httpx client to `POST /v1/noop` of the same
service, which authenticates and reads the body and does nothing else.

Targets: push wall time <= 10 s, and throughput >= 0.5x the floor's.
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

WALL_TARGET_S = 10.0
THROUGHPUT_TARGET = 0.5


def capture(workspace, count: int, verbose: bool) -> None:
    departements = ["31", "09", "11", "34", "81", "65", "32"]
    typologies = ["CPTS/MSP", "CH", "ESSMS/EHPAD", "DAC", "Communauté 360"]
    for index in range(count):
        visit, errors = workspace.start_visit({
            "structure": f"Maison de santé pluriprofessionnelle n° {index}",
            "departement": departements[index % len(departements)],
            "typologie": typologies[index % len(typologies)],
            "contact_name": f"Dr Camille Martin-{index}", "contact_role": "Coordinatrice",
            "visit_date": "22/11/2026",
        })
        if errors:
            raise SystemExit(f"capture refused: {errors}")
        for question, raw in {
            "opportunite": True,
            "situation_actuelle": "Échanges par messagerie sécurisée et téléphone ; dossiers papier partagés. " * 4,
            "besoins_sante": "Parcours insuffisance cardiaque, sorties d'hospitalisation.",
            "types_professionnels": "Médecins généralistes, infirmiers, pharmaciens.",
            "fonctionnalites": ["partage_documents", "echanges_messages"],
            "partenaires": "CH de proximité, HAD, DAC.",
            "utilisateurs_potentiels": str(12 + index % 30),
            "temporalite": "trimestre",
            "messagerie_seule": False,
            "dossiers_coordination": index % 2 == 0,
        }.items():
            workspace.save_answer(visit, question, raw)
        if verbose and (index + 1) % 1000 == 0:
            c.progress(verbose, f"  {index + 1} visits captured")


def main() -> int:
    p = c.parser(__doc__.splitlines()[0], 1, "measured runs (one push each)")
    p.add_argument("--visits", type=int, default=10_000, help="visits to push (default: 10000)")
    args = p.parse_args()
    verbose = not args.json
    import httpx

    from at_tui.reference.loader import load_reference
    from at_tui.sync.engine import BATCH, Report, push
    from at_tui.sync.transport import Transport
    from at_tui.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="at-tui-bench-sync-") as tmp:
        folder = Path(tmp)
        process, url, token, _ = c.start_central(folder)
        try:
            workspace = Workspace(folder / "laptop.sqlite3", reference=load_reference())
            c.progress(verbose, f"capturing {args.visits} visits ...")
            capture(workspace, args.visits, verbose)

            c.progress(verbose, "pushing ...")
            report = Report()
            with Transport(url, token) as transport:
                started = time.perf_counter()
                push(workspace, transport, report)
                subject_s = time.perf_counter() - started
            if report.sent != args.visits:
                raise SystemExit(f"pushed {report.sent} of {args.visits}: {report.lines()}")
            payloads = [json.loads(row[0]) for row in workspace.conn.execute("SELECT json_object("
                        "'op_id', op_id, 'visit_id', visit_id, 'kind', kind, 'base_rev', base_rev, "
                        "'payload', json(payload)) FROM outbox ORDER BY seq")]
            bodies = [json.dumps({"operations": payloads[i:i + BATCH]}, ensure_ascii=False).encode()
                      for i in range(0, len(payloads), BATCH)]
            workspace.close()

            c.progress(verbose, "the same bytes to the no-op endpoint ...")
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                                     "Content-Type": "application/json"}) as client:
                started = time.perf_counter()
                for body in bodies:
                    answer = client.post("/v1/noop", content=body)
                    answer.raise_for_status()
                floor_s = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)

    megabytes = sum(len(b) for b in bodies) / 1e6
    subject_rate, floor_rate = args.visits / subject_s, args.visits / floor_s
    ratio = subject_rate / floor_rate
    met = subject_s <= WALL_TARGET_S and ratio >= THROUGHPUT_TARGET
    result = {
        "benchmark": "sync_push", "environment": c.environment(), "visits": args.visits,
        "megabytes": megabytes, "batches": len(bodies), "push_s": subject_s, "push_visits_per_s": subject_rate,
        "noop_s": floor_s, "noop_visits_per_s": floor_rate, "throughput_ratio": ratio, "targets_met": met,
    }
    if args.json:
        c.dump_json(result)
    else:
        print(f"\npush of {args.visits} visits ({megabytes:.1f} MB in {len(bodies)} batches):")
        print(f"  push    {subject_s:6.2f} s  {subject_rate:8.0f} visits/s   (target <= {WALL_TARGET_S:.0f} s: "
              f"{c.verdict(subject_s, WALL_TARGET_S)})")
        print(f"  no-op   {floor_s:6.2f} s  {floor_rate:8.0f} visits/s")
        print(f"  throughput {ratio:.2f}x the floor (target >= {THROUGHPUT_TARGET}x: "
              f"{'OK' if ratio >= THROUGHPUT_TARGET else 'UNDER'})")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
