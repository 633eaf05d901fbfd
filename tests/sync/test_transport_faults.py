"""What the sync does when something other than the central answers, against a real HTTP(S) server
on 127.0.0.1 (tests/fake_sync_server.py): a Wi-Fi portal's page or redirect, JSON of the wrong
shape, a certificate this machine does not trust, a long `Retry-After`, a network that fails in
its various ways, a server quoting the token. Each ends in one French sentence, and nothing of a
bad answer is filed: the outbox, the central revisions and the cursors are as before.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
from email.utils import format_datetime

import pytest
from fake_sync_server import (
    CLOSE,
    EMPTY_PAGE,
    HAVE_CRYPTOGRAPHY,
    NEEDS_CRYPTOGRAPHY,
    PORTAL_PAGE,
    Answer,
    FakeServer,
    self_signed_certificate,
    server_context,
)
from helpers import IDENTITY

from at_tui.sync.engine import sync
from at_tui.sync.transport import (
    KEPT,
    PORTAL,
    UNEXPECTED,
    CertificateRejected,
    Malformed,
    NotTheServer,
    Offline,
    Refused,
    RetryLater,
    RetryPolicy,
    Transport,
    retry_later,
)

TOKEN = "att_c2VjcmV0LWR1LXRlc3QtZGUtdHJhbnNwb3J0LXF1aS1uZS1kb2l0LXBhcy1maWxlcg"
NO_RETRY = RetryPolicy(attempts=1, base=0, cap=0)


@pytest.fixture
def server():
    fake = FakeServer()
    yield fake
    fake.close()


def client(url: str, **options) -> Transport:
    options.setdefault("retry", NO_RETRY)
    options.setdefault("sleep", lambda _seconds: None)
    return Transport(url, TOKEN, timeout=5.0, rng=random.Random(1), **options)


def capture(workspace, count: int) -> list[str]:
    ids = []
    for index in range(count):
        visit, errors = workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
        assert not errors
        workspace.save_answer(visit, "utilisateurs_potentiels", str(10 + index))
        ids.append(visit.id)
    return ids


def filed(conn) -> dict:
    """What the sync files from the central's answers: not the attempt counters, which count failures too,
    nor `pending` becoming `sent` (taken for sending: both wait, and go again next time)."""
    return {
        "outbox": conn.execute("SELECT op_id, CASE state WHEN 'sent' THEN 'pending' ELSE state END, result "
                               "FROM outbox ORDER BY seq").fetchall(),
        "sync_visits": conn.execute("SELECT * FROM sync_visits ORDER BY visit_id").fetchall(),
        "sync_state": conn.execute("SELECT key, value FROM sync_state WHERE key <> 'last_success' ORDER BY key").fetchall(),
    }


def as_tuples(snapshot: dict) -> dict:
    return {name: [tuple(row) for row in rows] for name, rows in snapshot.items()}


def push_ok(request) -> Answer:
    operations = json.loads(request.body)["operations"]
    return Answer(200, {"results": [{"op_id": op["op_id"], "status": "applied", "rev": 1} for op in operations]})


# --- a portal, a redirect ------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    PORTAL_PAGE,
    Answer(200, b"  <html><body>Wi-Fi</body></html>", {"Content-Type": "application/octet-stream"}),  # no type
    Answer(302, b"", {"Location": "http://portail.hotel.example/login?next=/v1/push"}),
    Answer(307, b"", {"Location": "https://wifi.gare.example/"}),
    Answer(511, "<html>Network Authentication Required</html>", {"Content-Type": "text/html"}),
], ids=["html-200", "html-untyped", "redirect-302", "redirect-307", "status-511"])
def test_a_portal_instead_of_the_push_answer_files_nothing(workspace, server, answer):
    capture(workspace, 2)
    server.route("POST", "/v1/push", answer)
    before = as_tuples(filed(workspace.conn))
    with client(server.url) as transport:
        report = sync(workspace, transport)
    assert len(report.errors) == 1, report.errors
    assert PORTAL in report.errors[0] and KEPT in report.errors[0]
    assert "injoignable" not in report.errors[0]
    assert not report.complete and report.left == 2 and report.sent == 0
    assert as_tuples(filed(workspace.conn)) == before


def test_a_portal_page_instead_of_a_visits_page_keeps_the_cursor(workspace, server):
    capture(workspace, 1)
    server.route("POST", "/v1/push", push_ok)
    server.route("GET", "/v1/visits", PORTAL_PAGE)
    with client(server.url) as transport:
        report = sync(workspace, transport)
    assert report.sent == 1 and PORTAL in report.errors[0]
    assert workspace.conn.execute("SELECT value FROM sync_state WHERE key = 'cursor:visits'").fetchone() is None


def test_a_redirect_to_the_same_host_says_to_check_the_address(server):
    server.route("GET", "/v1/visits", Answer(301, b"", {"Location": "/autre/v1/visits"}))
    with client(server.url) as transport, pytest.raises(NotTheServer) as caught:
        transport.get("/v1/visits", {"since": "0"})
    message = str(caught.value)
    assert "renvoie vers une autre adresse" in message and f"{server.url}/autre/v1/visits" in message
    assert "at-tui login" in message and PORTAL not in message


# --- JSON of the wrong shape ------------------------------------------------------------------------------


BAD_PUSH_ANSWERS = {
    "list": Answer(200, [{"op_id": "x", "status": "applied"}]),
    "no-results": Answer(200, {"resultats": []}),
    "results-object": Answer(200, {"results": {"op_id": "x"}}),
    "op-id-number": Answer(200, {"results": [{"op_id": 12, "status": "applied", "rev": 1}]}),
    "unknown-status": Answer(200, {"results": [{"op_id": "x", "status": "ok"}]}),
    "rev-text": Answer(200, {"results": [{"op_id": "x", "status": "applied", "rev": "1"}]}),
    "rev-boolean": Answer(200, {"results": [{"op_id": "x", "status": "applied", "rev": True}]}),
    "reason-object": Answer(200, {"results": [{"op_id": "x", "status": "rejected", "reason": {"a": 1}}]}),
    "central-list": Answer(200, {"results": [{"op_id": "x", "status": "conflict", "rev": 2, "central": []}]}),
    "not-json": Answer(200, "OK"),
    "truncated-json": Answer(200, b'{"results": [', {"Content-Type": "application/json"}),
    "empty": Answer(200, b"", {"Content-Type": "application/json"}),
}


@pytest.mark.parametrize("name", sorted(BAD_PUSH_ANSWERS))
def test_a_push_answer_of_the_wrong_shape_files_nothing(workspace, server, name):
    capture(workspace, 2)
    server.route("POST", "/v1/push", BAD_PUSH_ANSWERS[name])
    before = as_tuples(filed(workspace.conn))
    with client(server.url) as transport:
        report = sync(workspace, transport)
    assert len(report.errors) == 1, report.errors
    assert UNEXPECTED in report.errors[0] and "Rien de cette réponse n'a été appliqué" in report.errors[0]
    assert PORTAL not in report.errors[0]
    assert report.left == 2 and not report.complete
    assert as_tuples(filed(workspace.conn)) == before


BAD_PAGES = {
    "list": Answer(200, []),
    "items-object": Answer(200, {"items": {}, "cursor": "1", "more": False}),
    "no-cursor": Answer(200, {"items": [], "more": False}),
    "cursor-number": Answer(200, {"items": [], "cursor": 5, "more": False}),
    "more-text": Answer(200, {"items": [], "cursor": "1", "more": "oui"}),
    "item-without-id": Answer(200, {"items": [{"rev": 2}], "cursor": "1", "more": False}),
    "rev-text": Answer(200, {"items": [{"id": "x", "rev": "2"}], "cursor": "1", "more": False}),
    "content-list": Answer(200, {"items": [{"id": "x", "rev": 2, "content": []}], "cursor": "1", "more": False}),
}


@pytest.mark.parametrize("name", sorted(BAD_PAGES))
def test_a_visits_page_of_the_wrong_shape_files_nothing(workspace, server, name):
    [visit_id] = capture(workspace, 1)
    server.route("POST", "/v1/push", push_ok)
    with client(server.url) as transport:
        assert sync(workspace, transport).sent == 1
    # The same visit comes back with a page of the wrong shape: nothing of it is taken.
    page = BAD_PAGES[name]
    if isinstance(page.body, dict) and page.body.get("items") and "id" in page.body["items"][0]:
        page.body["items"][0]["id"] = visit_id
    server.route("GET", "/v1/visits", page)
    before = as_tuples(filed(workspace.conn))
    with client(server.url) as transport:
        report = sync(workspace, transport)
    assert len(report.errors) == 1 and UNEXPECTED in report.errors[0], report.errors
    assert as_tuples(filed(workspace.conn)) == before


def test_a_reference_page_of_the_wrong_shape_is_refused_by_the_transport(server):
    server.route("GET", "/v1/reference/contacts", Answer(200, {"items": [{"key": 1}], "cursor": "3", "more": False}))
    with client(server.url) as transport, pytest.raises(Malformed, match=UNEXPECTED):
        transport.get("/v1/reference/contacts", {"since": "0"})


# --- a certificate this machine does not trust ----------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path):
    cert, key = self_signed_certificate(tmp_path / "tls")
    fake = FakeServer(tls=server_context(cert, key))
    fake.route("GET", "/v1/visits", EMPTY_PAGE)
    yield fake, cert
    fake.close()


@pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason=NEEDS_CRYPTOGRAPHY)
def test_an_untrusted_certificate_is_named_not_taken_for_an_unreachable_server(workspace, tls_server):
    fake, _cert = tls_server
    capture(workspace, 1)
    sleeps: list[float] = []
    with client(fake.url, retry=RetryPolicy(attempts=4, base=1, cap=5), sleep=sleeps.append) as transport:
        assert transport.reachable()  # worth a sync: the sync then says why, « hors ligne » would mislead
        report = sync(workspace, transport)
    [error] = report.errors
    assert "le certificat du serveur n'est pas reconnu par ce poste (certificat auto-signé)" in error
    assert "--ca-bundle" in error and "vérifiez l'adresse" in error
    assert "injoignable" not in error
    assert sleeps == []  # retrying cannot make a certificate trusted
    assert fake.requests == []  # the token never left: the handshake failed first
    assert report.left == 1


@pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason=NEEDS_CRYPTOGRAPHY)
def test_the_certificate_authority_given_at_login_is_used(tls_server):
    fake, cert = tls_server
    with client(fake.url, ca_bundle=str(cert)) as transport:
        assert transport.get("/v1/visits", {"since": "0"}) == EMPTY_PAGE.body
    assert fake.requests == [("GET", "/v1/visits?since=0", f"Bearer {TOKEN}")]


def test_an_unusable_certificate_authority_file_is_named(tmp_path, server):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("ceci n'est pas un certificat\n", encoding="utf-8")
    transport = client(server.url, ca_bundle=str(bundle))  # never raises here (built in the app's worker)
    with transport, pytest.raises(CertificateRejected) as caught:
        transport.get("/v1/visits")
    assert "autorités de certification" in str(caught.value) and str(bundle) in str(caught.value)
    assert server.requests == []


# --- Retry-After longer than the cap ----------------------------------------------------------------------


def test_a_long_retry_after_is_waited_with_a_countdown_never_shortened(server):
    server.route("GET", "/v1/visits", Answer(429, {"detail": "trop de requêtes"}, {"Retry-After": "90"}), EMPTY_PAGE)
    shown: list[int] = []
    sleeps: list[float] = []
    with client(server.url, retry=RetryPolicy(attempts=3, base=0.1, cap=30), sleep=sleeps.append,
                countdown=shown.append) as transport:
        assert transport.get("/v1/visits") == EMPTY_PAGE.body
    assert sum(sleeps) == 90  # all of it, not the cap's 30
    assert shown == list(range(90, 0, -1)) + [0]  # every second shown, then cleared
    assert len(server.requests) == 2


@pytest.mark.parametrize(("retry_after", "countdown"), [("90", False), ("600", True)])
def test_a_long_retry_after_without_a_countdown_ends_the_run_with_the_time(server, retry_after, countdown):
    server.route("POST", "/v1/push", Answer(503, {"detail": "maintenance"}, {"Retry-After": retry_after}))
    sleeps: list[float] = []
    shown: list[int] = []
    start = dt.datetime.now().astimezone()
    with client(server.url, retry=RetryPolicy(attempts=5, base=0.1, cap=30), sleep=sleeps.append,
                countdown=shown.append if countdown else None) as transport, pytest.raises(RetryLater) as caught:
        transport.post("/v1/push", {"operations": []})
    assert sleeps == [] and shown == [] and len(server.requests) == 1  # neither shortened nor hammered
    message = str(caught.value)
    assert message.startswith("Le serveur demande d'attendre : réessayez après ")
    until = start + dt.timedelta(seconds=int(retry_after))
    assert abs((caught.value.until - until).total_seconds()) < 5
    expected = (until + dt.timedelta(seconds=59)).replace(second=0, microsecond=0)
    assert f"{expected:%H:%M}" in message


def test_a_retry_after_within_the_cap_is_waited_exactly(server):
    server.route("GET", "/v1/visits", Answer(503, {}, {"Retry-After": "7"}), EMPTY_PAGE)
    sleeps: list[float] = []
    with client(server.url, retry=RetryPolicy(attempts=3, base=0.1, cap=30), sleep=sleeps.append) as transport:
        transport.get("/v1/visits")
    assert sleeps == [7.0]


def test_a_retry_after_as_a_date_on_the_last_attempt_says_when(server):
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    server.route("GET", "/v1/visits", Answer(429, {}, {"Retry-After": format_datetime(moment, usegmt=True)}))
    with client(server.url) as transport, pytest.raises(RetryLater) as caught:
        transport.get("/v1/visits")
    assert abs((caught.value.until - moment).total_seconds()) < 5


def test_the_time_to_retry_is_rounded_up_and_dated_when_not_today():
    now = dt.datetime(2026, 12, 5, 14, 3, 20, tzinfo=dt.UTC)
    assert "réessayez après " in str(retry_later(100, now))
    local = now.astimezone()
    assert f"{(local + dt.timedelta(seconds=100 + 59)).replace(second=0):%H:%M}" in str(retry_later(100, now))
    assert "le " in str(retry_later(3 * 86400, now)) and "/12/2026" in str(retry_later(3 * 86400, now))


# --- the network failing ------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("url", "words"), [
    (f"http://127.0.0.1:{_closed_port()}", "connexion refusée"),
    ("http://serveur-inexistant.invalid", "introuvable"),
])
def test_a_network_that_fails_says_why_in_french(url, words):
    with client(url, retry=RetryPolicy(attempts=2, base=0, cap=0)) as transport, pytest.raises(Offline) as caught:
        transport.get("/v1/visits")
    assert words in str(caught.value) and KEPT in str(caught.value)
    assert "Errno" not in str(caught.value)


def test_a_server_that_hangs_up_is_retried_then_named(server):
    server.route("GET", "/v1/visits", CLOSE, CLOSE, EMPTY_PAGE)
    with client(server.url, retry=RetryPolicy(attempts=3, base=0, cap=0)) as transport:
        assert transport.get("/v1/visits") == EMPTY_PAGE.body
    server.route("GET", "/v1/visits", CLOSE)
    with client(server.url, retry=RetryPolicy(attempts=2, base=0, cap=0)) as transport, pytest.raises(Offline) as caught:
        transport.get("/v1/visits")
    assert "le serveur a coupé la connexion" in str(caught.value)


# --- the server quoting the token ----------------------------------------------------------------------------


def echo_authorization(status: int):
    def answer(request) -> Answer:
        return Answer(status, {"detail": f"en-têtes reçus : Authorization: {request.headers.get('Authorization')} ; "
                                         f"jeton brut {request.headers.get('Authorization', '').split()[-1]}"})
    return answer


def test_a_server_quoting_the_token_in_its_error_leaves_no_trace(workspace, server):
    capture(workspace, 1)
    server.route("POST", "/v1/push", echo_authorization(400))
    with client(server.url) as transport:
        with pytest.raises(Refused) as caught:
            transport.post("/v1/push", {"operations": []})
        report = sync(workspace, transport)
    assert TOKEN not in str(caught.value) and "masqué" in str(caught.value)
    assert report.errors and TOKEN not in " ".join(report.errors)
    stored = workspace.conn.execute("SELECT group_concat(last_error, ' ') FROM outbox").fetchone()[0]
    assert stored and "masqué" in stored and TOKEN not in stored


def test_a_refusal_reason_quoting_the_token_is_stored_masked(workspace, server):
    capture(workspace, 1)

    def reject(request) -> Answer:
        operations = json.loads(request.body)["operations"]
        quoted = request.headers["Authorization"]
        return Answer(200, {"results": [{"op_id": op["op_id"], "status": "rejected",
                                         "reason": f"refusé pour {quoted} \x1b]52;c;Y2xpcA==\x07"} for op in operations]})

    server.route("POST", "/v1/push", reject)
    server.route("GET", "/v1/visits", EMPTY_PAGE)
    with client(server.url) as transport:
        report = sync(workspace, transport)
    assert report.rejected == 1
    row = workspace.conn.execute("SELECT last_error, result FROM outbox").fetchone()
    assert TOKEN not in row["last_error"] and TOKEN not in row["result"]
    assert "\x1b" not in row["last_error"] and "refusé pour Bearer" in row["last_error"]
