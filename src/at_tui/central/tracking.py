"""The central's opportunities as `domain.tracking.TrackedOpportunity`: the region's files
(`at-tui central export-suivi`, `at-tui central point-cm-at`) made by the same computation
as a laptop's. Read through the `Storage` interface, a page at a time, in constant memory."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from at_tui.central.storage import CentralVisit, Storage
from at_tui.domain.opportunity import JournalEntry, Opportunity
from at_tui.domain.tracking import POTENTIAL_USERS_QUESTION, TrackedOpportunity, answer_number

PAGE = 500
_ENTRY_FIELDS = tuple(f.name for f in dataclass_fields(JournalEntry) if f.name != "opportunity_id")


def tracked_opportunities(storage: Storage, departements: Collection[str] | None = None
                          ) -> Iterator[TrackedOpportunity]:
    """Every visit of the central that opened an opportunity (of `departements` when given), in commit order."""
    after = 0
    while True:
        page = storage.visits_since(after, PAGE)
        for visit in page.items:
            tracked = tracked_opportunity(visit)
            if tracked is not None and (departements is None or tracked.opportunity.departement in departements):
                yield tracked
        if not page.more or not page.items:
            return
        after = page.items[-1].seq


def tracked_opportunity(visit: CentralVisit) -> TrackedOpportunity | None:
    if visit.opportunity is None:
        return None
    content = visit.content
    identity: dict[str, Any] = content.get("identity") or {}
    fields = visit.opportunity.fields
    answers = content.get("answers") or {}
    journal = tuple(
        JournalEntry(opportunity_id=visit.id, **{name: entry.get(name) for name in _ENTRY_FIELDS if name in entry})
        for entry in visit.opportunity.journal
    )
    return TrackedOpportunity(
        opportunity=Opportunity(
            id=visit.id, structure=str(identity.get("structure") or ""),
            departement=str(identity.get("departement") or ""),
            offer=str(fields.get("offer") or ""), lead=str(fields.get("lead") or ""), support=fields.get("support"),
            status=str(fields.get("status") or ""), status_reason=fields.get("status_reason"),
            at_login=fields.get("at_login") or visit.owner, cm_login=fields.get("cm_login"),
            visit_date=fields.get("visit_date"), launch_date=fields.get("launch_date"),
            deployment_end=fields.get("deployment_end"),
        ),
        typologie=str(identity.get("typologie") or ""), finess=str(identity.get("finess") or ""),
        commune=str(identity.get("commune") or ""), contact_name=str(identity.get("contact_name") or ""),
        contact_role=str(identity.get("contact_role") or ""), maillage=bool(identity.get("maillage")),
        potential_users=answer_number(answers.get(f"q:{POTENTIAL_USERS_QUESTION}")),
        journal=journal, created_at=str(content.get("finished_at") or ""),
        updated_at=visit.opportunity.updated_at,
    )


def open_existing(db: Path | str) -> Storage:
    """The central's database, to read its files from (`export-suivi`, `point-cm-at`): only an
    existing one (a SQLite file or a PostgreSQL URL) — the other sub-commands create it, a
    file written from nothing must not."""
    from at_tui.central.backends import open_storage

    return open_storage(str(db), create=False)
