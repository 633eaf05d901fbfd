"""A small fault-injecting TCP proxy between the sync client and the real central server.

One connection at a time is enough for the sync (httpx opens them one after the
other); each accepted connection is served by a thread. Modes, set between requests:

- `pass`: forward both ways;
- `latency`: wait `delay` seconds before forwarding each chunk;
- `drop`: close the client's connection as soon as it is accepted (nothing reaches the server);
- `cut`: forward the request, then only the first `cut_at` bytes of the response, then close;
- `lose`: forward the request, read the whole response (the server has committed), then
  close the client's connection without sending a byte of it: the critical case.

`faults_left` limits how many connections get the fault (then `pass` again).
"""

from __future__ import annotations

import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "pass"
        self.delay = 0.0
        self.cut_at = 20
        self.faults_left: int | None = None
        self.faults_done = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, mode: str, *, faults: int | None = None, delay: float = 0.0, cut_at: int = 20) -> None:
        with self._lock:
            self.mode, self.faults_left, self.delay, self.cut_at = mode, faults, delay, cut_at

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _take_mode(self) -> str:
        with self._lock:
            if self.mode == "pass":
                return "pass"
            if self.faults_left is not None:
                if self.faults_left <= 0:
                    return "pass"
                self.faults_left -= 1
            self.faults_done += 1
            return self.mode

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client, self._take_mode()), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "drop":
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        with client, upstream:
            if mode in ("pass", "latency"):
                self._pipe_both(client, upstream, self.delay if mode == "latency" else 0.0)
                return
            request = _read_http_message(client)
            if request is None:
                return
            upstream.sendall(request)
            response = _read_http_message(upstream)
            if response is None:
                return
            if mode == "cut":
                client.sendall(response[: self.cut_at])
            # mode "lose": the server answered (and committed); the client gets nothing.

    def _pipe_both(self, client: socket.socket, upstream: socket.socket, delay: float) -> None:
        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while chunk := source.recv(65536):
                    if delay:
                        time.sleep(delay)
                    sink.sendall(chunk)
            except OSError:
                pass
            finally:
                for sock in (source, sink):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        other.start()
        pump(client, upstream)
        other.join(timeout=30)


def _read_http_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (what httpx and uvicorn send here)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body
