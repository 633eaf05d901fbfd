"""Checking a pushed visit with the laptop's own rules, before anything is stored.

A visit the central accepts is one a laptop could have made: every owner's laptop
pulls it back, opens it and exports it. So the values go through the very parsers
the laptop uses when the AT types them or imports a file (`at_tui.domain.identity`,
`at_tui.exchange.incoming.answer_value`, which calls `at_tui.domain.answers.parse_answer`),
against the reference data the central knows:

* territory and questionnaires: the data files of the installed at-tui (the laptops
  have the same, they are not published data sets);
* playbooks and argumentaire sheets: the installed ones plus those published with
  `at-tui central publish` (re-read only when a publication changed something).

Identity codes (département, typologie, date, FINESS) must already be in the form the
laptop stores; timestamps must be in the range every screen can show
(`at_tui.domain.moments`). Nothing here rewrites the content: it is accepted as sent,
or refused with a French reason.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from at_tui.central.storage import STREAM_REFERENCE, Storage
from at_tui.domain.moments import timestamp_problem
from at_tui.domain.reference_items import ARGUMENTAIRE, PLAYBOOKS, SHEET_PREFIX, playbook_key, sheet_key

if TYPE_CHECKING:
    from at_tui.central.models import VisitContent
    from at_tui.domain.argumentaire import Sheet
    from at_tui.domain.playbook import Playbook, Questionnaire
    from at_tui.reference.loader import ReferenceData

# Identity fields whose stored form is a code the laptop looks up (territory, dates, FINESS).
CODED_FIELDS = ("departement", "typologie", "visit_date", "finess")
# Few distinct values, each costly to look up (territory names folded): their outcome is remembered.
REMEMBERED_FIELDS = ("departement", "typologie", "visit_date")
MAX_REMEMBERED = 10_000
MAX_PROBLEMS = 5


class Sheets:
    """The argumentaire sheets a visit may acknowledge guardrails of (what `answer_value` asks of it)."""

    def __init__(self, sheets: dict[str, Sheet]) -> None:
        self._sheets = sheets

    def sheet(self, sheet_id: str) -> Sheet:
        return self._sheets[sheet_id]


@dataclass(frozen=True)
class Known:
    """The reference data a pushed visit is checked against, at one reference position."""

    reference: ReferenceData
    playbooks: dict[tuple[str, int], Playbook]
    sheets: Sheets
    position: int = -1
    # (field, raw value) -> (stored value, None) or (None, the FieldError's message)
    identity_outcomes: dict[tuple[str, object], tuple[object, str | None]] = field(default_factory=dict)

    def identity_field(self, name: str, raw: object) -> tuple[object, str | None]:
        """`parse_identity_field` on this territory: the stored value, or the French problem."""
        from at_tui.domain.identity import parse_identity_field
        from at_tui.domain.text import FieldError

        key = (name, raw)
        remembered = self.identity_outcomes.get(key) if name in REMEMBERED_FIELDS else None
        if remembered is not None:
            return remembered
        try:
            outcome: tuple[object, str | None] = (parse_identity_field(self.reference.territory, name, raw), None)
        except FieldError as error:
            outcome = (None, _sentence(error))
        if name in REMEMBERED_FIELDS and len(self.identity_outcomes) < MAX_REMEMBERED:
            self.identity_outcomes[key] = outcome
        return outcome


@dataclass
class Rules:
    """The laptop's rules for a visit, on the central's reference data (loaded once, refreshed on publication)."""

    storage: Storage
    reference: ReferenceData | None = None  # None: the installed data files, loaded on first use
    _known: Known | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def known(self) -> Known:
        """The reference data now: one cheap read of the publication position, a reload when it moved."""
        position = self.storage.last_seq(STREAM_REFERENCE)
        known = self._known
        if known is not None and known.position == position:
            return known
        with self._lock:
            if self._known is None or self._known.position != position:
                self._known = self._load(position)
            return self._known

    def _load(self, position: int) -> Known:
        from at_tui.domain.argumentaire import Sheet
        from at_tui.domain.playbook import Playbook
        from at_tui.reference.loader import load_reference
        from at_tui.reference.pulled import validated

        if self.reference is None:
            self.reference = load_reference()
        reference = self.reference
        playbooks = dict(reference.playbooks)
        sheets = {sheet.id: sheet for sheet in reference.argumentaire.sheets}
        for item in _items(self.storage, PLAYBOOKS):
            if item.deleted:
                continue  # a version is never withdrawn: visits refer to it
            found = validated(Playbook, json.dumps(item.content), item.key, lambda p: playbook_key(p.id, p.version))
            if found is not None:
                playbooks.setdefault((found.id, found.version), found)  # a version never changes
        for item in _items(self.storage, ARGUMENTAIRE):
            if not item.key.startswith(SHEET_PREFIX):
                continue
            if item.deleted:  # withdrawn: the laptops drop it too (reference.pulled)
                sheets.pop(item.key[len(SHEET_PREFIX):], None)
                continue
            found = validated(Sheet, json.dumps(item.content), item.key, lambda s: sheet_key(s.id))
            if found is not None:
                sheets[found.id] = found
        return Known(reference, playbooks, Sheets(sheets), position)


def _items(storage: Storage, dataset: str):
    """Every item of a published data set (tombstones included), in publication order."""
    after = 0
    while True:
        page = storage.reference_since(dataset, after, 1000)
        yield from page.items
        if not page.more or not page.items:
            return
        after = page.items[-1].seq


def visit_problems(known: Known, content: VisitContent) -> list[str]:
    """Every problem the laptop would find in the visit, in the order of its fields."""
    from at_tui.domain.text import FieldError, clean_text

    problems: list[str] = []
    for name, raw in content.identity.model_dump().items():
        value, problem = known.identity_field(name, raw)
        if problem is not None:
            problems.append(f"champ « identity.{name} » : {problem}")
            continue
        if name in CODED_FIELDS and value != raw:
            problems.append(f"champ « identity.{name} » : « {str(raw)[:60]} » doit être écrit « {value} »")

    for name in ("created_at", "updated_at", "finished_at"):
        stamp = getattr(content, name)
        if stamp is not None and (reason := timestamp_problem(stamp)) is not None:
            problems.append(f"champ « {name} » : {reason}")

    playbook, questionnaire = _refs(known, content, problems)

    if content.override is not None:
        try:
            clean_text(content.override.justification, multiline=True)
        except FieldError as error:
            problems.append(f"champ « override.justification » : {_sentence(error)}")
        if not content.override.justification.strip():
            problems.append("champ « override.justification » : une classification forcée doit être justifiée")

    if playbook is not None and questionnaire is not None:
        problems += _answer_problems(known, playbook, questionnaire, content.answers)
    return problems


def _refs(known: Known, content: VisitContent, problems: list[str]) -> tuple[Playbook | None, Questionnaire | None]:
    pid, pversion = content.playbook.id, content.playbook.version
    qid, qversion = content.questionnaire.id, content.questionnaire.version
    playbook = known.playbooks.get((pid, pversion))
    questionnaire = known.reference.questionnaires.get((qid, qversion))
    if playbook is None:
        problems.append(
            f"champ « playbook » : le processus « {pid} » version {pversion} est inconnu du central "
            "(ni installé ni publié : at-tui central publish)"
        )
    elif playbook.questionnaire != qid:
        problems.append(
            f"champ « questionnaire » : « {qid} » n'est pas le questionnaire du processus « {pid} » "
            f"(« {playbook.questionnaire} »)"
        )
    if questionnaire is None:
        problems.append(
            f"champ « questionnaire » : le questionnaire « {qid} » version {qversion} est inconnu du central "
            "(mettez à jour at-tui sur le service central)"
        )
    return playbook, questionnaire


def _answer_problems(known: Known, playbook: Playbook, questionnaire: Questionnaire, answers: dict) -> list[str]:
    from at_tui.domain.text import FieldError
    from at_tui.exchange.incoming import answer_value

    problems = []
    for key, raw in answers.items():
        try:
            answer_value(playbook, questionnaire, key, raw, known.sheets)  # type: ignore[arg-type]
        except FieldError as error:
            problems.append(f"réponse « {key[:80]} » : {_sentence(error)}")
    return problems


def _sentence(error: Exception) -> str:
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def joined(problems: list[str]) -> str | None:
    """The problems as one reason (the first few, then how many more), or None when there are none."""
    if not problems:
        return None
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"et {len(problems) - MAX_PROBLEMS} autre(s) problème(s)")
    return " ; ".join(shown)

