"""Exporting visits: the versioned envelope of their raw data and of the references they use.

Classification and CRM deliverables are included for the reader's benefit only;
an import recomputes them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from at_tui.exchange.errors import ExchangeError
from at_tui.exchange.header import FORMAT, VERSION
from at_tui.exchange.opportunities import export_opportunity
from at_tui.exchange.references import bundled
from at_tui.store.db import read_snapshot
from at_tui.store.visit_content import content_json, known_owner

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)

    from at_tui.domain.visit import Visit
    from at_tui.workspace import Workspace


def export_visits(workspace: Workspace, visit_id: str | None = None) -> dict:
    """The envelope of all visits (oldest first), or of the one visit `visit_id`."""
    import at_tui

    store = workspace.visits
    with read_snapshot(workspace.conn):
        if visit_id is None:
            visits = store.list(oldest_first=True)
        else:
            visit = store.get(visit_id)
            if visit is None:
                raise ExchangeError(f"Visite {visit_id} introuvable : rien n'a été exporté.")
            visits = [visit]
        exported = [_export_visit(workspace, visit) for visit in visits]
        references = _export_references(workspace, visits)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "app_version": at_tui.__version__,
        "visits": exported,
        "references": references,
    }


def export_to_exports_folder(workspace: Workspace, visit_id: str | None = None) -> tuple[Path, int]:
    """The visits (or one) in a dated file of the exports folder, as the app's « Exporter » writes
    them: (path, how many). ExchangeError in French when nothing could be written."""
    from at_tui.exchange.fileio import write_file
    from at_tui.paths import exports_dir
    from at_tui.store.errors import explain

    envelope = export_visits(workspace, visit_id)
    try:
        folder = exports_dir()
    except OSError as error:  # a full disk, a read-only data folder
        raise ExchangeError(f"{explain(error, 'Export')} Aucun fichier n'a été modifié.") from None
    path = write_file(folder / f"visites-{dt.datetime.now():%Y%m%d-%H%M%S}.json", envelope)
    return path, len(envelope["visits"])


def visit_content(workspace: Workspace, visit: Visit) -> dict:
    """A visit's own data as the export format writes it, without what is computed or history:
    also the `content` a sync operation sends (docs/sync-protocol.md)."""
    return json.loads(content_json(workspace.conn, visit.id))


def pending_sentences(assessment) -> list[str]:
    """What stops the classification, one French sentence each (contradictions, missing answers)."""
    return [f"Réponses contradictoires : {c.sentence}" for c in assessment.contradictions] + [
        f"Sans réponse : « {m.label} » ({m.why})." for m in assessment.missing
    ]


def _export_visit(workspace: Workspace, visit: Visit) -> dict:
    owner = known_owner(workspace.conn, visit.id)
    head = {
        **visit_content(workspace, visit),
        **({"owner": owner} if owner else {}),
    }
    try:
        result = workspace.outcome(visit)
        deliverables = workspace.deliverables(visit)
    except Exception:  # a stored value this laptop no longer accepts (territory changed, old pull...)
        # The computed fields are for the reader only (an import recomputes them): the visit's
        # own data still goes out, and one such visit never stops the export of the others.
        return {**head, "classification": None, "deliverables": None,
                "history": [asdict(entry) for entry in workspace.visits.history(visit.id)],
                **export_opportunity(workspace, visit.id)}
    computed = result.computed
    return {
        **head,
        "classification": {
            "computed": (
                {
                    "offer": computed.offer.value,
                    "label": computed.label,
                    "lead": computed.lead.value,
                    "reasons": list(computed.reasons),
                }
                if computed is not None
                else None
            ),
            "offer": result.offer.value if result.offer is not None else None,
            "label": result.label,
            "lead": result.lead.value,
            "overridden": result.overridden,
            "pending": pending_sentences(result.assessment),
        },
        "deliverables": {
            "activity": asdict(deliverables.activity),
            "opportunity": asdict(deliverables.opportunity) if deliverables.opportunity else None,
            "next_lead": deliverables.next_lead.value,
            "next_steps": [
                {
                    "number": step.number,
                    "title": step.title,
                    "lead": step.lead.value,
                    "support": step.support.value if step.support is not None else None,
                    "actions": list(step.actions),
                }
                for step in deliverables.next_steps
            ],
        },
        "history": [asdict(entry) for entry in workspace.visits.history(visit.id)],
        **export_opportunity(workspace, visit.id),
    }


def _export_references(workspace: Workspace, visits: list[Visit]) -> list[dict]:
    keys = dict.fromkeys(
        key
        for visit in visits
        for key in (
            ("playbook", visit.playbook_id, visit.playbook_version),
            ("questionnaire", visit.questionnaire_id, visit.questionnaire_version),
        )
    )
    references = []
    for kind, ref_id, version in keys:
        content = workspace.visits.snapshot(kind, ref_id, version)
        if content is None:
            # A visit created before snapshots were kept: the bundled copy is the one it uses.
            found = bundled(workspace, kind, ref_id, version)
            if found is None:
                raise ExchangeError(
                    f"Version {version} de « {ref_id} » introuvable : les visites qui l'utilisent "
                    "ne peuvent pas être exportées."
                )
            content = found.model_dump(mode="json")
        references.append({"kind": kind, "id": ref_id, "version": version, "content": content})
    return references
