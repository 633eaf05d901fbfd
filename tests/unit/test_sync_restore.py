"""A laptop facing a restored central (at_tui.sync.restore, schema v13), against its functions directly:
what the central lost is queued again, once; what it holds newer is never forced; a CM's copy of
another AT's visit is never sent as content. The whole journey with real processes is
tests/sync/test_restore_round_trip.py."""

from __future__ import annotations

import json
import sqlite3

import pytest
from answer_sets import COMPLEXE_ANSWERS, finished_visit

from at_tui.store.migrations import MIGRATIONS, SCHEMA_VERSION, open_database, schema_version
from at_tui.store.visit_content import content_json
from at_tui.sync import opportunity_outbox as oo
from at_tui.sync import outbox, restore
from at_tui.sync.engine import Report

ACKNOWLEDGED_AT = "2026-12-02T10:00:00.000000+00:00"
BACKUP_AT = "2026-12-01T18:00:00.000000+00:00"


def pending(conn, table: str = "outbox") -> list[str]:
    return [row[0] for row in conn.execute(f"SELECT visit_id FROM {table} WHERE state = 'pending' ORDER BY seq")]


def acknowledged(workspace, rev: int = 3) -> str:
    """A finished visit and its opportunity, both sent and acknowledged (content at `rev`)."""
    conn = workspace.conn
    visit_id = finished_visit(workspace, COMPLEXE_ANSWERS)
    assert workspace.ensure_opportunities() == 1
    outbox.set_state(conn, "login", "marie")
    outbox.set_state(conn, "role", "at")
    conn.commit()
    [op] = outbox.take_batch(conn, 10)
    outbox.record_results(conn, [{"op_id": op.op_id, "status": "applied", "rev": rev}])
    [opportunity_op] = oo.take_batch(conn, 10)
    fields = opportunity_op.payload["fields"]
    oo.record_results(conn, [{"op_id": opportunity_op.op_id, "status": "applied", "rev": rev,
                              "opportunity": {"fields": fields, "journal": [], "updated_at": ACKNOWLEDGED_AT}}])
    assert pending(conn) == [] and pending(conn, "opportunity_outbox") == []
    return visit_id


def pulled(workspace, visit_id: str, rev: int, *, journal: list | None = None, fields: dict | None = None,
           updated_at: str = BACKUP_AT, opportunity: bool = True) -> dict:
    """The visit as the restored central serves it: this laptop's content at `rev`."""
    conn = workspace.conn
    local = oo.local_fields(conn, visit_id)
    entries = journal if journal is not None else [_public(e) for e in workspace.opportunities.journal(visit_id)]
    return {
        "id": visit_id, "rev": rev, "owner": "marie", "content": json.loads(content_json(conn, visit_id)),
        "followup": {"status": "a_traiter", "lead": None, "comment": ""}, "updated_at": BACKUP_AT,
        "opportunity": {"fields": fields or local, "journal": entries, "updated_at": updated_at}
        if opportunity else None,
    }


def _public(entry) -> dict:
    return {"id": entry.id, "activity": entry.activity, "type": entry.type, "title": entry.title, "day": entry.day,
            "author": entry.author or "marie", "role": entry.role or "AT", "text": entry.text,
            "answers": dict(entry.answers), "supersedes": entry.supersedes, "created_at": entry.created_at}


def pull_all(workspace, items: list[dict]) -> restore.Resent:
    outbox.apply_pulled(workspace.conn, items, "visits", "restored-9")
    return restore.finish(workspace.conn)


def test_v12_database_gains_the_restore_check_and_keeps_its_sync_state(tmp_path) -> None:
    path = tmp_path / "at-tui.sqlite3"
    old = open_database(path, migrations=MIGRATIONS[:12])
    old.execute("INSERT INTO sync_state (key, value, updated_at) VALUES ('cursor:visits', 'abc-12', 'x')")
    old.commit()
    old.close()
    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 13
        assert outbox.get_state(conn, "cursor:visits") == "abc-12"
        assert not restore.pending(conn)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(sync_opportunities)")}
        assert "central_updated_at" in columns
        with pytest.raises(sqlite3.IntegrityError):  # a check only lists visits of this laptop
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("INSERT INTO sync_restore (visit_id, started_at) VALUES ('absente', 'x')")
    finally:
        conn.close()


def test_the_acknowledged_update_time_is_kept_from_answers_and_pulls(workspace) -> None:
    visit_id = acknowledged(workspace)
    row = workspace.conn.execute("SELECT central_updated_at FROM sync_opportunities WHERE visit_id = ?",
                                 (visit_id,)).fetchone()
    assert row[0] == ACKNOWLEDGED_AT
    outbox.apply_pulled(workspace.conn, [pulled(workspace, visit_id, 3, updated_at="2026-12-03T08:00:00+00:00")],
                        "visits", "c-1")
    assert workspace.conn.execute("SELECT central_updated_at FROM sync_opportunities").fetchone()[0] \
        == "2026-12-03T08:00:00+00:00"


def test_an_older_central_revision_is_sent_again_on_it_and_the_report_says_so(workspace) -> None:
    visit_id = acknowledged(workspace, rev=3)
    restore.begin(workspace.conn)
    assert outbox.get_state(workspace.conn, "cursor:visits") == "0" and restore.pending(workspace.conn)
    assert outbox.take_batch(workspace.conn, 10) == []  # held until compared with the central's copy
    resent = pull_all(workspace, [pulled(workspace, visit_id, 2)])
    assert resent == restore.Resent(visits=1, opportunities=0)
    assert not restore.pending(workspace.conn)
    [op] = outbox.take_batch(workspace.conn, 10)
    assert (op.visit_id, op.base_rev) == (visit_id, 2)  # on the central's revision: applied, not a conflict
    line = next(line for line in Report(restored=resent).lines() if "restauré" in line)
    assert line.startswith("Le service central a été restauré : 1 visite(s) et 0 opportunité(s) renvoyée(s)")


@pytest.mark.parametrize("rev", [3, 4])
def test_a_central_as_recent_or_newer_is_never_forced(workspace, rev) -> None:
    visit_id = acknowledged(workspace, rev=3)
    restore.begin(workspace.conn)
    resent = pull_all(workspace, [pulled(workspace, visit_id, rev, updated_at="2026-12-03T08:00:00+00:00")])
    assert resent == restore.Resent(0, 0)
    assert pending(workspace.conn) == [] and pending(workspace.conn, "opportunity_outbox") == []
    assert "il avait tout" in Report(restored=resent).lines()[1]


def test_a_visit_the_central_lost_is_created_again_with_its_opportunity_and_journal(workspace) -> None:
    conn = workspace.conn
    visit_id = acknowledged(workspace)
    assert conn.execute("SELECT count(*) FROM journal_synced").fetchone()[0] == 1
    restore.begin(conn)
    assert pull_all(workspace, []) == restore.Resent(visits=1, opportunities=1)
    [op] = outbox.take_batch(conn, 10)
    assert (op.visit_id, op.base_rev) == (visit_id, 0)
    assert conn.execute("SELECT count(*) FROM journal_synced").fetchone()[0] == 0  # sent again
    assert oo.take_batch(conn, 10) == []  # after the content: the central must know the visit first
    outbox.record_results(conn, [{"op_id": op.op_id, "status": "applied", "rev": 1}])
    [again] = oo.take_batch(conn, 10)
    assert again.payload["base"] is None and len(again.payload["journal"]) == 1  # a creation, entry included


def test_lost_journal_entries_and_fields_older_than_acknowledged_are_sent_again(workspace) -> None:
    conn = workspace.conn
    visit_id = acknowledged(workspace)
    lifecycle = workspace.lifecycle()
    _, entry = workspace.opportunities.add_entry(visit_id, lifecycle, "note", "2026-12-02", author="marie",
                                                 role="AT", text="Rappel.")
    [op] = oo.take_batch(conn, 10)
    oo.record_results(conn, [{"op_id": op.op_id, "status": "applied", "rev": 3,
                              "opportunity": {"fields": op.payload["fields"], "journal": [],
                                              "updated_at": ACKNOWLEDGED_AT}}])
    local = oo.local_fields(conn, visit_id)
    restore.begin(conn)
    older = {**local, "offer": "dossiers"}  # the backup's classification, changed since by this AT
    first = [_public(e) for e in workspace.opportunities.journal(visit_id) if e.id != entry.id]
    resent = pull_all(workspace, [pulled(workspace, visit_id, 3, journal=first, fields=older)])
    assert resent == restore.Resent(visits=0, opportunities=1)
    assert oo.local_fields(conn, visit_id)["offer"] == local["offer"]  # not taken from the older copy
    [again] = oo.take_batch(conn, 10)
    assert [e["id"] for e in again.payload["journal"]] == [entry.id]
    assert again.payload["base"]["offer"] == "dossiers" and again.payload["fields"]["offer"] == local["offer"]


def test_fields_written_on_the_central_since_become_a_conflict_not_an_overwrite(workspace) -> None:
    conn = workspace.conn
    visit_id = acknowledged(workspace)
    local = oo.local_fields(conn, visit_id)
    restore.begin(conn)
    newer = {**local, "offer": "dossiers"}
    resent = pull_all(workspace, [pulled(workspace, visit_id, 3, fields=newer, updated_at="2026-12-04T08:00:00+00:00")])
    assert resent == restore.Resent(0, 0)
    [(conflicted, mine, theirs, names)] = oo.opportunity_conflicts(conn)
    assert (conflicted, names, mine["offer"], theirs["offer"]) == (visit_id, ["offer"], local["offer"], "dossiers")
    assert oo.take_batch(conn, 10) == []  # nothing leaves before the user settles it


def test_a_cm_laptop_never_sends_the_content_of_an_at_s_visit(workspace, tmp_path, reference) -> None:
    from at_tui.workspace import Workspace

    visit_id = acknowledged(workspace, rev=3)
    item = pulled(workspace, visit_id, 3)
    cm = Workspace(tmp_path / "paul.db", reference=reference)
    try:
        outbox.set_state(cm.conn, "role", "cm")
        outbox.set_state(cm.conn, "login", "paul")
        cm.conn.commit()
        outbox.apply_pulled(cm.conn, [item], "visits", "c-1")  # taken in as 'import'
        assert cm.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()[0] == "import"
        restore.begin(cm.conn)
        assert pull_all(cm, []) == restore.Resent(visits=0, opportunities=1)  # lost: its entries wait for the AT
        assert pending(cm.conn) == []  # never its content
        assert oo.take_batch(cm.conn, 10) == []  # until the AT's laptop put the visit back
    finally:
        cm.close()


@pytest.mark.parametrize(("result", "base_rev", "lost"), [
    ({"status": "conflict", "rev": 1}, 3, True),
    ({"status": "conflict", "rev": 4}, 3, False),
    ({"status": "rejected", "reason": "visite introuvable"}, 2, True),
    ({"status": "rejected", "reason": "visite introuvable"}, 0, False),
    ({"status": "rejected", "reason": "contenu invalide"}, 2, False),
    ({"status": "applied", "rev": 1}, 3, False),
])
def test_only_answers_no_central_could_give_without_losing_data_start_a_check(result, base_rev, lost) -> None:
    assert restore.lost_by_central(result, base_rev) is lost


def test_a_push_answered_by_a_restored_central_is_not_a_conflict_for_the_at(workspace) -> None:
    conn = workspace.conn
    visit_id = acknowledged(workspace, rev=3)
    workspace.save_answer(workspace.visits.get(visit_id), "utilisateurs_potentiels", 40)
    [op] = outbox.take_batch(conn, 10)
    states = outbox.record_results(conn, [{"op_id": op.op_id, "status": "conflict", "rev": 1,
                                           "central": pulled(workspace, visit_id, 1)}])
    assert states == {op.op_id: outbox.REBASED} and outbox.summary(conn).conflicts == 0
    assert restore.pending(conn) and outbox.get_state(conn, "cursor:visits") == "0"
    assert outbox.take_batch(conn, 10) == []  # held until the re-pull compared it
    assert pull_all(workspace, [pulled(workspace, visit_id, 1)]).visits == 1
    [again] = outbox.take_batch(conn, 10)
    assert again.base_rev == 1 and again.payload["answers"]["q:utilisateurs_potentiels"] == 40
