"""The French errors of an export or import, and what an import reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# At most this many problems are listed in one error message.
MAX_LISTED_PROBLEMS = 20


class ExchangeError(Exception):
    """An export or import problem explained in French; `problems` lists the details."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # ids of the visits written
    unchanged: list[str] = field(default_factory=list)  # ids already present, identical

    @property
    def summary(self) -> str:
        """One French sentence for the screen."""
        parts = [_plural(len(self.imported), "visite importée", "visites importées")]
        if self.unchanged:
            parts.append(
                _plural(len(self.unchanged), "déjà présente à l'identique", "déjà présentes à l'identique")
            )
        return ", ".join(parts) + "."


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
    return f"{count} {singular if count == 1 else plural}"
