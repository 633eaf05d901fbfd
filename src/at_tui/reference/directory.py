"""Loading the contacts directory and the argumentaire from `fixtures/`.

- `directory/*.toml`: each file holds `[[contacts]]`; ids are unique across files,
  départements, sectors and typologies must exist in `territory.toml`, and an AT's
  `manager` must be the id of a MAP.
- `argumentaire/*.toml`: one sheet per file (a structure type), its typologies from
  `territory.toml`, its referents from the directory; `argumentaire/pages/*.toml`:
  one general page per file.

Errors are `ReferenceDataError`s in French naming file, item and field, like the
rest of the reference data.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from at_tui.domain.argumentaire import Argumentaire, Page, Sheet, argumentaire_problems
from at_tui.domain.directory import Contact, DirectoryFile, directory_problems
from at_tui.domain.playbook import Territory
from at_tui.reference.loader import (
    ReferenceDataError,
    data_files,
    load_one,
    read_toml,
    validation_problems,
)

DIRECTORY = "directory"
ARGUMENTAIRE = "argumentaire"
PAGES = "argumentaire/pages"


def load_directory(root: Traversable | Path, territory: Territory) -> tuple[Contact, ...]:
    entries: list[tuple[str, Contact]] = []
    for entry, name in data_files(root, DIRECTORY):
        loaded: DirectoryFile = load_one(entry, name, DirectoryFile)
        entries += [(name, contact) for contact in loaded.contacts]
    if not entries:
        raise ReferenceDataError(f"Aucun contact trouvé dans le dossier « {DIRECTORY} ».")
    _raise_if(directory_problems(
        entries,
        departement_codes=[d.code for d in territory.departements],
        sectors=[d.sector for d in territory.departements],
        typologies=[t.label for t in territory.typologies],
    ))
    return tuple(contact for _, contact in entries)


def load_argumentaire(
    root: Traversable | Path, territory: Territory, contacts: tuple[Contact, ...]
) -> Argumentaire:
    sheets = [(name, _load_item(entry, name, Sheet, "fiche")) for entry, name in data_files(root, ARGUMENTAIRE)]
    pages = [(name, _load_item(entry, name, Page, "page")) for entry, name in data_files(root, PAGES)]
    _raise_if(argumentaire_problems(
        sheets, pages,
        typologies=[t.label for t in territory.typologies],
        contact_ids=[c.id for c in contacts],
    ))
    return Argumentaire(
        sheets=tuple(sheet for _, sheet in sheets),
        pages=tuple(sorted((page for _, page in pages), key=lambda p: (p.order, p.id))),
    )


def _load_item(entry: Traversable | Path, name: str, model: type[BaseModel], what: str) -> Any:
    """A file holding one item: errors name it by its `id` (« fiche « crt », garde-fou n° 2 … »)."""
    raw = read_toml(entry, name)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        ident = raw.get("id") if isinstance(raw.get("id"), str) else None
        item = f"{what} « {ident} »" if ident else what
        lines = [f"Fichier {name} : données invalides."]
        for problem in validation_problems(raw, error):
            whole = problem.removeprefix("fichier : ")  # a check of the whole item
            lines.append(f"  - {item} : {whole}" if whole != problem else f"  - {item}, {problem}")
        raise ReferenceDataError("\n".join(lines)) from None


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise ReferenceDataError("\n".join(problems))
