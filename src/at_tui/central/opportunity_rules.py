"""The protocol's rules for an `opportunity` operation (docs/sync-protocol.md, « Opportunité et journal »).

The opportunity of a visit lives on both sides (issue 11 §3, seed 000 slides 4 to 7): the
visit's owner AT classifies it, the side that leads it (the AT for « SPICO Discussions
simple », a CM for « complexe » and « Dossiers ») moves its status and dates, a CM takes
charge of it; both append to its journal. So the central checks each changed field
against the role allowed to change its group (`domain.opportunity_fields.FIELD_GROUPS`),
merges the journals as a union (append-only never conflicts), and reports a per-field
conflict when a field moved on the central since the laptop's base. It never changes the
visit's `rev`: an AT's content push must not conflict with a CM's journal entry.

`decide` runs inside the storage's write transaction (`operations._decider`): pure, no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from at_tui.central.storage import (
    CentralOpportunity,
    CentralVisit,
    JournalWrite,
    OpportunityWrite,
    User,
    to_json,
)
from at_tui.domain.opportunity import STATUS_ACTIVITY, Opportunity, may_record
from at_tui.domain.opportunity_fields import FIELD_GROUPS, FIELD_LABELS, GROUP_LABELS, OPPORTUNITY_FIELDS

if TYPE_CHECKING:
    from at_tui.central.models import OpportunityPayload
    from at_tui.central.validation import Known
    from at_tui.domain.lifecycle import Activity, Lifecycle

OPPORTUNITY_NOT_FOUND = "opportunité introuvable"
CODE_INVALID = "invalid"
CODE_FORBIDDEN = "forbidden"
# Activities any side may write whatever the lifecycle says: the app's status entries, free notes.
ALWAYS_ALLOWED = (STATUS_ACTIVITY, "note")
SIDE_NAMES = {"AT": "un AT", "CM": "un chargé de mission"}


@dataclass(frozen=True)
class Refusal:
    """A `rejected` answer: the French reason, its code, the fields it concerns (forbidden)."""

    reason: str
    code: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """An `applied` or `conflict` answer (without op_id) and what to write (None: nothing)."""

    result: dict[str, Any]
    write: OpportunityWrite | None


def side_of(user: User) -> str:
    """The domain's role letters (« AT » / « CM ») of a central user's role (« at » / « cm »)."""
    return user.role.upper()


def payload_problem(payload: OpportunityPayload, visit_id: str) -> str | None:
    """What is wrong in the payload without looking at the central: entry ids (a UUID, or
    « <visit id>:<name> » for the entry a visit opens with), an id sent twice with two contents,
    an entry that supersedes itself."""
    sent: dict[str, dict[str, Any]] = {}
    for entry in payload.journal:
        if not _entry_id_ok(entry.id, visit_id):
            return (
                f"entrée « {entry.id[:60]} » du journal : identifiant invalide "
                f"(UUID, ou « {visit_id}:<nom> » attendu)"
            )
        if entry.supersedes == entry.id:
            return f"entrée « {entry.id} » du journal : elle ne peut pas se remplacer elle-même (supersedes)"
        data = entry.model_dump()
        if sent.setdefault(entry.id, data) != data:
            return f"entrée « {entry.id} » du journal : envoyée deux fois avec deux contenus différents"
    return None


def decide(
    user: User,
    visit: CentralVisit,
    payload: OpportunityPayload,
    known: Known | None,
    owners: dict[str, str],
    stamp: str,
) -> Refusal | Outcome:
    """Rules 3 to 6 of the contract, once the visit is known to exist and to be visible to
    `user`. `owners`: the visit each already used journal entry id belongs to (updated here
    with the entries this decision writes, for the operations after it in the same push)."""
    central = visit.opportunity
    sent = payload.fields.model_dump()
    central_fields = central.fields if central is not None else sent
    # The activities are checked against the central's process (creation: the one sent).
    lifecycles = _lifecycles(known, central_fields.get("playbook_id"), central_fields.get("playbook_version"))
    if known is not None and not lifecycles:
        return Refusal(
            f"champ « fields.playbook_id » : le processus « {central_fields.get('playbook_id')} » "
            "n'a pas de cycle de vie connu du central (ni installé ni publié : at-tui central publish)",
            CODE_INVALID,
        )
    if central is None:
        changed = dict(sent)
    else:
        base = payload.base.model_dump() if payload.base is not None else None
        changed = {
            name: value
            for name, value in sent.items()
            if (base is None or base[name] != value) and central.fields.get(name) != value
        }
    if "status" in changed and known is not None:
        status_lifecycles = _lifecycles(known, sent["playbook_id"], sent["playbook_version"])
        if not any(_has_status(lifecycle, sent["status"]) for lifecycle in status_lifecycles):
            return Refusal(
                f"champ « fields.status » : statut « {sent['status']} » inconnu du processus « {sent['playbook_id']} »",
                CODE_INVALID,
            )
    recorder = _opportunity(visit.id, central_fields)
    entries, problem = _new_entries(user, visit, payload, owners, lifecycles, recorder)
    if problem is not None:
        return Refusal(problem, CODE_INVALID)

    if central is None:
        if user.role != "at":
            return Refusal(OPPORTUNITY_NOT_FOUND)
        return _applied(visit, sent, changed, entries, owners, stamp, creation=True)

    refused = _refused_groups(user, visit, central.fields, changed)
    if refused:
        group, names = refused[0]
        all_names = tuple(name for _, group_names in refused for name in group_names)
        labels = ", ".join(FIELD_LABELS[name] for name in names)
        return Refusal(f"{labels} : {_forbidden_reason(group, central.fields)}", CODE_FORBIDDEN, all_names)

    base = payload.base.model_dump() if payload.base is not None else None
    conflicts = [name for name in changed if base is None or central.fields.get(name) != base[name]]
    if conflicts:
        return _conflict(visit, conflicts, entries, owners, stamp)
    return _applied(visit, {**central.fields, **changed}, changed, entries, owners, stamp, creation=False)


def _applied(
    visit: CentralVisit,
    fields: dict[str, Any],
    changed: dict[str, Any],
    entries: list[dict[str, Any]],
    owners: dict[str, str],
    stamp: str,
    creation: bool,
) -> Outcome:
    central = visit.opportunity
    write = None
    updated_at = central.updated_at if central is not None else stamp
    if creation or changed or entries:
        write = OpportunityWrite(
            visit.id, to_json(fields) if creation or changed else None, _journal_writes(entries), stamp
        )
        updated_at = stamp
        owners.update(dict.fromkeys((entry["id"] for entry in entries), visit.id))
    result = {
        "status": "applied",
        "rev": visit.rev,
        "opportunity": CentralOpportunity(fields, (), updated_at).public(with_journal=False),
    }
    return Outcome(result, write)


def _conflict(
    visit: CentralVisit, conflicts: list[str], entries: list[dict[str, Any]], owners: dict[str, str], stamp: str
) -> Outcome:
    """No field written; the journal entries are (append-only never conflicts)."""
    central = visit.opportunity
    assert central is not None
    write = None
    shown = central
    if entries:
        write = OpportunityWrite(visit.id, None, _journal_writes(entries), stamp)
        owners.update(dict.fromkeys((entry["id"] for entry in entries), visit.id))
        journal = sorted([*central.journal, *entries], key=_order)
        shown = CentralOpportunity(central.fields, tuple(journal), stamp)
    names = [name for name in OPPORTUNITY_FIELDS if name in conflicts]
    result = {
        "status": "conflict",
        "rev": visit.rev,
        "fields": names,
        "central": replace(visit, opportunity=shown).public(),
    }
    return Outcome(result, write)


def _new_entries(
    user: User,
    visit: CentralVisit,
    payload: OpportunityPayload,
    owners: dict[str, str],
    lifecycles: Sequence[Lifecycle],
    recorder: Opportunity,
) -> tuple[list[dict[str, Any]], str | None]:
    """The entries the central does not hold yet, as stored, or the reason the journal is refused.

    An entry without author or role (written on a laptop before its first sync) is the
    pusher's: it is stored with the pusher's login and role, and a re-send compares equal."""
    central = {entry["id"]: entry for entry in visit.opportunity.journal} if visit.opportunity else {}
    side = side_of(user)
    new: dict[str, dict[str, Any]] = {}
    for model in payload.journal:
        entry = model.model_dump()
        entry["author"] = entry["author"] if entry["author"] is not None else user.name
        entry["role"] = entry["role"] if entry["role"] is not None else side
        eid = entry["id"]
        if eid in central:
            if central[eid] != entry:
                return [], f"entrée « {eid} » du journal : déjà enregistrée au central avec un autre contenu"
            continue  # the union: already there
        if eid in new:
            continue  # sent twice, the same (payload_problem refused two contents)
        if owners.get(eid, visit.id) != visit.id:
            return [], f"entrée « {eid} » du journal : cet identifiant est déjà employé par une autre opportunité"
        if entry["author"] != user.name:
            return [], (
                f"entrée « {eid} » du journal : son auteur « {entry['author']} » n'est pas "
                f"l'utilisateur du jeton (« {user.name} »)"
            )
        if entry["role"] != side:
            return [], f"entrée « {eid} » du journal : son rôle « {entry['role']} » n'est pas celui du jeton (« {side} »)"
        problem = _activity_problem(entry, lifecycles, recorder, side)
        if problem is not None:
            return [], problem
        new[eid] = entry
    for entry in new.values():
        target = entry["supersedes"]
        if target is not None and target not in central and target not in new:
            return [], (
                f"entrée « {entry['id']} » du journal : elle remplace « {target} », "
                "qui n'est pas une entrée de cette opportunité"
            )
    return list(new.values()), None


def _activity_problem(
    entry: dict[str, Any], lifecycles: Sequence[Lifecycle], recorder: Opportunity, side: str
) -> str | None:
    if not lifecycles or entry["activity"] in ALWAYS_ALLOWED:
        return None
    activity = _activity(lifecycles, entry["activity"])
    if activity is None:
        return f"entrée « {entry['id']} » du journal : activité « {entry['activity']} » inconnue du processus"
    if not may_record(activity, recorder, side):
        return (
            f"entrée « {entry['id']} » du journal : « {activity.title} » ne s'enregistre pas par "
            f"{SIDE_NAMES[side]} sur ce projet"
        )
    return None


def _refused_groups(
    user: User, visit: CentralVisit, central: dict[str, Any], changed: dict[str, Any]
) -> list[tuple[str, tuple[str, ...]]]:
    """The groups of the changed fields this user may not change, with those fields."""
    refused = []
    for group, names in FIELD_GROUPS.items():
        touched = tuple(name for name in names if name in changed)
        if touched and not _may_change(group, user, visit, central):
            refused.append((group, touched))
    return refused


def _may_change(group: str, user: User, visit: CentralVisit, central: dict[str, Any]) -> bool:
    owner_at = user.role == "at" and visit.owner == user.name
    if group == "classement":
        return owner_at
    if group == "pilotage":
        return owner_at if central.get("lead") == "AT" else user.role == "cm" and central.get("lead") == "CM"
    if group == "prise_en_charge":
        return user.role == "cm"
    return False


def _forbidden_reason(group: str, central: dict[str, Any]) -> str:
    label = GROUP_LABELS[group].split(" (")[0]  # « pilotage », not « pilotage (statut et dates) » again
    if group == "classement":
        return f"le classement de l'opportunité est tenu par l'AT auteure de la visite ({label})"
    if group == "pilotage":
        who = "le chargé de mission" if central.get("lead") == "CM" else "l'AT"
        return f"le statut et les dates sont tenus par {who} qui mène ce projet ({label})"
    return f"le CM en charge ne se choisit que par un chargé de mission ({label})"


def _lifecycles(known: Known | None, playbook_id: Any, version: Any) -> list[Lifecycle]:
    """The lifecycles an opportunity of this playbook may follow: the current one (an opportunity
    follows the process as it is now, like the laptop's `workspace.lifecycle`), then its own version's."""
    if known is None or not isinstance(playbook_id, str):
        return []
    versions = sorted((v for (pid, v) in known.playbooks if pid == playbook_id), reverse=True)
    found: list[Lifecycle] = []
    current = next((known.playbooks[(playbook_id, v)].lifecycle for v in versions
                    if known.playbooks[(playbook_id, v)].lifecycle is not None), None)
    if current is not None:
        found.append(current)
    own = known.playbooks.get((playbook_id, version)) if isinstance(version, int) else None
    if own is not None and own.lifecycle is not None and own.lifecycle is not current:
        found.append(own.lifecycle)
    return found


def _has_status(lifecycle: Lifecycle, status_id: str) -> bool:
    return any(status.id == status_id for status in lifecycle.statuses)


def _activity(lifecycles: Sequence[Lifecycle], activity_id: str) -> Activity | None:
    for lifecycle in lifecycles:
        for activity in lifecycle.activities:
            if activity.id == activity_id:
                return activity
    return None


def _opportunity(visit_id: str, fields: dict[str, Any]) -> Opportunity:
    """Enough of the domain's opportunity for `may_record` (who leads, who supports)."""
    return Opportunity(
        id=visit_id, structure="", departement="", offer=str(fields.get("offer")),
        lead=str(fields.get("lead")), support=fields.get("support"), status=str(fields.get("status")),
    )


def _entry_id_ok(entry_id: str, visit_id: str) -> bool:
    prefix = f"{visit_id}:"
    if entry_id.startswith(prefix):
        name = entry_id[len(prefix):]
        return bool(name) and name[0].isalnum() and all(c.isalnum() or c in "_-" for c in name) and name.isascii()
    try:
        return str(uuid.UUID(entry_id)) == entry_id.lower()  # not « urn:uuid:… » nor « {…} »
    except ValueError:
        return False


def _order(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (entry["day"], entry["created_at"], entry["id"])


def _journal_writes(entries: list[dict[str, Any]]) -> tuple[JournalWrite, ...]:
    return tuple(JournalWrite(e["id"], e["day"], e["created_at"], to_json(e)) for e in entries)
