"""A visit belongs for ever to the AT who created it (issue 9 §7, docs/sync-protocol.md « Propriété
d'une visite »): no push, in any order, moves it to another AT, and a CM acting on it never owns it.

Users: alice and bruno are ATs, carole is a CM (see conftest.py). The hand-over path of the
README: bruno imports alice's exported visit, and his laptop pushes it (same visit id).
"""

from __future__ import annotations

import uuid

import pytest
from central_db import query
from central_server import content_op, followup_op, visit_content

from at_tui.central.backends import open_storage
from at_tui.central.storage import StorageError, VisitWrite

NOT_FOUND = "visite introuvable"


def owned_by(owner: str) -> str:
    return f"cette visite appartient à {owner} : seule son auteure ou son auteur peut l'envoyer"


def new_id() -> str:
    return str(uuid.uuid4())


def central(api, visit_id: str) -> dict:
    response = api.get("carole", f"/v1/visits/{visit_id}")
    assert response.status_code == 200, response.text
    return response.json()


def visits_table(db: str) -> list[tuple]:
    return query(db, "SELECT id, rev, owner, content, seq FROM visits ORDER BY id")


def test_the_creator_syncs_first_then_an_importer_cannot_take_it(api) -> None:
    visit_id = new_id()
    assert api.push("alice", content_op(visit_id, 0))[0]["status"] == "applied"
    # Bruno's laptop pushes the imported copy: without owner, or naming himself.
    for payload in (visit_content(visit_id), visit_content(visit_id, owner="bruno")):
        [result] = api.push("bruno", content_op(visit_id, 0, payload))
        assert result == {"op_id": result["op_id"], "status": "rejected", "reason": NOT_FOUND}
    assert central(api, visit_id)["owner"] == "alice"
    # Alice's sync stays green.
    [update] = api.push("alice", content_op(visit_id, 1, visit_content(visit_id, current_step="demonstration")))
    assert update["status"] == "applied" and update["rev"] == 2
    assert central(api, visit_id)["owner"] == "alice"


def test_an_importer_syncing_first_cannot_take_it_when_the_owner_is_named(api) -> None:
    visit_id = new_id()
    op = content_op(visit_id, 0, visit_content(visit_id, owner="alice"))
    [refused] = api.push("bruno", op)
    assert refused == {"op_id": op["op_id"], "status": "rejected", "reason": owned_by("alice"), "code": "owner"}
    assert api.get("carole", f"/v1/visits/{visit_id}").status_code == 404
    assert visits_table(api.db) == []
    # The same operation sent again: the same refusal, recorded.
    [again] = api.push("bruno", op)
    assert again["status"] == "duplicate" and again["original_status"] == "rejected" and again["code"] == "owner"
    # Then alice syncs: she creates it and owns it.
    [created] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, owner="alice")))
    assert created == {"op_id": created["op_id"], "status": "applied", "rev": 1}
    assert central(api, visit_id)["owner"] == "alice"


def test_the_owner_refusal_says_nothing_of_whether_the_visit_exists(api) -> None:
    existing = new_id()
    api.push("alice", content_op(existing, 0))
    answers = [
        api.push("bruno", content_op(visit_id, base_rev, visit_content(visit_id, owner="alice")))[0]
        for visit_id, base_rev in ((existing, 0), (existing, 1), (new_id(), 0), (new_id(), 4))
    ]
    assert {(r["status"], r["reason"], r["code"]) for r in answers} == {("rejected", owned_by("alice"), "owner")}
    assert all("central" not in r for r in answers)


def test_an_at_naming_another_owner_on_her_own_visit_changes_nothing(api) -> None:
    visit_id = new_id()
    api.push("alice", content_op(visit_id, 0))
    before = visits_table(api.db)
    [result] = api.push("alice", content_op(visit_id, 1, visit_content(visit_id, owner="bruno")))
    assert result["status"] == "rejected" and result["reason"] == owned_by("bruno") and result["code"] == "owner"
    assert visits_table(api.db) == before


def test_owner_is_read_never_stored_and_never_pulled(api) -> None:
    visit_id = new_id()
    with_owner = content_op(visit_id, 0, visit_content(visit_id, owner="alice"))
    assert api.push("alice", with_owner)[0]["status"] == "applied"
    visit = central(api, visit_id)
    assert visit["owner"] == "alice" and "owner" not in visit["content"]
    [pulled] = api.get("alice", "/v1/visits").json()["items"]
    assert "owner" not in pulled["content"]
    # Naming oneself or no one is the same operation: the re-send without owner is a duplicate.
    without = {**with_owner, "payload": visit_content(visit_id)}
    [again] = api.push("alice", without)
    assert again["status"] == "duplicate" and again["original_status"] == "applied"


@pytest.mark.parametrize("owner", ["Alice Martin", "", "alice\n", 42, "a" * 65])
def test_an_owner_that_cannot_be_a_login_is_invalid(api, owner) -> None:
    visit_id = new_id()
    [result] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, owner=owner)))
    assert result["status"] == "rejected" and "champ « owner »" in result["reason"], result
    assert result["code"] == "invalid"


def test_a_cm_following_up_never_becomes_the_owner(api) -> None:
    visit_id = new_id()
    api.push("alice", content_op(visit_id, 0))
    [followup] = api.push("carole", followup_op(visit_id, 1, comment="RDV pris"))
    assert followup["status"] == "applied"
    [content] = api.push("carole", content_op(visit_id, 2, visit_content(visit_id, owner="carole")))
    assert content["status"] == "rejected" and "chargé de mission" in content["reason"]
    visit = central(api, visit_id)
    assert visit["owner"] == "alice" and visit["rev"] == 2 and visit["followup"]["comment"] == "RDV pris"
    # Alice builds on the CM's revision: still hers.
    assert api.push("alice", content_op(visit_id, 2, visit_content(visit_id, owner="alice")))[0]["rev"] == 3
    assert central(api, visit_id)["owner"] == "alice"


def test_the_storage_refuses_a_write_that_would_change_the_owner(central_db: str) -> None:
    storage = open_storage(central_db)
    try:
        for name in ("alice", "bruno"):
            storage.add_user(name, "at")
        visit_id = new_id()
        stamp = "2026-11-22T10:00:00+00:00"

        def write(owner: str, expected: int):
            from at_tui.central.storage import Decision

            change = VisitWrite(visit_id, expected, expected + 1, owner, '{"x":1}', "{}", stamp)
            return storage.apply_operations([(new_id(), visit_id, lambda entry, visit: Decision({}, change))])

        write("alice", 0)
        with pytest.raises(StorageError, match="propriétaire"):
            write("bruno", 1)
        visit = storage.get_visit(visit_id)
        assert visit is not None and visit.owner == "alice" and visit.rev == 1
    finally:
        storage.close()
