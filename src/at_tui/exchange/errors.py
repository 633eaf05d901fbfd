"""The French errors of an export or import, and what an import reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# At most this many problems are listed in one error message.
MAX_LISTED_PROBLEMS = 20


class ExchangeError(Exception):
    """An export or import problem explained in French; `problems` lists the details."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class Fate(Enum):
    """What an import did with one visit of the file (docs/visit-format.md, « Règles de l'import »)."""

    IMPORTED = "importée"  # new on this laptop
    UPDATED = "mise à jour"  # a newer revision of the copy here: replaced it
    PRESENT = "déjà présente"  # the same content (navigation aside): left alone
    UP_TO_DATE = "déjà à jour"  # an older revision of the copy here: ignored
    DIVERGED = "divergente"  # each copy has changes the other lacks: nothing written for it
    REFUSED = "refusée"  # cannot be taken (its reason says why): nothing written for it


# The fates that leave the visit as the file says it (the import did its work).
SETTLED = (Fate.IMPORTED, Fate.UPDATED, Fate.PRESENT, Fate.UP_TO_DATE)


@dataclass(frozen=True)
class VisitFate:
    visit_id: str
    label: str  # « Visite « MSP des Coteaux » (id) »
    fate: Fate
    reason: str = ""  # what differs, or why refused
    # Format v3: what the import did with the visit's opportunity (« opportunité mise à jour (…) »).
    opportunity: str = ""
    opportunity_diverged: bool = False  # a status or date changed on both sides: ours kept

    @property
    def line(self) -> str:
        """« Visite « X » (id) : divergente (réponse « q:effectif », historique) : … rien n'est écrit pour elle. »"""
        line = self._visit_line
        if not self.opportunity:
            return line
        joiner = ", " if self.opportunity.startswith("avec ") else " ; "
        return f"{line[:-1]}{joiner}{self.opportunity}."

    @property
    def _visit_line(self) -> str:
        if self.fate is Fate.UP_TO_DATE:
            return f"{self.label} : déjà à jour, ignorée (ce poste en a une version plus récente)."
        if self.fate is Fate.DIVERGED:
            return (f"{self.label} : divergente ({self.reason}) : modifiée ici et dans le fichier, "
                    "rien n'est écrit pour elle.")
        if self.fate is Fate.REFUSED:
            return f"{self.label} : refusée ({self.reason}) : rien n'est écrit pour elle."
        return f"{self.label} : {self.fate.value}."


@dataclass
class ImportReport:
    fates: list[VisitFate] = field(default_factory=list)  # one per visit of the file, in its order

    def ids(self, fate: Fate) -> list[str]:
        return [item.visit_id for item in self.fates if item.fate is fate]

    @property
    def imported(self) -> list[str]:  # ids of the visits new on this laptop
        return self.ids(Fate.IMPORTED)

    @property
    def updated(self) -> list[str]:
        return self.ids(Fate.UPDATED)

    @property
    def unchanged(self) -> list[str]:  # ids already present with the same content
        return self.ids(Fate.PRESENT)

    @property
    def up_to_date(self) -> list[str]:
        return self.ids(Fate.UP_TO_DATE)

    @property
    def diverged(self) -> list[str]:
        return self.ids(Fate.DIVERGED)

    @property
    def refused(self) -> list[str]:
        return self.ids(Fate.REFUSED)

    @property
    def opportunities_diverged(self) -> list[str]:  # ids of the visits whose opportunity diverged
        return [item.visit_id for item in self.fates if item.opportunity_diverged]

    @property
    def complete(self) -> bool:
        """Every visit of the file is here as the file (or a newer revision) says, and no
        opportunity waits for a person to settle a status or date changed on both sides."""
        return all(item.fate in SETTLED and not item.opportunity_diverged for item in self.fates)

    @property
    def summary(self) -> str:
        """One French sentence for the screen: « 1 visite importée, 1 mise à jour, 1 divergente. »"""
        parts = [_plural(len(self.imported), "visite importée", "visites importées")] if self.imported else []
        for fate, singular, plural in (
            (Fate.UPDATED, "mise à jour", "mises à jour"),
            (Fate.PRESENT, "déjà présente", "déjà présentes"),
            (Fate.UP_TO_DATE, "déjà à jour (ignorée)", "déjà à jour (ignorées)"),
            (Fate.DIVERGED, "divergente", "divergentes"),
            (Fate.REFUSED, "refusée", "refusées"),
        ):
            count = len(self.ids(fate))
            if count:
                parts.append(_plural(count, singular, plural))
        if not parts:
            return "Aucune visite dans le fichier."
        if self.opportunities_diverged:
            count = len(self.opportunities_diverged)
            parts.append(_plural(count, "opportunité divergente", "opportunités divergentes"))
        if not self.imported:
            parts[0] = "Aucune visite importée : " + parts[0]
        return ", ".join(parts) + "."

    def lines(self) -> list[str]:
        """Each visit's fate, then the summary (and, when some were not taken, what to do)."""
        lines = [item.line for item in self.fates]
        lines.append(self.summary)
        if self.opportunities_diverged:
            lines.append("Opportunités divergentes : le statut ou une date a changé ici et dans le fichier ; "
                         "ceux de ce poste sont gardés, le journal du fichier est ajouté : voyez avec qui l'a exporté.")
        if not all(item.fate in SETTLED for item in self.fates):
            lines.append("Les autres visites du fichier ont été importées ; les visites divergentes ou refusées "
                         "sont restées telles quelles sur ce poste : voyez avec l'AT qui a exporté le fichier.")
        return lines


def refusal(problems: list[str]) -> ExchangeError:
    """The error refusing a whole import: one sentence, or the list of what is wrong."""
    problems = [p if p.endswith((".", "…", "?", "!")) else p + "." for p in problems]
    listed = problems[:MAX_LISTED_PROBLEMS]
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed.append(f"… et {len(problems) - MAX_LISTED_PROBLEMS} autre(s) problème(s).")
    if len(listed) == 1:
        message = f"Import refusé : {listed[0]} Rien n'a été importé."
    else:
        message = "Import refusé, rien n'a été importé :\n" + "\n".join(f"  - {p}" for p in listed)
    return ExchangeError(message, problems)


def visit_label(structure: Any, visit_id: Any) -> str:
    """« Visite « MSP des Coteaux » (id) », even for a visit whose file data is malformed."""
    name = str(structure).strip()[:80] if isinstance(structure, str) and structure.strip() else "sans nom"
    return f"Visite « {name} » ({str(visit_id)[:60]})"


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"  # French: « 0 visite importée »
