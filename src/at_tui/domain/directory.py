"""The contacts directory as data: teams, DAC referents, project referents, mailboxes.

Pure models (no I/O). Checks that need another file (the territory, or the other
directory files) are in `directory_problems`, which the loader calls with the file
each contact came from, so every message names file, contact and field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from at_tui.domain.playbook import Identifier, Model, Source


class ContactKind(StrEnum):
    DAC = "dac"
    AT = "at"
    MAP = "map"
    CM = "cm"
    REFERENT = "referent"
    PROJET = "projet"
    BOITE = "boite"
    CANAL = "canal"


KIND_LABELS: dict[ContactKind, str] = {
    ContactKind.DAC: "Référent DAC",
    ContactKind.AT: "Animation territoriale",
    ContactKind.MAP: "Manager (MAP)",
    ContactKind.CM: "Chargé(e) de mission",
    ContactKind.REFERENT: "Référent",
    ContactKind.PROJET: "Projet",
    ContactKind.BOITE: "Boîte mail",
    ContactKind.CANAL: "Canal",
}

_EMAIL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 .]{8,20}$")


class Contact(Model):
    id: str = Identifier
    kind: ContactKind
    name: str = Field(min_length=1)
    organisation: str = Field(min_length=1)
    role: str = Field(min_length=1)
    departements: tuple[str, ...] = ()  # empty: régional
    sector: str | None = Field(default=None, min_length=1)
    email: str | None = None
    phone: str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://")
    manager: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$")  # a MAP's id
    structure_types: tuple[str, ...] = ()
    notes: str | None = Field(default=None, min_length=1)
    source: Source
    last_checked: dt.date

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"adresse e-mail invalide : {value!r}")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError(f"numéro de téléphone invalide : {value!r}")
        return value

    @field_validator("last_checked", mode="before")
    @classmethod
    def _date(cls, value: object) -> dt.date:
        # TOML dates arrive as `date`; a quoted "2026-11-22" is accepted too.
        if isinstance(value, dt.datetime):
            raise ValueError(f"une date sans heure est attendue (AAAA-MM-JJ), pas {value.isoformat()!r}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"une date AAAA-MM-JJ est attendue, pas {str(value)[:40]!r}")

    @field_validator("departements")
    @classmethod
    def _unique_departements(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("un département est cité deux fois")
        return value

    @model_validator(mode="after")
    def _manager_of_an_at(self) -> Contact:
        if self.manager is not None and self.kind is not ContactKind.AT:
            raise ValueError(f"champ « manager » : seul un contact de type « at » a un manager (ici « {self.kind.value} »)")
        return self

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


class DirectoryFile(Model):
    """One file of `fixtures/directory/`: a list of contacts."""

    contacts: tuple[Contact, ...] = Field(min_length=1)


def directory_problems(
    entries: Sequence[tuple[str, Contact]],
    departement_codes: Iterable[str],
    sectors: Iterable[str],
    typologies: Iterable[str],
) -> list[str]:
    """What is wrong across the directory files, one French line per problem.

    `entries` pairs each contact with the file it came from; the others are what
    the territory defines (département codes, sector names, typology labels).
    """
    codes, known_sectors, labels = set(departement_codes), set(sectors), set(typologies)
    problems: list[str] = []

    def problem(file: str, contact: Contact, field: str, text: str) -> None:
        problems.append(f"Fichier {file} : contact « {contact.id} », champ « {field} » : {text}.")

    seen: dict[str, str] = {}
    for file, contact in entries:
        if contact.id in seen:
            problem(file, contact, "id", f"identifiant en double (déjà utilisé dans {seen[contact.id]})")
        else:
            seen[contact.id] = file
    by_id = {contact.id: contact for _, contact in entries}
    for file, contact in entries:
        for code in contact.departements:
            if code not in codes:
                problem(file, contact, "departements",
                        f"le département « {code} » n'existe pas dans territory.toml ({', '.join(sorted(codes))})")
        if contact.sector is not None and contact.sector not in known_sectors:
            problem(file, contact, "sector",
                    f"le secteur « {contact.sector} » n'existe pas dans territory.toml "
                    f"({', '.join(sorted(known_sectors))})")
        for label in contact.structure_types:
            if label not in labels:
                problem(file, contact, "structure_types",
                        f"la typologie « {label} » n'existe pas dans territory.toml")
        if contact.manager is not None:
            manager = by_id.get(contact.manager)
            if manager is None:
                problem(file, contact, "manager", f"le manager « {contact.manager} » n'existe pas dans l'annuaire")
            elif manager.kind is not ContactKind.MAP:
                problem(file, contact, "manager",
                        f"« {contact.manager} » n'est pas un manager (type « {manager.kind.value} », « map » attendu)")
    return problems
