"""How reference data travels as items of the sync protocol's data sets: keys and content.

The central publishes and the laptop reads back with the same keys:

* `contacts`: one item per contact, key = the contact's id;
* `argumentaire`: one item per sheet (`sheet:<id>`) and per general page (`page:<id>`);
* `playbooks`: one item per playbook version (`<id>@<version>`, e.g. `spico@1`).

The content is the model as JSON (defaults left out): the laptop validates it with the
same pydantic model (`model_validate`) before using it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the workspace imports the data set names on the start-up path: no pydantic there
    from pydantic import BaseModel

CONTACTS = "contacts"
ARGUMENTAIRE = "argumentaire"
PLAYBOOKS = "playbooks"
DATASETS: tuple[str, ...] = (CONTACTS, ARGUMENTAIRE, PLAYBOOKS)

SHEET_PREFIX = "sheet:"
PAGE_PREFIX = "page:"


def item_content(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_defaults=True)


def sheet_key(sheet_id: str) -> str:
    return SHEET_PREFIX + sheet_id


def page_key(page_id: str) -> str:
    return PAGE_PREFIX + page_id


def playbook_key(playbook_id: str, version: int) -> str:
    return f"{playbook_id}@{version}"
