"""HTTP to the central store: timeouts, retries with back-off, the errors the sync must tell apart.

Retried (exponential back-off with full jitter, `Retry-After` honoured): network
errors, timeouts, 5xx, 429. Not retried: 401 (`Unauthorized`: log in again, the
queue stays), 413 (`TooLarge`: the caller splits its batch), 410 (`CursorExpired`),
other 4xx (`Refused`), a certificate this machine does not trust (`CertificateRejected`:
retrying cannot help), an answer that does not come from the central (`NotTheServer`:
a Wi-Fi captive portal answers 200 with an HTML page, or redirects elsewhere) and an
answer of the wrong shape (`Malformed`). TLS verification is always on; a CA bundle may be given.

Every answer is checked here, before the engine reads it, against the shape its
endpoint promises (docs/sync-protocol.md): the engine files nothing from an answer it
would have to half-trust. Every text that comes from the server goes through
`at_tui.domain.redaction.safe` before it reaches a message: a server quoting the
Authorization header must not put the token on a screen or into the database.

A `Retry-After` longer than `RetryPolicy.cap` is never shortened: it is waited with a
visible countdown when the caller can show one (`countdown`) and it is short enough
(`MAX_VISIBLE_WAIT`), otherwise the run stops with the time to try again (`RetryLater`).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from at_tui import __version__
from at_tui.domain.redaction import safe

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_VISIBLE_WAIT = 120.0  # seconds: the longest server-asked wait shown as a countdown rather than ending the run
KEPT = "tout reste enregistré sur ce poste"
PORTAL = ("le réseau a répondu à la place du serveur (portail de connexion Wi-Fi ?) : "
          "connectez-vous au Wi-Fi puis relancez")
UNEXPECTED = "réponse du serveur inattendue"


class SyncError(Exception):
    """A French message for the AT; never carries the token."""

    def __init__(self, message: str) -> None:
        super().__init__(safe(message, multiline=True))


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


class NotTheServer(SyncError):
    """Something else answered: a captive portal's page, a redirect, a web site at the wrong address."""


class Malformed(SyncError):
    """The server's answer does not have the shape of the protocol: nothing of it is used."""


class CertificateRejected(SyncError):
    """The server's TLS certificate is not trusted by this machine (or its CA bundle is unusable)."""


class RetryLater(SyncError):
    """The server asked to wait longer than this run can (`Retry-After`); `until` is when to try again."""

    def __init__(self, message: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.5  # seconds
    cap: float = 30.0  # the longest back-off, and the longest `Retry-After` waited without a countdown

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """The wait before the next attempt; a `Retry-After` above `cap` never comes here (see Transport)."""
        if retry_after is not None:
            return retry_after
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))  # "full jitter"


Countdown = Callable[[int], None]  # called with the seconds left, every second, then with 0 when done


class Transport:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        ca_bundle: str | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        http: httpx.BaseTransport | None = None,
        countdown: Countdown | None = None,
    ) -> None:
        """`http`: another httpx transport (tests run the central app in-process through it).
        `countdown`: how to show a long server-asked wait (a terminal); without it such a wait ends the run.

        An unusable CA bundle does not raise here (the app builds a Transport in its background
        worker): the first request raises `CertificateRejected`, and `reachable()` says True so
        that the sync runs and reports it."""
        self.retry = retry
        self._cancelled = threading.Event()
        self.sleep = sleep or self._pause
        self.rng = rng or random.Random()
        self.countdown = countdown
        self.setup_error: SyncError | None = None
        headers = {"User-Agent": f"at-tui/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A CA bundle path or the default store: there is deliberately no way to turn verification off.
        verify: ssl.SSLContext | bool = True
        if ca_bundle:
            try:
                verify = ssl.create_default_context(cafile=str(ca_bundle))
            except (OSError, ssl.SSLError, ValueError) as error:
                self.setup_error = CertificateRejected(ca_bundle_unusable(ca_bundle, error))
                verify = True
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, verify=verify, transport=http,
        )

    def close(self) -> None:
        self.client.close()

    def cancel(self) -> None:
        """Stop waiting (Ctrl-C): the push runs in a worker thread that the main thread's
        KeyboardInterrupt does not reach, and a back-off or a server-asked wait must not hold it."""
        self._cancelled.set()

    def _pause(self, seconds: float) -> None:
        self._cancelled.wait(seconds)

    def _check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise SyncError(f"Synchronisation interrompue ; {KEPT}.")

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
        """One cheap probe, no retry: is it worth trying a sync? True also when something answers
        that is not the central or the certificate is refused: the sync then says so in French,
        where « hors ligne » would mislead."""
        if self.setup_error is not None:
            return True
        try:
            return self.client.get("/v1/health", timeout=5.0).status_code < 500
        except httpx.HTTPError as error:
            return certificate_problem(error) is not None
        except (httpx.InvalidURL, OSError, ValueError):
            return False

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.setup_error is not None:
            raise self.setup_error
        last: str = ""
        retry_after: float | None = None
        for attempt in range(self.retry.attempts):
            self._check_cancelled()
            retry_after = None
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                last = "délai de réponse dépassé"
            except httpx.HTTPError as error:
                problem = certificate_problem(error)
                if problem is not None:
                    raise CertificateRejected(certificate_sentence(problem)) from None
                last = network_cause(error)
            except (httpx.InvalidURL, OSError, ValueError) as error:
                last = f"requête impossible ({safe(error, limit=200) or type(error).__name__})"
            else:
                status = response.status_code
                if status < 400:
                    return checked_answer(response, path)
                if status not in RETRIED_STATUSES:
                    raise _error_for(response)
                last = f"le serveur a répondu {status}"
                retry_after = _retry_after(response)
            if attempt + 1 >= self.retry.attempts:
                break
            if retry_after is not None and retry_after > self.retry.cap:
                self._wait_asked(retry_after)
            else:
                self.sleep(self.retry.delay(attempt, retry_after, self.rng))
        if retry_after:
            raise retry_later(retry_after)
        raise Offline(f"Synchronisation impossible pour l'instant : {last} ; {KEPT}.")

    def _wait_asked(self, seconds: float) -> None:
        """Wait what the server asked, second by second with the countdown, or end the run (RetryLater)."""
        if self.countdown is None or seconds > MAX_VISIBLE_WAIT:
            raise retry_later(seconds)
        left = math.ceil(seconds)
        try:
            while left > 0:
                self._check_cancelled()
                self.countdown(left)
                self.sleep(1.0)
                left -= 1
        finally:
            self.countdown(0)


# --- what the server said, checked ---------------------------------------------------------


def checked_answer(response: httpx.Response, path: str) -> Any:
    """The JSON of a 2xx/3xx answer, checked against the shape of its endpoint, or NotTheServer/Malformed."""
    if 300 <= response.status_code < 400:
        raise NotTheServer(redirect_sentence(response))
    content_type = response.headers.get("Content-Type", "").lower()
    body = response.content
    if "html" in content_type or body.lstrip()[:1] == b"<":
        raise NotTheServer(f"Synchronisation impossible : {PORTAL} ; {KEPT}.")
    try:
        answer = response.json()
    except (ValueError, UnicodeDecodeError):
        raise Malformed(_unexpected("ce n'est pas du JSON")) from None
    check = _shape_for(path)
    if check is not None:
        problem = check(answer)
        if problem:
            raise Malformed(_unexpected(problem))
    return answer


def redirect_sentence(response: httpx.Response) -> str:
    """A redirect: to another host it is a portal's; to the same host, the address is not the API's."""
    location = response.headers.get("Location", "")
    target = urljoin(str(response.request.url), location) if location else ""
    host = (urlsplit(target).hostname or "").lower() if target else ""
    if host and host == (response.request.url.host or "").lower():
        return (f"Synchronisation impossible : le serveur renvoie vers une autre adresse ({safe(target, limit=200)}) : "
                f"vérifiez l'adresse du serveur (« at-tui login ADRESSE ») ; {KEPT}.")
    return f"Synchronisation impossible : {PORTAL} ; {KEPT}."


def _unexpected(problem: str) -> str:
    return (f"Synchronisation impossible : {UNEXPECTED} ({problem}) : est-ce bien l'adresse du serveur de "
            f"synchronisation ? Rien de cette réponse n'a été appliqué ; {KEPT}.")


def _shape_for(path: str) -> Callable[[Any], str | None] | None:
    if path == "/v1/push":
        return push_shape_problem
    if path == "/v1/visits":
        return visit_page_problem
    if path.startswith("/v1/reference/"):
        return reference_page_problem
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(value: Any, kind: type | tuple[type, ...]) -> bool:
    return value is None or isinstance(value, kind)


def push_shape_problem(answer: Any) -> str | None:
    """What is wrong with a `POST /v1/push` answer (None when it has the protocol's shape).
    The refusal reasons, shown to the AT and stored, are made safe here, in place."""
    if not isinstance(answer, dict):
        return "un objet JSON était attendu"
    results = answer.get("results")
    if not isinstance(results, list):
        return "« results » manquant ou n'est pas une liste"
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("op_id"), str):
            return "un résultat sans « op_id »"
        if result.get("status") not in ("applied", "duplicate", "conflict", "rejected"):
            return "un résultat sans « status » connu"
        if not (result.get("rev") is None or _is_int(result.get("rev"))):
            return "« rev » n'est pas un nombre entier"
        if result.get("original_status") not in (None, "applied", "conflict", "rejected"):
            return "« original_status » inconnu"
        if not _optional(result.get("reason"), str):
            return "« reason » n'est pas un texte"
        central = result.get("central")
        if not _optional(central, dict) or (central is not None and not _optional(central.get("owner"), str)):
            return "« central » n'est pas une visite"
        if isinstance(result.get("reason"), str):
            result["reason"] = safe(result["reason"], limit=1000)
    return None


def visit_page_problem(answer: Any) -> str | None:
    """What is wrong with a `GET /v1/visits` page (the envelope and what the engine reads of each visit;
    the visit's content itself is validated where it is applied)."""
    problem = _page_problem(answer)
    if problem:
        return problem
    for item in answer["items"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return "une visite sans « id »"
        if not _is_int(item.get("rev")):
            return "une visite sans « rev » entier"
        if not _optional(item.get("content"), dict) or not _optional(item.get("owner"), str):
            return "une visite dont « content » ou « owner » n'a pas le bon type"
        opportunity = item.get("opportunity")
        if not _optional(opportunity, dict) or (
            opportunity is not None
            and not (isinstance(opportunity.get("fields"), dict) and isinstance(opportunity.get("journal", []), list))
        ):
            return "une visite dont « opportunity » n'a pas le bon type"
    return None


def reference_page_problem(answer: Any) -> str | None:
    problem = _page_problem(answer)
    if problem:
        return problem
    for item in answer["items"]:
        if not (isinstance(item, dict) and isinstance(item.get("key"), str) and isinstance(item.get("deleted"), bool)):
            return "un élément sans « key » ou « deleted »"
    return None


def _page_problem(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return "un objet JSON était attendu"
    if not isinstance(answer.get("items"), list):
        return "« items » manquant ou n'est pas une liste"
    if not isinstance(answer.get("cursor"), str) or not answer["cursor"]:
        return "« cursor » manquant"
    if not isinstance(answer.get("more", False), bool):
        return "« more » n'est pas vrai/faux"
    return None


def _detail(response: httpx.Response) -> str:
    """The server's own words (made safe: it may quote our headers), or the status."""
    try:
        detail = response.json().get("detail")
    except (ValueError, UnicodeDecodeError, AttributeError):
        detail = None
    if isinstance(detail, list):  # a validation error: [{"loc": …, "msg": …}, …]
        detail = " ; ".join(str(item.get("msg")) for item in detail[:3] if isinstance(item, dict) and item.get("msg"))
    if isinstance(detail, str) and safe(detail, limit=500):
        return safe(detail, limit=500)
    if "html" in response.headers.get("Content-Type", "").lower():
        return f"HTTP {response.status_code}, page web au lieu d'une réponse du serveur (portail Wi-Fi, proxy ?)"
    return f"HTTP {response.status_code}"


def _error_for(response: httpx.Response) -> SyncError:
    status = response.status_code
    if status == 401:
        return Unauthorized("Le serveur refuse le jeton : reconnectez-vous avec « at-tui login ». "
                            "Les visites en attente sont gardées.")
    if status == 413:
        return TooLarge("Envoi trop volumineux pour le serveur.")
    if status == 410:
        return CursorExpired("Le serveur demande une resynchronisation complète.")
    if status in (407, 511):  # proxy / network authentication required: a portal or a proxy wants a login
        return NotTheServer(f"Synchronisation impossible : {PORTAL} ; {KEPT}.")
    return Refused(f"Le serveur a refusé la requête : {_detail(response)}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return max(0.0, moment.timestamp() - time.time())
    return max(0.0, seconds) if math.isfinite(seconds) else None


def retry_later(seconds: float, now: dt.datetime | None = None) -> RetryLater:
    """« réessayez après HH:MM » (local time, rounded up to the minute; the date too when not today)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone()
    until = now + dt.timedelta(seconds=min(seconds, 366 * 86400))
    shown = (until + dt.timedelta(seconds=59)).replace(second=0, microsecond=0)
    moment = f"{shown:%H:%M}" if shown.date() == now.date() else f"le {shown:%d/%m/%Y} à {shown:%H:%M}"
    return RetryLater(f"Le serveur demande d'attendre : réessayez après {moment} ; {KEPT}.", until)


# --- the network and TLS, in French ------------------------------------------------------------


def _chain(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


_CERT_REASONS = (
    ("self-signed", "certificat auto-signé"),
    ("self signed", "certificat auto-signé"),
    ("expired", "certificat expiré"),
    ("not yet valid", "certificat pas encore valide"),
    ("hostname mismatch", "certificat établi pour un autre nom de serveur"),
    ("ip address mismatch", "certificat établi pour une autre adresse"),
    ("unable to get local issuer", "autorité de certification inconnue de ce poste"),
    ("unable to get issuer", "autorité de certification inconnue de ce poste"),
    ("revoked", "certificat révoqué"),
)


def certificate_problem(error: BaseException) -> str | None:
    """Why the server's certificate was refused (French), or None when the error is not about it."""
    for current in _chain(error):
        if isinstance(current, ssl.SSLCertVerificationError):
            text = f"{current.verify_message or ''} {current}".lower()
            break
    else:
        text = str(error).lower()
        if "certificate_verify_failed" not in text and "certificate verify failed" not in text:
            return None
    for needle, reason in _CERT_REASONS:
        if needle in text:
            return reason
    return "vérification refusée"


def certificate_sentence(reason: str) -> str:
    return (f"Synchronisation impossible : le certificat du serveur n'est pas reconnu par ce poste ({reason}) : "
            "vérifiez l'adresse ou indiquez l'autorité de certification à « at-tui login ADRESSE --ca-bundle "
            f"FICHIER » ; {KEPT}.")


def ca_bundle_unusable(ca_bundle: str, error: BaseException) -> str:
    detail = getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error) or type(error).__name__
    return (f"Synchronisation impossible : le fichier d'autorités de certification {safe(ca_bundle, limit=300)} est "
            f"inutilisable ({safe(detail, limit=200)}) : indiquez-en un autre à « at-tui login ADRESSE --ca-bundle "
            f"FICHIER » ; {KEPT}.")


_DNS_TEXTS = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
              "temporary failure in name resolution", "no address associated", "name resolution")


def network_cause(error: BaseException) -> str:
    """Why the server could not be reached, in French (no raw exception text, which may be anything)."""
    text = " ".join(str(current) for current in _chain(error)).lower()
    if any(needle in text for needle in _DNS_TEXTS):
        return "nom du serveur introuvable (réseau coupé, ou adresse mal écrite ?)"
    if isinstance(error, httpx.RemoteProtocolError) or "connection reset" in text or "broken pipe" in text:
        return "le serveur a coupé la connexion"
    if "connection refused" in text:
        return "serveur injoignable (connexion refusée : service arrêté ?)"
    if "network is unreachable" in text or "no route to host" in text:
        return "réseau inaccessible (pas de connexion ?)"
    if isinstance(error, httpx.ProxyError):
        return "le proxy a refusé la connexion"
    return f"serveur injoignable ({type(error).__name__})"
