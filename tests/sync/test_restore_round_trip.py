"""A central restored from a backup, then the laptops syncing against it (issue 13 §4–5).

Real processes: the central (`at-tui central serve`) on SQLite and on PostgreSQL, the backup
taken while it runs (`at-tui central backup`; `pg_dump -Fc`), visits, opportunities and journal
entries synced after it, the restore into a new database (`at-tui central restore`;
`pg_restore` then `at-tui central mark-restored`), a new service on it, and two ATs' and a CM's
laptops (real SQLite files, the real sync engine) syncing again. Afterwards the central holds
everything it held before the loss, each visit and journal entry once, with the same content,
and the laptops agree with it: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest
from answer_sets import COMPLEXE_ANSWERS, SIMPLE_ANSWERS, finished_visit
from central_db import is_postgres
from central_server import run_central_cli, start_central

from at_tui.store.visit_content import content_json
from at_tui.sync import opportunity_outbox, outbox
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace

FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)
RESTORED = "Le service central a été restauré"


@pytest.fixture
def tokens(central):
    return {"marie": central.add_user("marie", "at"), "jean": central.add_user("jean", "at"),
            "paul": central.add_user("paul", "cm")}


@pytest.fixture
def laptops(tmp_path, reference):
    opened: dict[str, Workspace] = {}

    def open_laptop(name: str) -> Workspace:
        opened[name] = Workspace(tmp_path / f"{name}.db", reference=reference)
        return opened[name]

    yield open_laptop
    for workspace in opened.values():
        workspace.close()


def run(workspace: Workspace, url: str, token: str):
    with Transport(url, token, retry=FAST_RETRY, timeout=10.0, rng=random.Random(1)) as client:
        return sync(workspace, client)


def region(url: str, token: str) -> dict[str, dict]:
    """Every visit of the region as the central serves it (a CM's token), by id, checked once each."""
    items, cursor = [], "0"
    while True:
        page = httpx.get(f"{url}/v1/visits", params={"since": cursor, "limit": 1000},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    ids = Counter(item["id"] for item in items)
    assert all(n == 1 for n in ids.values()), ids  # a full pull serves each visit once
    return {item["id"]: item for item in items}


def essence(visits: dict[str, dict]) -> dict[str, tuple]:
    """What must survive a restore: owner, content, opportunity fields and every journal entry
    (each once). The revision numbers and times of what was put back are the central's own."""
    found = {}
    for visit_id, item in visits.items():
        opportunity = item.get("opportunity")
        journal = opportunity["journal"] if opportunity else []
        ids = Counter(entry["id"] for entry in journal)
        assert all(n == 1 for n in ids.values()), ids
        entries = tuple(sorted(tuple(sorted(entry.items(), key=str)) for entry in journal))
        found[visit_id] = (item["owner"], item["content"], opportunity["fields"] if opportunity else None, entries)
    return found


def take_backup(db: str, output: Path) -> None:
    if is_postgres(db):
        done = subprocess.run([_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(output), db],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return
    done = run_central_cli("backup", "--db", db, "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "Sauvegarde écrite" in done.stdout
    assert output.stat().st_mode & 0o777 == 0o600


def restore_into(backup: Path, db: str) -> str:
    if is_postgres(db):
        done = subprocess.run([_tool("pg_restore"), "--no-owner", "-d", db, str(backup)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        done = run_central_cli("mark-restored", "--db", db)
    else:
        done = run_central_cli("restore", "--input", str(backup), "--db", db)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    assert found, f"{name} introuvable : installez le client PostgreSQL (postgresql-client)"
    return found


@pytest.mark.parametrize("cm_first", [True, False], ids=["cm-first", "ats-first"])
def test_a_restored_central_gets_back_everything_from_the_laptops_once(
        central, tokens, laptops, new_central_db, tmp_path, cm_first) -> None:
    marie, jean, paul = laptops("marie"), laptops("jean"), laptops("paul")

    # Before the backup: a visit of each AT, their opportunities, the CM's first entry.
    a1 = finished_visit(marie, COMPLEXE_ANSWERS)
    j1 = finished_visit(jean, SIMPLE_ANSWERS, structure="MSP de Fleurance")
    for laptop in (marie, jean):
        assert laptop.ensure_opportunities() == 1
    for laptop, name in ((marie, "marie"), (jean, "jean"), (paul, "paul")):
        assert run(laptop, central.url, tokens[name]).complete
    paul.opportunities.add_entry(a1, paul.lifecycle(), "note", "2026-12-02", author="paul", role="CM",
                                 text="Appel de cadrage prévu.")
    assert run(paul, central.url, tokens["paul"]).complete

    backup = tmp_path / "central.bak"
    take_backup(central.db, backup)  # while the service runs

    # After the backup: a new revision, new visits and opportunities, entries and a CM's field.
    visit = marie.visits.get(a1)
    marie.save_answer(visit, "utilisateurs_potentiels", 35)
    marie.opportunities.add_entry(a1, marie.lifecycle(), "note", "2026-12-03", author="marie", role="AT",
                                  text="La coordinatrice confirme 35 utilisateurs.")
    a2 = finished_visit(marie, SIMPLE_ANSWERS, structure="Centre de santé d'Auch")
    j2 = finished_visit(jean, COMPLEXE_ANSWERS, structure="CPTS du Gers")
    for laptop in (marie, jean):
        assert laptop.ensure_opportunities() == 1
    for laptop, name in ((marie, "marie"), (jean, "jean"), (paul, "paul")):
        assert run(laptop, central.url, tokens[name]).complete
    paul.opportunities.take_charge(a1, "paul", paul.lifecycle())
    paul.opportunities.add_entry(j1, paul.lifecycle(), "note", "2026-12-04", author="paul", role="CM",
                                 text="Relance envoyée.")
    paul.opportunities.take_charge(j2, "paul", paul.lifecycle())
    for laptop, name in ((paul, "paul"), (marie, "marie"), (jean, "jean")):
        assert run(laptop, central.url, tokens[name]).complete
    before = essence(region(central.url, tokens["paul"]))
    assert set(before) == {a1, a2, j1, j2}
    # Not yet synced when the central is lost: a change of a visit it had, and a new visit.
    marie.save_answer(marie.visits.get(a1), "utilisateurs_potentiels", 40)
    a3 = finished_visit(marie, SIMPLE_ANSWERS, structure="MSP de Condom")
    assert marie.ensure_opportunities() == 1

    # The loss: the service stops, the backup goes into a new database, a service starts on it.
    central.stop()
    new_db = new_central_db("restored")
    printed = restore_into(backup, new_db)
    assert "2 visite(s)" in printed and "3 utilisateur(s)" in printed and "Nouvel identifiant" in printed
    restored = start_central(tmp_path / "after", db=new_db)
    try:
        assert set(region(restored.url, tokens["paul"])) == {a1, j1}  # what the backup held
        order = [(marie, "marie"), (jean, "jean"), (paul, "paul")]
        if cm_first:
            order.reverse()
        for laptop, name in order:
            report = run(laptop, restored.url, tokens[name])
            assert not report.errors and not report.conflicts and not report.rejected, report.lines()
            assert any(line.startswith(RESTORED) for line in report.lines()), report.lines()
        if not cm_first:
            # The ATs' laptops put back their journal entries first: the central's copy of the
            # opportunity then moved since the CM's laptop last saw it, so the CM's « taken in
            # charge » is not forced over it but asked (nothing lost, nothing forced).
            [(visit_id, mine, theirs, names)] = opportunity_outbox.opportunity_conflicts(paul.conn)
            assert (visit_id, names, mine["cm_login"], theirs["cm_login"]) == (a1, ["cm_login"], "paul", None)
            opportunity_outbox.resolve_opportunity_conflict(paul.conn, a1, {"cm_login": "paul"}, paul.lifecycle)
        for _ in range(3):  # what each laptop sent reaches the others (a CM's entries follow the AT's visit)
            reports = [run(laptop, restored.url, tokens[name]) for laptop, name in order]
            assert all(not r.errors and not r.conflicts and not r.rejected for r in reports), [r.lines() for r in reports]
        assert all(r.complete and r.sent == 0 for r in reports), [r.lines() for r in reports]
        assert not any(line.startswith(RESTORED) for r in reports for line in r.lines())  # said once

        after = region(restored.url, tokens["paul"])
        got = essence(after)
        assert set(got) == {a1, a2, a3, j1, j2}
        for visit_id in before:  # nothing lost, nothing duplicated, the same content
            for index, part in enumerate(("owner", "content", "fields", "journal")):
                if (visit_id, part) != (a1, "content"):
                    assert got[visit_id][index] == before[visit_id][index], (part, visit_id)
        for visit_id, laptop in ((a1, marie), (a3, marie), (a2, marie), (j1, jean), (j2, jean)):
            assert after[visit_id]["content"] == json.loads(content_json(laptop.conn, visit_id))
        # a1: rev 1 in the backup, 2 acknowledged before the loss, its pending change on top.
        assert after[a1]["rev"] == 2 and after[a1]["content"]["answers"]["q:utilisateurs_potentiels"] == 40
        assert after[a3]["opportunity"]["journal"] and after[a3]["owner"] == "marie"
        for laptop, own in ((marie, {a1, a2, a3}), (jean, {j1, j2}), (paul, {a1, a2, a3, j1, j2})):
            assert outbox.summary(laptop.conn).waiting == 0
            for visit_id in own:  # each laptop agrees with the central, entry for entry
                central_ids = {e["id"] for e in after[visit_id]["opportunity"]["journal"]}
                assert {e.id for e in laptop.opportunities.journal(visit_id)} == central_ids
                assert laptop.opportunities.get(visit_id).cm_login == after[visit_id]["opportunity"]["fields"]["cm_login"]
        assert after[a1]["opportunity"]["fields"]["cm_login"] == "paul"
    finally:
        restored.stop()
