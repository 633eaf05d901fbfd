"""The central service's API, in process (TestClient) on a real database — a SQLite file and a
PostgreSQL database, every test on both (`central_db`): push, pull, limits, authorization.

Users: alice and bruno are ATs, carole is a CM (see conftest.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from central_api import make_api
from central_db import PUBLIC_TABLES, execute, integrity_errors, is_postgres, query, stored_bytes
from central_server import content_op, followup_op, visit_content
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from at_tui.central import operations
from at_tui.central.app import Gatekeeper
from at_tui.central.auth import issue_token, new_token, token_hash
from at_tui.central.backends import open_storage
from at_tui.central.models import Limits
from at_tui.central.sqlite_storage import APPLICATION_ID, SQLiteStorage
from at_tui.central.storage import SCHEMA_VERSION, STREAM_REFERENCE, STREAM_VISITS, StorageError

NOT_FOUND = "visite introuvable"


def new_id() -> str:
    return str(uuid.uuid4())


def create(api, user: str = "alice", **changes) -> str:
    """A visit created by `user` (rev 1); its id."""
    visit_id = new_id()
    [result] = api.push(user, content_op(visit_id, 0, visit_content(visit_id, **changes)))
    assert result["status"] == "applied" and result["rev"] == 1, result
    return visit_id


def central(api, visit_id: str, user: str = "carole") -> dict:
    response = api.get(user, f"/v1/visits/{visit_id}")
    assert response.status_code == 200, response.text
    return response.json()


def pull_all(api, user: str, since: str | None = None, limit: int = 1000) -> tuple[list[dict], str]:
    """Every page from `since`: the visits in order and the last cursor."""
    items: list[dict] = []
    while True:
        params = {"limit": limit} | ({"since": since} if since is not None else {})
        response = api.get(user, "/v1/visits", **params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        since = page["cursor"]
        if not page["more"]:
            return items, since


# Push: the five outcomes ------------------------------------------------------------------


def test_create_update_and_read_back(api) -> None:
    visit_id = new_id()
    [created] = api.push("alice", content_op(visit_id, 0))
    assert created == {"op_id": created["op_id"], "status": "applied", "rev": 1}

    visit = central(api, visit_id, "alice")
    assert visit["rev"] == 1 and visit["owner"] == "alice" and visit["id"] == visit_id
    assert visit["content"] == visit_content(visit_id)
    assert visit["followup"] == {"status": "a_traiter", "lead": "AT", "comment": ""}

    changed = visit_content(visit_id, status="terminee", finished_at="2026-11-22T11:00:00+00:00")
    [updated] = api.push("alice", content_op(visit_id, 1, changed))
    assert updated["status"] == "applied" and updated["rev"] == 2
    assert central(api, visit_id, "alice")["content"]["status"] == "terminee"


def test_a_resent_operation_is_a_duplicate_and_never_applied_twice(api) -> None:
    visit_id = new_id()
    create_op = content_op(visit_id, 0)
    update_op = content_op(visit_id, 1, visit_content(visit_id, current_step="recueil"))
    assert [r["status"] for r in api.push("alice", create_op, update_op)] == ["applied", "applied"]

    # The laptop lost the answer and sends both again, in the same push and in a later one.
    first, second = api.push("alice", create_op, update_op)
    assert first == {"op_id": create_op["op_id"], "status": "duplicate", "rev": 1, "original_status": "applied"}
    assert second == {"op_id": update_op["op_id"], "status": "duplicate", "rev": 2, "original_status": "applied"}
    assert api.push("alice", update_op)[0]["status"] == "duplicate"
    assert central(api, visit_id)["rev"] == 2
    assert query(api.db, "SELECT count(*) FROM operations") == [(2,)]


def test_the_ledger_is_permanent_across_restarts(central_db: str) -> None:
    db = central_db
    visit_id = new_id()
    op = content_op(visit_id, 0)
    for api in make_api(db):
        assert api.push("alice", op)[0]["status"] == "applied"
    for api in make_api(db):  # a new service process on the same file (new tokens, same users)
        [again] = api.push("alice", op)
        assert again["status"] == "duplicate" and again["original_status"] == "applied" and again["rev"] == 1
        assert central(api, visit_id)["rev"] == 1


def test_a_stale_base_revision_is_a_conflict_carrying_the_central_copy(api) -> None:
    visit_id = create(api)
    api.push("alice", content_op(visit_id, 1, visit_content(visit_id, current_step="recueil")))
    before = central(api, visit_id)

    stale = content_op(visit_id, 1, visit_content(visit_id, current_step="classification:resultat"))
    [result] = api.push("alice", stale)
    assert result["status"] == "conflict" and result["rev"] == 2
    assert result["central"] == before
    assert central(api, visit_id) == before  # nothing modified

    [again] = api.push("alice", stale)
    assert again["status"] == "duplicate" and again["original_status"] == "conflict"
    assert again["central"] == before

    # Resolving: a new operation on the central revision.
    [resolved] = api.push("alice", content_op(visit_id, 2, visit_content(visit_id, current_step="classification:resultat")))
    assert resolved["status"] == "applied" and resolved["rev"] == 3


def test_creating_an_existing_visit_again_is_a_conflict(api) -> None:
    visit_id = create(api)
    [result] = api.push("alice", content_op(visit_id, 0))
    assert result["status"] == "conflict" and result["central"]["rev"] == 1


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"identity": {**visit_content()["identity"], "departement": 31}}, "champ « identity.departement »"),
        ({"identity": {**visit_content()["identity"], "maillage": "oui"}}, "champ « identity.maillage »"),
        ({"status": "finie"}, "champ « status »"),
        ({"history": []}, "champ « history » : champ inconnu"),
        ({"classification": {}}, "champ « classification » : champ inconnu"),
        ({"created_at": "22/11/2026"}, "champ « created_at »"),
        ({"created_at": "2026-11-22T09:30:00"}, "fuseau"),
        ({"playbook": {"id": "spico", "version": 0}}, "champ « playbook.version »"),
        ({"answers": {"autre:x": 1}}, "clé de réponse « autre:x » invalide"),
        ({"answers": {"q:x": 1.5}}, "réponse « q:x »"),
        ({"answers": {"q:x": {"a": 1}}}, "réponse « q:x »"),
        ({"answers": {"notes:presentation": "é" * 20_001}}, "champ « answers.notes:presentation » : texte trop long (20000"),
        ({"identity": {**visit_content()["identity"], "structure": "x" * 20_001}}, "texte trop long"),
        ({"status": "terminee"}, "champ « finished_at »"),
        ({"override": {"offer": "dossiers", "justification": ""}}, "champ « override.justification »"),
        ({"id": "3f6c2b1e-8a4d-4c1e-9b7a-2d5e6f708192"}, "champ « id »"),
        ({"answers": {"q:x": "\ud800"}}, "caractère invalide"),
    ],
)
def test_an_invalid_content_is_rejected_with_the_field_named(api, changes, fragment) -> None:
    visit_id = new_id()
    payload = visit_content(visit_id) | changes
    op = content_op(visit_id, 0, payload)
    [result] = api.push("alice", op)
    assert result["status"] == "rejected", result
    assert fragment in result["reason"], result["reason"]
    assert api.get("alice", f"/v1/visits/{visit_id}").status_code == 404
    # Recorded: the same operation sent again gets the same answer.
    [again] = api.push("alice", op)
    assert again["status"] == "duplicate" and again["original_status"] == "rejected"
    assert again["reason"] == result["reason"]


def test_a_missing_field_and_a_too_deep_payload_are_rejected(api) -> None:
    visit_id = new_id()
    payload = visit_content(visit_id)
    del payload["answers"]
    deep: dict = {}
    cursor = deep
    for _ in range(40):
        cursor["x"] = {}
        cursor = cursor["x"]
    results = api.push("alice", content_op(visit_id, 0, payload), content_op(new_id(), 0, deep))
    assert "champ « answers » : champ obligatoire manquant" in results[0]["reason"]
    assert "trop imbriqué" in results[1]["reason"]


def test_one_bad_operation_never_blocks_the_others(api) -> None:
    good_1, bad, good_2 = new_id(), new_id(), new_id()
    results = api.push(
        "alice",
        content_op(good_1, 0),
        content_op(bad, 0, visit_content(bad, status="?")),
        content_op(good_2, 0),
        content_op(good_1, 1, visit_content(good_1, current_step="recueil")),  # follows up on the first, same push
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "applied"]
    assert central(api, good_1)["rev"] == 2
    assert query(api.db, "SELECT status, count(*) FROM operations GROUP BY status ORDER BY status") == [
        ("applied", 3),
        ("rejected", 1),
    ]


def test_an_unknown_visit_with_a_base_revision_is_not_found(api) -> None:
    [result] = api.push("alice", content_op(new_id(), 3))
    assert result == {"op_id": result["op_id"], "status": "rejected", "reason": NOT_FOUND}


def test_an_op_id_reused_for_another_operation_is_refused_and_not_recorded(api) -> None:
    visit_id = create(api)
    op = content_op(visit_id, 1, visit_content(visit_id, current_step="recueil"))
    assert api.push("alice", op)[0]["status"] == "applied"
    edited = {**op, "payload": visit_content(visit_id, current_step="classification:resultat")}
    [result] = api.push("alice", edited)
    assert result["status"] == "rejected" and "op_id" in result["reason"]
    assert central(api, visit_id)["content"]["current_step"] == "recueil"
    # The original is still the ledger's.
    assert api.push("alice", op)[0] == {"op_id": op["op_id"], "status": "duplicate", "rev": 2, "original_status": "applied"}


def test_identifiers_are_answered_in_canonical_form(api) -> None:
    visit_id = new_id()
    op = content_op(visit_id.upper(), 0, visit_content(visit_id), op_id=new_id().upper())
    [result] = api.push("alice", op)
    assert result["status"] == "applied" and result["op_id"] == op["op_id"].lower()
    assert api.push("alice", {**op, "op_id": op["op_id"].lower(), "visit_id": visit_id})[0]["status"] == "duplicate"


def test_a_failing_operation_is_undone_alone_and_the_ones_before_it_stay(central_db: str) -> None:
    """Operations of one push commit together; one that fails half-way leaves no trace, the
    ones before it are committed, and the error reaches the caller (503: the laptop resends)."""
    storage = open_storage(central_db)
    try:
        user = storage.add_user("alice", "at")
        first, second, third = (content_op(new_id(), 0) for _ in range(3))
        ops = [operations.Operation(raw["op_id"], raw["visit_id"], "content", 0, raw["payload"])
               for raw in (first, second, third)]
        decisions = [(op.op_id, op.visit_id, operations._decider(user, op, 20_000, "2026-11-22T10:00:00+00:00"))
                     for op in ops]

        def fails_after_writing(entry, visit):
            decision = decisions[1][2](entry, visit)
            return dataclasses.replace(decision, ledger=dataclasses.replace(decision.ledger, status="?"))

        with pytest.raises(integrity_errors()):  # the ledger's CHECK refuses it, after the visit row
            storage.apply_operations([decisions[0], (ops[1].op_id, ops[1].visit_id, fails_after_writing), decisions[2]])
        assert storage.get_visit(ops[0].visit_id).rev == 1
        assert storage.get_visit(ops[1].visit_id) is None and storage.get_visit(ops[2].visit_id) is None
        # Sent again, the first is a duplicate and the others are applied.
        results = operations.apply(storage, user, ops, 20_000)
        assert [r["status"] for r in results] == ["duplicate", "applied", "applied"]
    finally:
        storage.close()


def test_each_operation_is_its_own_transaction_even_concurrently(central_db: str) -> None:
    """The same operation pushed from several threads at once: applied once, duplicates otherwise."""
    storage = open_storage(central_db)
    try:
        user = storage.add_user("alice", "at")
        visit_id = new_id()
        raw = content_op(visit_id, 0)
        op = operations.Operation(raw["op_id"], visit_id, "content", 0, raw["payload"])
        results: list[dict] = []
        lock = threading.Lock()

        def push() -> None:
            [result] = operations.apply(storage, user, [op], 20_000)
            with lock:
                results.append(result)

        threads = [threading.Thread(target=push) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r["status"] for r in results) == ["applied"] + ["duplicate"] * 7
        assert storage.get_visit(visit_id).rev == 1
    finally:
        storage.close()


# Authorization --------------------------------------------------------------------------


def test_an_at_cannot_read_another_ats_visit(api) -> None:
    visit_id = create(api, "alice")
    hidden = api.get("bruno", f"/v1/visits/{visit_id}")
    missing = api.get("bruno", f"/v1/visits/{new_id()}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Visite introuvable."}
    assert api.get("bruno", "/v1/visits/pas-un-uuid").status_code == 404
    assert api.get("alice", f"/v1/visits/{visit_id}").status_code == 200


def test_an_at_lists_only_its_own_visits_and_a_cm_all(api) -> None:
    mine = {create(api, "alice"), create(api, "alice")}
    theirs = {create(api, "bruno")}
    assert {v["id"] for v in pull_all(api, "alice")[0]} == mine
    assert {v["id"] for v in pull_all(api, "bruno")[0]} == theirs
    assert {v["id"] for v in pull_all(api, "carole")[0]} == mine | theirs


@pytest.mark.parametrize("base_rev", [0, 1, 2])
def test_an_at_cannot_overwrite_another_ats_visit_even_inside_a_batch(api, base_rev: int) -> None:
    visit_id = create(api, "alice")
    before = central(api, visit_id)
    own = new_id()
    results = api.push(
        "bruno",
        content_op(own, 0),
        content_op(visit_id, base_rev, visit_content(visit_id, current_step="recueil")),
        content_op(own, 1, visit_content(own, current_step="recueil")),
        followup_op(visit_id, 1),
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "rejected"]
    # Same words as a visit that does not exist, and no central copy: nothing tells it exists.
    assert results[1] == {"op_id": results[1]["op_id"], "status": "rejected", "reason": NOT_FOUND}
    [absent] = api.push("bruno", content_op(new_id(), base_rev or 1))
    assert absent["reason"] == results[1]["reason"]
    assert central(api, visit_id) == before


def test_an_op_id_of_another_user_reveals_nothing(api) -> None:
    visit_id = create(api, "alice")
    op = content_op(visit_id, 1, visit_content(visit_id, current_step="recueil"))
    api.push("alice", op)
    [result] = api.push("bruno", op)
    assert result["status"] == "rejected" and set(result) == {"op_id", "status", "reason"}
    assert central(api, visit_id)["rev"] == 2


def test_a_cm_cannot_change_the_content(api) -> None:
    visit_id = create(api, "alice")
    results = api.push(
        "carole",
        content_op(visit_id, 1, visit_content(visit_id, current_step="recueil")),
        content_op(new_id(), 0),
    )
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all("chargé de mission" in r["reason"] for r in results)
    assert central(api, visit_id)["rev"] == 1


def test_an_at_cannot_change_the_followup(api) -> None:
    visit_id = create(api, "alice")
    [result] = api.push("alice", followup_op(visit_id, 1, status="gagnee"))
    assert result["status"] == "rejected" and "chargé de mission" in result["reason"]
    assert central(api, visit_id)["followup"]["status"] == "a_traiter"


def test_a_cm_updates_the_followup_and_the_at_sees_it(api) -> None:
    visit_id = create(api, "alice")
    _, cursor = pull_all(api, "alice")
    [result] = api.push("carole", followup_op(visit_id, 1, status="en_cours", lead="CM", comment="RDV pris"))
    assert result["status"] == "applied" and result["rev"] == 2

    visit = central(api, visit_id, "alice")
    assert visit["followup"] == {"status": "en_cours", "lead": "CM", "comment": "RDV pris"}
    assert visit["content"] == visit_content(visit_id)  # the content is untouched
    changed, _ = pull_all(api, "alice", since=cursor)
    assert [v["id"] for v in changed] == [visit_id] and changed[0]["followup"]["comment"] == "RDV pris"

    # A stale follow-up is a conflict; the AT's next content operation must build on rev 2.
    [stale] = api.push("carole", followup_op(visit_id, 1, status="perdue"))
    assert stale["status"] == "conflict" and stale["central"]["followup"]["status"] == "en_cours"
    [late] = api.push("alice", content_op(visit_id, 1, visit_content(visit_id, current_step="recueil")))
    assert late["status"] == "conflict" and late["rev"] == 2
    [ok] = api.push("alice", content_op(visit_id, 2, visit_content(visit_id, current_step="recueil")))
    assert ok["status"] == "applied" and ok["rev"] == 3
    assert central(api, visit_id)["followup"]["comment"] == "RDV pris"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"status": "fini", "lead": "CM", "comment": ""}, "champ « status »"),
        ({"status": "en_cours", "lead": "ARS", "comment": ""}, "champ « lead »"),
        ({"status": "en_cours", "lead": "CM"}, "champ « comment » : champ obligatoire manquant"),
        ({"status": "en_cours", "lead": "CM", "comment": "x" * 20_001}, "champ « comment »"),
        ({"status": "en_cours", "lead": "CM", "comment": "", "extra": 1}, "champ « extra » : champ inconnu"),
    ],
)
def test_an_invalid_followup_is_rejected(api, payload, fragment) -> None:
    visit_id = create(api, "alice")
    op = followup_op(visit_id, 1)
    [result] = api.push("carole", {**op, "payload": payload})
    assert result["status"] == "rejected" and fragment in result["reason"], result


def test_a_followup_on_an_unknown_visit_is_not_found(api) -> None:
    [result] = api.push("carole", followup_op(new_id(), 0))
    assert result["reason"] == NOT_FOUND


# Authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/v1/visits"),
    ("GET", "/v1/visits?since=0&limit=10"),
    ("GET", "/v1/visits/3f6c2b1e-8a4d-4c1e-9b7a-2d5e6f708192"),
    ("GET", "/v1/reference/contacts"),
    ("GET", "/v1/reference/inconnu"),
    ("POST", "/v1/push"),
    ("GET", "/v1/nope"),
    ("GET", "/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer att_inconnu", "Bearer " + new_token(), "Basic YWxpY2U6eA==", "revoked", "token-only"],
)
def test_every_endpoint_but_health_answers_401_without_a_valid_token(api, method, path, authorization) -> None:
    if authorization == "revoked":
        token, _ = issue_token(api.storage, "alice")
        api.storage.revoke_tokens("alice", token[:12])
        authorization = f"Bearer {token}"
    elif authorization == "token-only":
        authorization = api.tokens["alice"]  # no « Bearer »
    headers = {} if authorization is None else {"Authorization": authorization}
    # Even with a malformed or oversized body, the token is checked first.
    response = api.client.request(method, path, headers=headers, content=b"{" + b" " * 3_000_000)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Jeton d'accès absent, inconnu ou révoqué : reconnectez le poste avec un jeton valide."}
    if authorization:
        assert authorization.split()[-1] not in response.text


def test_a_token_in_the_url_is_never_accepted(api) -> None:
    token = api.tokens["alice"]
    for params in ({"token": token}, {"access_token": token}, {"authorization": f"Bearer {token}"}):
        assert api.client.get("/v1/visits", params=params).status_code == 401


def test_health_needs_no_token_and_the_spec_is_served(api) -> None:
    assert api.client.get("/v1/health").json() == {"status": "ok"}
    spec = api.client.get("/openapi.json").json()
    assert {"/v1/health", "/v1/push", "/v1/visits", "/v1/visits/{visit_id}", "/v1/reference/{dataset}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert api.client.get("/docs").status_code == 401  # no documentation pages pulling scripts from a CDN


def test_revoking_one_device_keeps_the_others(api) -> None:
    second, info = issue_token(api.storage, "alice")
    headers = {"Authorization": f"Bearer {second}"}
    assert api.client.get("/v1/visits", headers=headers).status_code == 200
    assert api.storage.revoke_tokens("alice", info.prefix) == 1
    assert api.client.get("/v1/visits", headers=headers).status_code == 401
    assert api.get("alice", "/v1/visits").status_code == 200
    assert api.storage.revoke_tokens("alice") == 1
    assert api.get("alice", "/v1/visits").status_code == 401


def test_tokens_are_random_and_only_their_hash_is_stored(api) -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith("att_") and len(token) == 47  # 32 bytes in base64url
    raw = stored_bytes(api.db)
    for token in api.tokens.values():
        assert token.encode() not in raw
        assert token[12:].encode() not in raw  # not even the secret part
    stored = {row[0] for row in query(api.db, "SELECT hash FROM tokens")}
    assert {hashlib.sha256(t.encode()).hexdigest() for t in api.tokens.values()} <= stored
    assert token_hash(api.tokens["alice"]) in stored


# Pull -------------------------------------------------------------------------------------


def test_pull_pages_in_commit_order_and_resumes_from_the_cursor(api) -> None:
    ids = [create(api, "alice") for _ in range(5)]
    first = api.get("alice", "/v1/visits", limit=2).json()
    assert [v["id"] for v in first["items"]] == ids[:2] and first["more"] is True
    items, cursor = pull_all(api, "alice", limit=2)
    assert [v["id"] for v in items] == ids

    # Nothing new: empty page, same cursor.
    empty = api.get("alice", "/v1/visits", since=cursor).json()
    assert empty == {"items": [], "cursor": cursor, "more": False}

    # A change moves the visit to the end.
    api.push("alice", content_op(ids[0], 1, visit_content(ids[0], current_step="recueil")))
    changed, cursor_2 = pull_all(api, "alice", since=cursor)
    assert [(v["id"], v["rev"]) for v in changed] == [(ids[0], 2)]
    assert cursor_2 != cursor
    assert [v["id"] for v in pull_all(api, "alice", since="0")[0]] == ids[1:] + ids[:1]


def test_an_at_cursor_skips_other_ats_changes(api) -> None:
    mine = create(api, "alice")
    _, cursor = pull_all(api, "alice")
    create(api, "bruno")
    assert pull_all(api, "alice", since=cursor)[0] == []
    api.push("carole", followup_op(mine, 1))
    assert [v["id"] for v in pull_all(api, "alice", since=cursor)[0]] == [mine]


@pytest.mark.parametrize("cursor", ["nimporte", "17", "-1", "abc-1", "{instance}-{ahead}", "{instance}-1x", "{instance}-²"])
def test_an_unknown_cursor_is_gone(api, cursor: str) -> None:
    create(api)
    # A position no row of either stream has yet (positions are the backend's: small on SQLite, large on PostgreSQL).
    ahead = max(api.storage.last_seq(STREAM_VISITS), api.storage.last_seq(STREAM_REFERENCE)) + 999
    since = cursor.format(instance=api.storage.instance, ahead=ahead)
    for path in ("/v1/visits", "/v1/reference/contacts"):
        response = api.get("alice", path, since=since)
        assert response.status_code == 410, (path, since)
        assert "since=0" in response.json()["detail"]


def test_a_cursor_from_another_database_is_gone(api, new_central_db) -> None:
    create(api)
    _, cursor = pull_all(api, "alice")
    for other in make_api(new_central_db("other")):
        create(other)
        assert other.get("alice", "/v1/visits", since=cursor).status_code == 410


def test_reference_datasets_page_with_cursors(api) -> None:
    assert api.get("alice", "/v1/reference/playbooks").json()["items"] == []
    api.storage.put_reference_item("contacts", "dac-32", {"nom": "DAC du Gers"})
    api.storage.put_reference_item("argumentaire", "crt", {"titre": "CRT"})
    api.storage.put_reference_item("contacts", "dac-31", {"nom": "DAC 31"})
    page = api.get("bruno", "/v1/reference/contacts", limit=1).json()
    assert page["items"] == [{"key": "dac-32", "content": {"nom": "DAC du Gers"}, "deleted": False}] and page["more"]
    page = api.get("bruno", "/v1/reference/contacts", since=page["cursor"]).json()
    assert [i["key"] for i in page["items"]] == ["dac-31"] and not page["more"]
    api.storage.put_reference_item("contacts", "dac-32", None, deleted=True)
    page = api.get("bruno", "/v1/reference/contacts", since=page["cursor"]).json()
    assert page["items"] == [{"key": "dac-32", "content": None, "deleted": True}]
    with pytest.raises(StorageError):
        api.storage.put_reference_item("inconnu", "x", {})


# Limits and errors ------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_parsing(api) -> None:
    response = api.client.post("/v1/push", content=b"{" * (2 * 1024 * 1024 + 1), headers=api.headers("alice"))
    assert response.status_code == 413
    assert "2097152 octets" in response.json()["detail"]


STEPS = ("presentation", "demonstration", "classification", "qualification", "lancement", "suivi-usages", "temoignages")


def test_a_body_under_the_limit_passes(api) -> None:
    # Notes of every step of the playbook, 19,000 characters each, 14 visits: ~1.9 MB.
    ops = []
    for _ in range(14):
        visit_id = new_id()
        ops.append(content_op(visit_id, 0, visit_content(visit_id, answers={f"notes:{s}": "x" * 19_000 for s in STEPS})))
    assert 1_800_000 < len(json.dumps({"operations": ops})) < 2 * 1024 * 1024
    assert {r["status"] for r in api.push("alice", *ops)} == {"applied"}


async def test_the_streamed_size_is_checked_when_content_length_lies_or_is_absent(api) -> None:
    """Straight through the ASGI layer: a chunked body with no Content-Length, bigger than the limit."""
    reached = False

    async def app(scope, receive, send):
        nonlocal reached
        reached = True

    gate = Gatekeeper(app, api.storage, max_body_bytes=1000)
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(5)]

    async def receive():
        return chunks.pop(0)

    async def send(message):
        sent.append(message)

    for headers in ([], [(b"content-length", b"10")]):
        chunks[:] = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(5)]
        sent.clear()
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/push",
            "headers": [(b"authorization", f"Bearer {api.tokens['alice']}".encode()), *headers],
        }
        await gate(scope, receive, send)
        assert sent[0]["status"] == 413 and not reached
        assert "1000 octets" in json.loads(sent[1]["body"])["detail"]


def test_limits_can_be_set(central_db: str) -> None:
    for api in make_api(central_db, Limits(max_body_bytes=600, max_operations=2, max_page=3)):
        big = {"operations": [content_op(new_id())]}
        assert len(json.dumps(big)) > 600
        assert api.client.post("/v1/push", json=big, headers=api.headers("alice")).status_code == 413
        three = {"operations": [content_op(new_id(), 0, {}) for _ in range(3)]}
        assert len(json.dumps(three)) < 600
        response = api.client.post("/v1/push", json=three, headers=api.headers("alice"))
        assert response.status_code == 422 and "2 au plus" in response.json()["detail"]
        assert api.get("alice", "/v1/visits", limit=4).status_code == 422


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"operations": [content_op(str(uuid.uuid4()))] * 501}, "Trop d'opérations dans un envoi (500 au plus)"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "op_id": "x"}]}, "champ « operations.0.op_id » : identifiant invalide"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "kind": "delete"}]}, "champ « operations.0.kind »"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "base_rev": -1}]}, "champ « operations.0.base_rev »"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "base_rev": True}]}, "champ « operations.0.base_rev »"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "base_rev": "1"}]}, "champ « operations.0.base_rev »"),
        ({"operations": [{**content_op(str(uuid.uuid4())), "payload": []}]}, "champ « operations.0.payload »"),
        ({"operations": [], "extra": 1}, "champ « extra » : champ inconnu"),
        ({}, "champ « operations » : champ obligatoire manquant"),
        ([], "un objet est attendu"),
    ],
)
def test_a_malformed_push_is_422_in_french(api, body, fragment) -> None:
    response = api.client.post("/v1/push", json=body, headers=api.headers("alice"))
    assert response.status_code == 422
    assert fragment.lower() in response.json()["detail"].lower(), response.json()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"{", "Corps JSON invalide."), (b"", "Corps de la requête manquant"), (b"\xff\xfe{}", "Corps")],
)
def test_an_unreadable_body_is_422_in_french(api, content: bytes, fragment: str) -> None:
    headers = api.headers("alice") | {"Content-Type": "application/json"}
    response = api.client.post("/v1/push", content=content, headers=headers)
    assert response.status_code == 422 and response.json()["detail"].startswith(fragment), response.text


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": 0}, "paramètre « limit » : la valeur doit être au moins 1"),
        ({"limit": 1001}, "paramètre « limit » : la valeur doit être au plus 1000"),
        ({"limit": "beaucoup"}, "paramètre « limit » : un nombre entier est attendu"),
        ({"since": "x" * 101}, "paramètre « since » : texte trop long"),
    ],
)
def test_page_parameters_are_checked(api, params, fragment) -> None:
    response = api.get("alice", "/v1/visits", **params)
    assert response.status_code == 422 and fragment.lower() in response.json()["detail"].lower(), response.json()


def test_routing_errors_are_french(api) -> None:
    assert api.get("alice", "/v1/nope").json() == {"detail": "Ressource introuvable."}
    response = api.client.delete("/v1/push", headers=api.headers("alice"))
    assert response.status_code == 405 and response.json() == {"detail": "Méthode non autorisée sur cette adresse."}
    assert api.get("alice", "/v1/reference/inconnu").status_code == 422
    assert api.get("alice", "/v1/visits").headers["cache-control"] == "no-store"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    structure=st.text(max_size=50),
    notes=st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans()),
    key=st.text(max_size=20),
    stamp=st.text(max_size=40),
)
def test_near_valid_contents_never_break_the_service(central_db: str, structure, notes, key, stamp) -> None:
    """Valid shapes with arbitrary values (lone surrogates, control characters, NaN…): an answer, never a 500.
    The examples share the test's database (each pushes a new visit)."""
    for api in make_api(central_db):
        visit_id = new_id()
        payload = visit_content(visit_id, answers={"notes:presentation": notes, key: True}, updated_at=stamp)
        payload["identity"] = {**payload["identity"], "structure": structure}
        body = json.dumps({"operations": [content_op(visit_id, 0, payload)]}, allow_nan=True).encode()
        response = api.client.post("/v1/push", content=body, headers=api.headers("alice") | {"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["status"] in ("applied", "rejected")
        if result["status"] == "applied":
            assert central(api, visit_id)["content"]["identity"]["structure"] == structure


def test_an_unavailable_database_is_503_with_retry_after(central_db: str) -> None:
    for api in make_api(central_db):
        api.storage.close()
        pushed = api.client.post("/v1/push", json={"operations": []}, headers=api.headers("alice"))
        for response in (api.get("alice", "/v1/visits"), pushed):
            assert response.status_code == 503 and response.headers["Retry-After"] == "5"
            assert "indisponible" in response.json()["detail"]
        assert api.client.get("/v1/health").status_code == 200


def test_the_sqlite_file_is_marked_and_versioned(tmp_path: Path) -> None:
    """SQLite only: the file's own marks (a laptop's SQLite file is not a central's)."""
    db = tmp_path / "central.sqlite3"
    SQLiteStorage(db).close()
    assert query(db, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    foreign = tmp_path / "poste.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE visits (id TEXT)")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="n'est pas une base du service central"):
        SQLiteStorage(foreign)


def test_a_stored_visit_that_no_longer_passes_the_rules_is_still_served(api) -> None:
    """Content stored before a rule was tightened (here a year 9999) must not make pulls fail:
    the central serves what it stores, the laptop sets aside what it cannot use."""
    visit_id = create(api)
    [(content,)] = query(api.db, "SELECT content FROM visits WHERE id = ?", visit_id)
    stored = json.loads(content)
    stored["updated_at"] = "9999-12-31T23:59:59+00:00"
    execute(api.db, "UPDATE visits SET content = ? WHERE id = ?", json.dumps(stored), visit_id)

    page = api.get("alice", "/v1/visits")
    assert page.status_code == 200, page.text
    [served] = [item for item in page.json()["items"] if item["id"] == visit_id]
    assert served["content"]["updated_at"] == "9999-12-31T23:59:59+00:00"
    assert api.get("alice", f"/v1/visits/{visit_id}").status_code == 200
    # A stale push on it is a conflict that carries the stored copy, not a 500.
    [result] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, current_step="recueil")))
    assert result["status"] == "conflict" and result["central"]["content"]["updated_at"].startswith("9999")


def set_schema_version(db: str, version: int) -> None:
    """As a newer at-tui would leave the database: where each backend keeps its schema's version."""
    if is_postgres(db):
        execute(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'", str(version))
    else:
        execute(db, f"PRAGMA user_version = {version}")


def test_a_database_of_a_newer_version_is_refused_and_left_as_it_is(central_db: str) -> None:
    open_storage(central_db).close()
    set_schema_version(central_db, SCHEMA_VERSION + 1)
    before = stored_bytes(central_db)
    with pytest.raises(StorageError, match="plus récente.*mettez at-tui à jour"):
        open_storage(central_db)
    assert stored_bytes(central_db) == before


def test_a_postgresql_database_of_another_application_is_refused_and_left_as_it_is(postgres_db: str) -> None:
    """The PostgreSQL counterpart of a laptop's SQLite file given by mistake: a database with tables of its own."""
    execute(postgres_db, "CREATE TABLE visits (id TEXT)")
    execute(postgres_db, "INSERT INTO visits VALUES ('x')")
    with pytest.raises(StorageError, match="n'est pas une base du service central"):
        open_storage(postgres_db)
    assert query(postgres_db, PUBLIC_TABLES) == [("visits",)]


def test_a_postgresql_database_gone_away_is_503_in_french_then_served_again(postgres_db: str, monkeypatch) -> None:
    """The PostgreSQL counterpart of a closed SQLite file: the database refuses connections while the
    service runs (its pooled ones cut). Each request waits `POOL_WAIT` for a connection (shortened
    here), then a 503 in French with Retry-After; once the database is back, the same service serves."""
    from at_tui.central import postgres_storage

    monkeypatch.setattr(postgres_storage, "POOL_WAIT", 1.0)
    name = postgres_db.rpartition("/")[2]
    admin = postgres_db.rpartition("/")[0] + "/postgres"
    for api in make_api(postgres_db):
        visit_id = create(api)
        execute(admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        query(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name)
        try:
            response = api.get("alice", f"/v1/visits/{visit_id}")
            assert response.status_code == 503 and response.headers["Retry-After"] == "5"
            assert "indisponible" in response.json()["detail"], response.json()
            assert api.client.get("/v1/health").status_code == 200
        finally:
            execute(admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        for _ in range(100):  # the pool connects again in the background
            response = api.get("alice", f"/v1/visits/{visit_id}")
            if response.status_code == 200:
                break
        assert response.status_code == 200 and response.json()["rev"] == 1
