"""The export file format as pydantic models (see `docs/visit-format.md`), checked in French.

Imported only when a file is imported: pydantic is not needed at start-up.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from at_tui.domain.moments import date_problem, timestamp_problem
from at_tui.domain.redaction import printable
from at_tui.exchange.errors import refusal, visit_label
from at_tui.exchange.header import check_header
from at_tui.reference.validation import french_message


def _timestamp(value: str) -> str:
    """Refused unless every screen can show it (docs/visit-format.md: years 2000 to 2100)."""
    problem = timestamp_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _day(value: str) -> str:
    """A local calendar date (AAAA-MM-JJ), years 2000 to 2100 like the timestamps."""
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _line(value: str) -> str:
    """One line of text as the app writes it: not blank, bounded, no control characters."""
    from at_tui.domain.text import SHORT_TEXT_MAX, clean_text

    if not clean_text(value, max_length=SHORT_TEXT_MAX):
        raise ValueError("un texte non vide est attendu")
    return value  # kept as written: the journal is history


def _long_text(value: str) -> str:
    """A note (20 000 characters at most, line breaks allowed, no other control character)."""
    from at_tui.domain.text import clean_text

    clean_text(value, multiline=True)
    return value


def _form_answers(value: dict[str, Any]) -> dict[str, Any]:
    """A journal entry's form answers, as a form stores them: question id → text, whole number,
    true/false, list of choices, or null. Checked for their shape only: the form may have changed."""
    if len(value) > _MAX_FORM_ANSWERS:
        raise ValueError(f"{_MAX_FORM_ANSWERS} réponses au plus")
    for key, answer in value.items():
        if not _ANSWER_KEY_RE.fullmatch(key):
            raise ValueError(f"question « {printable(key[:40])} » : identifiant invalide")
        if answer is None or isinstance(answer, bool):
            continue
        if isinstance(answer, int):
            if abs(answer) > 10**12:
                raise ValueError(f"question « {key} » : nombre hors limites")
        elif isinstance(answer, str):
            _answer_text(key, answer)
        elif isinstance(answer, list) and len(answer) <= _MAX_CHOICES and all(isinstance(v, str) for v in answer):
            for item in answer:
                _answer_text(key, item)
        else:
            raise ValueError(f"question « {key} » : texte, nombre entier, true/false, liste de textes "
                             "ou null attendu")
    return value


def _answer_text(key: str, text: str) -> None:
    from at_tui.domain.text import FieldError, clean_text

    try:
        clean_text(text, multiline=True)
    except FieldError as error:
        raise ValueError(f"question « {key} » : {error}") from None


def _owner(value: str) -> str:
    # The central's user names (central.storage.USER_NAME_PATTERN); a file is not trusted for more.
    if not _OWNER_RE.fullmatch(value):
        raise ValueError(f"identifiant d'AT « {printable(value[:40])} » invalide "
                         "(minuscules, chiffres, « . », « _ », « - »)")
    return value


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"identifiant « {value[:60]} » invalide (UUID attendu)") from None


_OWNER_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_ANSWER_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MAX_FORM_ANSWERS = 200
_MAX_CHOICES = 100

Timestamp = Annotated[str, AfterValidator(_timestamp)]
Owner = Annotated[str, AfterValidator(_owner)]
VisitId = Annotated[str, AfterValidator(_uuid)]
RefId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)]
Day = Annotated[str, AfterValidator(_day)]
Line = Annotated[str, AfterValidator(_line)]
LongText = Annotated[str, AfterValidator(_long_text)]
# A journal entry's id: a UUID, or « <visit id>:information » for the entry a visit opens with.
EntryId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]*$", min_length=1, max_length=120)]
CheckKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*:[a-z0-9][a-z0-9_-]*$", max_length=130)]
Side = Literal["AT", "CM"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RefModel(StrictModel):
    id: RefId
    version: int = Field(ge=1)


class IdentityModel(StrictModel):
    structure: str
    departement: str
    typologie: str
    contact_name: str
    contact_role: str
    visit_date: str
    maillage: bool
    # Added with schema v5: files written before have neither.
    commune: str = ""
    finess: str = ""


class OverrideModel(StrictModel):
    offer: Literal["discussions_simple", "discussions_complexe", "dossiers"]
    justification: str = Field(min_length=1, max_length=20_000)


class HistoryModel(StrictModel):
    field: str = Field(min_length=1, max_length=200)
    old_value: Any
    new_value: Any
    at: Timestamp


class VisitContentModel(StrictModel):
    """A visit's own data (exporter.visit_content): also the `content` a sync operation carries."""

    id: VisitId
    identity: IdentityModel
    playbook: RefModel
    questionnaire: RefModel
    status: Literal["en_cours", "terminee"]
    current_step: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    created_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None
    answers: dict[str, Any]
    override: OverrideModel | None


class OpportunityModel(StrictModel):
    """Format v3: the opportunity the visit opened (steps 4 to 7). Its status is checked against
    the lifecycle of this laptop's playbook on import (exchange.opportunities)."""

    playbook: RefModel  # the process it follows
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
    created_at: Timestamp
    updated_at: Timestamp


class JournalEntryModel(StrictModel):
    """Format v3: one entry of the opportunity's journal, superseded ones included. The activity
    is kept as written even when this laptop's lifecycle does not know it (history)."""

    id: EntryId
    activity: RefId
    type: Line
    title: Line
    day: Day
    author: Owner | None
    role: Side | None
    text: LongText
    answers: Annotated[dict[str, Any], AfterValidator(_form_answers)]
    supersedes: EntryId | None
    created_at: Timestamp


class CheckModel(StrictModel):
    """Format v3: one action of steps 4 to 7 ticked off (« étape:action »)."""

    key: CheckKey
    done: bool
    author: Owner | None
    updated_at: Timestamp


class VisitModel(VisitContentModel):
    # Format v2: the AT the central knows as the visit's owner, when the exporting laptop knew it.
    # An import keeps it; the importing laptop never pushes the visit (docs/sync-protocol.md).
    owner: Owner | None = None
    # Computed on export for the reader's benefit; recomputed on import.
    classification: Any = None
    deliverables: Any = None
    history: list[HistoryModel]
    # Format v3: the opportunity, its whole journal and its ticked actions, when it has one.
    opportunity: OpportunityModel | None = None
    journal: list[JournalEntryModel] = []
    opportunity_checks: list[CheckModel] = []


class ReferenceModel(StrictModel):
    kind: Literal["playbook", "questionnaire"]
    id: RefId
    version: int = Field(ge=1)
    content: dict[str, Any]


class EnvelopeModel(StrictModel):
    format: Literal["at-tui.visites"]
    version: int = Field(ge=1)
    exported_at: Timestamp
    app_version: str = Field(max_length=100)
    visits: list[VisitModel]
    references: list[ReferenceModel]


def validate_envelope(raw: Any) -> EnvelopeModel:
    """The file's envelope, every field checked; ExchangeError listing each problem otherwise."""
    check_header(raw)
    try:
        return EnvelopeModel.model_validate(raw)
    except ValidationError as error:
        raise refusal([_describe(raw, detail) for detail in error.errors(include_url=False)]) from None


def _describe(raw: dict, detail: dict) -> str:
    """« Visite « X » (id) : champ « identity.maillage » : true ou false attendu »."""
    loc = list(detail["loc"])
    where = "Fichier"
    if len(loc) >= 2 and loc[0] == "visits" and isinstance(loc[1], int):
        visits = raw.get("visits")
        item = visits[loc[1]] if isinstance(visits, list) and loc[1] < len(visits) else None
        if isinstance(item, dict):
            identity = item.get("identity")
            structure = identity.get("structure") if isinstance(identity, dict) else None
            where = visit_label(structure, item.get("id", f"n° {loc[1] + 1}"))
        else:
            where = f"Visite n° {loc[1] + 1}"
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "references" and isinstance(loc[1], int):
        where = f"Référence n° {loc[1] + 1}"
        loc = loc[2:]
    path = ".".join(str(part) for part in loc)
    return f"{where} : " + (f"champ « {path} » : " if path else "") + french_message(detail) + "."
