"""Whose a visit is, and no conflict where nothing conflicts: real laptops (SQLite files) against
the real central process (on SQLite and on PostgreSQL).

A visit handed over by file (`at-tui export` → `at-tui import`) stays its author's: the
importing laptop never pushes it, in either order of syncing. A conflict whose central
content is what the laptop sends, or what its operation was based on, settles itself. A
newer edit made while an answer was lost leaves in the same run. Central content the laptop
cannot take is set aside for that one visit; the rest (export included) keeps working.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid

import httpx
import pytest
from fault_proxy import FaultProxy
from helpers import IDENTITY

from at_tui.central.backends import open_storage
from at_tui.central.storage import Decision, VisitWrite, to_json
from at_tui.exchange.exporter import export_visits
from at_tui.exchange.importer import import_visits
from at_tui.sync import outbox, parked
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace

FAST_RETRY = RetryPolicy(attempts=3, base=0.01, cap=0.05)


@pytest.fixture
def tokens(central):
    return {"marie": central.add_user("marie", "at"), "luc": central.add_user("luc", "at"),
            "paul": central.add_user("paul", "cm")}


@pytest.fixture
def laptops(tmp_path, reference):
    """Workspaces on separate database files, one per laptop; closed after the test."""
    opened: list[Workspace] = []

    def open_laptop(name: str) -> Workspace:
        workspace = Workspace(tmp_path / f"{name}.db", reference=reference)
        opened.append(workspace)
        return workspace

    yield open_laptop
    for workspace in opened:
        workspace.close()


def client(url: str, token: str, retry: RetryPolicy = FAST_RETRY) -> Transport:
    return Transport(url, token, retry=retry, timeout=5.0, rng=random.Random(1))


def central_visit(url: str, token: str, visit_id: str) -> dict:
    answer = httpx.get(f"{url}/v1/visits/{visit_id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def start(workspace: Workspace, structure: str = "MSP des Coteaux") -> str:
    visit, errors = workspace.start_visit({**IDENTITY, "structure": structure})
    assert not errors
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    return visit.id


def edit(workspace: Workspace, visit_id: str, value: str) -> None:
    workspace.save_answer(workspace.visits.require(visit_id), "utilisateurs_potentiels", value)


def synced(workspace: Workspace, url: str, token: str):
    with client(url, token) as transport:
        report = sync(workspace, transport)
    assert report.complete, report.lines()
    return report


@pytest.mark.parametrize("first", ["author", "importer"])
def test_a_visit_handed_over_by_file_stays_its_authors_whoever_syncs_first(central, tokens, laptops, first):
    marie, luc = laptops("marie"), laptops("luc")
    visit_id = start(marie)
    if first == "author":
        synced(marie, central.url, tokens["marie"])
    exported = export_visits(marie, visit_id)
    assert exported["visits"][0].get("owner") == ("marie" if first == "author" else None)

    assert import_visits(luc, exported).imported == [visit_id]
    edit(luc, visit_id, "40")  # the importer's own changes stay on the importer's laptop
    report = synced(luc, central.url, tokens["luc"])
    assert (report.sent, report.conflicts, report.rejected) == (0, 0, 0)
    assert luc.conn.execute("SELECT count(*) FROM outbox WHERE visit_id = ?", (visit_id,)).fetchone()[0] == 0
    assert luc.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()[0] == "import"

    edit(marie, visit_id, "25")
    report = synced(marie, central.url, tokens["marie"])  # the author's sync stays green
    assert report.sent == 1 and not report.rejected
    held = central_visit(central.url, tokens["paul"], visit_id)
    assert held["owner"] == "marie"
    assert held["content"]["answers"]["q:utilisateurs_potentiels"] == 25
    # Luc cannot even see it: it is not his.
    answer = httpx.get(f"{central.url}/v1/visits/{visit_id}", headers=central.auth(tokens["luc"]))
    assert answer.status_code == 404


def test_an_export_names_the_owner_and_an_import_keeps_it(central, tokens, laptops):
    marie, cm_laptop = laptops("marie"), laptops("cm")
    visit_id = start(marie)
    synced(marie, central.url, tokens["marie"])
    exported = export_visits(marie)
    assert [v["owner"] for v in exported["visits"]] == ["marie"]
    import_visits(cm_laptop, exported)
    again = export_visits(cm_laptop)  # handed on again: the owner is still named
    assert again["visits"][0]["owner"] == "marie" and again["visits"][0]["id"] == visit_id


def test_an_ats_own_visit_imported_on_her_other_laptop_is_hers_to_send(central, tokens, laptops):
    first, second = laptops("first"), laptops("second")
    visit_id = start(first)
    synced(first, central.url, tokens["marie"])
    start(second, "CH de Castres")
    synced(second, central.url, tokens["marie"])  # her own visit comes back: the laptop learns her login
    assert outbox.get_state(second.conn, "login") == "marie"
    import_visits(second, export_visits(first, visit_id))
    assert second.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()[0] == "local"
    report = synced(second, central.url, tokens["marie"])
    assert (report.duplicates, report.conflicts) == (1, 0)  # the central holds that content already
    edit(second, visit_id, "44")
    assert synced(second, central.url, tokens["marie"]).sent == 1
    held = central_visit(central.url, tokens["marie"], visit_id)
    assert held["owner"] == "marie" and held["content"]["answers"]["q:utilisateurs_potentiels"] == 44


def test_importing_an_identical_visit_on_a_second_laptop_gives_no_conflict(central, tokens, laptops):
    first, second = laptops("first"), laptops("second")
    visit_id = start(first)
    synced(first, central.url, tokens["marie"])
    exported = export_visits(first)
    assert import_visits(second, exported).imported == [visit_id]
    assert import_visits(second, exported).unchanged == [visit_id]  # re-importing is harmless
    report = synced(second, central.url, tokens["marie"])  # the same AT's other laptop
    assert (report.conflicts, report.rejected, report.sent) == (0, 0, 0)
    assert parked.problems(second.conn) == []
    report = synced(first, central.url, tokens["marie"])
    assert (report.conflicts, report.rejected) == (0, 0)


def test_a_push_that_the_central_already_holds_is_no_conflict(central, tokens, laptops, tmp_path, reference):
    """The same visit from a copy of the laptop made before it synced (a restored backup): the
    central already holds that content, so the push is settled, not a conflict."""
    first = laptops("first")
    visit_id = start(first)
    backup = sqlite3.connect(tmp_path / "copy.db")
    first.conn.backup(backup)
    backup.close()
    synced(first, central.url, tokens["marie"])

    copy = laptops("copy")  # opens copy.db: the same visit, its operation never sent
    report = synced(copy, central.url, tokens["marie"])
    assert (report.conflicts, report.duplicates, report.sent) == (0, 1, 0), report.lines()
    row = copy.conn.execute("SELECT rev, base_content FROM sync_visits WHERE visit_id = ?", (visit_id,)).fetchone()
    assert row[0] == 1 and json.loads(row[1])["answers"]["q:utilisateurs_potentiels"] == 12
    edit(copy, visit_id, "13")  # and its next edit goes out on the central revision
    assert synced(copy, central.url, tokens["marie"]).sent == 1


def test_a_real_content_conflict_is_still_a_conflict(central, tokens, laptops, tmp_path):
    first = laptops("first")
    visit_id = start(first)
    synced(first, central.url, tokens["marie"])
    backup = sqlite3.connect(tmp_path / "second.db")
    first.conn.backup(backup)  # the AT's second laptop, a copy of the first after its sync
    backup.close()
    second = laptops("second")
    edit(second, visit_id, "31")
    synced(second, central.url, tokens["marie"])
    edit(first, visit_id, "99")  # based on revision 1, the central is at 2 with other content
    with client(central.url, tokens["marie"]) as transport:
        report = sync(first, transport)
    assert report.conflicts == 1 and not report.complete
    [(conflicting, copy)] = outbox.conflicts(first.conn)
    assert conflicting == visit_id and copy["content"]["answers"]["q:utilisateurs_potentiels"] == 31


def test_a_newer_edit_made_while_an_answer_was_lost_leaves_in_the_same_run(central, tokens, laptops):
    laptop = laptops("marie")
    visit_id = start(laptop)
    proxy = FaultProxy(central.port)
    try:
        proxy.set("lose", faults=50)  # every attempt: the central applies, the answer never comes
        with client(proxy.url, tokens["marie"], RetryPolicy(attempts=2, base=0.01, cap=0.02)) as transport:
            report = sync(laptop, transport)
        assert report.errors and report.left == 1
        edit(laptop, visit_id, "77")  # a newer version, while the first one's answer is unknown
        proxy.set("pass")
        with client(proxy.url, tokens["marie"]) as transport:
            report = sync(laptop, transport)
        assert (report.duplicates, report.sent, report.left) == (1, 1, 0), report.lines()
        assert report.complete
    finally:
        proxy.close()
    held = central_visit(central.url, tokens["marie"], visit_id)
    assert held["rev"] == 2 and held["content"]["answers"]["q:utilisateurs_potentiels"] == 77


def _tamper_central(db: str, visit_id: str, path: tuple[str, ...], value) -> None:
    """Content the laptop cannot take, as an older central (without today's checks) could hold it:
    written through the storage below the service's checks, as a new revision at the end of the
    stream (a new position on either backend)."""
    storage = open_storage(db)
    try:
        stored = storage.get_visit(visit_id)
        content = json.loads(to_json(stored.content))
        *parents, leaf = path
        target = content
        for key in parents:
            target = target[key]
        target[leaf] = value
        write = VisitWrite(visit_id, stored.rev, stored.rev + 1, stored.owner, to_json(content),
                           to_json(stored.followup), stored.updated_at)
        storage.apply_operations([(str(uuid.uuid4()), visit_id, lambda entry, visit: Decision({}, write))])
    finally:
        storage.close()


# Dates out of range are checked by the same validator on the central, which no longer serves
# them; the laptop's own check of pulled dates is tested without a server (test_pulled_content.py).
@pytest.mark.parametrize(("path", "value", "field"), [
    pytest.param(("playbook", "version"), 99, "processus", id="playbook"),
    pytest.param(("identity", "departement"), "2A", "Département", id="departement"),
    pytest.param(("answers", "q:utilisateurs_potentiels"), "douze", "utilisateurs_potentiels", id="answer"),
])
def test_a_pulled_visit_this_laptop_cannot_take_is_set_aside_and_the_rest_works(
        central, tokens, laptops, path, value, field):
    laptop = laptops("marie")
    bad, good = start(laptop, "EHPAD Les Tilleuls"), start(laptop, "MSP des Coteaux")
    synced(laptop, central.url, tokens["marie"])
    before = laptop.visits.get(bad)
    _tamper_central(central.db, bad, path, value)

    with client(central.url, tokens["marie"]) as transport:
        report = sync(laptop, transport)
    assert not report.complete and len(report.quarantined) == 1, report.lines()
    reason = report.quarantined[0]
    assert "EHPAD Les Tilleuls" in reason and bad in reason and field in reason, reason
    assert any("mise(s) de côté" in line for line in report.lines())
    assert laptop.visits.get(bad) == before  # the laptop's version is kept as it was
    [problem] = parked.problems(laptop.conn)
    assert (problem.visit_id, problem.kind) == (bad, parked.QUARANTINED) and field in problem.reason

    exported = export_visits(laptop)  # every visit still exports
    assert {v["id"] for v in exported["visits"]} == {bad, good}
    edit(laptop, good, "50")  # and the other visits still sync
    with client(central.url, tokens["marie"]) as transport:
        report = sync(laptop, transport)
    assert report.sent == 1 and len(report.quarantined) == 1  # still listed, every run
    assert central_visit(central.url, tokens["marie"], good)["content"]["answers"]["q:utilisateurs_potentiels"] == 50


def test_a_laptop_learns_its_login_at_its_first_sync_even_without_a_visit(central, tokens, laptops):
    """`GET /v1/me` tells a new laptop whose it is: the AT's own visit, exported from her other
    laptop, is then hers to send (it would otherwise be taken for a hand-over and never sent)."""
    first, second = laptops("first"), laptops("second")
    visit_id = start(first)
    synced(first, central.url, tokens["marie"])
    synced(second, central.url, tokens["marie"])  # nothing of hers on it yet
    assert outbox.get_state(second.conn, "login") == "marie"
    import_visits(second, export_visits(first, visit_id))
    assert second.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()[0] == "local"
    report = synced(second, central.url, tokens["marie"])
    assert (report.duplicates, report.conflicts) == (1, 0)  # the central holds that content already
    edit(second, visit_id, "31")
    assert synced(second, central.url, tokens["marie"]).sent == 1
    assert central_visit(central.url, tokens["marie"], visit_id)["content"]["answers"]["q:utilisateurs_potentiels"] == 31
