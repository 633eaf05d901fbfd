"""The argumentaire as data: one sheet per structure type, and general pages.

A sheet holds the sections of seed 001's « focus par typologie de structure »
(Markdown), the guardrails the AT acknowledges before going on, the typologies
(territory labels) it applies to and the directory contacts who are its referents.
Pure models (no I/O); checks against other files are in `argumentaire_problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field, model_validator

from at_tui.domain.playbook import Identifier, Model, Source, find_by_id, require_unique

# The sections of a sheet, in the seed's order, with the titles the AT reads.
SECTION_TITLES: dict[str, str] = {
    "put_forward": "Ce que l'on peut mettre en avant",
    "do_not_propose": "Ce qu'il ne faut pas proposer",
    "use_cases": "Cas d'usage type",
    "referent": "Référent",
    "other": "Autre",
}


class Guardrail(Model):
    """A warning the AT must acknowledge; its id is what a visit records."""

    id: str = Identifier
    text: str = Field(min_length=1, max_length=300)


class Sheet(Model):
    id: str = Identifier
    title: str = Field(min_length=1)
    typologies: tuple[str, ...] = Field(min_length=1)
    put_forward: str | None = Field(default=None, min_length=1)
    do_not_propose: str | None = Field(default=None, min_length=1)
    use_cases: str | None = Field(default=None, min_length=1)
    referent: str | None = Field(default=None, min_length=1)
    other: str | None = Field(default=None, min_length=1)
    referents: tuple[str, ...] = ()  # ids of directory contacts
    guardrails: tuple[Guardrail, ...]
    source: Source

    @model_validator(mode="after")
    def _coherent(self) -> Sheet:
        require_unique([g.id for g in self.guardrails], "garde-fou")
        require_unique(list(self.typologies), "typologie", "typologies")
        if not any(getattr(self, name) for name in SECTION_TITLES):
            raise ValueError("la fiche n'a aucune section (put_forward, do_not_propose, use_cases, referent, other)")
        return self

    def sections(self) -> list[tuple[str, str]]:
        """(title, Markdown) of the sections the seed fills, in order."""
        return [(title, text) for name, title in SECTION_TITLES.items() if (text := getattr(self, name))]


class Page(Model):
    """A general page, read outside a visit (presentation, positioning, maillage)."""

    id: str = Identifier
    title: str = Field(min_length=1)
    order: int = Field(ge=1)
    body: str = Field(min_length=1)
    source: Source


class Argumentaire(Model):
    sheets: tuple[Sheet, ...] = ()
    pages: tuple[Page, ...] = ()

    def for_typology(self, label: str) -> Sheet | None:
        for sheet in self.sheets:
            if label in sheet.typologies:
                return sheet
        return None

    def sheet(self, sheet_id: str) -> Sheet:
        return find_by_id(self.sheets, sheet_id)

    def page(self, page_id: str) -> Page:
        return find_by_id(self.pages, page_id)


def argumentaire_problems(
    sheets: Sequence[tuple[str, Sheet]],
    pages: Sequence[tuple[str, Page]],
    typologies: Iterable[str],
    contact_ids: Iterable[str],
) -> list[str]:
    """What is wrong across the argumentaire files, one French line per problem.

    Each sheet and page comes with its file; `typologies` are the territory's labels
    and `contact_ids` the directory's ids.
    """
    labels, contacts = set(typologies), set(contact_ids)
    problems: list[str] = []
    seen: dict[str, str] = {}
    covered: dict[str, tuple[str, str]] = {}
    for file, sheet in sheets:
        where = f"Fichier {file} : fiche « {sheet.id} »"
        if sheet.id in seen:
            problems.append(f"{where}, champ « id » : identifiant en double (déjà utilisé dans {seen[sheet.id]}).")
        seen.setdefault(sheet.id, file)
        for label in sheet.typologies:
            if label not in labels:
                problems.append(f"{where}, champ « typologies » : la typologie « {label} » n'existe pas dans territory.toml.")
            elif label in covered:
                other_file, other_id = covered[label]
                problems.append(
                    f"{where}, champ « typologies » : la typologie « {label} » a déjà une fiche "
                    f"(« {other_id} » dans {other_file})."
                )
            else:
                covered[label] = (file, sheet.id)
        for contact_id in sheet.referents:
            if contact_id not in contacts:
                problems.append(
                    f"{where}, champ « referents » : le contact « {contact_id} » n'existe pas dans l'annuaire."
                )
    seen_pages: dict[str, str] = {}
    for file, page in pages:
        if page.id in seen_pages:
            problems.append(
                f"Fichier {file} : page « {page.id} », champ « id » : identifiant en double "
                f"(déjà utilisé dans {seen_pages[page.id]})."
            )
        seen_pages.setdefault(page.id, file)
    return problems
