"""`at-tui sync` as the AT runs it (a subprocess), when things go wrong: a server quoting the token,
a Wi-Fi portal, an answer of the wrong shape, an untrusted certificate, a long `Retry-After`, the
network failing, a keyring that raises, a read-only data folder; and the visits set aside
(conflicts, refusals) listed at every run until they are settled, against the real central.

Each case: one French sentence, a documented exit code, never a traceback.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from central_server import content_op
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
from small_disk import needs_tmpfs, remount_read_only, small_tmpfs, unmount

from at_tui.exchange.exporter import visit_content
from at_tui.sync.transport import PORTAL, UNEXPECTED

TIMEOUT = 120
TOKEN = "att_amV0b24tZGUtbWFyaWUtcXVpLW5lLWRvaXQtamFtYWlzLWZ1aXRlcg_x"
TRACEBACK = "Traceback"
SETTLE = "touche s"
SETTLE_FULL = "ouvrez l'application (« at-tui »), touche s (« Problèmes de synchronisation »)"


def run_sync(home: Path, *args: str, token: str | None = TOKEN, extra_env: dict | None = None, typed: str = ""):
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_TOKEN", "AT_TUI_FIXTURES")}
    env.update(AT_TUI_HOME=str(home), PYTHONIOENCODING="utf-8", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    if token is not None:
        env["AT_TUI_TOKEN"] = token
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "at_tui", *args], env=env, capture_output=True, text=True, encoding="utf-8",
        timeout=TIMEOUT, check=False, input=typed,
    )


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert TRACEBACK not in result.stdout + result.stderr, result.stderr


def capture(home: Path, reference, count: int = 1) -> list[str]:
    """Visits typed on this laptop (the database closed again before the CLI runs)."""
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    os.environ["AT_TUI_HOME"] = str(home)  # restored by the at_home fixture's monkeypatch
    workspace = Workspace(database_path(), reference=reference)
    try:
        ids = []
        for index in range(count):
            visit, errors = workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
            assert not errors
            workspace.save_answer(visit, "utilisateurs_potentiels", str(10 + index))
            ids.append(visit.id)
        return ids
    finally:
        workspace.close()


def files_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under the data folder (the database, its -wal and -shm, crash reports, settings)."""
    return {str(path): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


# --- the server quoting the token ----------------------------------------------------------------------


def _quote(request) -> str:
    header = request.headers.get("Authorization", "")
    return f"Authorization: {header} (jeton {header.split()[-1] if header else ''})"


def _push_rejected_quoting(request) -> Answer:
    import json

    operations = json.loads(request.body)["operations"]
    return Answer(200, {"results": [{"op_id": op["op_id"], "status": "rejected", "reason": f"refusé : {_quote(request)}"}
                                    for op in operations]})


QUOTING = {
    "push-400": {("POST", "/v1/push"): lambda request: Answer(400, {"detail": f"requête invalide, reçu {_quote(request)}"})},
    "push-500": {("POST", "/v1/push"): lambda request: Answer(500, f"Internal error\n{_quote(request)}\n")},
    "push-rejected": {("POST", "/v1/push"): _push_rejected_quoting,
                      ("GET", "/v1/visits"): lambda request: Answer(403, {"detail": f"interdit : {_quote(request)}"})},
    "pull-422": {("POST", "/v1/push"): lambda request: Answer(200, {"results": []}),
                 ("GET", "/v1/visits"): lambda request: Answer(422, {"detail": [{"msg": _quote(request)}]})},
}


@pytest.mark.parametrize("case", sorted(QUOTING))
def test_a_server_quoting_the_token_leaves_no_trace_anywhere(at_home, reference, server, case):
    capture(at_home, reference, 2 if case != "pull-422" else 0)
    for (method, path), answer in QUOTING[case].items():
        server.route(method, path, answer)
    result = run_sync(at_home, "sync", "--server", server.url)
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert server.requests and all(auth == f"Bearer {TOKEN}" for _m, _p, auth in server.requests)  # it was sent
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    stored = files_bytes(at_home)
    assert any(name.endswith(".sqlite3-wal") or name.endswith(".sqlite3") for name in stored), list(stored)
    for name, data in stored.items():
        assert TOKEN.encode() not in data, name
        assert TOKEN[4:].encode() not in data, name  # not even without its prefix
    if case != "push-500":  # the server's words were kept (masked), not dropped
        assert "masqué" in result.stdout + result.stderr or any(b"masqu" in data for data in stored.values())


# --- what answers is not the central ----------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "words"), [
    (PORTAL_PAGE, PORTAL),
    (Answer(302, b"", {"Location": "http://portail.wifi.example/login"}), PORTAL),
    (Answer(200, {"resultats": "?"}), UNEXPECTED),
    (Answer(200, "Bienvenue"), UNEXPECTED),
], ids=["html", "redirect", "wrong-json", "not-json"])
def test_a_portal_or_a_wrong_answer_is_one_french_sentence(at_home, reference, server, answer, words):
    capture(at_home, reference, 1)
    server.route("POST", "/v1/push", answer)
    result = run_sync(at_home, "sync", "--server", server.url)
    no_traceback(result)
    assert result.returncode == 1
    assert words in result.stdout
    assert "1 modification(s) encore en attente d'envoi." in result.stdout


@pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason=NEEDS_CRYPTOGRAPHY)
def test_an_untrusted_certificate_is_named(at_home, reference, tmp_path):
    capture(at_home, reference, 1)
    cert, key = self_signed_certificate(tmp_path / "tls")
    fake = FakeServer(tls=server_context(cert, key))
    try:
        result = run_sync(at_home, "sync", "--server", fake.url)
    finally:
        fake.close()
    no_traceback(result)
    assert result.returncode == 1
    assert "le certificat du serveur n'est pas reconnu par ce poste (certificat auto-signé)" in result.stdout
    assert "--ca-bundle" in result.stdout and "injoignable" not in result.stdout


def test_a_long_retry_after_off_a_terminal_ends_with_the_time(at_home, reference, server):
    capture(at_home, reference, 1)
    server.route("POST", "/v1/push", Answer(429, {"detail": "trop de requêtes"}, {"Retry-After": "3600"}))
    started = time.monotonic()
    result = run_sync(at_home, "sync", "--server", server.url)
    no_traceback(result)
    assert result.returncode == 1
    assert re.search(r"Le serveur demande d'attendre : réessayez après (le \d\d/\d\d/\d{4} à )?\d\d:\d\d", result.stdout)
    assert len(server.requests) == 1 and time.monotonic() - started < 60  # not waited, not shortened


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_retry_after_on_a_terminal_is_counted_down(at_home, reference, server, monkeypatch):
    """In-process, with the sleep injected: the wait is shown second by second, then the sync goes on."""
    from at_tui.cli.sync import sync_command
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    capture(at_home, reference, 1)

    def push_ok(request) -> Answer:
        import json

        operations = json.loads(request.body)["operations"]
        return Answer(200, {"results": [{"op_id": op["op_id"], "status": "applied", "rev": 1} for op in operations]})

    server.route("POST", "/v1/push", Answer(503, {"detail": "maintenance"}, {"Retry-After": "75"}), push_ok)
    server.route("GET", "/v1/visits", EMPTY_PAGE)
    for dataset in ("contacts", "argumentaire", "playbooks"):
        server.route("GET", f"/v1/reference/{dataset}", EMPTY_PAGE)
    monkeypatch.setenv("AT_TUI_TOKEN", TOKEN)
    sleeps: list[float] = []
    terminal = FakeTerminal()
    workspace = Workspace(database_path(), reference=reference)
    try:
        code = sync_command(Namespace(server=server.url), workspace, sleep=sleeps.append, stream=terminal)
    finally:
        workspace.close()
    drawn = terminal.getvalue()
    assert code == 0, drawn
    assert sum(sleeps) == 75
    assert "nouvel essai dans 1 min 15 s" in drawn and "nouvel essai dans 1 s " in drawn
    assert drawn.endswith("\r")  # the line is cleared when the wait is over


# --- the network, the keyring, the data folder ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("where", "words"), [
    ("refused", "connexion refusée"),
    ("dns", "nom du serveur introuvable"),
    ("hang-up", "le serveur a coupé la connexion"),
])
def test_the_network_failing_is_one_french_line(at_home, reference, server, where, words):
    capture(at_home, reference, 1)
    server.route("POST", "/v1/push", CLOSE)
    url = {"refused": f"http://127.0.0.1:{_closed_port()}", "dns": "https://serveur-inexistant.invalid",
           "hang-up": server.url}[where]
    result = run_sync(at_home, "sync", "--server", url)
    no_traceback(result)
    assert result.returncode == 1
    assert words in result.stdout and "tout reste enregistré sur ce poste" in result.stdout
    assert "Errno" not in result.stdout


def test_a_keyring_that_raises_is_one_french_line(at_home, server):
    env = {"PYTHON_KEYRING_BACKEND": "raising_keyring.RaisingKeyring",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    from raising_keyring import QUOTED

    result = run_sync(at_home, "sync", "--server", server.url, token=None, extra_env=env)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.startswith("at-tui : Erreur du trousseau du système (RuntimeError)")
    assert QUOTED not in result.stderr

    server.route("GET", "/v1/visits", EMPTY_PAGE)
    result = run_sync(at_home, "login", server.url, token=None, extra_env=env, typed=TOKEN + "\n")
    no_traceback(result)
    assert result.returncode == 1, result.stderr
    assert "Erreur du trousseau du système (RuntimeError)" in result.stderr and "n'a pas été enregistré" in result.stderr
    assert TOKEN not in result.stdout + result.stderr  # the backend's error quoted it
    assert not (at_home / "token").exists()

    result = run_sync(at_home, "logout", server.url, token=None, extra_env=env)
    no_traceback(result)
    assert result.returncode == 1 and "Erreur du trousseau du système" in result.stderr


@pytest.fixture
def read_only_home(at_home, tmp_path, reference) -> Iterator[Path]:
    """A data folder with a database, on a file system remounted read-only (modes do not stop root)."""
    folder = small_tmpfs(tmp_path / "ro", "16m")
    try:
        capture(folder, reference, 1)
        (folder / "sync.json").write_text('{"server_url": "http://127.0.0.1:9"}\n', encoding="utf-8")
        remount_read_only(folder)
        yield folder
    finally:
        unmount(folder)


@needs_tmpfs
def test_a_read_only_data_folder_is_one_french_line(read_only_home, server):
    result = run_sync(read_only_home, "sync", "--server", server.url)
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("at-tui : ") and "impossible" in result.stderr, result.stderr

    server.route("GET", "/v1/visits", EMPTY_PAGE)
    result = run_sync(read_only_home, "login", server.url, "--token-file-ok", token=None, typed=TOKEN + "\n")
    no_traceback(result)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("at-tui : Enregistrement dans le dossier de données impossible : système de "
                                    "fichiers en lecture seule"), result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_a_database_that_refuses_writes_during_the_sync_is_one_french_line(at_home, reference, server, monkeypatch):
    """The database opened, then refusing the sync's writes (read-only): the command says so, in-process."""
    from at_tui.cli.sync import sync_command
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    capture(at_home, reference, 1)
    server.route("POST", "/v1/push", Answer(200, {"results": []}))
    monkeypatch.setenv("AT_TUI_TOKEN", TOKEN)
    workspace = Workspace(database_path(), reference=reference)
    workspace.conn.execute("PRAGMA query_only = ON")
    errors = io.StringIO()
    monkeypatch.setattr(sys, "stderr", errors)
    try:
        code = sync_command(Namespace(server=server.url), workspace, sleep=lambda _s: None, stream=io.StringIO())
    finally:
        workspace.close()
    assert code == 1
    assert errors.getvalue().startswith("at-tui : Synchronisation impossible : base en lecture seule"), errors.getvalue()


# --- set aside: listed at every run until settled -------------------------------------------------------------


def test_conflicts_and_refusals_are_listed_at_every_run_until_settled(at_home, reference, central):
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    marie = central.add_user("marie", "at")
    jean = central.add_user("jean", "at")
    kept, taken = capture(at_home, reference, 2)
    # Jean's laptop sent a visit with the same id first: the central refuses it to Marie.
    answer = httpx.post(f"{central.url}/v1/push", headers=central.auth(jean), json={"operations": [content_op(taken)]})
    assert answer.json()["results"][0]["status"] == "applied"

    first = run_sync(at_home, "sync", "--server", central.url, token=marie)
    no_traceback(first)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "1 refusée(s)" in first.stdout and "À régler : 1 visite(s) refusée(s) par le central" in first.stdout
    assert SETTLE in first.stdout and "  - refusée : Structure 1 (31, " in first.stdout

    # Marie's other laptop changes the kept visit; this one changes it too: a conflict.
    workspace = Workspace(database_path(), reference=reference)
    try:
        other = visit_content(workspace, workspace.visits.require(kept))
        other["answers"] = {**other["answers"], "notes:presentation": "Saisi sur l'autre poste."}
        answer = httpx.post(f"{central.url}/v1/push", headers=central.auth(marie),
                            json={"operations": [content_op(kept, base_rev=1, payload=other)]})
        assert answer.json()["results"][0]["status"] == "applied"
        workspace.save_answer(workspace.visits.require(kept), "utilisateurs_potentiels", "77")
    finally:
        workspace.close()

    second = run_sync(at_home, "sync", "--server", central.url, token=marie)
    no_traceback(second)
    assert second.returncode == 1
    assert "À régler : 1 visite(s) en conflit et 1 visite(s) refusée(s) par le central" in second.stdout
    assert "  - conflit : Structure 0 (31, " in second.stdout and "  - refusée : Structure 1" in second.stdout

    # Nothing new: this run finds nothing, yet both are still set aside, so said again and exit 1.
    third = run_sync(at_home, "sync", "--server", central.url, token=marie)
    no_traceback(third)
    assert third.returncode == 1
    assert "0 envoyée(s)" in third.stdout and "0 conflit(s), 0 refusée(s)" in third.stdout
    assert "À régler : 1 visite(s) en conflit et 1 visite(s) refusée(s) par le central" in third.stdout
    assert SETTLE in third.stdout
    assert marie not in third.stdout + third.stderr


def test_an_up_to_date_sync_exits_0_and_lists_nothing(at_home, reference, central):
    marie = central.add_user("marie", "at")
    capture(at_home, reference, 1)
    for _ in range(2):
        result = run_sync(at_home, "sync", "--server", central.url, token=marie)
        no_traceback(result)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "À régler" not in result.stdout


def test_a_central_copy_set_aside_is_listed_with_its_reason(at_home, reference, capsys):
    """The third kind of visit set aside (a central copy this laptop could not take) is listed too."""
    from at_tui.cli.sync import _parked_lines
    from at_tui.paths import database_path
    from at_tui.workspace import Workspace

    [visit_id] = capture(at_home, reference, 1)
    workspace = Workspace(database_path(), reference=reference)
    try:
        workspace.conn.execute(
            "INSERT INTO sync_visits (visit_id, updated_at, quarantine) VALUES (?, '2026-12-05T10:00:00+00:00', ?)",
            (visit_id, "date de visite hors limites \x1b]52;c;Y2xpcA==\x07"),
        )
        lines = _parked_lines(workspace.conn)
    finally:
        workspace.close()
    assert lines[0] == f"À régler : 1 copie(s) du central mise(s) de côté — {SETTLE_FULL} :"
    assert lines[1].startswith("  - mise de côté : Structure 0 (31, ") and lines[1].endswith(": date de visite hors limites")


@pytest.mark.skipif(os.name == "nt", reason="SIGINT is sent to a POSIX process")
def test_ctrl_c_during_a_wait_ends_the_command_at_once(at_home, reference, server):
    """The back-off runs in the push's worker thread: Ctrl-C must not wait for it to end."""
    import signal

    capture(at_home, reference, 1)
    server.route("POST", "/v1/push", Answer(503, {"detail": "maintenance"}, {"Retry-After": "25"}))
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env.update(AT_TUI_HOME=str(at_home), AT_TUI_TOKEN=TOKEN, PYTHONIOENCODING="utf-8",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    process = subprocess.Popen([sys.executable, "-m", "at_tui", "sync", "--server", server.url], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not server.requests:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        time.sleep(0.5)  # now waiting the 25 s the server asked for
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert time.monotonic() - interrupted < 10
    assert process.returncode == 130, stderr
    assert TRACEBACK not in stdout + stderr and "interrompu" in stderr
    assert len(server.requests) == 1
