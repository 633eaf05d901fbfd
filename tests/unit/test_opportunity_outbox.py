"""The opportunity's own outbox (schema v11, issue 11 §3), against its functions directly:
queued by triggers in the change's transaction, frozen when taken, answers filed
(applied / conflict / rejected), pulls merged (journal union, fields unless work waits)."""

from __future__ import annotations

import json

import pytest
from answer_sets import finished_visit

from at_tui.exchange.exporter import visit_content
from at_tui.sync import opportunity_outbox as oo
from at_tui.sync import outbox
from at_tui.workspace import Workspace


def ops(conn) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute("SELECT visit_id, state FROM opportunity_outbox ORDER BY seq")]


def known_to_central(conn, visit_id: str, rev: int = 1) -> None:
    """The visit's content was applied by the central (what the content outbox records)."""
    conn.execute("INSERT INTO sync_visits (visit_id, rev, updated_at) VALUES (?, ?, 'x') "
                 "ON CONFLICT (visit_id) DO UPDATE SET rev = excluded.rev", (visit_id, rev))


@pytest.fixture
def opened(workspace) -> str:
    visit_id = finished_visit(workspace)
    assert workspace.ensure_opportunities() == 1
    return visit_id


def applied(op, fields: dict) -> dict:
    return {"op_id": op.op_id, "status": "applied", "rev": 1,
            "opportunity": {"fields": fields, "journal": [], "updated_at": "2026-12-02T10:00:00+00:00"}}


def central_entry(visit_id: str, **changes) -> dict:
    entry = {"id": "c0a8e3f2-1b4d-4c6e-8f9a-0b1c2d3e4f50", "activity": "note", "type": "Note", "title": "Note",
             "day": "2026-12-03", "author": "paul", "role": "CM", "text": "Appel de la coordinatrice.",
             "answers": {}, "supersedes": None, "created_at": "2026-12-03T09:00:00+00:00"}
    return {**entry, **changes}


# -- queueing -----------------------------------------------------------------------------


def test_opening_and_recording_leave_one_pending_operation_per_visit(workspace, opened) -> None:
    assert ops(workspace.conn) == [(opened, "pending")]
    lifecycle = workspace.lifecycle()
    workspace.opportunities.add_entry(opened, lifecycle, "cadrage", "2026-12-10", author="marie", role="AT")
    assert ops(workspace.conn) == [(opened, "pending")]


def test_what_a_pull_writes_and_another_at_s_visit_are_never_queued(workspace, opened) -> None:
    conn = workspace.conn
    conn.execute("UPDATE opportunity_outbox SET state = 'done'")
    conn.execute("INSERT INTO sync_pause (reason) VALUES ('test')")
    conn.execute("UPDATE opportunities SET status = 'projet_en_cours'")
    conn.execute("DELETE FROM sync_pause")
    assert ops(conn) == [(opened, "done")]
    conn.execute("UPDATE visits SET origin = 'import'")  # another AT's visit, on an AT's laptop
    conn.execute("UPDATE opportunities SET status = 'en_attente'")
    assert ops(conn) == [(opened, "done")]
    outbox.set_state(conn, "role", "cm")  # a CM writes the lifecycle of the visits she pulled
    conn.execute("UPDATE opportunities SET cm_login = 'paul'")
    assert ops(conn) == [(opened, "done"), (opened, "pending")]


def test_an_archived_visit_the_central_never_received_holds_its_opportunity_too(workspace, opened) -> None:
    conn = workspace.conn
    assert outbox.summary(conn).waiting == 2  # its content, its opportunity
    workspace.visits.set_archived(opened, True)
    assert outbox.summary(conn).waiting == 0 and oo.take_batch(conn, 10) == []
    workspace.visits.set_archived(opened, False)
    assert outbox.summary(conn).waiting == 2


# -- take ------------------------------------------------------------------------------------


def test_taken_only_once_the_central_knows_the_visit_and_frozen_then(workspace, opened) -> None:
    conn = workspace.conn
    assert oo.take_batch(conn, 10) == []  # its content has not been applied yet
    outbox.set_state(conn, "login", "marie")
    conn.execute("UPDATE opportunities SET at_login = NULL")  # opened before the login was known
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    assert (op.kind, op.base_rev) == ("opportunity", 0)
    payload = op.payload
    assert payload["base"] is None and payload["fields"]["status"] == "en_attente"
    assert payload["fields"]["at_login"] == "marie" and payload["fields"]["playbook_id"] == "spico"
    [information] = payload["journal"]
    assert information["title"] == "Information" and information["answers"] == {}
    assert set(information) == set(oo.ENTRY_FIELDS)
    assert json.loads(op.json_text())["payload"] == payload

    workspace.opportunities.add_entry(opened, workspace.lifecycle(), "cadrage", "2026-12-10",
                                      author="marie", role="AT")  # typed while the answer is lost
    assert [s for _, s in ops(conn)] == ["sent", "pending"]
    assert oo.take_batch(conn, 10) == [op]  # resent as it was; one in flight per visit
    assert oo.take_batch(conn, 10, skip={op.op_id}) == []


# -- answers -----------------------------------------------------------------------------------


def test_applied_marks_entries_held_sets_base_and_takes_central_values_left_alone_here(workspace, opened) -> None:
    conn, store, lifecycle = workspace.conn, workspace.opportunities, workspace.lifecycle()
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    sent = op.payload["fields"]
    store.add_entry(opened, lifecycle, "note", "2026-12-04", author="marie", role="AT", text="rappel")
    conn.execute("INSERT INTO sync_pause (reason) VALUES ('test')")
    conn.execute("UPDATE opportunities SET support = NULL")  # changed here since the take
    conn.execute("DELETE FROM sync_pause")
    central = {**sent, "cm_login": "paul", "support": "AT"}
    assert oo.record_results(conn, [applied(op, central)], workspace.lifecycle) == {op.op_id: "done"}
    fields = oo.local_fields(conn, opened)
    assert fields["cm_login"] == "paul"  # the central's, left alone here
    assert fields["support"] is None  # changed here since: the next operation sends it
    [following] = oo.take_batch(conn, 10)
    assert following.payload["base"] == central
    assert [e["text"] for e in following.payload["journal"]] == ["rappel"]  # the information is held


def test_a_conflict_keeps_the_central_copy_until_each_field_is_settled(workspace, opened) -> None:
    conn, store, lifecycle = workspace.conn, workspace.opportunities, workspace.lifecycle()
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    sent = op.payload["fields"]
    central_fields = {**sent, "status": "sans_suite", "status_reason": "structure fermée", "cm_login": "paul"}
    central = {"id": opened, "rev": 1, "owner": "marie", "content": {},
               "opportunity": {"fields": central_fields, "journal": [central_entry(opened)],
                               "updated_at": "2026-12-03T09:00:00+00:00"}}
    result = {"op_id": op.op_id, "status": "conflict", "rev": 1, "fields": ["status", "status_reason"],
              "central": central}
    store.set_status(opened, lifecycle, "projet_en_cours", None, author="marie", role="AT", day="2026-12-05")
    assert oo.record_results(conn, [result], workspace.lifecycle) == {op.op_id: "conflict"}
    assert outbox.summary(conn).conflicts == 1
    [(visit_id, local, theirs, names)] = oo.opportunity_conflicts(conn)
    assert (visit_id, local["status"], theirs["status"], names) == (
        opened, "projet_en_cours", "sans_suite", ["status", "status_reason"])
    assert {e.text for e in store.journal(opened)} >= {"Appel de la coordinatrice."}  # union, even in conflict
    assert oo.take_batch(conn, 10) == []  # nothing leaves while the user has not settled it

    oo.resolve_opportunity_conflict(conn, opened, {"status": "projet_en_cours", "status_reason": None},
                                    workspace.lifecycle)
    assert oo.opportunity_conflicts(conn) == [] and outbox.summary(conn).conflicts == 0
    [again] = oo.take_batch(conn, 10)
    assert again.payload["base"] == central_fields
    assert again.payload["fields"]["status"] == "projet_en_cours"
    assert again.payload["fields"]["cm_login"] == "paul"  # the central's for what was not in conflict
    entries = [e["id"] for e in again.payload["journal"]]
    assert central_entry(opened)["id"] not in entries and f"{opened}:information" not in entries
    assert [s for _, s in ops(conn)] == ["resolved", "sent"]


def test_a_refusal_is_kept_with_its_reason_made_safe(workspace, opened) -> None:
    conn = workspace.conn
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    reason = "le statut est tenu par le chargé de mission\x1b[31m (pilotage)"
    states = oo.record_results(conn, [{"op_id": op.op_id, "status": "rejected", "code": "forbidden",
                                       "reason": reason}])
    assert states == {op.op_id: "rejected"}
    [(visit_id, shown)] = oo.rejected_opportunity_ops(conn)
    assert visit_id == opened and "\x1b" not in shown and "pilotage" in shown
    assert outbox.summary(conn).rejected == 1
    assert oo.record_results(conn, [{"op_id": "inconnu", "status": "applied"}]) == {}  # not ours: ignored


# -- pull ------------------------------------------------------------------------------------------


def test_a_pull_brings_the_journal_and_the_fields_when_nothing_waits_here(workspace, opened) -> None:
    conn, lifecycle = workspace.conn, workspace.lifecycle()
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    oo.record_results(conn, [applied(op, op.payload["fields"])], workspace.lifecycle)
    fields = {**op.payload["fields"], "status": "projet_en_cours", "launch_date": None}
    cadrage = central_entry(opened, id="d1e2f3a4-0000-4000-8000-000000000001", activity="cadrage",
                            type=lifecycle.activity("cadrage").type, title=lifecycle.activity("cadrage").title)
    pulled = {"fields": fields, "journal": [central_entry(opened), cadrage, central_entry(opened)],
              "updated_at": "2026-12-04T08:00:00+00:00"}  # an entry listed twice is taken once
    with outbox.immediate(conn):
        assert oo.merge_pulled(conn, opened, pulled, workspace.lifecycle) is None
        assert oo.merge_pulled(conn, opened, pulled, workspace.lifecycle) is None  # a page read again
    assert workspace.opportunities.get(opened).status == "projet_en_cours"
    assert len(workspace.opportunities.journal(opened)) == 3
    assert ops(conn) == [(opened, "done")]  # nothing sent back
    assert "Cadrage (déploiement acté)" not in {d.item.title for d in workspace.opportunities.due()}

    # Something waits here: the journal merges, the fields stay (the push decides).
    workspace.opportunities.add_entry(opened, lifecycle, "note", "2026-12-05", author="marie", role="AT")
    with outbox.immediate(conn):
        oo.merge_pulled(conn, opened, {**pulled, "fields": {**fields, "status": "sans_suite"},
                                       "journal": [central_entry(opened, id="e0000000-0000-4000-8000-000000000002")]},
                        workspace.lifecycle)
    assert workspace.opportunities.get(opened).status == "projet_en_cours"
    assert len(workspace.opportunities.journal(opened)) == 5
    with outbox.immediate(conn):
        assert oo.merge_pulled(conn, opened, {"fields": {"status": "x"}}, None) is not None  # malformed: refused


def test_a_cm_laptop_takes_in_the_region_s_visits_and_an_at_laptop_skips_them(
        workspace, opened, tmp_path, reference) -> None:
    conn = workspace.conn
    known_to_central(conn, opened)
    [op] = oo.take_batch(conn, 10)
    fields = op.payload["fields"]
    item = {"id": opened, "rev": 1, "owner": "marie", "followup": None, "updated_at": "2026-12-02T10:00:00+00:00",
            "content": visit_content(workspace, workspace.visits.require(opened)),
            "opportunity": {"fields": fields, "journal": op.payload["journal"], "updated_at": "2026-12-02T10:00:00"}}
    for role, expected in (("at", 0), ("cm", 1)):
        other = Workspace(tmp_path / f"{role}.sqlite3", reference=reference)
        try:
            outbox.set_state(other.conn, "role", role)
            assert outbox.apply_pulled(other.conn, [item], "visits", "c1", None, other.lifecycle) == expected
            if role == "cm":
                visit = other.visits.require(opened)
                assert other.conn.execute("SELECT origin, owner FROM visits").fetchone()[0] == "import"
                assert other.conn.execute("SELECT owner FROM sync_visits").fetchone()[0] == "marie"
                assert visit_content(other, visit)["answers"] == item["content"]["answers"]
                assert other.opportunities.get(opened).status == "en_attente"
                assert [e.title for e in other.opportunities.journal(opened)] == ["Information"]
                assert [d.structure for d in other.opportunities.due()] == ["MSP de Lectoure"]
                assert outbox.summary(other.conn).waiting == 0  # nothing to send back
                assert other.ensure_opportunities() == 0
                other.opportunities.take_charge(opened, "paul", other.lifecycle())
                [taken] = oo.take_batch(other.conn, 10)
                assert taken.payload["fields"]["cm_login"] == "paul" and taken.payload["base"] == fields
                assert taken.payload["journal"] == []
            else:
                assert other.visits.get(opened) is None
        finally:
            other.close()


def test_a_cm_s_own_copy_gives_way_to_the_central_s_but_keeps_her_taking_charge(workspace) -> None:
    """A CM's laptop opened the opportunity of a pulled visit before the central's arrived (the
    AT had not sent it yet): nothing leaves until it comes, then the central's fields win, but
    for the CM in charge she filled in, sent on top of them."""
    conn = workspace.conn
    outbox.set_state(conn, "role", "cm")
    visit_id = finished_visit(workspace)
    conn.execute("UPDATE visits SET origin = 'import', owner = 'marie' WHERE id = ?", (visit_id,))
    known_to_central(conn, visit_id)
    assert workspace.ensure_opportunities() == 1
    workspace.opportunities.take_charge(visit_id, "paul", workspace.lifecycle())
    assert oo.take_batch(conn, 10) == []  # only the AT creates it on the central
    assert oo.counts(conn).waiting == 1  # waiting for it, shown as such

    central = {**oo.local_fields(conn, visit_id), "cm_login": None, "at_login": "marie", "support": "AT"}
    information = {"id": f"{visit_id}:information", "activity": "information", "type": "Information",
                   "title": "Information", "day": "2026-12-01", "author": "marie", "role": "AT",
                   "text": "Compte rendu de l'AT.", "answers": {}, "supersedes": None,
                   "created_at": "2026-12-01T18:00:00+00:00"}
    with outbox.immediate(conn):
        oo.merge_pulled(conn, visit_id, {"fields": central, "journal": [information], "updated_at": "x"},
                        workspace.lifecycle)
    fields = oo.local_fields(conn, visit_id)
    assert (fields["cm_login"], fields["support"], fields["at_login"]) == ("paul", "AT", "marie")
    [op] = oo.take_batch(conn, 10)
    assert op.payload["base"] == central and op.payload["fields"]["cm_login"] == "paul"
    assert op.payload["journal"] == []  # its own « Information » is the central's (same id): not sent


def test_a_region_s_visit_a_cm_s_laptop_cannot_take_is_listed_and_pulled_again_later(
        workspace, opened, tmp_path, reference) -> None:
    from at_tui.sync.central_content import checker

    content = visit_content(workspace, workspace.visits.require(opened))
    unknown = {**content, "questionnaire": {"id": "recueil-use", "version": 99}}  # published later, not here yet
    item = {"id": opened, "rev": 1, "owner": "marie", "followup": None, "updated_at": "x", "content": unknown}
    cm = Workspace(tmp_path / "cm.sqlite3", reference=reference)
    try:
        outbox.set_state(cm.conn, "role", "cm")
        outbox.set_state(cm.conn, "cursor:visits", "c1")
        assert outbox.apply_pulled(cm.conn, [item], "visits", "c2", checker(cm), cm.lifecycle) == 0
        [reason] = outbox.quarantined(cm.conn)
        assert "MSP de Lectoure" in reason and cm.visits.get(opened) is None
        assert outbox.retry_skipped(cm.conn) and outbox.get_state(cm.conn, "cursor:visits") == "0"
        assert outbox.apply_pulled(cm.conn, [{**item, "content": content}], "visits", "c3", checker(cm)) == 1
        assert outbox.quarantined(cm.conn) == [] and not outbox.retry_skipped(cm.conn)
    finally:
        cm.close()


def test_a_page_whose_opportunity_has_the_wrong_shape_is_refused_whole() -> None:
    from at_tui.sync.transport import visit_page_problem

    item = {"id": "v", "rev": 1, "owner": "marie", "content": {}}
    page = {"items": [item], "cursor": "c", "more": False}
    assert visit_page_problem(page) is None  # an older central: no opportunity at all
    for opportunity, fine in ((None, True), ({"fields": {}, "journal": []}, True), ([], False),
                              ({"fields": [], "journal": []}, False), ({"fields": {}, "journal": {}}, False)):
        problem = visit_page_problem({**page, "items": [{**item, "opportunity": opportunity}]})
        assert (problem is None) == fine, opportunity
