"""What travels between a laptop and the central service, as pydantic models (FastAPI-free).

A visit's `content` is one visit object of the export format (`docs/visit-format.md`)
without `history`, `classification` and `deliverables`: the models of
`at_tui.exchange.format` are reused for its parts. The models check the structure
and the types; `central.validation` then checks the values with the laptop's own
rules (territory, questionnaire, playbook), so that nothing a laptop cannot use is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from at_tui.central.storage import USER_NAME_PATTERN
from at_tui.exchange.format import Day, JournalEntryModel, LongText, Owner, RefId, Side, StrictModel, VisitContentModel
from at_tui.reference.validation import french_message

MAX_TEXT = 20_000
MAX_ANSWER_KEY = 200
MAX_LIST_ITEMS = 500
MAX_INTEGER = 2**53  # exactly representable by every JSON reader
ANSWER_NAMESPACES = ("q", "check", "notes", "ack")
FOLLOWUP_STATUSES = ("a_traiter", "en_cours", "gagnee", "perdue", "sans_suite")
DEFAULT_FOLLOWUP = {"status": "a_traiter", "lead": "AT", "comment": ""}
DEFAULT_RATE_LIMIT = 600  # requests per minute and token: a first sync pulls ~200 pages of contacts


@dataclass(frozen=True)
class Limits:
    """The service's limits (`docs/sync-protocol.md`, « Limites »)."""

    max_body_bytes: int = 2 * 1024 * 1024
    max_operations: int = 500
    max_text: int = MAX_TEXT
    max_page: int = 1000
    default_page: int = 500
    rate_limit: int = DEFAULT_RATE_LIMIT  # requests per token and minute (burst as many); 0: no limit


def _answers(value: dict[str, Any]) -> dict[str, Any]:
    for key, raw in value.items():
        namespace, sep, rest = key.partition(":")
        if not sep or not rest or namespace not in ANSWER_NAMESPACES or len(key) > MAX_ANSWER_KEY:
            raise ValueError(
                f"clé de réponse « {key[:60]} » invalide (attendu : q:…, check:…:…, notes:… ou ack:…:…, "
                f"{MAX_ANSWER_KEY} caractères au plus)"
            )
        if not _answer_value_ok(raw):
            raise ValueError(
                f"réponse « {key[:60]} » : un texte, un nombre entier, true/false, une liste de textes "
                "ou null est attendu"
            )
    return value


def _answer_value_ok(raw: Any) -> bool:
    if raw is None or isinstance(raw, (str, bool)):
        return True
    if isinstance(raw, int):
        return -MAX_INTEGER <= raw <= MAX_INTEGER
    if isinstance(raw, list):
        return len(raw) <= MAX_LIST_ITEMS and all(isinstance(item, str) for item in raw)
    return False


class VisitContent(VisitContentModel):
    """What the AT captures: the export format's visit content, its answers bounded for the central.

    `owner` is the login of the AT who created the visit, when the laptop knows it: a
    push whose `owner` is not the pusher is refused (`docs/sync-protocol.md`, « Propriété
    d'une visite »). It is never stored in the content: the central visit's own `owner`
    is the only authority, and older laptops pull the content they always did.
    """

    # Read from a push, never written out (`exclude`): not in the stored content nor in a pull.
    owner: str | None = Field(default=None, pattern=f"^{USER_NAME_PATTERN.pattern}$", exclude=True)
    answers: Annotated[dict[str, Any], AfterValidator(_answers)]


class Followup(StrictModel):
    """The follow-up a CM keeps: status, who leads, comment. Replaced whole by a `followup` operation."""

    status: Literal["a_traiter", "en_cours", "gagnee", "perdue", "sans_suite"]
    lead: Literal["AT", "CM"]
    comment: str = Field(max_length=MAX_TEXT)


class OpportunityFields(StrictModel):
    """The fields of an opportunity on the wire (`domain.opportunity_fields.OPPORTUNITY_FIELDS`):
    all of them, each checked for its form; the status against the playbook's lifecycle
    afterwards (`operations`), when it changes."""

    playbook_id: RefId
    playbook_version: int = Field(ge=1, le=MAX_INTEGER)
    offer: Literal["discussions_simple", "discussions_complexe", "dossiers"]
    lead: Side
    support: Side | None
    status: RefId
    status_reason: LongText | None
    at_login: Owner | None
    cm_login: Owner | None
    visit_date: Day | None
    launch_date: Day | None
    deployment_end: Day | None


class OpportunityPayload(StrictModel):
    """The payload of an `opportunity` operation (docs/sync-protocol.md, « Opportunité et journal »):
    the laptop's current fields, the fields as it last got them from the central (None: never),
    and the journal entries the central has not acknowledged yet (`JournalEntryModel`: the
    exchange format's entry, the same names as `domain.opportunity.JournalEntry`)."""

    fields: OpportunityFields
    base: OpportunityFields | None = None
    journal: list[JournalEntryModel] = Field(default_factory=list)


class OpportunityModel(BaseModel):
    """The opportunity of a visit as the central serves it. Served as stored (like a visit's
    content): an entry kept before a rule was tightened must not make a pull fail."""

    fields: dict[str, Any] = Field(description="les champs de l'opportunité (offer, lead, status, dates…)")
    journal: list[dict[str, Any]] = Field(
        description="toutes les entrées du journal (remplacées comprises), par jour, created_at, id ; "
        "vide dans la réponse d'un envoi"
    )
    updated_at: str = Field(description="dernière écriture de l'opportunité ou de son journal (UTC, ISO 8601)")


class CentralVisitModel(BaseModel):
    """A visit as the central knows it.

    Its content is served as stored, not validated again on the way out: a visit stored
    before a rule was tightened must not make a whole pull fail (500). Pushes are
    validated (`VisitContent`); the laptop checks what it pulls and sets aside what it
    cannot use (docs/sync-protocol.md)."""

    id: str = Field(description="UUID de la visite, fait sur le poste")
    rev: int = Field(ge=1, description="révision : 1 à la création, +1 à chaque opération appliquée")
    owner: str = Field(description="l'AT propriétaire")
    content: dict[str, Any] = Field(description="le contenu tel qu'enregistré (forme : celle d'un envoi « content »)")
    followup: Followup
    updated_at: str = Field(description="dernière opération appliquée (UTC, ISO 8601)")
    opportunity: OpportunityModel | None = Field(
        default=None, description="l'opportunité de la visite et son journal ; null tant qu'elle n'en a pas"
    )


class OperationResult(BaseModel):
    op_id: str
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    rev: int | None = Field(default=None, description="applied/duplicate : révision obtenue ; conflict : révision centrale")
    reason: str | None = Field(default=None, description="rejected : la raison, en français")
    code: Literal["owner", "invalid", "forbidden"] | None = Field(
        default=None,
        description="rejected : « owner » si la visite appartient à une autre ou un autre AT, "
        "« invalid » si son contenu ne respecte pas les règles du poste, "
        "« forbidden » si un champ de l'opportunité n'est pas modifiable par ce rôle",
    )
    central: CentralVisitModel | None = Field(default=None, description="conflict : la copie centrale")
    fields: list[str] | None = Field(
        default=None,
        description="opportunity : en conflit, les champs modifiés des deux côtés ; "
        "refusée (forbidden), les champs que ce rôle ne modifie pas",
    )
    opportunity: OpportunityModel | None = Field(
        default=None, description="opportunity appliquée : les champs centraux après l'opération (journal vide)"
    )
    original_status: Literal["applied", "conflict", "rejected"] | None = Field(
        default=None, description="duplicate : le statut de la première réception"
    )


class PushResponse(BaseModel):
    results: list[OperationResult] = Field(description="un résultat par opération, dans l'ordre de l'envoi")


class VisitPage(BaseModel):
    items: list[CentralVisitModel]
    cursor: str = Field(description="curseur opaque, à renvoyer tel quel dans `since`")
    more: bool = Field(description="il reste des pages")


class ReferenceItemModel(BaseModel):
    key: str
    content: Any = None
    deleted: bool = False


class ReferencePage(BaseModel):
    items: list[ReferenceItemModel]
    cursor: str
    more: bool


class ErrorModel(BaseModel):
    detail: str = Field(description="le message, en français")


class HealthModel(BaseModel):
    status: Literal["ok"]


class MeModel(BaseModel):
    user: str = Field(description="l'identifiant de l'utilisateur du jeton (propriétaire des visites qu'il crée)")
    role: Literal["at", "cm"]


def validation_reason(error: ValidationError, limit: int = 5) -> str:
    """« champ « identity.departement » : un texte non vide est attendu, pas 31 » (several joined by « ; »)."""
    parts = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in detail["loc"])
        parts.append((f"champ « {path} » : " if path else "") + french_message(detail))
    shown = parts[:limit]
    if len(parts) > limit:
        shown.append(f"et {len(parts) - limit} autre(s) problème(s)")
    return " ; ".join(shown)


def too_long_text(value: Any, max_text: int, path: str = "") -> str | None:
    """The place of the first text (value or key) longer than `max_text`, or None."""
    if isinstance(value, str):
        return path if len(value) > max_text else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and len(key) > max_text:
                return where[:200]
            found = too_long_text(item, max_text, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = too_long_text(item, max_text, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
