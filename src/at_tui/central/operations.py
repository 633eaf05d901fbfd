"""The protocol's rules for one pushed operation (`docs/sync-protocol.md`, « Envoi »).

`apply` validates what can be checked without the database, then hands a pure
`decide(ledger entry, central visit)` per operation to the storage, which runs it and
writes its decision atomically (all of a push committed together). The order of the rules:

1. op id already in the ledger → its stored answer, `duplicate` (nothing
   re-applied); the same op id sent by another user, or for another
   operation, is refused (and not recorded: the op id is taken);
2. authorization: `content` only for an AT; a content whose `owner` names
   another user is refused (a visit belongs for ever to the AT who created it);
   then only on a new visit or one of its own; `followup` only for a CM; another
   AT's visit is « visite introuvable », the same words as a visit that does not exist;
3. invalid payload (structure, or the laptop's own rules: `validation`) → `rejected`
   with the reason;
4. unknown visit and base_rev 0 → created at rev 1;
5. base_rev = central rev → applied, rev + 1;
6. otherwise → `conflict`, with the central copy.

Every outcome of 2–6 is recorded in the ledger with the operation's effect.

An `opportunity` operation (the opportunity of a visit and its journal, AT or CM) follows
its own rules after 1–3: `opportunity_rules` (docs/sync-protocol.md, « Opportunité et
journal »). Its `base_rev` is ignored; it never changes the visit's `rev`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from at_tui.central import opportunity_rules
from at_tui.central.models import (
    DEFAULT_FOLLOWUP,
    Followup,
    OpportunityPayload,
    VisitContent,
    too_long_text,
    validation_reason,
)
from at_tui.central.storage import (
    USER_NAME_PATTERN,
    CentralVisit,
    Decide,
    Decision,
    LedgerEntry,
    OpportunityWrite,
    Storage,
    User,
    VisitWrite,
    now,
    to_json,
)
from at_tui.central.validation import Known, Rules, joined, visit_problems
from at_tui.domain.redaction import safe

NOT_FOUND = "visite introuvable"
CODE_OWNER = "owner"
CODE_INVALID = "invalid"
SURROGATE = "un texte contient un caractère invalide (demi-paire de substitution UTF-16 isolée)"
MAX_DEPTH = 32
DEFAULT_FOLLOWUP_JSON = to_json(DEFAULT_FOLLOWUP)


@dataclass(frozen=True)
class Operation:
    op_id: str  # canonical UUID
    visit_id: str  # canonical UUID
    kind: str  # content / followup / opportunity
    base_rev: int
    payload: dict[str, Any]


def owned_by_another(owner: str) -> str:
    """The reason a push naming another owner is refused (`docs/sync-protocol.md`, « Propriété d'une visite »)."""
    return f"cette visite appartient à {owner} : seule son auteure ou son auteur peut l'envoyer"


def apply(
    storage: Storage, user: User, ops: Sequence[Operation], max_text: int, rules: Rules | None = None
) -> list[dict[str, Any]]:
    """The results of a push's operations, in order. Payloads are checked before the write
    transaction (it stays short); the storage then decides and writes each operation
    atomically and commits them together. `rules`: the laptop's rules (None: structure only)."""
    stamp = now()
    checked = [(op, _checked_payload(op, max_text)) for op in ops]
    known = rules.known() if rules is not None and any(op.kind != "followup" for op in ops) else None
    # The visit each journal entry id sent already belongs to: an id is used once in the whole
    # central. Read before the write transaction; the deciders add what they write.
    sent_ids = [entry.id for _, (_, _, parsed) in checked if isinstance(parsed, OpportunityPayload)
                for entry in parsed.journal]
    owners = storage.journal_owners(sent_ids) if sent_ids else {}
    return storage.apply_operations(
        [(op.op_id, op.visit_id, _decider(user, op, max_text, stamp, known, owners, outcome)) for op, outcome in checked]
    )


def _decider(
    user: User,
    op: Operation,
    max_text: int,
    stamp: str,
    known: Known | None = None,
    owners: dict[str, str] | None = None,
    checked: tuple[str | None, str | None, Any] | None = None,
) -> Decide:
    payload, invalid, parsed = checked if checked is not None else _checked_payload(op, max_text)
    owners = owners if owners is not None else {}  # shared by the push's deciders: never replaced
    if invalid is None and known is not None and isinstance(parsed, VisitContent):
        invalid = joined(visit_problems(known, parsed))
        if invalid is not None:
            payload = None  # fingerprinted as sent, like every refused payload
    claimed = _claimed_owner(op)
    foreign = claimed if claimed is not None and claimed != user.name else None
    fingerprint = _fingerprint(op, payload, foreign)

    def decide(entry: LedgerEntry | None, visit: CentralVisit | None) -> Decision:
        if entry is not None:
            if entry.user_name != user.name or entry.fingerprint != fingerprint:
                return Decision(
                    _rejected(
                        op,
                        "identifiant d'opération (op_id) déjà employé pour une autre opération : "
                        "rien n'est appliqué, envoyez-la avec un nouvel op_id",
                    )
                )
            return Decision({**entry.result, "op_id": op.op_id, "status": "duplicate", "original_status": entry.status})
        if op.kind == "opportunity":
            result, opportunity = _opportunity_outcome(user, op, visit, parsed, invalid, stamp, known, owners)
            write = None
        else:
            (result, write), opportunity = _new_outcome(user, op, visit, payload, invalid, stamp, foreign), None
        ledger = LedgerEntry(op.op_id, user.name, op.visit_id, fingerprint, result["status"], result)
        return Decision(result, write, ledger, opportunity)

    return decide


def _new_outcome(
    user: User,
    op: Operation,
    visit: CentralVisit | None,
    payload: str | None,
    invalid: str | None,
    stamp: str,
    foreign: str | None,
) -> tuple[dict[str, Any], VisitWrite | None]:
    if op.kind == "content" and user.role != "at":
        return _rejected(op, "un chargé de mission ne modifie pas le contenu d'une visite, seulement son suivi"), None
    if op.kind == "followup" and user.role != "cm":
        return _rejected(op, "seul un chargé de mission modifie le suivi d'une visite"), None
    if foreign is not None:
        # Before any look at the visit: the answer is the same whether it exists or not.
        return _rejected(op, owned_by_another(foreign), CODE_OWNER), None
    if visit is not None and user.role == "at" and visit.owner != user.name:
        return _rejected(op, NOT_FOUND), None
    if visit is None and (op.kind != "content" or op.base_rev != 0):
        return _rejected(op, NOT_FOUND), None
    if invalid is not None or payload is None:
        return _rejected(op, invalid or "contenu invalide", CODE_INVALID), None
    if visit is None:
        write = VisitWrite(op.visit_id, 0, 1, user.name, payload, DEFAULT_FOLLOWUP_JSON, stamp)
        return {"op_id": op.op_id, "status": "applied", "rev": 1}, write
    if op.base_rev != visit.rev:
        return {"op_id": op.op_id, "status": "conflict", "rev": visit.rev, "central": visit.public()}, None
    content = payload if op.kind == "content" else to_json(visit.content)
    followup = payload if op.kind == "followup" else to_json(visit.followup)
    # The owner never changes: the one who created it, whoever (AT or CM) writes now.
    write = VisitWrite(visit.id, visit.rev, visit.rev + 1, visit.owner, content, followup, stamp)
    return {"op_id": op.op_id, "status": "applied", "rev": visit.rev + 1}, write


def _opportunity_outcome(
    user: User,
    op: Operation,
    visit: CentralVisit | None,
    parsed: Any,
    invalid: str | None,
    stamp: str,
    known: Known | None,
    owners: dict[str, str],
) -> tuple[dict[str, Any], OpportunityWrite | None]:
    """Rules 2–6 of an `opportunity` operation (`opportunity_rules`): a visit the user cannot see
    is « visite introuvable », whether it exists or not."""
    if visit is None or (user.role == "at" and visit.owner != user.name):
        return _rejected(op, NOT_FOUND), None
    if invalid is not None or not isinstance(parsed, OpportunityPayload):
        return _rejected(op, invalid or "contenu invalide", CODE_INVALID), None
    outcome = opportunity_rules.decide(user, visit, parsed, known, owners, stamp)
    if isinstance(outcome, opportunity_rules.Refusal):
        result = _rejected(op, outcome.reason, outcome.code)
        return (result | {"fields": list(outcome.fields)} if outcome.fields else result), None
    return {"op_id": op.op_id, **outcome.result}, outcome.write


def _rejected(op: Operation, reason: str, code: str | None = None) -> dict[str, Any]:
    # A reason may quote what was sent (a key, a value): never a token, never a control character.
    result = {"op_id": op.op_id, "status": "rejected", "reason": safe(reason)}
    return result | {"code": code} if code is not None else result


def _claimed_owner(op: Operation) -> str | None:
    """The `owner` a content payload names, when it is a possible login (otherwise the payload is invalid)."""
    owner = op.payload.get("owner") if op.kind == "content" else None
    return owner if isinstance(owner, str) and USER_NAME_PATTERN.fullmatch(owner) else None


PAYLOAD_MODELS = {"content": VisitContent, "followup": Followup, "opportunity": OpportunityPayload}


def _checked_payload(op: Operation, max_text: int) -> tuple[str | None, str | None, Any]:
    """The normalized payload as JSON text and as parsed, or the French reason it is refused.
    What needs the reference data (`visit_problems`) is checked by the decider."""
    model = PAYLOAD_MODELS[op.kind]
    try:
        parsed = model.model_validate(op.payload)
    except ValidationError as error:
        # A valid payload is shallow by its model: depth only needs checking on refusal.
        if _too_deep(op.payload):
            return None, f"contenu trop imbriqué ({MAX_DEPTH} niveaux au plus)", None
        if _has_lone_surrogate(op.payload):
            return None, SURROGATE, None  # before any message could quote it
        return None, validation_reason(error), None
    try:
        payload = parsed.model_dump_json()
    except PydanticSerializationError:  # a lone surrogate in an answer: not storable as UTF-8
        return None, SURROGATE, None
    # No text can be longer than the whole payload: only a long payload needs the walk.
    where = too_long_text(parsed.model_dump(mode="json"), max_text) if len(payload) > max_text else None
    if where is not None:
        return None, f"champ « {where} » : texte trop long ({max_text} caractères au maximum)", None
    if isinstance(parsed, VisitContent):
        if parsed.id != op.visit_id:
            return None, "champ « id » : ce n'est pas l'identifiant de la visite de l'opération (visit_id)", None
        if (parsed.status == "terminee") != (parsed.finished_at is not None):
            return None, (
                "champ « finished_at » : une visite terminée a une date de fin, une visite en cours n'en a pas"
            ), None
    if isinstance(parsed, OpportunityPayload):
        problem = opportunity_rules.payload_problem(parsed, op.visit_id)
        if problem is not None:
            return None, problem, parsed
    return payload, None, parsed


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _fingerprint(op: Operation, normalized: str | None, foreign: str | None = None) -> str:
    """What identifies the operation's request: a re-send has the same, an edited one does not.
    A valid payload is taken as normalized (its text is already made, without `owner`); a
    refused one as sent. Another user named as owner counts (the same content without it is
    another request); the pusher named as owner, or none, gives the fingerprint it always did."""
    head = f"{op.visit_id}\n{op.kind}\n{op.base_rev}\n" + (f"owner:{foreign}\n" if foreign is not None else "")
    if normalized is not None:
        return hashlib.sha256((head + "valid\n" + normalized).encode("utf-8")).hexdigest()
    try:
        text = json.dumps(op.payload, sort_keys=True, ensure_ascii=True)
    except RecursionError:  # refused anyway (too deep): any two of them count as the same
        text = "(trop imbriqué)"
    return hashlib.sha256((head + "refused\n" + text).encode("utf-8")).hexdigest()
