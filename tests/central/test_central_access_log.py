"""No token in the central's access log nor in its error bodies (issue 9 §4), whatever the client
puts in a query string, a header or the path. The log is the real server's (`central serve`)."""

from __future__ import annotations

import json
import logging
import re
import uuid

import httpx
import pytest
from central_server import CentralServer, content_op

from at_tui.central.access_log import RedactingFormatter, access_line

KEYS = {"time", "client", "method", "path", "status", "user", "ms"}


def test_the_access_log_holds_no_query_string_and_no_header(central_server: CentralServer) -> None:
    alice = central_server.add_user("alice", "at")
    bruno = central_server.add_user("bruno", "at")
    url = central_server.url
    headers = central_server.auth(alice)
    visit_id = str(uuid.uuid4())
    assert httpx.post(url + "/v1/push", json={"operations": [content_op(visit_id, 0)]}, headers=headers,
                      timeout=30).status_code == 200
    # A token in a query string, authenticated or not, on known and unknown paths.
    for path in (f"/v1/visits?token={bruno}", f"/v1/visits?since=0&access_token={bruno}&limit=5",
                 f"/v1/health?Authorization=Bearer%20{bruno}", f"/nulle-part?t={bruno}",
                 f"/v1/visits?limit={bruno}", f"/v1/visits?since={bruno}"):
        httpx.get(url + path, headers=headers, timeout=30)
        httpx.get(url + path, timeout=30)
    # A token in headers that are not Authorization, and in Authorization with another scheme.
    httpx.get(url + "/v1/visits", headers={**headers, "X-Api-Key": bruno, "Cookie": f"jeton={bruno}",
                                           "Referer": f"https://x.example/?token={bruno}"}, timeout=30)
    httpx.get(url + "/v1/visits", headers={"Authorization": f"Token {bruno}", "User-Agent": bruno}, timeout=30)
    # A token in the path itself, and an escape sequence.
    httpx.get(url + f"/v1/visits/{bruno}", headers=headers, timeout=30)
    httpx.get(url + "/v1/visits/%1b]52;c;aGVsbG8=%07", headers=headers, timeout=30)
    central_server.stop()

    logs = central_server.logs()
    for secret in central_server.tokens:
        assert secret not in logs
        assert secret[12:] not in logs and secret[4:20] not in logs
    assert "Bearer" not in logs and "Cookie" not in logs and "X-Api-Key" not in logs
    assert "\x1b" not in logs and "\x07" not in logs
    assert "MSP des Coteaux" not in logs  # nor any body
    # One JSON object per line on stdout, each with these keys only: nothing else can slip in.
    stdout = (central_server.log_dir / "stdout.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert len(lines) >= 17  # every request above (and the start-up polls)
    assert all(set(line) == KEYS for line in lines), lines
    assert not any("?" in line["path"] for line in lines)  # no query string at all
    push = next(line for line in lines if line["path"] == "/v1/push")
    assert push["method"] == "POST" and push["status"] == 200 and push["user"] == "alice"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", push["client"]) and isinstance(push["ms"], (int, float))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", push["time"])
    assert {"method": "GET", "path": "/v1/visits", "status": 401, "user": None}.items() <= next(
        line for line in lines if line["status"] == 401).items()
    assert any(line["path"] == "/v1/visits/att_…(masqué)" and line["status"] == 404 and line["user"] == "alice"
               for line in lines), lines


def test_error_bodies_never_echo_a_token(api) -> None:
    bruno = api.tokens["bruno"]
    headers = api.headers("alice")
    answers = [
        api.client.get(f"/v1/visits?limit={bruno}", headers=headers),
        api.client.get(f"/v1/visits?since={bruno}", headers=headers),
        api.client.get(f"/v1/visits/{bruno}", headers=headers),
        api.client.get(f"/v1/reference/{bruno}", headers=headers),
        api.client.get(f"/{bruno}", headers=headers),
        api.client.post("/v1/push", content=f'{{"operations": [], "{bruno}": 1}}', headers=headers),
        api.client.post("/v1/push", content=f'{{"operations": [{{"op_id": "{bruno}"}}]}}', headers=headers),
        api.client.get("/v1/visits", headers={"Authorization": f"Bearer {bruno}x"}),
        api.client.get("/v1/visits", headers={"Authorization": f"Bearer {api.tokens['alice']}", "X-Token": bruno}),
    ]
    assert [a.status_code for a in answers] == [422, 410, 404, 422, 404, 422, 422, 401, 200]
    for answer in answers:
        for secret in api.tokens.values():
            assert secret not in answer.text and secret[4:] not in answer.text, answer.text


@pytest.mark.parametrize("query", ["token=att_abc", "x=1"])
def test_an_access_line_has_the_path_without_query(query: str) -> None:
    scope = {"type": "http", "method": "GET", "path": "/v1/visits", "query_string": query.encode(),
             "http_version": "1.1", "client": ("10.0.0.2", 5555), "headers": [(b"authorization", b"Bearer att_abc")]}
    line = access_line(scope, 200, "alice", 0.0042, now=1796547601.2345)
    assert json.loads(line) == {"time": "2026-12-06T09:00:01.234Z", "client": "10.0.0.2:5555", "method": "GET",
                                "path": "/v1/visits", "status": 200, "user": "alice", "ms": 4.2}
    assert "att_abc" not in line and query not in line


def test_an_access_line_stays_one_valid_json_line_whatever_the_path() -> None:
    token = "att_" + "Q" * 43
    scope = {"type": "http", "method": "GET", "client": None,
             "path": f'/v1/visits/{token}"\n{{"forged": 1}}\x1b[2J\udc80' + "x" * 500}
    line = access_line(scope, None, None, 1.5)
    record = json.loads(line)
    assert "\n" not in line and token not in line and "\x1b" not in line
    assert record["path"].startswith("/v1/visits/att_…(masqué)\"")  # a quote stays inside the string
    assert record["path"].endswith("…") and len(record["path"]) <= 201
    assert record["client"] is None and record["user"] is None and record["status"] is None
    assert record["ms"] == 1500.0


def test_every_log_line_is_redacted_tracebacks_too() -> None:
    token = "att_" + "Z" * 43
    try:
        raise RuntimeError(f"en-tête reçu : Authorization: Bearer {token}")
    except RuntimeError:
        record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "Exception %s", (token,), None)
        import sys

        record.exc_info = sys.exc_info()
    text = RedactingFormatter().format(record)
    assert token not in text and "ERROR:" in text and "RuntimeError" in text
