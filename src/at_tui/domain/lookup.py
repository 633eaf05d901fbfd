"""The contacts lookup as the AT sees it: one entry type for curated contacts and
professionals, the query turned into word prefixes, the filters.

Pure (no I/O): `store.directory` runs the queries, screens and the CLI show entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from at_tui.domain.directory import KIND_LABELS, Contact, ContactKind
from at_tui.domain.playbook import Territory
from at_tui.domain.text import search_fold

# Professionals of the Annuaire Santé are a kind of their own, next to the curated kinds.
PROFESSIONAL = "professionnel"
KIND_CHOICES: dict[str, str] = {kind.value: label for kind, label in KIND_LABELS.items()} | {
    PROFESSIONAL: "Professionnel de santé (Annuaire Santé)"
}
ANNUAIRE_SOURCE = "Annuaire Santé (extraction publique PS_LibreAcces)"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the lookup: a contact of the bundled directory or an imported professional."""

    key: str  # contact id, or "ps:<identifiant PP>:<row>"
    kind: str
    name: str
    organisation: str
    role: str
    departements: tuple[str, ...]  # empty: régional
    email: str | None = None
    phone: str | None = None
    source: str = ""
    last_checked: str | None = None  # ISO date the record was last checked (or imported)
    commune: str | None = None
    url: str | None = None
    notes: str | None = None
    sector: str | None = None

    @property
    def kind_label(self) -> str:
        return KIND_CHOICES.get(self.kind, self.kind)

    @property
    def departement_text(self) -> str:
        return ", ".join(self.departements) if self.departements else "Régional"

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "organisation": self.organisation,
            "role": self.role,
            "departement": ", ".join(self.departements) or None,
            "email": self.email,
            "phone": self.phone,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "source": self.source,
            "last_checked": self.last_checked,
        }


@dataclass(frozen=True, slots=True)
class Query:
    """What to look for: folded word prefixes, and the filters (None: all)."""

    words: tuple[str, ...] = ()
    departement: str | None = None
    kind: str | None = None
    limit: int = 100

    @classmethod
    def parse(cls, text: str, departement: str | None = None, kind: str | None = None, limit: int = 100) -> Query:
        return cls(tuple(search_fold(text).split()), departement or None, kind or None, max(0, limit))

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def match_expression(self) -> str:
        """An FTS5 expression: every word as a prefix, quoted (the words are folded, no quote inside)."""
        return " AND ".join(f'"{word}"*' for word in self.words)

    def wants(self, kind: str) -> bool:
        return self.kind is None or self.kind == kind


@dataclass(frozen=True, slots=True)
class Results:
    query: Query
    entries: tuple[Entry, ...] = ()
    professionals_total: int = 0  # how many professionals are imported (0: none)
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())


# -- from the bundled directory ----------------------------------------------------------


def covered_departements(contact: Contact, territory: Territory) -> tuple[str, ...]:
    """The départements a contact answers for: its own, else its sector's; empty for régional."""
    if contact.departements:
        return contact.departements
    if contact.sector:
        return tuple(d.code for d in territory.departements if d.sector == contact.sector)
    return ()


def contact_words(contact: Contact, territory: Territory) -> tuple[str, str]:
    """(name words, other words) indexed for a contact: everything the AT might type about it."""
    names = {d.code: d.name for d in territory.departements}
    covered = covered_departements(contact, territory)
    other = [
        contact.organisation,
        contact.role,
        contact.kind_label,
        contact.kind.value,
        contact.email or "",
        contact.sector or "",
        *covered,
        *(names.get(code, "") for code in covered),
        *contact.structure_types,
        contact.notes or "",
    ]
    if contact.kind is ContactKind.DAC:
        other.append("referent dac")
    return search_fold(contact.name), search_fold(" ".join(other))


# The seed documents by their number (the start of `source.file`, « 001_f565….txt »), as the
# AT knows them: a file name means nothing on a contact card.
SEED_DOCUMENTS: dict[str, str] = {
    "000": "Processus de déploiement SPICO",
    "001": "Kit SPICO AT",
    "002": "Rapport d'activité 2023 (Hauts-de-France)",
    "003": "Rapport d'activité 2024 de GRADeS e-santé Occitanie",
    "004": "Webinaire ESMS Numérique",
}


def contact_source(contact: Contact) -> str:
    """Where a contact comes from, in words: « Kit SPICO AT, diapositive « Les équipes… » »."""
    number = contact.source.file.split("_", 1)[0]
    document = SEED_DOCUMENTS.get(number, "Documentation SPICO de l'agence")
    return f"{document}, diapositive « {contact.source.slide} »"
