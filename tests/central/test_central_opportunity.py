"""The opportunity of a visit through the central (issue 11 §3, docs/sync-protocol.md « Opportunité
et journal »): created by the visit's owner AT, its journal merged from both sides (append-only
never conflicts), a field changed on both sides a per-field conflict, exactly once through the
ledger, pulled again (new seq) without ever changing the visit's rev.

Users: alice and bruno are ATs, carole a CM (conftest.py). Authorization per field group:
test_central_opportunity_authorization.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from central_api import make_api
from central_db import execute, query
from central_server import content_op, visit_content
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opportunity_ops import (
    COMPLEXE,
    information_entry,
    journal_entry,
    new_id,
    opportunity_fields,
    opportunity_op,
    visit_with_opportunity,
)

from at_tui.central.sqlite_storage import SCHEMA_VERSION, SQLiteStorage
from at_tui.domain.opportunity_fields import OPPORTUNITY_FIELDS

NOT_FOUND = "visite introuvable"


def visit(api, visit_id: str, user: str = "carole") -> dict:
    response = api.get(user, f"/v1/visits/{visit_id}")
    assert response.status_code == 200, response.text
    return response.json()


def pull(api, user: str, since: str | None = None, limit: int = 1000) -> tuple[list[dict], str]:
    items: list[dict] = []
    cursor = since
    while True:
        params = {"limit": limit} | ({"since": cursor} if cursor is not None else {})
        response = api.get(user, "/v1/visits", **params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            return items, cursor


def seq_of(api, visit_id: str) -> int:
    [(seq,)] = query(api.db, "SELECT seq FROM visits WHERE id = ?", visit_id)
    return seq


def journal_ids(api, visit_id: str) -> list[str]:
    return [entry["id"] for entry in visit(api, visit_id)["opportunity"]["journal"]]


# Creation ---------------------------------------------------------------------------------


def test_the_owner_at_creates_the_opportunity_and_a_pull_shows_it_with_its_journal(api) -> None:
    visit_id = new_id()
    api.push("alice", content_op(visit_id, 0, visit_content(visit_id)))
    assert visit(api, visit_id)["opportunity"] is None
    fields = opportunity_fields()
    information = information_entry(visit_id)
    op = opportunity_op(visit_id, fields, None, [information])
    [created] = api.push("alice", op)
    assert created == {
        "op_id": op["op_id"],
        "status": "applied",
        "rev": 1,
        "opportunity": {"fields": fields, "journal": [], "updated_at": created["opportunity"]["updated_at"]},
    }
    [item], _ = pull(api, "alice")
    assert item["rev"] == 1
    assert item["opportunity"] == {"fields": fields, "journal": [information],
                                   "updated_at": created["opportunity"]["updated_at"]}
    assert list(item["opportunity"]["fields"]) == list(OPPORTUNITY_FIELDS)


def test_a_cm_cannot_create_an_opportunity(api) -> None:
    visit_id = new_id()
    api.push("alice", content_op(visit_id, 0, visit_content(visit_id)))
    op = opportunity_op(visit_id, opportunity_fields(**COMPLEXE), None, [journal_entry("carole", "CM")])
    [refused] = api.push("carole", op)
    assert refused == {"op_id": op["op_id"], "status": "rejected", "reason": "opportunité introuvable"}
    assert visit(api, visit_id)["opportunity"] is None


def test_another_at_or_an_unknown_visit_is_visite_introuvable(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    for target in (visit_id, new_id()):
        [refused] = api.push("bruno", opportunity_op(target, fields, fields, [journal_entry("bruno", "AT")]))
        assert refused == {"op_id": refused["op_id"], "status": "rejected", "reason": NOT_FOUND}
    [refused] = api.push("carole", opportunity_op(new_id(), fields, fields))
    assert refused["reason"] == NOT_FOUND
    assert len(journal_ids(api, visit_id)) == 1


# The journal: a union of both sides ---------------------------------------------------------


def test_journal_entries_from_both_sides_merge_and_re_sent_ones_are_skipped(api) -> None:
    visit_id, fields = visit_with_opportunity(api, **COMPLEXE)
    information = information_entry(visit_id)
    delay = journal_entry("carole", "CM", "delai-prise-en-charge", type="Prise en charge",
                          title="Délai de prise en charge", day="2026-11-25", text="Prise en charge sous 15 jours.")
    [applied] = api.push("carole", opportunity_op(visit_id, fields, fields, [delay]))
    assert applied["status"] == "applied"
    # Alice's laptop has not seen carole's entry yet: it re-sends its own and adds a note.
    note = journal_entry(day="2026-11-24", text="Rappeler le coordinateur.")
    [applied] = api.push("alice", opportunity_op(visit_id, fields, fields, [information, note]))
    assert applied["status"] == "applied"
    journal = visit(api, visit_id)["opportunity"]["journal"]
    assert [entry["id"] for entry in journal] == [information["id"], note["id"], delay["id"]]  # by day
    assert {entry["author"]: entry["role"] for entry in journal} == {"alice": "AT", "carole": "CM"}


def test_the_same_entry_id_with_another_content_is_refused(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    changed = information_entry(visit_id) | {"text": "Réécrit après coup."}
    [refused] = api.push("alice", opportunity_op(visit_id, fields, fields, [changed, journal_entry()]))
    assert refused["status"] == "rejected" and refused["code"] == "invalid"
    assert f"entrée « {visit_id}:information »" in refused["reason"] and "autre contenu" in refused["reason"]
    assert len(journal_ids(api, visit_id)) == 1  # nothing of the operation applied
    twice = journal_entry()
    [refused] = api.push("alice", opportunity_op(visit_id, fields, fields, [twice, twice | {"text": "autre"}]))
    assert refused["code"] == "invalid" and "deux contenus" in refused["reason"]


def test_an_entry_may_supersede_one_of_its_own_opportunity_only(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    other_id, _ = visit_with_opportunity(api)
    note = journal_entry(text="Premier jet.")
    correction = journal_entry(text="Corrigé.", supersedes=note["id"])
    [applied] = api.push("alice", opportunity_op(visit_id, fields, fields, [note, correction]))
    assert applied["status"] == "applied"
    later = journal_entry(text="Corrigé encore.", supersedes=correction["id"])
    assert api.push("alice", opportunity_op(visit_id, fields, fields, [later]))[0]["status"] == "applied"
    stray = journal_entry(supersedes=f"{other_id}:information")
    [refused] = api.push("alice", opportunity_op(visit_id, fields, fields, [stray]))
    assert refused["code"] == "invalid" and "n'est pas une entrée de cette opportunité" in refused["reason"]


def test_an_entry_id_of_another_opportunity_is_refused(api) -> None:
    first, fields = visit_with_opportunity(api, **COMPLEXE)
    second, _ = visit_with_opportunity(api, **COMPLEXE)
    note = journal_entry("carole", "CM")
    assert api.push("carole", opportunity_op(first, fields, fields, [note]))[0]["status"] == "applied"
    [refused] = api.push("carole", opportunity_op(second, fields, fields, [note]))
    assert refused["code"] == "invalid" and "autre opportunité" in refused["reason"]
    # Within one push too: the second operation sees the first's entry.
    shared = journal_entry("carole", "CM")
    results = api.push("carole", opportunity_op(first, fields, fields, [shared]),
                       opportunity_op(second, fields, fields, [shared]))
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert shared["id"] in journal_ids(api, first) and shared["id"] not in journal_ids(api, second)


def test_an_entry_without_author_is_the_pushers_and_its_re_send_is_the_same(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    anonymous = journal_entry(author=None, role=None)
    for _ in range(2):  # the second time: already there, the same once filled
        [applied] = api.push("alice", opportunity_op(visit_id, fields, fields, [anonymous]))
        assert applied["status"] == "applied"
    stored = visit(api, visit_id)["opportunity"]["journal"][-1]
    assert stored["id"] == anonymous["id"] and (stored["author"], stored["role"]) == ("alice", "AT")


def test_a_spoofed_author_or_role_is_refused(api) -> None:
    visit_id, fields = visit_with_opportunity(api, **COMPLEXE)
    cases = [
        ("carole", journal_entry("alice", "AT"), "auteur « alice »"),
        ("carole", journal_entry("carole", "AT"), "rôle « AT »"),
        ("alice", journal_entry("carole", "CM"), "auteur « carole »"),
        ("alice", journal_entry("alice", "CM"), "rôle « CM »"),
    ]
    for user, entry, said in cases:
        [refused] = api.push(user, opportunity_op(visit_id, fields, fields, [entry]))
        assert refused["status"] == "rejected" and refused["code"] == "invalid", refused
        assert f"entrée « {entry['id']} »" in refused["reason"] and said in refused["reason"]
    assert len(journal_ids(api, visit_id)) == 1


def test_activities_are_checked_against_the_lifecycle_and_who_records_them(api) -> None:
    simple_id, simple = visit_with_opportunity(api)
    complexe_id, complexe = visit_with_opportunity(api, **COMPLEXE)
    cadrage = {"type": "Cadrage", "title": "Cadrage (déploiement acté)"}
    # The lead records the cadrage: the AT on a simple project, the CM on a complex one.
    assert api.push("alice", opportunity_op(simple_id, simple, simple,
                                            [journal_entry(activity="cadrage", **cadrage)]))[0]["status"] == "applied"
    assert api.push("carole", opportunity_op(complexe_id, complexe, complexe, [
        journal_entry("carole", "CM", "cadrage", **cadrage)]))[0]["status"] == "applied"
    refusals = [
        ("carole", simple_id, simple, journal_entry("carole", "CM", "cadrage", **cadrage), "Cadrage (déploiement acté)"),
        ("alice", complexe_id, complexe, journal_entry(activity="cadrage", **cadrage), "Cadrage (déploiement acté)"),
        ("alice", simple_id, simple, journal_entry(activity="inventee"), "activité « inventee » inconnue"),
    ]
    for user, visit_id, fields, entry, said in refusals:
        [refused] = api.push(user, opportunity_op(visit_id, fields, fields, [entry]))
        assert refused["code"] == "invalid" and said in refused["reason"], refused
    # A status entry and a note: always allowed, to either side.
    for user, role in (("alice", "AT"), ("carole", "CM")):
        for activity in ("statut", "note"):
            entry = journal_entry(user, role, activity)
            assert api.push(user, opportunity_op(complexe_id, complexe, complexe, [entry]))[0]["status"] == "applied"


def test_invalid_fields_are_refused_with_the_field_named(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    cases = [
        ({**fields, "status": "gagnee"}, "fields.status"),
        ({**fields, "offer": "autre"}, "fields.offer"),
        ({**fields, "lead": "DG"}, "fields.lead"),
        ({**fields, "launch_date": "2027-02-30"}, "fields.launch_date"),
        ({**fields, "cm_login": "Carole Dupont"}, "fields.cm_login"),
        ({**fields, "couleur": "bleu"}, "fields.couleur"),
        ({key: value for key, value in fields.items() if key != "status"}, "fields.status"),
    ]
    for sent, field_name in cases:
        [refused] = api.push("alice", opportunity_op(visit_id, sent, fields))
        assert refused["status"] == "rejected" and refused["code"] == "invalid", refused
        assert f"« {field_name} »" in refused["reason"], refused["reason"]
    [refused] = api.push("alice", opportunity_op(visit_id, fields, fields, [journal_entry(id="pas-un-uuid")]))
    assert refused["code"] == "invalid" and "identifiant invalide" in refused["reason"]
    assert visit(api, visit_id)["opportunity"]["fields"] == fields


# Fields: per-field conflicts ------------------------------------------------------------------


def test_a_field_changed_on_both_sides_is_a_conflict_and_the_journal_is_still_appended(api) -> None:
    visit_id, base = visit_with_opportunity(api, **COMPLEXE)
    # Carole's two laptops both moved the status from the same base.
    [first] = api.push("carole", opportunity_op(visit_id, {**base, "status": "projet_en_cours"}, base))
    assert first["status"] == "applied"
    note = journal_entry("carole", "CM", text="Structure injoignable.")
    closed = {**base, "status": "sans_suite", "status_reason": "Plus de réponse."}
    op = opportunity_op(visit_id, closed, base, [note])
    [conflict] = api.push("carole", op)
    central = visit(api, visit_id)
    # status_reason is still the base's on the central: not in conflict (and not written either).
    assert conflict == {"op_id": op["op_id"], "status": "conflict", "rev": 1, "fields": ["status"], "central": central}
    assert central["opportunity"]["fields"]["status"] == "projet_en_cours"
    assert central["opportunity"]["fields"]["status_reason"] is None
    assert note["id"] in [entry["id"] for entry in central["opportunity"]["journal"]]


def test_different_fields_changed_on_both_sides_are_both_applied(api) -> None:
    visit_id, base = visit_with_opportunity(api, **COMPLEXE)
    [taken] = api.push("carole", opportunity_op(visit_id, {**base, "cm_login": "carole"}, base))
    [moved] = api.push("alice", opportunity_op(visit_id, {**base, "visit_date": "2026-11-21"}, base))
    assert (taken["status"], moved["status"]) == ("applied", "applied")
    merged = {**base, "cm_login": "carole", "visit_date": "2026-11-21"}
    assert moved["opportunity"]["fields"] == merged  # the laptop learns carole's change in the answer
    assert visit(api, visit_id)["opportunity"]["fields"] == merged


def test_without_a_base_every_field_differing_from_the_central_is_a_conflict(api) -> None:
    visit_id, fields = visit_with_opportunity(api)
    [same] = api.push("alice", opportunity_op(visit_id, fields, None, [journal_entry()]))
    assert same["status"] == "applied"  # nothing differs: only the journal
    [conflict] = api.push("alice", opportunity_op(visit_id, {**fields, "launch_date": "2027-01-12"}, None))
    assert conflict["status"] == "conflict" and conflict["fields"] == ["launch_date"]


# Exactly once, pulled again, rev unchanged ------------------------------------------------------


def test_a_re_sent_operation_is_answered_from_the_ledger(api) -> None:
    visit_id, base = visit_with_opportunity(api)
    op = opportunity_op(visit_id, {**base, "status": "projet_en_cours"}, base, [journal_entry()])
    [first] = api.push("alice", op)
    seq = seq_of(api, visit_id)
    [again] = api.push("alice", op)
    assert again == {**first, "status": "duplicate", "original_status": "applied"}
    assert seq_of(api, visit_id) == seq and len(journal_ids(api, visit_id)) == 2


def test_a_write_gives_a_new_seq_and_keeps_the_rev(api) -> None:
    visit_id, fields = visit_with_opportunity(api, **COMPLEXE)
    _, cursor = pull(api, "alice")
    assert pull(api, "alice", cursor)[0] == []
    seq = seq_of(api, visit_id)
    note = journal_entry("carole", "CM", text="Démarrage la semaine prochaine.")
    [applied] = api.push("carole", opportunity_op(visit_id, fields, fields, [note]))
    assert applied["rev"] == 1 and seq_of(api, visit_id) > seq
    [again], cursor = pull(api, "alice", cursor)
    assert again["rev"] == 1 and again["opportunity"]["journal"][-1] == note
    # The AT's content push on her rev 1 does not conflict with the CM's journal.
    [content] = api.push("alice", content_op(visit_id, 1, visit_content(visit_id, current_step="demonstration")))
    assert content["status"] == "applied" and content["rev"] == 2
    assert visit(api, visit_id)["opportunity"]["journal"][-1] == note
    # Nothing written (all already there): no new seq.
    seq = seq_of(api, visit_id)
    assert api.push("carole", opportunity_op(visit_id, fields, fields, [note]))[0]["status"] == "applied"
    assert seq_of(api, visit_id) == seq and pull(api, "alice", cursor)[0] != []  # the content push's


def test_an_at_pulls_her_own_opportunities_and_a_cm_every_one(api) -> None:
    mine, _ = visit_with_opportunity(api, "alice")
    theirs, _ = visit_with_opportunity(api, "bruno")
    assert [item["id"] for item in pull(api, "alice")[0]] == [mine]
    assert [item["id"] for item in pull(api, "bruno")[0]] == [theirs]
    assert {item["id"] for item in pull(api, "carole")[0]} == {mine, theirs}
    assert api.get("alice", f"/v1/visits/{theirs}").status_code == 404


def test_each_visit_of_a_page_carries_its_own_journal(api) -> None:
    expected: dict[str, list[str]] = {}
    for number in range(5):
        visit_id, fields = visit_with_opportunity(api, **COMPLEXE)
        notes = [journal_entry("carole", "CM", day=f"2026-12-0{n + 1}") for n in range(number)]
        if notes:
            api.push("carole", opportunity_op(visit_id, fields, fields, notes))
        expected[visit_id] = [f"{visit_id}:information", *(note["id"] for note in notes)]
    plain = new_id()
    api.push("alice", content_op(plain, 0, visit_content(plain)))
    items, _ = pull(api, "carole", limit=2)
    assert {item["id"]: [e["id"] for e in item["opportunity"]["journal"]] for item in items if item["opportunity"]} == expected
    assert next(item for item in items if item["id"] == plain)["opportunity"] is None


# Storage ---------------------------------------------------------------------------------------


def test_a_version_1_central_database_gains_the_opportunity_tables_and_keeps_its_visits(tmp_path: Path) -> None:
    """SQLite only: a v1 database of the SQLite backend as issue 7 left it (test_central_migrations.py
    migrates older databases on both backends)."""
    path = tmp_path / "central.sqlite3"
    for api in make_api(path):
        kept = new_id()
        api.push("alice", content_op(kept, 0, visit_content(kept)))
    conn = sqlite3.connect(path)  # back to what a v1 database was
    conn.executescript("DROP TABLE schema_migrations; DROP TABLE opportunity_journal; DROP TABLE opportunities; "
                       "PRAGMA user_version = 1;")
    conn.close()
    for api in make_api(path):
        assert visit(api, kept)["rev"] == 1 and visit(api, kept)["opportunity"] is None
        fields = opportunity_fields()
        [created] = api.push("alice", opportunity_op(kept, fields, None, [information_entry(kept)]))
        assert created["status"] == "applied"
    storage = SQLiteStorage(path)
    try:
        assert storage.get_visit(kept).opportunity.fields == fields
    finally:
        storage.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    finally:
        conn.close()


def test_the_central_journal_is_append_only(api) -> None:
    visit_id, _ = visit_with_opportunity(api)
    for statement in ("UPDATE opportunity_journal SET entry = '{}'", "DELETE FROM opportunity_journal"):
        with pytest.raises(Exception, match="ajout seul"):  # the database itself refuses, whoever writes
            execute(api.db, statement)
    assert journal_ids(api, visit_id) == [f"{visit_id}:information"]


# Any interleaving of both sides --------------------------------------------------------------

STEP = st.tuples(
    st.sampled_from(["alice", "carole"]),
    st.sampled_from([None, "status", "cm_login", "visit_date", "launch_date"]),  # the field changed
    st.integers(min_value=0, max_value=1),  # to which of its two values
    st.booleans(),  # from the central's fields as they are now (True) or from the opening's (stale)
    st.integers(min_value=0, max_value=2),  # new entries
    st.booleans(),  # re-send the previous operation's entries too
)
NEW_VALUES = {
    "status": ("projet_en_cours", "sans_suite"),
    "cm_login": ("carole", "carole.b"),
    "visit_date": ("2026-11-20", "2026-11-21"),
    "launch_date": ("2027-01-12", "2027-01-19"),
}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
# Always tried: the CM's second laptop moves the status from a stale base, with a note (a conflict).
@example(offer="complexe", steps=[("carole", "status", 0, True, 1, False), ("carole", "status", 1, False, 1, True)])
@given(offer=st.sampled_from(["simple", "complexe"]), steps=st.lists(STEP, min_size=1, max_size=8))
def test_any_interleaving_keeps_every_entry_once_and_the_rev(central_db: str, offer: str, steps: list) -> None:
    """The examples share the test's database: each works on a visit of its own."""
    for api in make_api(central_db):
        visit_id, opening = visit_with_opportunity(api, **(COMPLEXE if offer == "complexe" else {}))
        kept = [f"{visit_id}:information"]
        previous: list[dict] = []
        for user, changed, value, fresh, count, resend in steps:
            role = "AT" if user == "alice" else "CM"
            base = visit(api, visit_id)["opportunity"]["fields"] if fresh else opening
            sent = {**base, changed: NEW_VALUES[changed][value]} if changed else dict(base)
            entries = [journal_entry(user, role) for _ in range(count)]
            resent = [e for e in previous if e["author"] == user] if resend else []
            [result] = api.push(user, opportunity_op(visit_id, sent, base, [*resent, *entries]))
            assert result["status"] in ("applied", "conflict", "rejected"), result
            if result["status"] == "rejected":
                assert result.get("code") == "forbidden", result  # the only refusal these steps can earn
            else:
                kept += [e["id"] for e in entries]
                previous = entries
            central = visit(api, visit_id)
            assert central["rev"] == 1
            assert sorted(journal_ids(api, visit_id)) == sorted(kept)  # each entry once, none lost
            if result["status"] == "applied" and changed:
                assert central["opportunity"]["fields"][changed] == sent[changed]
