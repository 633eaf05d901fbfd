"""`at-tui login` / `at-tui logout` in a subprocess, against a tiny real HTTP server on 127.0.0.1.

A subprocess cannot see an in-memory keyring: these tests pick keyring's fail or null backend
with PYTHON_KEYRING_BACKEND (a headless machine), so they cover the explanation, the
--token-file-ok opt-in and the file removal. The keyring paths are in test_credentials.py.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TIMEOUT = 60
GOOD_TOKEN = "att_Ym9uLWpldG9uLWRlLXRlc3QtcG91ci1sb2dpbg_-Ab"
BAD_TOKEN = "att_bWF1dmFpcy1qZXRvbg"
FAIL = "keyring.backends.fail.Keyring"
NULL = "keyring.backends.null.Keyring"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        if not self.path.startswith("/v1/visits"):
            self._answer(404, {"detail": "introuvable"})
        elif self.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}":
            self._answer(200, {"items": [], "cursor": "0", "more": False})
        else:
            self._answer(401, {"detail": "jeton invalide"})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _url(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def run_cli(home: Path, *args: str, stdin: str = "", backend: str = FAIL, env_token: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_TOKEN", "AT_TUI_FIXTURES")}
    env.update(AT_TUI_HOME=str(home), PYTHONIOENCODING="utf-8", PYTHON_KEYRING_BACKEND=backend)
    if env_token is not None:
        env["AT_TUI_TOKEN"] = env_token
    return subprocess.run(
        [sys.executable, "-m", "at_tui", *args],
        input=stdin, env=env, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )


def _no_secret(result: subprocess.CompletedProcess, *tokens: str) -> None:
    for token in tokens:
        assert token not in result.stdout and token not in result.stderr


def _settings(home: Path) -> dict:
    return json.loads((home / "sync.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("backend", "words"), [(FAIL, "Aucun trousseau du système utilisable"), (NULL, "désactivé")])
def test_login_without_keyring_explains_and_saves_no_token(tmp_path: Path, server, backend: str, words: str) -> None:
    result = run_cli(tmp_path, "login", _url(server), stdin=GOOD_TOKEN + "\n", backend=backend)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and backend in result.stderr
    assert "AT_TUI_TOKEN" in result.stderr and "--token-file-ok" in result.stderr and "0600" in result.stderr
    _no_secret(result, GOOD_TOKEN)
    assert not (tmp_path / "token").exists()
    assert server.requests == []  # the token was not even asked for
    assert _settings(tmp_path) == {"server_url": _url(server)}  # the URL, not secret, is kept for AT_TUI_TOKEN


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_login_with_file_opt_in_checks_the_token_and_stores_it_0600(tmp_path: Path, server) -> None:
    url = _url(server)
    result = run_cli(tmp_path, "login", url + "/", "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert server.requests == [("/v1/visits?limit=1", f"Bearer {GOOD_TOKEN}")]
    assert f"Connecté à {url}" in result.stdout
    token_file = tmp_path / "token"
    assert f"fichier {token_file}" in result.stdout
    assert "NON CHIFFRÉ" in result.stderr and "lisible par vous seul" in result.stderr
    _no_secret(result, GOOD_TOKEN)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text(encoding="utf-8"))["tokens"] == {url: GOOD_TOKEN}
    assert _settings(tmp_path) == {"server_url": url}
    assert GOOD_TOKEN not in (tmp_path / "sync.json").read_text(encoding="utf-8")

    # logout removes the token, keeps the URL.
    result = run_cli(tmp_path, "logout")
    assert result.returncode == 0, result.stderr
    assert "effacé" in result.stdout and str(token_file) in result.stdout
    assert not token_file.exists()
    assert _settings(tmp_path) == {"server_url": url}
    result = run_cli(tmp_path, "logout")
    assert result.returncode == 0 and "Aucun jeton enregistré" in result.stdout


def test_login_with_a_refused_token_saves_nothing(tmp_path: Path, server) -> None:
    result = run_cli(tmp_path, "login", _url(server), "--token-file-ok", stdin=BAD_TOKEN + "\n")
    assert result.returncode == 1
    assert "Jeton refusé par le serveur" in result.stderr and "Rien n'a été enregistré" in result.stderr
    _no_secret(result, BAD_TOKEN)
    assert server.requests == [("/v1/visits?limit=1", f"Bearer {BAD_TOKEN}")]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_login_to_a_wrong_address_saves_nothing(tmp_path: Path, server) -> None:
    result = run_cli(tmp_path, "login", _url(server) + "/autre", "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    assert result.returncode == 1
    assert "Réponse inattendue" in result.stderr and "HTTP 404" in result.stderr
    _no_secret(result, GOOD_TOKEN)
    assert not (tmp_path / "token").exists() and not (tmp_path / "sync.json").exists()


def test_login_to_an_unreachable_server_saves_unverified(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli(tmp_path, "login", f"http://127.0.0.1:{port}", "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert "sans avoir pu être vérifié" in result.stderr and "injoignable" in result.stderr
    _no_secret(result, GOOD_TOKEN)
    assert GOOD_TOKEN in (tmp_path / "token").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("stdin", "words"), [("", "Aucun jeton saisi"), ("\n", "Aucun jeton saisi"), ("att_pas bon!\n", "mal formé")]
)
def test_login_with_no_or_malformed_token(tmp_path: Path, server, stdin: str, words: str) -> None:
    result = run_cli(tmp_path, "login", _url(server), "--token-file-ok", stdin=stdin)
    assert result.returncode == 2
    assert words in result.stderr
    assert "pas bon" not in result.stderr + result.stdout
    assert server.requests == []
    assert not (tmp_path / "token").exists()


@pytest.mark.parametrize("url", ["http://sync.exemple.fr", "sync.exemple.fr", "https://a:b@sync.exemple.fr"])
def test_login_refuses_bad_urls_in_french(tmp_path: Path, url: str) -> None:
    result = run_cli(tmp_path, "login", url, "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    assert result.returncode == 2
    assert result.stderr.startswith("at-tui : ") and ("https://" in result.stderr or "identifiant" in result.stderr)
    assert not (tmp_path / "sync.json").exists()


def test_the_token_is_never_a_command_line_argument(tmp_path: Path, server) -> None:
    result = run_cli(tmp_path, "login", _url(server), GOOD_TOKEN, "--token-file-ok")
    assert result.returncode == 2
    assert "ne se donne jamais en argument" in result.stderr
    _no_secret(result, GOOD_TOKEN)  # not echoed back by argparse either
    assert server.requests == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_logout_without_a_server_and_with_the_env_variable(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "logout")
    assert result.returncode == 0 and "Aucun serveur enregistré" in result.stdout
    result = run_cli(tmp_path, "logout", "https://sync.exemple.fr", env_token=GOOD_TOKEN)
    assert result.returncode == 0
    assert "Aucun jeton enregistré pour https://sync.exemple.fr" in result.stdout
    assert "AT_TUI_TOKEN est encore définie" in result.stdout
    _no_secret(result, GOOD_TOKEN)


def test_help_lists_login_and_logout(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    assert "login" in result.stdout and "logout" in result.stdout


def test_login_and_logout_with_a_keyring_in_process(
    tmp_path: Path, server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The keyring path of the command (a subprocess cannot see an in-memory backend)."""
    import io

    import keyring
    from keyring.backend import KeyringBackend

    from at_tui.cli import main

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        passwords: dict = {}

        def get_password(self, service, username):
            return self.passwords.get((service, username))

        def set_password(self, service, username, password):
            self.passwords[(service, username)] = password

        def delete_password(self, service, username):
            self.passwords.pop((service, username))

    KeyringBackend._classes.discard(MemoryKeyring)
    monkeypatch.setenv("AT_TUI_HOME", str(tmp_path))
    monkeypatch.delenv("AT_TUI_TOKEN", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO(GOOD_TOKEN + "\n"))
        assert main(["login", _url(server)]) == 0
        out = capsys.readouterr()
        assert "Jeton enregistré dans le trousseau du système" in out.out
        assert GOOD_TOKEN not in out.out + out.err
        assert MemoryKeyring.passwords == {("at-tui", _url(server)): GOOD_TOKEN}
        assert not (tmp_path / "token").exists()
        assert main(["logout"]) == 0
        assert "effacé : trousseau du système" in capsys.readouterr().out
        assert MemoryKeyring.passwords == {}
    finally:
        keyring.set_keyring(previous)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal behaviour checked on Linux")
def test_on_a_terminal_the_token_is_asked_without_echo(tmp_path: Path, server) -> None:
    import pty
    import select
    import termios
    import time

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_TOKEN", "AT_TUI_FIXTURES")}
    env.update(AT_TUI_HOME=str(tmp_path), PYTHONIOENCODING="utf-8", PYTHON_KEYRING_BACKEND=FAIL)
    # A new session without a controlling terminal: getpass uses stdin, the pseudo-terminal.
    proc = subprocess.Popen(
        [sys.executable, "-m", "at_tui", "login", _url(server), "--token-file-ok"],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )
    os.close(slave)
    try:
        deadline = time.monotonic() + TIMEOUT
        while termios.tcgetattr(master)[3] & termios.ECHO:  # wait for getpass to switch echo off
            assert proc.poll() is None and time.monotonic() < deadline, "no password prompt"
            time.sleep(0.05)
        os.write(master, (GOOD_TOKEN + "\n").encode())
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
        echoed = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert "Jeton d'accès" in stderr.decode()  # the prompt
    assert GOOD_TOKEN.encode() not in echoed + stdout + stderr
    assert server.requests == [("/v1/visits?limit=1", f"Bearer {GOOD_TOKEN}")]


# --- what answers is not the sync server: nothing is saved ------------------------------------------------


@pytest.mark.parametrize(("answer", "words"), [
    ("portal", "le réseau a répondu à la place du serveur (portail de connexion Wi-Fi ?)"),
    ("redirect", "le réseau a répondu à la place du serveur (portail de connexion Wi-Fi ?)"),
    ("511", "le réseau a répondu à la place du serveur (portail de connexion Wi-Fi ?)"),
    ("wrong-json", "réponse du serveur inattendue"),
])
def test_login_through_a_portal_or_to_a_wrong_server_saves_nothing(tmp_path: Path, answer: str, words: str) -> None:
    from fake_sync_server import PORTAL_PAGE, Answer, FakeServer

    fake = FakeServer()
    fake.route("GET", "/v1/visits", {
        "portal": PORTAL_PAGE,
        "redirect": Answer(302, b"", {"Location": "http://portail.wifi.example/?u=1"}),
        "511": Answer(511, "<html>login</html>", {"Content-Type": "text/html"}),
        "wrong-json": Answer(200, [{"ok": True}]),
    }[answer])
    try:
        result = run_cli(tmp_path, "login", fake.url, "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    finally:
        fake.close()
    assert result.returncode == 1, result.stderr
    assert words in result.stderr and "Rien n'a été enregistré" in result.stderr
    assert "Connecté" not in result.stdout and "Traceback" not in result.stderr
    _no_secret(result, GOOD_TOKEN)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _tls_server(tmp_path: Path):
    from fake_sync_server import EMPTY_PAGE, FakeServer, self_signed_certificate, server_context

    cert, key = self_signed_certificate(tmp_path / "tls")
    fake = FakeServer(tls=server_context(cert, key))
    fake.route("GET", "/v1/visits", EMPTY_PAGE)
    return fake, cert


@pytest.mark.skipif(not __import__("fake_sync_server").HAVE_CRYPTOGRAPHY,
                    reason=__import__("fake_sync_server").NEEDS_CRYPTOGRAPHY)
def test_login_names_an_untrusted_certificate_then_accepts_its_authority(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fake, cert = _tls_server(tmp_path)
    try:
        result = run_cli(home, "login", fake.url, "--token-file-ok", stdin=GOOD_TOKEN + "\n")
        assert result.returncode == 1, result.stderr
        assert "n'est pas reconnu par ce poste (certificat auto-signé)" in result.stderr
        assert "--ca-bundle" in result.stderr and "injoignable" not in result.stderr
        assert "Traceback" not in result.stderr and fake.requests == []
        assert not (home / "token").exists()

        result = run_cli(home, "login", fake.url, "--ca-bundle", str(cert), "--token-file-ok", stdin=GOOD_TOKEN + "\n")
        assert result.returncode == 0, result.stderr
        assert f"Connecté à {fake.url}" in result.stdout
        assert _settings(home) == {"server_url": fake.url, "ca_bundle": str(cert)}
        _no_secret(result, GOOD_TOKEN)
    finally:
        fake.close()


def test_login_with_an_unusable_certificate_authority_file(tmp_path: Path, server) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pas un certificat\n", encoding="utf-8")
    home = tmp_path / "home"
    result = run_cli(home, "login", _url(server), "--ca-bundle", str(bundle), "--token-file-ok", stdin=GOOD_TOKEN + "\n")
    assert result.returncode == 1
    assert "Fichier d'autorités de certification inutilisable" in result.stderr and "Traceback" not in result.stderr
    assert not (home / "token").exists()


def test_without_keyring_the_env_token_checks_the_address_before_it_is_kept(tmp_path: Path, server) -> None:
    """No keyring, AT_TUI_TOKEN set: the address is kept only when the server behind it accepts
    the token — never a Wi-Fi portal's address that later syncs would keep knocking at."""
    from fake_sync_server import PORTAL_PAGE, FakeServer

    portal = FakeServer()
    portal.route("GET", "/v1/visits", PORTAL_PAGE)
    try:
        refused = run_cli(tmp_path, "login", portal.url, env_token=GOOD_TOKEN)
    finally:
        portal.close()
    assert refused.returncode == 1, refused.stderr
    assert "portail de connexion Wi-Fi" in refused.stderr and "Rien n'a été enregistré" in refused.stderr
    assert not (tmp_path / "sync.json").exists()

    accepted = run_cli(tmp_path, "login", _url(server), env_token=GOOD_TOKEN)
    assert accepted.returncode == 0, accepted.stderr
    assert "Connecté" in accepted.stdout and "AT_TUI_TOKEN" in accepted.stdout
    assert json.loads((tmp_path / "sync.json").read_text())["server_url"] == _url(server)
    assert not (tmp_path / "token").exists()
    _no_secret(accepted, GOOD_TOKEN)
