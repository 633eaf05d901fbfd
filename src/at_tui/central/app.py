"""The central service's HTTP API (FastAPI), per `docs/sync-protocol.md`.

`create_app(storage, limits)` builds the application. In front of every route a
small ASGI layer (`Gatekeeper`) checks the token (401, before anything of the
request is read), the token's rate (429 with `Retry-After`) and the body size (413,
on `Content-Length` and on the bytes actually received, before any parsing). Outside
it, `AccessLog` writes one JSON line per request (no query string, no header). Endpoints
are plain functions: FastAPI runs them in its thread pool, the storage is synchronous.

`/healthz` (the process answers; never touches the database) and `/readyz` (the database
answers and its schema is current: `Storage.check_ready`) are for the agency's monitoring:
no token, no rate limit, and their successful answers are not logged (docs/deploy.md).

The token is only ever read from the `Authorization` header; it is never
logged, never echoed (every error body is redacted), never accepted in a URL.
"""


import gc
import json
import logging
import sqlite3
import uuid
from enum import Enum
from http import HTTPStatus
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from at_tui import __version__
from at_tui.central import operations
from at_tui.central.access_log import AccessLog
from at_tui.central.auth import authenticate, bearer_token, token_hash
from at_tui.central.models import (
    CentralVisitModel,
    ErrorModel,
    HealthModel,
    Limits,
    MeModel,
    PushResponse,
    ReferencePage,
    VisitPage,
)
from at_tui.central.rate_limit import RateLimiter, retry_after
from at_tui.central.storage import (
    DATASETS,
    STREAM_REFERENCE,
    STREAM_VISITS,
    Page,
    Storage,
    StorageError,
    User,
    format_cursor,
    parse_cursor,
)
from at_tui.central.validation import Rules
from at_tui.domain.redaction import redact
from at_tui.reference.validation import french_message

__all__ = ["Limits", "create_app"]

HEALTH_PATH = "/v1/health"
LIVE_PATH = "/healthz"
READY_PATH = "/readyz"
PROBE_PATHS = frozenset({LIVE_PATH, READY_PATH})
PUBLIC_PATHS = frozenset({HEALTH_PATH, "/openapi.json", *PROBE_PATHS})
USER_KEY = "at_tui_central_user"
MAX_REV = 2**31

UNAUTHORIZED = "Jeton d'accès absent, inconnu ou révoqué : reconnectez le poste avec un jeton valide."
VISIT_NOT_FOUND = "Visite introuvable."
CURSOR_GONE = "Curseur inconnu ou expiré : reprenez la réception depuis le début (since=0)."
UNAVAILABLE = "Service central momentanément indisponible : réessayez dans quelques instants."
# Public (no token): says what to look at, never the database's address or the cause's details.
NOT_READY = (
    "Service central pas prêt : base de données injoignable ou schéma pas à jour "
    "(détails dans le journal du service ; at-tui central migrate)."
)


def too_many_requests(per_minute: int, seconds: str) -> str:
    return (
        f"Trop de requêtes pour ce jeton ({per_minute} par minute au plus) : "
        f"réessayez dans {seconds} s (en-tête Retry-After)."
    )


_ENGLISH_DETAILS = {
    "There was an error parsing the body": "Corps de la requête illisible (JSON attendu).",
}


class FrenchJSONResponse(JSONResponse):
    """JSON with accents as they are; a lone surrogate (from a client's bad string) stays valid JSON."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        # A lone surrogate can only sit inside a JSON string: « \udXXX » is its valid JSON escape.
        return text.encode("utf-8", errors="backslashreplace")


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("identifiant invalide (UUID attendu)") from None


def _integral(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer: accept it as 3 (but never true, "3" or 3.5).
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _object(value: Any) -> dict[str, Any]:
    # Checked here and taken as it is: copying every payload's nested values cost more than
    # parsing the request, and `operations.apply` validates each payload anyway.
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
    return value


Revision = Annotated[int, BeforeValidator(_integral)]
JSONObject = Annotated[dict[str, Any], PlainValidator(_object), WithJsonSchema({"type": "object"})]
UUIDText = Annotated[str, Field(min_length=1, max_length=45, json_schema_extra={"format": "uuid"}), AfterValidator(_uuid)]


# The reference data sets, as an enumeration so that the OpenAPI spec lists them.
Dataset = Enum("Dataset", {name: name for name in DATASETS}, type=str)


class ReadyModel(BaseModel):
    status: Literal["ok"]
    schema_: int = Field(alias="schema", description="version du schéma de la base (à jour)")
    backend: Literal["sqlite", "postgresql"] = Field(description="moteur de la base du service central")


def _errors(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorModel, "description": description}}


AUTH_ERRORS = {
    **_errors(401, "Jeton absent, inconnu ou révoqué."),
    **_errors(422, "Requête invalide (paramètre, champ ou limite) : le message dit lequel."),
    **_errors(429, "Trop de requêtes pour ce jeton : réessayer après Retry-After secondes."),
    **_errors(503, "Base momentanément indisponible : réessayer plus tard (Retry-After)."),
}


def create_app(storage: Storage, limits: Limits | None = None, rules: Rules | None = None) -> FastAPI:
    """The central service on `storage`, with `limits` (the protocol's defaults when omitted)
    and `rules`, the laptop's rules a pushed visit is checked with (on the installed data
    files and the published ones when omitted)."""
    limits = limits or Limits()
    rules = rules if rules is not None else Rules(storage)

    class PushOperation(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        op_id: UUIDText = Field(description="UUID de l'opération, fait sur le poste (clé du registre)")
        visit_id: UUIDText = Field(description="UUID de la visite")
        kind: Literal["content", "followup", "opportunity"] = Field(
            description="`followup` : remplacé par `opportunity` (gardé pour les postes plus anciens)"
        )
        base_rev: Revision = Field(
            ge=0, le=MAX_REV,
            description="révision sur laquelle l'opération s'appuie (0 : création) ; ignorée pour `opportunity` (0)",
        )
        payload: JSONObject = Field(
            description="`content` : la visite (docs/visit-format.md, sans history, classification, deliverables) ; "
            "`followup` : {status, lead, comment} ; `opportunity` : {fields, base, journal} (docs/sync-protocol.md, "
            "« Opportunité et journal »). Vérifié opération par opération (refus : `rejected`)."
        )

    class PushRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        operations: list[PushOperation] = Field(max_length=limits.max_operations)

    bearer = HTTPBearer(auto_error=False, description="Jeton d'appareil `att_…` (at-tui central add-user / add-token)")

    def current_user(
        request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> User:
        user = request.scope.get("state", {}).get(USER_KEY)
        if user is None:  # the Gatekeeper answers first; this only guards a misassembled app
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        return user

    CurrentUser = Annotated[User, Depends(current_user)]
    Since = Annotated[
        str | None,
        Query(max_length=100, description="curseur rendu par la page précédente ; absent ou 0 : depuis le début"),
    ]
    Limit = Annotated[int, Query(ge=1, le=limits.max_page, description=f"éléments par page ({limits.max_page} au plus)")]

    app = FastAPI(
        title="at-tui — service central",
        version=__version__,
        description="Magasin central des visites des AT (GRADeS e-santé Occitanie). Contrat : docs/sync-protocol.md.",
        docs_url=None,
        redoc_url=None,
        default_response_class=FrenchJSONResponse,
    )
    app.router.add_event_handler("startup", settle_heap)

    @app.get(
        HEALTH_PATH,
        response_model=HealthModel,
        tags=["service"],
        summary="Le service répond (sans jeton)",
        response_description="Le service est en marche.",
    )
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get(
        LIVE_PATH,
        response_model=HealthModel,
        tags=["supervision"],
        summary="Le processus répond (sans jeton ; ne lit pas la base)",
        response_description="Le processus est en marche.",
    )
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get(
        READY_PATH,
        response_model=ReadyModel,
        tags=["supervision"],
        summary="Le service peut servir : base joignable, schéma à jour (sans jeton)",
        response_description="La base répond et son schéma est à jour.",
        responses=_errors(503, "Base injoignable ou schéma pas à jour (détails dans le journal du service)."),
    )
    def readyz() -> Any:
        try:
            storage.check_ready()
            version = storage.schema_version()
        except Exception as error:  # whatever the cause, the probe says « not ready »; the log says why
            _log_not_ready(error)
            return FrenchJSONResponse({"detail": NOT_READY}, status_code=503, headers={"Retry-After": "5"})
        return {"status": "ok", "schema": version, "backend": storage.kind}

    @app.post(
        "/v1/push",
        response_model=PushResponse,
        response_model_exclude_unset=True,
        tags=["visites"],
        summary="Envoyer des opérations (chacune appliquée à part, toutes validées ensemble)",
        response_description="Un résultat par opération, dans l'ordre : applied, duplicate, conflict ou rejected.",
        responses={**AUTH_ERRORS, **_errors(413, f"Corps de plus de {limits.max_body_bytes} octets.")},
    )
    def push(body: PushRequest, user: CurrentUser) -> FrenchJSONResponse:
        ops = [operations.Operation(i.op_id, i.visit_id, i.kind, i.base_rev, i.payload) for i in body.operations]
        # Answered as made (`PushResponse` describes it): validating 200 results again through
        # the response model cost more than writing them, and they hold only what was set.
        return FrenchJSONResponse({"results": operations.apply(storage, user, ops, limits.max_text, rules)})

    @app.get(
        "/v1/me",
        response_model=MeModel,
        tags=["service"],
        summary="L'utilisateur du jeton (le poste y lit l'identifiant qu'il met dans « owner »)",
        response_description="Identifiant et rôle.",
        responses=AUTH_ERRORS,
    )
    def me(user: CurrentUser) -> dict[str, str]:
        return {"user": user.name, "role": user.role}

    @app.post(
        "/v1/noop",
        tags=["service"],
        summary="Reçoit un corps et n'en fait rien (plancher des mesures de performance)",
        response_description="Le nombre d'octets reçus.",
        responses={**AUTH_ERRORS, **_errors(413, f"Corps de plus de {limits.max_body_bytes} octets.")},
    )
    async def noop(request: Request, user: CurrentUser) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get(
        "/v1/visits",
        response_model=VisitPage,
        tags=["visites"],
        summary="Recevoir les visites modifiées depuis un curseur",
        response_description="Les visites visibles modifiées après le curseur, dans l'ordre de validation.",
        responses={**AUTH_ERRORS, **_errors(410, "Curseur inconnu ou expiré : tout reprendre depuis 0.")},
    )
    def list_visits(user: CurrentUser, since: Since = None, limit: Limit = limits.default_page) -> dict[str, Any]:
        after = parse_cursor(storage, since, STREAM_VISITS)
        if after is None:
            raise HTTPException(410, CURSOR_GONE)
        return _page(storage, storage.visits_since(after, limit, owner=None if user.role == "cm" else user.name), after)

    @app.get(
        "/v1/visits/{visit_id}",
        response_model=CentralVisitModel,
        tags=["visites"],
        summary="Une visite (introuvable si elle n'est pas visible)",
        response_description="La visite telle que le central la connaît.",
        responses={**AUTH_ERRORS, **_errors(404, "Visite inexistante ou non visible.")},
    )
    def get_visit(visit_id: Annotated[str, Path(description="UUID de la visite")], user: CurrentUser) -> dict[str, Any]:
        try:
            canonical = str(uuid.UUID(visit_id))
        except ValueError:
            raise HTTPException(404, VISIT_NOT_FOUND) from None
        visit = storage.get_visit(canonical)
        if visit is None or (user.role != "cm" and visit.owner != user.name):
            raise HTTPException(404, VISIT_NOT_FOUND)
        return visit.public()

    @app.get(
        "/v1/reference/{dataset}",
        response_model=ReferencePage,
        tags=["référence"],
        summary="Recevoir un jeu de données de référence depuis un curseur",
        response_description="Les éléments modifiés après le curseur (une suppression est un élément « deleted »).",
        responses={**AUTH_ERRORS, **_errors(410, "Curseur inconnu ou expiré : tout reprendre depuis 0.")},
    )
    def reference(dataset: Dataset, user: CurrentUser, since: Since = None, limit: Limit = limits.default_page) -> dict[str, Any]:
        after = parse_cursor(storage, since, STREAM_REFERENCE)
        if after is None:
            raise HTTPException(410, CURSOR_GONE)
        return _page(storage, storage.reference_since(dataset.value, after, limit), after)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = redact(describe_request_errors(error.errors(), limits))
        return FrenchJSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail
        try:
            phrase = HTTPStatus(error.status_code).phrase
        except ValueError:
            phrase = None
        status = error.status_code
        if detail in _ENGLISH_DETAILS:  # a body FastAPI could not decode (not UTF-8, too deep…): invalid, like bad JSON
            detail, status = _ENGLISH_DETAILS[detail], 422
        elif detail == phrase:
            detail = _french_status(status)
        return FrenchJSONResponse({"detail": redact(str(detail))}, status_code=status, headers=error.headers)

    @app.exception_handler(StorageError)
    @app.exception_handler(sqlite3.OperationalError)
    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        # The cause (database busy, disk full…) is for the operator's log, not for the client.
        return FrenchJSONResponse({"detail": UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"})

    app.add_middleware(Gatekeeper, storage=storage, max_body_bytes=limits.max_body_bytes, rate_limit=limits.rate_limit)
    # Added last: outermost, it sees every answer (a successful probe is the prober's record, not ours).
    app.add_middleware(AccessLog, user_of=_user_name, quiet_paths=PROBE_PATHS)
    return app


def settle_heap() -> None:
    """When the service starts (uvicorn's startup event: never for an app a test only builds),
    move what is alive then — modules, the reference data the rules load — out of the garbage
    collector's generations (`gc.freeze`). A full collection, which a push's many short-lived
    objects trigger now and then, no longer walks them all: about a tenth of a push's time."""
    gc.collect()
    gc.freeze()


def _log_not_ready(error: Exception) -> None:
    """Why /readyz said 503, for the operator (the error log is redacted; a StorageError is French)."""
    reason = str(error) if isinstance(error, StorageError) else f"{type(error).__name__}: {error}"
    logging.getLogger("uvicorn.error").warning("/readyz : service pas prêt : %s", reason[:500])


def _user_name(scope: Scope) -> str | None:
    user = scope.get("state", {}).get(USER_KEY)
    return user.name if user is not None else None


def _page(storage: Storage, page: Page, after: int) -> dict[str, Any]:
    """A page of a cursor stream; an empty page gives back the cursor it was asked from."""
    last = page.items[-1].seq if page.items else after
    return {"items": [item.public() for item in page.items], "cursor": format_cursor(storage.instance, last), "more": page.more}


class Gatekeeper:
    """Token check (401), the token's rate (429), then body size (413), before routing or parsing;
    `Cache-Control: no-store` on answers. `rate_limit`: requests per token and minute (0: none)."""

    def __init__(self, app: ASGIApp, storage: Storage, max_body_bytes: int, rate_limit: int = 0) -> None:
        self.app = app
        self.storage = storage
        self.max_body_bytes = max_body_bytes
        self.rate_limit = rate_limit
        self.limiter = RateLimiter(rate_limit) if rate_limit > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _no_store(send)
        if scope["path"] not in PUBLIC_PATHS:
            authorization = _header(scope, b"authorization")
            try:
                user = await run_in_threadpool(authenticate, self.storage, authorization) if authorization else None
            except (StorageError, sqlite3.OperationalError):
                await _answer(send, 503, UNAVAILABLE, {"Retry-After": "5"})
                return
            if user is None:
                await _answer(send, 401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
                return
            scope.setdefault("state", {})[USER_KEY] = user
            if self.limiter is not None:
                # Keyed by the token's hash: each device its own allowance, the token never kept.
                wait = self.limiter.wait(token_hash(bearer_token(authorization) or ""))
                if wait is not None:
                    seconds = retry_after(wait)
                    await _answer(send, 429, too_many_requests(self.rate_limit, seconds), {"Retry-After": seconds})
                    return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _answer(send, 413, _too_large(self.max_body_bytes))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client gone
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(send, 413, _too_large(self.max_body_bytes))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _no_store(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"cache-control", b"no-store")]}
        await send(message)

    return wrapped


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": redact(detail)}, ensure_ascii=False).encode("utf-8")
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _too_large(limit: int) -> str:
    return f"Requête trop volumineuse ({limit} octets au plus) : envoyez moins d'opérations à la fois."


def _french_status(status: int) -> str:
    return {
        404: "Ressource introuvable.",
        405: "Méthode non autorisée sur cette adresse.",
        400: "Requête invalide.",
    }.get(status, f"Erreur {status}.")


def describe_request_errors(errors: Any, limits: Limits, shown: int = 5) -> str:
    """A FastAPI validation error told in French, each problem with its place."""
    parts: list[str] = []
    for detail in errors:
        loc = [str(part) for part in detail.get("loc", ())]
        kind = detail.get("type")
        where, rest = (loc[0], loc[1:]) if loc else ("", [])
        if kind == "json_invalid":
            parts.append("corps JSON invalide")
            continue
        if where == "body" and not rest and kind == "missing":
            parts.append("corps de la requête manquant (objet JSON attendu)")
            continue
        if where == "body" and rest == ["operations"] and kind == "too_long":
            parts.append(f"trop d'opérations dans un envoi ({limits.max_operations} au plus)")
            continue
        message = _message(detail)
        path = ".".join(rest)
        label = "paramètre" if where in ("query", "path", "header") else "champ"
        parts.append(f"{label} « {path} » : {message}" if path else message)
    listed = parts[:shown]
    if len(parts) > shown:
        listed.append(f"et {len(parts) - shown} autre(s) problème(s)")
    text = " ; ".join(listed) or "requête invalide"
    return text[:1].upper() + text[1:] + "."


def _message(detail: dict) -> str:
    kind = detail.get("type")
    ctx = detail.get("ctx") or {}
    if kind in ("less_than_equal", "less_than"):
        return f"la valeur doit être au plus {ctx.get('le', ctx.get('lt'))}"
    if kind == "too_long":
        return f"{ctx.get('max_length')} éléments au plus"
    if kind == "string_too_long":
        return f"texte trop long ({ctx.get('max_length')} caractères au maximum)"
    return french_message(detail)
