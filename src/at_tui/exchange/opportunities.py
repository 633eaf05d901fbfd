"""The opportunity a visit opened, its journal and its ticked actions, in an export file (format v3).

Export: each visit that has an opportunity carries `opportunity`, `journal` (every entry,
superseded ones too) and `opportunity_checks`. Import: checked first against this laptop's
lifecycle (a status it does not know refuses the file), then merged inside the import's one
transaction under at_tui.domain.opportunity_revisions: the journal is a union by entry id (an
entry already here is never rewritten), the row takes the other copy's status and dates when
that copy is newer or alone to have changed them, a change made on both sides is reported and
ours kept. Files of versions 1 and 2 carry no opportunity: the laptop opens it itself
(Workspace.ensure_opportunities).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.domain.lifecycle import Lifecycle
    from at_tui.domain.opportunity import JournalEntry
    from at_tui.exchange.format import VisitModel
    from at_tui.workspace import Workspace

# The row's fields an export writes, besides `playbook` (the opportunity's id is the visit's).
_ROW_FIELDS = ("offer", "lead", "support", "status", "status_reason", "at_login", "cm_login", "visit_date",
               "launch_date", "deployment_end", "created_at", "updated_at")
_TRACKED_FIELDS = {"status", "status_reason", "launch_date", "deployment_end"}


@dataclass(frozen=True)
class IncomingOpportunity:
    """An opportunity of the file, checked, as this laptop would store it."""

    row: dict[str, Any]  # every column of `opportunities`
    entries: list[JournalEntry]
    checks: list[dict[str, Any]]
    lifecycle: Lifecycle


def export_opportunity(workspace: Workspace, visit_id: str) -> dict[str, Any]:
    """The v3 fields of one exported visit: empty when it has no opportunity."""
    copy = workspace.opportunities.exchange_copy(visit_id)
    if copy is None:
        return {}
    row, journal, checks = copy
    return {
        "opportunity": {
            "playbook": {"id": row["playbook_id"], "version": row["playbook_version"]},
            **{name: row[name] for name in _ROW_FIELDS},
        },
        "journal": [
            {name: value for name, value in asdict(entry).items() if name != "opportunity_id"} for entry in journal
        ],
        "opportunity_checks": checks,
    }


def validate_opportunity(workspace: Workspace, visit: VisitModel, label: str) -> IncomingOpportunity | None | list[str]:
    """The file's opportunity of `visit` (None: it has none), or the French problems refusing it."""
    from at_tui.domain.opportunity import JournalEntry

    opportunity = visit.opportunity
    if opportunity is None:
        if visit.journal or visit.opportunity_checks:
            return [f"{label} : un journal ou des actions cochées sans opportunité (champ « opportunity » manquant)."]
        return None
    problems: list[str] = []
    playbook_id = opportunity.playbook.id
    try:
        lifecycle = workspace.lifecycle(playbook_id)
    except KeyError:
        lifecycle = None
    if lifecycle is None:
        return [f"{label} : opportunité : ce poste ne connaît pas la vie des opportunités du processus "
                f"« {playbook_id} » (mettez at-tui à jour)."]
    known = [s.id for s in lifecycle.statuses]
    if opportunity.status not in known:
        problems.append(f"{label} : opportunité : statut « {opportunity.status} » inconnu "
                        f"(attendu : {', '.join(known)}).")

    ids = [entry.id for entry in visit.journal]
    seen: set[str] = set()
    for index, entry in enumerate(visit.journal):
        where = f"{label} : journal, entrée n° {index + 1}"
        if entry.id in seen:
            problems.append(f"{where} : identifiant « {entry.id} » présent deux fois.")
        seen.add(entry.id)
        if entry.supersedes is not None and (entry.supersedes == entry.id or entry.supersedes not in ids):
            problems.append(f"{where} : « supersedes » nomme l'entrée « {entry.supersedes} », "
                            "absente du journal du fichier.")
    keys = [check.key for check in visit.opportunity_checks]
    if len(set(keys)) != len(keys):
        problems.append(f"{label} : actions cochées : une même action présente deux fois.")
    if problems:
        return problems

    row = {
        "id": visit.id,
        "playbook_id": playbook_id,
        "playbook_version": opportunity.playbook.version,
        **{name: getattr(opportunity, name) for name in _ROW_FIELDS},
    }
    entries = [
        JournalEntry(opportunity_id=visit.id, **{**entry.model_dump(), "answers": dict(entry.answers)})
        for entry in visit.journal
    ]
    checks = [check.model_dump() for check in visit.opportunity_checks]
    return IncomingOpportunity(row, entries, checks, lifecycle)


def merge_opportunity(workspace: Workspace, visit_id: str, incoming: IncomingOpportunity) -> tuple[str, bool]:
    """Write the file's opportunity of one visit, inside the import's transaction: the French note
    for its fate line (empty when nothing changed) and whether it diverged."""
    from at_tui.domain.opportunity_revisions import MERGED_FIELDS, merge_checks
    from at_tui.domain.opportunity_revisions import merge_opportunity as merge
    from at_tui.exchange.errors import ExchangeError

    store = workspace.opportunities
    _refuse_foreign_entries(workspace, visit_id, incoming.entries)
    here = store.exchange_copy(visit_id)
    if here is None:
        store.write_imported(visit_id, incoming.lifecycle, row=incoming.row, entries=incoming.entries,
                             checks=incoming.checks)
        return f"avec son opportunité ({_entries(len(incoming.entries))})", False

    row, journal, checks = here
    if row["playbook_id"] != incoming.row["playbook_id"]:
        raise ExchangeError(f"Visite {visit_id} : son opportunité suit ici le processus « {row['playbook_id']} », "
                            f"le fichier « {incoming.row['playbook_id']} » : rien n'a été importé.")
    result = merge(
        {f: row[f] for f in MERGED_FIELDS}, row["updated_at"], journal,
        {f: incoming.row[f] for f in MERGED_FIELDS}, incoming.row["updated_at"], incoming.entries,
        incoming.lifecycle,
    )
    ticks = merge_checks({c["key"]: c for c in checks}, incoming.checks)
    if result.changed or ticks:
        store.write_imported(visit_id, incoming.lifecycle, changes=result.taken, updated_at=result.updated_at,
                             entries=result.new_entries, checks=ticks)
    notes = []
    if result.taken:
        notes.append("statut et dates du fichier" if set(result.taken) & _TRACKED_FIELDS else "informations complétées")
    if result.new_entries:
        notes.append(f"{_entries(len(result.new_entries))} ajoutée{_s(len(result.new_entries))}")
    if ticks:
        notes.append(f"{len(ticks)} action{_s(len(ticks))} de la check-list reprise{_s(len(ticks))}")
    detail = ", ".join(notes)
    if result.diverged:
        return (f"opportunité divergente : {', '.join(result.diverged)} (ceux de ce poste sont gardés"
                + (f" ; {detail}" if detail else "") + ")"), True
    return (f"opportunité mise à jour ({detail})" if detail else ""), False


def _refuse_foreign_entries(workspace: Workspace, visit_id: str, entries: list[JournalEntry]) -> None:
    """A journal entry id this laptop holds for another opportunity: the file is not coherent."""
    import json

    from at_tui.exchange.errors import refusal

    rows = workspace.conn.execute(
        "SELECT id, opportunity_id FROM journal WHERE id IN (SELECT value FROM json_each(?)) AND opportunity_id <> ?",
        (json.dumps([e.id for e in entries]), visit_id),
    ).fetchall()
    if rows:
        raise refusal([f"Visite {visit_id} : l'entrée de journal « {entry_id} » appartient ici à l'opportunité "
                       f"{other}" for entry_id, other in rows[:5]])


def _entries(count: int) -> str:
    return f"{count} entrée{_s(count)} de journal"


def _s(count: int) -> str:
    return "s" if count > 1 else ""
