"""A real HTTP(S) server on 127.0.0.1, in a thread, that answers what a test tells it: what the
sync must survive when something other than the central answers (a Wi-Fi portal, a proxy,
a server quoting our headers, one that hangs up, one with a certificate nobody trusts).

Plain helpers (no pytest fixture), importable by any test:

    server = FakeServer()                                   # or FakeServer(tls=server_context(cert, key))
    server.route("POST", "/v1/push", Answer(200, "<html>portail</html>", {"Content-Type": "text/html"}))
    server.route("GET", "/v1/visits", lambda request: Answer(400, {"detail": request.headers["Authorization"]}))
    ...
    server.close()

A path is matched on its part before « ? ». Several answers for one route are given in turn,
the last one repeating. `CLOSE` hangs up without answering. `server.requests` lists
(method, path with query, Authorization header) in arrival order.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    import cryptography  # noqa: F401 - only to know whether certificates can be made here
except ImportError:  # pragma: no cover - installed with keyring (SecretStorage) on Linux
    HAVE_CRYPTOGRAPHY = False
else:
    HAVE_CRYPTOGRAPHY = True
NEEDS_CRYPTOGRAPHY = "needs the cryptography package to make a test certificate (pip install cryptography)"


@dataclass
class Answer:
    status: int
    body: Any = b""  # bytes as they are, str as UTF-8, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(self.body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        return data, headers


CLOSE = Answer(0)  # hang up without a word
NOT_FOUND = Answer(404, {"detail": "introuvable"})
HEALTHY = Answer(200, {"status": "ok"})
EMPTY_PAGE = Answer(200, {"items": [], "cursor": "0", "more": False})
PORTAL_PAGE = Answer(200, "<!DOCTYPE html><html><body>Connectez-vous au Wi-Fi de l'hôtel</body></html>",
                     {"Content-Type": "text/html; charset=utf-8"})

Route = Answer | Callable[["Request"], Answer]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        server: FakeServer = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        server.requests.append((self.command, self.path, self.headers.get("Authorization")))
        answer = server.answer_for(request)
        if answer is CLOSE or answer.status == 0:
            self.close_connection = True
            return
        data, headers = answer.payload()
        self.send_response(answer.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class FakeServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[tuple[str, str], list[Route]] = {("GET", "/v1/health"): [HEALTHY]}
        self.requests: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, method: str, path: str, *answers: Route) -> None:
        with self._lock:
            self.routes[(method, path)] = list(answers)

    def answer_for(self, request: Request) -> Answer:
        with self._lock:
            answers = self.routes.get((request.method, request.path.split("?", 1)[0]))
            if not answers:
                return NOT_FOUND
            route = answers.pop(0) if len(answers) > 1 else answers[0]
        return route(request) if callable(route) else route

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by itself (it is its own authority), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "at-tui test central")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "central-cert.pem", folder / "central-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
