"""End to end: the real service (`python -m at_tui central serve`, uvicorn on 127.0.0.1), users made
with the real CLI, requests with httpx; stopped, killed and restarted on the same database."""

from __future__ import annotations

import uuid

import httpx
from central_server import CentralServer, content_op, followup_op, visit_content


def push(server: CentralServer, token: str, *ops: dict) -> list[dict]:
    response = httpx.post(server.url + "/v1/push", json={"operations": list(ops)}, headers=server.auth(token), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def visits(server: CentralServer, token: str) -> dict[str, dict]:
    response = httpx.get(server.url + "/v1/visits", headers=server.auth(token), timeout=30)
    assert response.status_code == 200, response.text
    return {visit["id"]: visit for visit in response.json()["items"]}


def test_pushed_visits_survive_a_restart_and_a_kill(central_server: CentralServer) -> None:
    alice = central_server.add_user("alice", "at")
    carole = central_server.add_user("carole", "cm")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    create_first = content_op(first, 0)
    assert [r["status"] for r in push(central_server, alice, create_first, content_op(second, 0))] == ["applied"] * 2
    assert push(central_server, carole, followup_op(first, 1, comment="RDV pris"))[0]["rev"] == 2

    central_server.stop()  # SIGTERM, as systemd or `kill` stops it
    assert central_server.process.returncode == 0, central_server.logs()
    assert "Finished server process" in central_server.logs()  # shut down gracefully, not killed
    central_server.start()
    seen = visits(central_server, alice)
    assert set(seen) == {first, second} and seen[first]["followup"]["comment"] == "RDV pris"
    assert push(central_server, alice, create_first)[0]["status"] == "duplicate"  # the ledger survived

    # Acknowledged, then the process is killed at once: nothing acknowledged is lost.
    update = content_op(second, 1, visit_content(second, current_step="recueil"))
    assert push(central_server, alice, update)[0] == {"op_id": update["op_id"], "status": "applied", "rev": 2}
    central_server.restart(hard=True)
    seen = visits(central_server, carole)
    assert seen[second]["rev"] == 2 and seen[second]["content"]["current_step"] == "recueil"
    assert push(central_server, alice, update)[0]["original_status"] == "applied"


def test_tokens_never_reach_the_server_logs(central_server: CentralServer) -> None:
    alice = central_server.add_user("alice", "at")
    bruno = central_server.add_user("bruno", "at")
    unknown = "att_" + "A" * 43
    visit_id = str(uuid.uuid4())
    push(central_server, alice, content_op(visit_id, 0))
    for token in (bruno, unknown, "pas-un-jeton"):
        httpx.get(f"{central_server.url}/v1/visits/{visit_id}", headers=central_server.auth(token), timeout=30)
    httpx.post(central_server.url + "/v1/push", content=b"{", headers=central_server.auth(alice), timeout=30)
    central_server.revoke("bruno")
    assert httpx.get(central_server.url + "/v1/visits", headers=central_server.auth(bruno), timeout=30).status_code == 401
    central_server.stop()

    logs = central_server.logs()
    assert '"method": "GET", "path": "/v1/visits", "status": 401' in logs  # the (JSON) access log is on
    assert '"method": "POST", "path": "/v1/push", "status": 200' in logs
    for secret in [*central_server.tokens, unknown]:
        assert secret not in logs
        assert secret[12:] not in logs
    assert "Bearer" not in logs and "authorization" not in logs.lower()
    assert "MSP des Coteaux" not in logs  # request bodies are not logged either


def test_limits_over_real_http(central_server: CentralServer) -> None:
    alice = central_server.add_user("alice", "at")
    big = b"{" + b" " * (2 * 1024 * 1024)
    declared = httpx.post(central_server.url + "/v1/push", content=big, headers=central_server.auth(alice), timeout=30)
    assert declared.status_code == 413 and "octets" in declared.json()["detail"]

    def chunks():  # no Content-Length: the streamed size is what counts
        for _ in range(40):
            yield b" " * 65536

    streamed = httpx.post(central_server.url + "/v1/push", content=chunks(), headers=central_server.auth(alice), timeout=30)
    assert streamed.status_code == 413
    # The server is still fine.
    assert push(central_server, alice, content_op(str(uuid.uuid4()), 0))[0]["status"] == "applied"
    page = httpx.get(central_server.url + "/v1/visits?limit=5000", headers=central_server.auth(alice), timeout=30)
    assert page.status_code == 422 and "1000" in page.json()["detail"]
