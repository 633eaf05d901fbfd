"""The central service's logs: an access log that cannot hold a token, and every line redacted.

Uvicorn's own access log writes the request line with its query string: a client that
put its token in the URL (`?token=att_…`) would leave it in the log. So the service
writes its own line instead (`AccessLog`, uvicorn's is off), one JSON object per line on
stdout, so that the agency's log tools (journald, jq, Loki…) read it without a parser:

    {"time": "2026-12-06T08:00:01.234Z", "client": "10.0.0.2:51234", "method": "POST",
     "path": "/v1/push", "status": 200, "user": "marie", "ms": 41.7}

the path **without** query string, the user's login (null before authentication);
never a header, never a body. The path is made printable (no escape sequence reaches the
operator's terminal) and bounded, and the line, like every line of every logger of the
service (uvicorn's errors and tracebacks included: `RedactingFormatter`), goes through
`at_tui.domain.redaction.redact` (which masks inside a JSON string without breaking it:
its masks hold no quote nor backslash).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from at_tui.domain.redaction import printable, redact

ACCESS_LOGGER = "at_tui.central.access"
MAX_PATH = 200


class RedactingFormatter(logging.Formatter):
    """Uvicorn's look (`INFO:     message`), with every formatted line (traceback included) redacted."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: Any = "%") -> None:
        super().__init__(fmt or "%(levelprefix)s %(message)s", datefmt, style)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.levelprefix = f"{record.levelname}:".ljust(9)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_config() -> dict[str, Any]:
    """Uvicorn's `log_config`: its loggers and the access log on redacting handlers (errors on
    stderr, access lines on stdout, as uvicorn does); anything else at WARNING on stderr."""
    formatter = {"()": f"{__name__}.RedactingFormatter"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # Access lines are JSON objects as they are (no level prefix), redacted all the same.
        "formatters": {"redacted": formatter, "json_line": {**formatter, "fmt": "%(message)s"}},
        "handlers": {
            "default": {"formatter": "redacted", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "json_line", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            # Off (access_log=False) and, were it turned on, silent: it would log query strings.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


def access_line(scope: Scope, status: int | None, user: str | None, seconds: float, now: float | None = None) -> str:
    """One JSON object: time (UTC), client, method, path, status, user, ms — nothing of the query,
    headers or body. `now`: the epoch time of the answer (the current time when omitted)."""
    client = scope.get("client")
    # A lone surrogate (percent-decoded garbage) could not be written as UTF-8: « ? » instead.
    path = printable(str(scope.get("path", ""))).encode("utf-8", "replace").decode("utf-8")
    if len(path) > MAX_PATH:
        path = path[:MAX_PATH] + "…"
    stamp = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.timezone.utc)
    record = {
        "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "client": printable(f"{client[0]}:{client[1]}")[:80] if client else None,
        "method": printable(str(scope.get("method", "")))[:20],
        "path": path,
        "status": status,
        "user": printable(user)[:64] if user else None,
        "ms": round(seconds * 1000, 1),
    }
    return redact(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))


class AccessLog:
    """One access line per HTTP request, written when the answer is complete (or the request failed)."""

    def __init__(
        self,
        app: ASGIApp,
        user_of: Callable[[Scope], str | None],
        logger: str = ACCESS_LOGGER,
        quiet_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.user_of = user_of
        self.logger = logging.getLogger(logger)
        # Monitoring probes: a 200 there is logged by the prober, every few seconds; any other answer is logged.
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        except BaseException:
            status = status or 500
            raise
        finally:
            quiet = status == 200 and scope.get("path") in self.quiet_paths
            if not quiet and self.logger.isEnabledFor(logging.INFO):
                self.logger.info("%s", access_line(scope, status, self.user_of(scope), time.perf_counter() - started))
