"""HTTP to the central store: timeouts, retries with back-off, the errors the sync must tell apart.

Retried (exponential back-off with full jitter, `Retry-After` honoured): network
errors, timeouts, 5xx, 429. Not retried: 401 (`Unauthorized`: log in again, the
queue stays), 413 (`TooLarge`: the caller splits its batch), 410 (`CursorExpired`),
other 4xx (`Refused`). TLS verification is always on; a CA bundle may be given.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from at_tui import __version__

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class SyncError(Exception):
    """A French message for the AT; never carries the token."""


class Offline(SyncError):
    """The server could not be reached (after the retries)."""


class Unauthorized(SyncError):
    pass


class TooLarge(SyncError):
    pass


class CursorExpired(SyncError):
    pass


class Refused(SyncError):
    pass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.5  # seconds
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(retry_after, self.cap)
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))  # "full jitter"


class Transport:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        ca_bundle: str | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        http: httpx.BaseTransport | None = None,
    ) -> None:
        """`http`: another httpx transport (tests run the central app in-process through it)."""
        self.retry = retry
        self.sleep = sleep
        self.rng = rng or random.Random()
        headers = {"User-Agent": f"at-tui/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # verify is a CA bundle path or True: there is deliberately no way to pass False.
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, verify=ca_bundle or True, transport=http,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str, params: dict | None = None) -> Any:
        return self._request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        """POST `body` as JSON; bytes are taken as JSON text already made."""
        if isinstance(body, bytes):
            return self._request("POST", path, content=body, headers={"Content-Type": "application/json"})
        return self._request("POST", path, json=body)

    def reachable(self) -> bool:
        """One cheap probe, no retry: is the server answering?"""
        try:
            return self.client.get("/v1/health", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        last: str = ""
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                last = "délai de réponse dépassé"
            except httpx.HTTPError as error:
                last = f"serveur injoignable ({type(error).__name__})"
            else:
                status = response.status_code
                if status < 400:
                    return response.json()
                if status not in RETRIED_STATUSES:
                    raise _error_for(response)
                last = f"le serveur a répondu {status}"
                retry_after = _retry_after(response)
            if attempt + 1 < self.retry.attempts:
                self.sleep(self.retry.delay(attempt, retry_after, self.rng))
        raise Offline(f"Synchronisation impossible pour l'instant : {last}. Tout reste enregistré sur ce poste.")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return detail if isinstance(detail, str) else f"HTTP {response.status_code}"


def _error_for(response: httpx.Response) -> SyncError:
    status = response.status_code
    if status == 401:
        return Unauthorized("Le serveur refuse le jeton : reconnectez-vous avec « at-tui login ». "
                            "Les visites en attente sont gardées.")
    if status == 413:
        return TooLarge("Envoi trop volumineux pour le serveur.")
    if status == 410:
        return CursorExpired("Le serveur demande une resynchronisation complète.")
    return Refused(f"Le serveur a refusé la requête : {_detail(response)}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time())
