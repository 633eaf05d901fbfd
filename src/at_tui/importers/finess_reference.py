"""The data the FINESS import relies on: the category → typology mapping and the Occitanie départements.

`fixtures/finess/categories.toml` maps a FINESS category code (categetab) to a
typology label `fixtures/territory.toml` offers (a legacy label would propose, for a new visit,
a typology the form no longer offers); the départements kept by the import
are the ones of territory.toml. Both are validated by pydantic; any problem is a
`ReferenceDataError` whose French message names the file, the item and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from at_tui.domain.playbook import Model, Territory
from at_tui.paths import fixtures_root
from at_tui.reference.loader import ReferenceDataError, describe_validation_error, read_toml
from at_tui.reference.validation import french_message

CATEGORIES_FILE = "finess/categories.toml"
TERRITORY_FILE = "territory.toml"


class CategoryEntry(Model):
    code: str = Field(pattern=r"^\d{3,4}$")
    label: str = Field(min_length=1, max_length=200)
    typology: str = Field(min_length=1, max_length=60)


class CategoryFile(Model):
    version: int = Field(ge=1)
    source: str = Field(min_length=1)
    categories: tuple[CategoryEntry, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CategoryMapping:
    """category code → typology label (and the nomenclature label, informative)."""

    typologies: Mapping[str, str]
    labels: Mapping[str, str]
    version: int

    def typology(self, code: str | None) -> str | None:
        return self.typologies.get(code) if code else None


def load_categories(root: Traversable | Path | None = None, territory: Territory | None = None) -> CategoryMapping:
    """Load and check `finess/categories.toml` against the typologies of territory.toml."""
    root = root if root is not None else fixtures_root()
    raw = read_toml(root / "finess" / "categories.toml", CATEGORIES_FILE)
    try:
        data = CategoryFile.model_validate(raw)
    except ValidationError as error:
        lines = [f"Fichier {CATEGORIES_FILE} : données invalides."]
        lines += [f"  - {_item_path(raw, d['loc'])} : {french_message(d)}" for d in error.errors(include_url=False)]
        raise ReferenceDataError("\n".join(lines)) from None
    territory = territory if territory is not None else load_territory(root)
    known = [t.label for t in territory.offered_typologies]
    seen: set[str] = set()
    for entry in data.categories:
        where = f"Fichier {CATEGORIES_FILE} : catégorie « {entry.code} »"
        if entry.code in seen:
            raise ReferenceDataError(f"{where} (champ « code ») : code en double.")
        seen.add(entry.code)
        if entry.typology not in known:
            raise ReferenceDataError(
                f"{where} (champ « typology ») : typologie « {entry.typology} » inconnue ou ancienne "
                f"(attendu une typologie proposée par {TERRITORY_FILE} : {', '.join(known)})."
            )
    return CategoryMapping(
        typologies={e.code: e.typology for e in data.categories},
        labels={e.code: e.label for e in data.categories},
        version=data.version,
    )


def proposed_typology(territory: Territory, stored: str | None, category_code: str | None) -> str | None:
    """The typology the « Nouvelle visite » form proposes for a structure of the imported extract.

    The extract stores the typology its import computed; one imported before the typologies
    changed holds an old label (« CPTS/MSP » for an MSP). So the category code is mapped again
    with today's `categories.toml`, the stored label serving only when it is still offered.
    None: the AT chooses."""
    offered = {t.label for t in territory.offered_typologies}
    try:
        current = _bundled_categories().typology(category_code)
    except ReferenceDataError:
        current = None  # the data files are checked at start-up (check-data): no proposal here
    for label in (current, stored):
        if label in offered:
            return label
    return None


@functools.lru_cache(maxsize=1)
def _bundled_categories() -> CategoryMapping:
    """`load_categories()` read once: the form asks it at each pick."""
    return load_categories()


def load_territory(root: Traversable | Path | None = None) -> Territory:
    root = root if root is not None else fixtures_root()
    raw = read_toml(root / TERRITORY_FILE, TERRITORY_FILE)
    try:
        return Territory.model_validate(raw)
    except ValidationError as error:
        raise ReferenceDataError(describe_validation_error(TERRITORY_FILE, raw, error)) from None


def occitanie_departements(root: Traversable | Path | None = None) -> frozenset[str]:
    """The département codes the import keeps: those of territory.toml."""
    return frozenset(d.code for d in load_territory(root).departements)


def _item_path(raw: Any, loc: tuple) -> str:
    """« catégorie « 500 » (champ « typology ») », the item named by its code when it has one."""
    if not loc:
        return "fichier"
    if loc[0] != "categories":
        return f"champ « {loc[0]} »"
    if len(loc) == 1:
        return "liste « categories » (champ « categories »)"
    index = loc[1]
    items = raw.get("categories") if isinstance(raw, dict) else None
    item = items[index] if isinstance(items, list) and isinstance(index, int) and index < len(items) else None
    code = item.get("code") if isinstance(item, dict) else None
    name = f"catégorie « {code} »" if isinstance(code, str) and code else f"catégorie n° {index + 1}"
    field = next((part for part in reversed(loc[2:]) if isinstance(part, str)), None)
    return f"{name} (champ « {field} »)" if field else name
