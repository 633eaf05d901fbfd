"""Builders of `opportunity` operations for the central's tests (docs/sync-protocol.md, « Opportunité et journal »)."""

from __future__ import annotations

import uuid
from typing import Any

from central_server import content_op, visit_content

SIMPLE = {"offer": "discussions_simple", "lead": "AT", "support": "CM"}
COMPLEXE = {"offer": "discussions_complexe", "lead": "CM", "support": "AT"}


def new_id() -> str:
    return str(uuid.uuid4())


def opportunity_fields(**changes: Any) -> dict[str, Any]:
    """Every field of an opportunity (a « simple » one of alice's unless changed)."""
    fields: dict[str, Any] = {
        "playbook_id": "spico",
        "playbook_version": 2,
        **SIMPLE,
        "status": "en_attente",
        "status_reason": None,
        "at_login": "alice",
        "cm_login": None,
        "visit_date": "2026-11-22",
        "launch_date": None,
        "deployment_end": None,
    }
    fields.update(changes)
    return fields


def journal_entry(author: str | None = "alice", role: str | None = "AT", activity: str = "note", **changes: Any) -> dict:
    """One journal entry as a laptop sends it (a free note unless changed)."""
    entry: dict[str, Any] = {
        "id": new_id(),
        "activity": activity,
        "type": "Note",
        "title": "Note",
        "day": "2026-11-23",
        "author": author,
        "role": role,
        "text": "",
        "answers": {},
        "supersedes": None,
        "created_at": "2026-11-23T10:00:00.000000+00:00",
    }
    entry.update(changes)
    return entry


def information_entry(visit_id: str, author: str = "alice") -> dict:
    """The entry a visit's opportunity opens with (id « <visit id>:information »)."""
    return journal_entry(author, "AT", "information", id=f"{visit_id}:information", type="Information",
                         title="Information", day="2026-11-22", text="Présentation de l'offre SPICO.")


def opportunity_op(
    visit_id: str,
    fields: dict[str, Any],
    base: dict[str, Any] | None = None,
    journal: list[dict] | tuple[dict, ...] = (),
    op_id: str | None = None,
) -> dict[str, Any]:
    return {
        "op_id": op_id or new_id(),
        "visit_id": visit_id,
        "kind": "opportunity",
        "base_rev": 0,
        "payload": {"fields": fields, "base": base, "journal": list(journal)},
    }


def visit_with_opportunity(api, owner: str = "alice", **changes: Any) -> tuple[str, dict[str, Any]]:
    """A visit of `owner` whose opportunity `owner` created (with its « Information » entry);
    the visit id and the opportunity's fields."""
    visit_id = new_id()
    [created] = api.push(owner, content_op(visit_id, 0, visit_content(visit_id)))
    assert created["status"] == "applied", created
    fields = opportunity_fields(at_login=owner, **changes)
    [opened] = api.push(owner, opportunity_op(visit_id, fields, None, [information_entry(visit_id, owner)]))
    assert opened["status"] == "applied", opened
    return visit_id, fields
