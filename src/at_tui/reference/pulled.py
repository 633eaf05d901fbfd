"""The reference data pulled from the central, laid over the bundled data files.

Precedence, per item (keys: `at_tui.domain.reference_items`):

* a pulled item replaces the bundled item with the same key, a pulled tombstone removes it;
* every pulled item is validated with the model the bundled files use, plus the same
  cross-checks (territory, directory, one sheet per typology). An invalid one is ignored:
  the bundled item (or nothing) stays. Bad pulled data never raises here;
* playbooks: a pulled version the laptop does not have is added (the newest version is
  the one new visits start with); a version it has is kept as it is, and a tombstone never
  removes one: visits refer to their version (and keep a snapshot of it).

`with_pulled` is applied when the workspace loads the reference data (a dozen rows);
`merged_contacts` streams the directory for the lookup's copy, off the start-up path.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from at_tui.domain.argumentaire import Argumentaire, Page, Sheet, argumentaire_problems
from at_tui.domain.directory import Contact, ContactKind, directory_problems
from at_tui.domain.playbook import Playbook
from at_tui.domain.reference_items import (
    ARGUMENTAIRE,
    CONTACTS,
    PAGE_PREFIX,
    PLAYBOOKS,
    SHEET_PREFIX,
    page_key,
    playbook_key,
    sheet_key,
)
from at_tui.reference.loader import ReferenceData
from at_tui.store import pulled_reference


def validated(model: type[BaseModel], content: str | None, key: str, key_of) -> Any:
    """The pulled content as a model when it is valid and matches its key, else None."""
    if content is None:
        return None
    try:
        item = model.model_validate(json.loads(content))
    except (ValueError, TypeError, RecursionError):  # pydantic's ValidationError is a ValueError
        return None
    return item if key_of(item) == key else None


def with_pulled(reference: ReferenceData, conn: sqlite3.Connection) -> ReferenceData:
    """`reference` with the valid pulled argumentaire and playbooks applied (contacts: `merged_contacts`)."""
    return dataclasses.replace(
        reference, argumentaire=_argumentaire(reference, conn), playbooks=_playbooks(reference, conn),
    )


# -- playbooks --------------------------------------------------------------------------------------


def _playbooks(reference: ReferenceData, conn: sqlite3.Connection) -> dict:
    playbooks = dict(reference.playbooks)
    questionnaires = {qid for qid, _ in reference.questionnaires}
    for key, content, deleted in pulled_reference.items(conn, PLAYBOOKS):
        if deleted:
            continue  # a version is never withdrawn here
        playbook = validated(Playbook, content, key, lambda p: playbook_key(p.id, p.version))
        if playbook is None or (playbook.id, playbook.version) in playbooks:
            continue
        if playbook.questionnaire not in questionnaires or not playbook.guided_steps:
            continue  # a visit could not start on it
        playbooks[(playbook.id, playbook.version)] = playbook
    return playbooks


# -- argumentaire -----------------------------------------------------------------------------------


def _argumentaire(reference: ReferenceData, conn: sqlite3.Connection) -> Argumentaire:
    bundled = reference.argumentaire
    sheets: dict[str, Sheet] = {sheet_key(s.id): s for s in bundled.sheets}
    pages: dict[str, Page] = {page_key(p.id): p for p in bundled.pages}
    pulled = list(pulled_reference.items(conn, ARGUMENTAIRE))
    if not pulled:
        return bundled
    referents = {r for s in sheets.values() for r in s.referents}
    for _, content, _ in pulled:
        referents.update(_referents(content))
    contact_ids = _known_contacts(reference, conn, referents)
    territory = reference.territory
    labels = [t.label for t in territory.typologies] if territory else []

    def problems(sheets_: dict[str, Sheet], pages_: dict[str, Page]) -> set[str]:
        return set(argumentaire_problems(list(sheets_.items()), list(pages_.items()), labels, contact_ids))

    current = problems(sheets, pages)
    for key, content, deleted in pulled:
        if key.startswith(SHEET_PREFIX):
            model, target, key_of = Sheet, sheets, sheet_key
        elif key.startswith(PAGE_PREFIX):
            model, target, key_of = Page, pages, page_key
        else:
            continue
        candidate = dict(target)
        if deleted:
            candidate.pop(key, None)
        else:
            item = validated(model, content, key, lambda i, key_of=key_of: key_of(i.id))
            if item is None:
                continue
            candidate[key] = item
        new_sheets, new_pages = (candidate, pages) if target is sheets else (sheets, candidate)
        found = problems(new_sheets, new_pages)
        if found - current:
            continue  # it would break the argumentaire (typology taken twice, unknown referent…)
        target.clear()
        target.update(candidate)
        current = found
    return Argumentaire(
        sheets=tuple(sheets.values()),
        pages=tuple(sorted(pages.values(), key=lambda p: (p.order, p.id))),
    )


def _referents(content: str | None) -> list[str]:
    """The referent ids a pulled sheet names (whatever its shape: it is validated later)."""
    try:
        found = json.loads(content).get("referents") if content else None
    except (ValueError, AttributeError):
        return []
    return [r for r in found if isinstance(r, str)] if isinstance(found, list) else []


def _known_contacts(reference: ReferenceData, conn: sqlite3.Connection, ids: set[str]) -> set[str]:
    """Which of `ids` the merged directory has (a bundled contact not withdrawn, or a pulled one)."""
    pulled = pulled_reference.items_for(conn, CONTACTS, ids)
    bundled = {c.id for c in reference.contacts}
    return {i for i in ids if (i in pulled and not pulled[i][1]) or (i in bundled and i not in pulled)}


# -- contacts ---------------------------------------------------------------------------------------


def merged_contacts(reference: ReferenceData, conn: sqlite3.Connection) -> Iterator[Contact]:
    """The directory: bundled contacts in their order (replaced or removed by pulled items), then the
    other pulled contacts in key order. Streamed: 200,000 pulled contacts are never all in memory."""
    territory = reference.territory
    check = _ContactCheck(
        codes={d.code for d in territory.departements},
        sectors={d.sector for d in territory.departements},
        labels={t.label for t in territory.typologies},
    )
    bundled = {c.id: c for c in reference.contacts}
    over_bundled = pulled_reference.items_for(conn, CONTACTS, bundled)
    resolved: dict[str, Contact] = {}
    for contact_id, contact in bundled.items():
        if contact_id in over_bundled:
            content, deleted = over_bundled[contact_id]
            if deleted:
                continue
            replacement = validated(Contact, content, contact_id, _contact_id)
            if replacement is not None:
                contact = replacement  # cross-checked below
        resolved[contact_id] = contact
    # MAPs first: an AT's `manager` must name a MAP of the merged directory (a MAP has no manager).
    for contact_id, contact in resolved.items():
        if contact.kind is ContactKind.MAP and contact is not bundled[contact_id] and not check.ok(contact):
            resolved[contact_id] = bundled[contact_id]
    check.managers = {i: c for i, c in resolved.items() if c.kind is ContactKind.MAP}
    for key, content in pulled_reference.live_where(conn, CONTACTS, "kind", ContactKind.MAP.value):
        manager = validated(Contact, content, key, _contact_id)
        if key not in bundled and manager is not None and check.ok(manager):
            check.managers[key] = manager
    for contact_id, contact in resolved.items():
        if contact is not bundled[contact_id] and not check.ok(contact):
            contact = bundled[contact_id]  # the pulled replacement is invalid: the bundled one stays
        yield contact
    yield from _pulled_only(conn, bundled, check)


def _pulled_only(conn: sqlite3.Connection, bundled: dict, check: _ContactCheck) -> Iterator[Contact]:
    for key, content, deleted in pulled_reference.items(conn, CONTACTS):
        if deleted or key in bundled:
            continue
        contact = validated(Contact, content, key, _contact_id)
        if contact is not None and check.ok(contact):
            yield contact


def _contact_id(contact: Contact) -> str:
    return contact.id


@dataclasses.dataclass
class _ContactCheck:
    """The bundled directory's cross-checks (`directory_problems`), one pulled contact at a time."""

    codes: set[str]
    sectors: set[str]
    labels: set[str]
    managers: dict[str, Contact] = dataclasses.field(default_factory=dict)

    def ok(self, contact: Contact) -> bool:
        entries: list[tuple[str, Contact]] = [("", contact)]
        manager = self.managers.get(contact.manager) if contact.manager else None
        if manager is not None and manager.id != contact.id:
            entries.append(("", manager))
        return not directory_problems(entries, self.codes, self.sectors, self.labels)

