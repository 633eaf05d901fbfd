"""A visit as the app sees it: identity, where the AT stands, the override."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from at_tui.domain.text import FieldError

IDENTITY_FIELDS = (
    "structure",
    "departement",
    "typologie",
    "contact_name",
    "contact_role",
    "visit_date",
    "maillage",
    "commune",
    "finess",
)

STATUS_LABELS = {"en_cours": "En cours", "terminee": "Terminée"}


@dataclass(frozen=True, slots=True)
class Visit:
    id: str
    structure: str
    departement: str
    typologie: str
    contact_name: str
    contact_role: str
    visit_date: str  # ISO date
    maillage: bool
    playbook_id: str
    playbook_version: int
    questionnaire_id: str
    questionnaire_version: int
    current_step: str
    status: str
    created_at: str
    updated_at: str
    finished_at: str | None = None
    override_offer: str | None = None
    override_justification: str | None = None
    commune: str = ""
    finess: str = ""  # FINESS number when the structure was picked from the imported extract

    @property
    def finished(self) -> bool:
        return self.status == "terminee"


def parse_visit_date(raw: str) -> str:
    """Accept JJ/MM/AAAA (the French habit) or AAAA-MM-JJ; store ISO."""
    text = raw.strip()
    if not text:
        raise FieldError("Indiquez la date de la visite (JJ/MM/AAAA).")
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not 2000 <= day.year <= 2100:
            raise FieldError(f"Année {day.year} improbable : utilisez le format JJ/MM/AAAA.")
        return day.isoformat()
    raise FieldError(f"Date « {text[:20]} » invalide : utilisez le format JJ/MM/AAAA.")


INVALID_DATE = "date invalide"


def format_timestamp(iso: object) -> str:
    """A stored UTC timestamp in the laptop's local time, French style.

    Total: a stored value comes from files and the central, and one the app cannot format
    (year 9999 shifted past the calendar's end, garbage, NULL) must not stop a screen
    from drawing, so it reads « date invalide »."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%d/%m/%Y %H:%M")  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError, OSError):
        return INVALID_DATE


def format_date(iso: object) -> str:
    """An ISO date French style; « date invalide » when it cannot be read (total, as above)."""
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return INVALID_DATE


# Answer keys: one namespace per kind of answer kept with a visit.
def question_key(question_id: str) -> str:
    return f"q:{question_id}"


def check_key(step_id: str, action_id: str) -> str:
    return f"check:{step_id}:{action_id}"


def notes_key(step_id: str) -> str:
    return f"notes:{step_id}"


def ack_key(sheet_id: str, guardrail_id: str) -> str:
    """The AT acknowledged a guardrail of an argumentaire sheet (value `True`)."""
    return f"ack:{sheet_id}:{guardrail_id}"


def questionnaire_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The questionnaire's answers keyed by question id."""
    return {k[2:]: v for k, v in answers.items() if k.startswith("q:")}
