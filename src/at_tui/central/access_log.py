"""The central service's logs: an access log that cannot hold a token, and every line redacted.

Uvicorn's own access log writes the request line with its query string: a client that
put its token in the URL (`?token=att_…`) would leave it in the log. So the service
writes its own line instead (`AccessLog`, uvicorn's is off): client address, method,
the path **without** query string, status, the user's login (or `-`) and the time taken;
never a header, never a body. The path is made printable (no escape sequence reaches the
operator's terminal) and, like every line of every logger of the service (uvicorn's
errors and tracebacks included: `RedactingFormatter`), goes through
`at_tui.domain.redaction.redact`.
"""

from __future__ import annotations

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
        "formatters": {"redacted": formatter},
        "handlers": {
            "default": {"formatter": "redacted", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "redacted", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
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


def access_line(scope: Scope, status: int | None, user: str | None, seconds: float) -> str:
    """`127.0.0.1:51234 - "GET /v1/visits HTTP/1.1" 200 alice 3 ms`: nothing of the query, headers or body."""
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = printable(str(scope.get("path", "")))
    if len(path) > MAX_PATH:
        path = path[:MAX_PATH] + "…"
    method = printable(str(scope.get("method", "")))[:20]
    version = printable(str(scope.get("http_version", "1.1")))[:10]
    line = f'{where} - "{method} {path} HTTP/{version}" {status if status is not None else "-"} {user or "-"} '
    return redact(line + f"{seconds * 1000:.0f} ms")


class AccessLog:
    """One access line per HTTP request, written when the answer is complete (or the request failed)."""

    def __init__(self, app: ASGIApp, user_of: Callable[[Scope], str | None], logger: str = ACCESS_LOGGER) -> None:
        self.app = app
        self.user_of = user_of
        self.logger = logging.getLogger(logger)

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
            if self.logger.isEnabledFor(logging.INFO):
                self.logger.info("%s", access_line(scope, status, self.user_of(scope), time.perf_counter() - started))
