"""The CRM import: `opportunites.csv` and `activites.csv` (issue 12 §2, docs/crm-export.md).

Seed 000, « 3. Classification — Livrable(s) »: the opportunity « [numéro du département]
[typologie d'acteurs] » with its structure, contact, statut and service concerné (SPICO
Discussions simple / complexe / SPICO Dossiers), its description the « Recueil des
opportunités offre USE »; « 1. Présentation — Livrable(s) »: the activity « Information »
with the exchange's report in its description; steps 4 to 7: the activities titled as the
seed writes them (« Cadrage (déploiement acté) », « [M1] SPICO Suivi des usages »…).

The files are what French Excel and the Dynamics 365 import wizard read without a question:
UTF-8 with a byte-order mark (Excel takes a file without one for Windows-1252 and breaks
every accent), « ; » between fields (French Excel's list separator: a comma is the decimal
mark), fields quoted only when needed (`csv.QUOTE_MINIMAL`: a « ; », a quote or a line break
inside), one header row, lines ended by CRLF. Every text field goes through
`cells.cell_text`: printable, and never read as a formula.

Both files reach their folder together or not at all (`CrmFiles`).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from at_tui.documents.cells import cell_text
from at_tui.domain.opportunity import JournalEntry
from at_tui.domain.tracking import TrackingRow
from at_tui.files import TargetRefused, check_target, sync_folder

OPPORTUNITIES_FILE = "opportunites.csv"
ACTIVITIES_FILE = "activites.csv"
DELIMITER = ";"
ENCODING = "utf-8-sig"  # writes the byte-order mark EF BB BF first
LINE_END = "\r\n"

OPPORTUNITY_COLUMNS = (
    "Identifiant", "Nom", "Structure", "FINESS", "Contact", "Statut", "Service concerné", "Pilote", "AT", "CM",
    "Date de visite", "Description", "Mis à jour le",
)
ACTIVITY_COLUMNS = (
    "Identifiant", "Opportunité", "Identifiant de l'opportunité", "Structure", "Type d'activité", "Titre", "Date",
    "Description", "Auteur", "Rôle", "Service concerné", "Remplace",
)


def day_text(day: dt.date | str | None) -> str:
    """JJ/MM/AAAA, or "" when unknown (an ISO date string that cannot be read stays as it is)."""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return cell_text(day)
    return day.strftime("%d/%m/%Y")


def moment(text: str | None) -> dt.datetime | None:
    """A stored ISO timestamp as an aware datetime (a naive one is UTC), None when unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def moment_text(text: str | None) -> str:
    """A stored timestamp as the reader's local « JJ/MM/AAAA HH:MM »; "" when unreadable."""
    value = moment(text)
    return value.astimezone().strftime("%d/%m/%Y %H:%M") if value is not None else ""


def since_changed(text: str | None, since: dt.datetime) -> bool:
    """Whether a stored timestamp is at or after `since`; an unreadable one counts as changed
    (sending a line twice is harmless, never sending it is not)."""
    value = moment(text)
    return value is None or value >= since


def opportunity_fields(row: TrackingRow, description: str) -> list[str]:
    """One line of opportunites.csv, in `OPPORTUNITY_COLUMNS` order. `description`: the
    Recueil text (`domain.deliverables.recueil_text`, through `Workspace.deliverables`)."""
    return [
        cell_text(row.opportunity_id),
        cell_text(row.crm_name),
        cell_text(row.structure),
        cell_text(row.finess),
        cell_text(row.contact),
        cell_text(row.status_label),
        cell_text(row.offer_label),
        cell_text(row.lead),
        cell_text(row.at_login),
        cell_text(row.cm_login),
        day_text(row.visit_date),
        cell_text(description, multiline=True),
        moment_text(row.updated_at),
    ]


def activity_fields(row: TrackingRow, entry: JournalEntry, description: str, service: str) -> list[str]:
    """One line of activites.csv, in `ACTIVITY_COLUMNS` order: the journal entry as the CRM's
    activity, hung on its opportunity by name and by identifier. `service`: the playbook's
    « service concerné » (« SPICO »)."""
    return [
        cell_text(entry.id),
        cell_text(row.crm_name),
        cell_text(row.opportunity_id),
        cell_text(row.structure),
        cell_text(entry.type),
        cell_text(entry.title),
        day_text(entry.day),
        cell_text(description, multiline=True),
        cell_text(entry.author),
        cell_text(entry.role),
        cell_text(service),
        cell_text(entry.supersedes),
    ]


class CrmFiles:
    """Both files of one CRM import, written side by side then put in place together.

    A new folder (the default `crm-AAAAMMJJ-HHMMSS`) is written as a hidden temporary folder
    beside it, renamed once both files are complete and synced: the pair appears at once. In
    an existing folder each file is written to a temporary file there, then both are renamed
    over `opportunites.csv` and `activites.csv`. Any failure before that removes the
    temporary files and every folder this export created: nothing half-written, no half of
    the pair. Use as a context manager; `add_*` inside; `opportunities` / `activities` count
    the lines written.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.opportunities = 0
        self.activities = 0
        self._created: list[Path] = []  # folders this export made, outermost first
        self._staging: Path | None = None  # the temporary folder of a new target folder
        self._temporary: list[Path] = []
        self._handles: list[IO[str]] = []
        self._writers: list = []

    @property
    def paths(self) -> tuple[Path, Path]:
        return self.folder / OPPORTUNITIES_FILE, self.folder / ACTIVITIES_FILE

    def __enter__(self) -> CrmFiles:
        try:
            where = self._prepare()
            for target, header in zip(self.paths, (OPPORTUNITY_COLUMNS, ACTIVITY_COLUMNS), strict=True):
                check_target(target)
                fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{target.name}.", suffix=".tmp")
                self._temporary.append(Path(tmp))
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # they name people and structures
                handle = os.fdopen(fd, "w", encoding=ENCODING, newline="")
                self._handles.append(handle)
                writer = csv.writer(handle, delimiter=DELIMITER, quoting=csv.QUOTE_MINIMAL, lineterminator=LINE_END)
                writer.writerow(header)
                self._writers.append(writer)
        except BaseException:
            self._discard()
            raise
        return self

    def add_opportunity(self, fields: Sequence[str]) -> None:
        self._writers[0].writerow(fields)
        self.opportunities += 1

    def add_activity(self, fields: Sequence[str]) -> None:
        self._writers[1].writerow(fields)
        self.activities += 1

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            for handle in self._handles:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
            if self._staging is not None:
                for tmp, target in zip(self._temporary, self.paths, strict=True):
                    os.rename(tmp, self._staging / target.name)
                sync_folder(self._staging)
                os.rename(self._staging, self.folder)  # both files appear at once
                self._staging = None
            else:
                for tmp, target in zip(self._temporary, self.paths, strict=True):
                    os.replace(tmp, target)
        except BaseException:
            self._discard()
            raise
        sync_folder(self.folder.parent if self._created else self.folder)

    def _prepare(self) -> Path:
        """Where the temporary files go: the existing folder, or a new staging folder beside it."""
        if self.folder.is_dir():
            return self.folder
        if self.folder.exists() or self.folder.is_symlink():
            raise TargetRefused(f"{self.folder} n'est pas un dossier : indiquez un dossier où écrire "
                                f"{OPPORTUNITIES_FILE} et {ACTIVITIES_FILE}. Rien n'a été écrit.")
        missing = []
        parent = self.folder.parent
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            self._created.append(folder)
        self._created.append(self.folder)  # once renamed: removed too if a later step fails
        self._staging = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}.", suffix=".tmp"))
        return self._staging

    def _discard(self) -> None:
        for handle in self._handles:
            try:
                handle.close()
            except OSError:
                pass
        for tmp in self._temporary:
            tmp.unlink(missing_ok=True)
        if self._staging is not None:
            for name in (OPPORTUNITIES_FILE, ACTIVITIES_FILE):
                (self._staging / name).unlink(missing_ok=True)
            _remove_folder(self._staging)
        for folder in reversed(self._created):
            _remove_folder(folder)


def _remove_folder(folder: Path) -> None:
    """Remove a folder this export made if it is empty (never anything someone else put there)."""
    try:
        folder.rmdir()
    except OSError:
        pass
