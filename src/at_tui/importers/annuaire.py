"""Streaming reader of the public Annuaire Santé extract (PS_LibreAcces_Personne_activite).

The format (see shared/reference/data-formats.md): `|`-separated, one header
line, every line ending with a trailing `|`, one row per person × activity
(about 2 million nationally, so people repeat). No quoting: a `|` inside a value
makes a line with too many fields, counted as malformed.

Columns are found by name in the header, because its capitalisation drifts
between releases: names are compared accent-, case-, space- and
punctuation-insensitively (`column_key`). Required: Identifiant PP, Nom
d'exercice, and a way to get the département: Code Département (structure), or
else the first two digits of Code postal (coord. structure) (also used, row by
row, when the département is empty).

Only the départements of the territory (territory.toml) are kept, and only the
columns the lookup needs: it is personal data. Rows without a département or
outside Occitanie are counted apart; exact repeats of (identifier, structure,
commune) are dropped and counted; a malformed line (wrong field count, empty
identifier or name) never stops the import: it is counted, and the first
examples are kept with their line number and a French reason.

The file reading (line by line decoding, UTF-8 with a Windows-1252 fallback per
line; refusal of a file that changes while it is read) is `at_tui.importers.source`;
the report base and the field clean-ups are those of the FINESS importer
(`at_tui.importers.finess`). A last line cut short (no line end, too few fields)
is reported as a truncated file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from at_tui.domain.redaction import printable
from at_tui.importers.finess import (
    _MOJIBAKE,
    ExtractReport,
    ImporterError,
    ProgressCallback,
    _clean,
    _phone,
    _repair_mojibake,
    _split_routing,
)
from at_tui.importers.source import ExtractSource

WHAT = "extrait de l'Annuaire Santé"
PUBLISHED = "sur annuaire.sante.fr (ou data.gouv.fr)"
SEPARATOR = "|"

# field → the column's name as published; looked up through `column_key`.
COLUMNS: dict[str, str] = {
    "identifier": "Identifiant PP",
    "last_name": "Nom d'exercice",
    "first_name": "Prénom d'exercice",
    "profession": "Libellé profession",
    "specialty": "Libellé savoir-faire",
    "structure": "Raison sociale site",
    "commune": "Libellé commune (coord. structure)",
    "postcode": "Code postal (coord. structure)",
    "phone": "Téléphone (coord. structure)",
    "email": "Adresse e-mail (coord. structure)",
    "departement": "Code Département (structure)",
    "cedex": "Bureau cedex (coord. structure)",  # « 31059 TOULOUSE CEDEX 9 »: commune when that one is empty
}
REQUIRED = ("identifier", "last_name")
DEPARTEMENT_SOURCES = ("departement", "postcode")  # at least one of them


class Professional(NamedTuple):
    """One activity row kept from the extract (a named tuple: cheap to build 200,000 times)."""

    identifier: str
    last_name: str
    first_name: str
    profession: str | None
    specialty: str | None
    structure: str | None
    commune: str | None
    postcode: str | None
    phone: str | None
    email: str | None
    departement: str


@dataclass
class AnnuaireReport(ExtractReport):
    """`read` counts the data rows (malformed ones included): read = kept + skipped_other_region +
    skipped_no_departement + duplicates + malformed."""

    skipped_no_departement: int = 0
    duplicates: int = 0
    people: int = 0  # distinct identifiers among the kept rows
    columns: tuple[str, ...] = ()  # the header, as found

    def summary_lines(self) -> list[str]:
        """The end-of-import report, in French, one line each."""
        lines = [
            f"Fichier {self.path} ({self.encoding_label}, {len(self.columns)} colonnes)",
            f"{self.read} ligne(s) lue(s), {self.kept} gardée(s) (Occitanie, {self.people} professionnel(s)), "
            f"{self.skipped_other_region} hors région, {self.skipped_no_departement} sans département, "
            f"{self.duplicates} doublon(s), {self.malformed} ligne(s) mal formée(s).",
        ]
        lines.extend(self.notes())
        lines.extend(self.malformed_lines())
        return lines


def column_key(name: str) -> str:
    """« Code Département (structure) », « code departement  (Structure) » → « codedepartementstructure »."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if char.isalnum())


_COLUMN_KEYS = {field: column_key(name) for field, name in COLUMNS.items()}


def occitanie_departement_names() -> dict[str, str]:
    """département code → name, from territory.toml."""
    from at_tui.importers.finess_reference import load_territory

    return {d.code: d.name for d in load_territory().departements}


class AnnuaireReader:
    """Iterate the Occitanie activity rows of an Annuaire Santé extract; `report` holds the totals.

    Opening checks the file (exists, not empty, text, a header holding the
    required columns) and raises `ImporterError` before anything else is read.
    Iterating streams the file once; `on_progress(bytes_read, total_bytes)` is
    called as it goes, and an exception raised by it stops the reading (the
    caller's import is then abandoned). `departements`: the codes to keep, or a
    mapping code → name (default: the territory's, with their names).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        departements: Mapping[str, str] | Collection[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.path = Path(path)
        self._source = ExtractSource(self.path, WHAT, PUBLISHED)
        if departements is None:
            departements = occitanie_departement_names()
        self.departement_names: dict[str, str] = (
            dict(departements) if isinstance(departements, Mapping) else {code: "" for code in departements}
        )
        self.departements = frozenset(self.departement_names)
        self.on_progress = on_progress
        decoding = self._source.decoding
        self.report = AnnuaireReport(
            path=str(self.path), encoding=decoding.codec(), encoding_label=decoding.label(),
            total_bytes=self._source.total_bytes,
        )
        self._header_line, self._width, self._trailing, self._index = self._read_header()
        self._consumed = False

    def _read_header(self) -> tuple[int, int, bool, dict[str, int]]:
        """(header line number, fields per line, whether it ends with `|`, field → column index).

        Refuses a file that is not the extract: a required column is missing.
        """
        number, line = self._source.first_line()
        if not number:
            raise ImporterError(f"Le fichier {self.path} est vide : aucun {WHAT} à importer.")
        names = line.rstrip("\r\n").split(SEPARATOR)
        found = tuple(name.strip() for name in names if name.strip())
        self.report.columns = found
        positions: dict[str, int] = {}
        for position, name in enumerate(names):
            positions.setdefault(column_key(name), position)
        index = {field: positions[_COLUMN_KEYS[field]] for field in COLUMNS if _COLUMN_KEYS[field] in positions}
        missing = [f"« {COLUMNS[field]} »" for field in REQUIRED if field not in index]
        if not any(field in index for field in DEPARTEMENT_SOURCES):
            missing.append(f"« {COLUMNS['departement']} » (ou à défaut « {COLUMNS['postcode']} »)")
        if missing:
            raise ImporterError(self._not_the_extract(missing, found, line, number))
        trailing = len(names) > 1 and not names[-1].strip()
        return number, len(names), trailing, index

    def _not_the_extract(self, missing: list[str], found: tuple[str, ...], line: str, number: int) -> str:
        shown = ", ".join(f"« {printable(name)[:60]} »" for name in found[:15]) or "(aucune)"
        if len(found) > 15:
            shown += f", … ({len(found)} en tout)"
        hint = ""
        if line.lower().startswith(("finess;", "structureet;")):
            hint = " C'est un extrait FINESS : importez-le avec « at-tui import-finess »."
        elif SEPARATOR not in line and any(sep in line for sep in (";", ",", "\t")):
            hint = " Les champs ne sont pas séparés par « | »."
        return (
            f"Le fichier {self.path} n'est pas un {WHAT} (PS_LibreAcces_Personne_activite) : "
            f"colonne(s) manquante(s) : {', '.join(missing)}. "
            f"Colonnes trouvées (ligne {number}) : {shown}.{hint} Rien n'a été importé."
        )

    def __iter__(self) -> Iterator[Professional]:
        if self._consumed:
            raise RuntimeError("AnnuaireReader can be iterated only once")
        self._consumed = True
        return self._professionals()

    def _professionals(self) -> Iterator[Professional]:  # noqa: C901 - one tight loop, kept flat for speed
        report = self.report
        departements = self.departements
        index = self._index
        width, trailing, header_line = self._width, self._trailing, self._header_line
        source = self._source
        i_id, i_last = index["identifier"], index["last_name"]
        i_departement, i_postcode, i_cedex = index.get("departement"), index.get("postcode"), index.get("cedex")
        # Picked only for the rows kept; an absent column points past the row's last field, where an
        # empty one is appended for them.
        i_first, i_profession, i_specialty, i_structure, i_commune, i_phone, i_email = (
            index.get(name, width) for name in ("first_name", "profession", "specialty", "structure", "commune",
                                                "phone", "email")
        )
        seen: set[str] = set()  # identifier, structure and commune of the rows kept
        people: set[str] = set()
        read = kept = other_region = no_departement = duplicates = 0
        number = 0
        for number, line in source.lines(self.on_progress):
            if number <= header_line:
                continue
            text = line.rstrip("\r\n")
            row = text.split(SEPARATOR)
            if len(row) != width:
                if not text.strip():
                    continue  # blank line
                read += 1
                aligned = _realign(row, width, trailing)
                if aligned is None:
                    if len(row) < width and not line.endswith(("\n", "\r")):  # the last line, cut short
                        report.add_truncated(number, _count_reason(row, text, width, trailing, hint=False), line)
                    else:
                        report.add_malformed(number, _count_reason(row, text, width, trailing), line)
                    continue
                row = aligned
            else:
                read += 1
            identifier = row[i_id].strip()
            if not identifier:
                report.add_malformed(number, f"identifiant manquant (colonne « {COLUMNS['identifier']} »)", line)
                continue
            last_name = row[i_last].strip()
            if not last_name:
                report.add_malformed(number, f"nom manquant (colonne « {COLUMNS['last_name']} »)", line)
                continue
            departement = row[i_departement].strip() if i_departement is not None else ""
            postcode = row[i_postcode].strip() if i_postcode is not None else ""
            if not departement:
                if not postcode and i_cedex is not None:
                    postcode = _split_routing(row[i_cedex].strip())[0] or ""
                if len(postcode) >= 2 and postcode[:2].isdigit():
                    departement = postcode[:2]
                else:
                    no_departement += 1
                    continue
            if departement not in departements:
                departement = departement.upper()
                if len(departement) == 1 and departement.isdigit():
                    departement = "0" + departement
                if departement not in departements:
                    other_region += 1
                    continue
            # Kept: the fields the lookup needs, then cleaned (control characters, odd spaces)
            # when any of them is not plain printable text.
            row.append("")  # the absent columns' value
            first_name, profession, specialty = row[i_first].strip(), row[i_profession].strip(), row[i_specialty].strip()
            structure, commune = row[i_structure].strip(), row[i_commune].strip()
            phone, email = row[i_phone].strip(), row[i_email].strip()
            fields = "|".join((identifier, last_name, first_name, profession, specialty, structure, commune, phone, email))
            if not fields.isprintable():
                identifier, last_name, first_name, profession, specialty, structure, commune, phone, email = (
                    _clean(row[i]) for i in (i_id, i_last, i_first, i_profession, i_specialty, i_structure, i_commune,
                                             i_phone, i_email)
                )
                if not identifier or not last_name:
                    field = "identifier" if not identifier else "last_name"
                    what = "identifiant" if not identifier else "nom"
                    report.add_malformed(number, f"{what} manquant (colonne « {COLUMNS[field]} »)", line)
                    continue
            if source.legacy_line != number and _MOJIBAKE.search(fields):
                names = [last_name, first_name, profession, specialty, structure, commune]
                fixed = [_repair_mojibake(value) for value in names]
                if fixed != names:
                    report.mojibake_repaired += 1
                    last_name, first_name, profession, specialty, structure, commune = fixed
            if not commune and i_cedex is not None:  # « 31059 TOULOUSE CEDEX 9 » → TOULOUSE
                cedex_postcode, cedex_commune = _split_routing(_clean(row[i_cedex]))
                commune = cedex_commune or ""
                postcode = postcode or cedex_postcode or ""
            key = f"{identifier}\x1f{structure}\x1f{commune}"  # one string: a third of a tuple's memory
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            people.add(identifier)
            if phone and not (len(phone) == 10 and phone.isdigit()):
                phone = _phone(phone) or ""
            kept += 1
            yield Professional(
                identifier,
                last_name,
                first_name,
                profession or None,
                specialty or None,
                structure or None,
                commune or None,
                postcode or None,
                phone or None,
                email or None,
                departement,
            )
        report.read, report.kept, report.skipped_other_region = read, kept, other_region
        report.skipped_no_departement, report.duplicates, report.people = no_departement, duplicates, len(people)
        report.lines = number
        report.decoded(source)


def _realign(row: list[str], width: int, trailing: bool) -> list[str] | None:
    """The fields of a line whose count differs from the header's, when only its trailing `|` does.

    Under a header ending with `|`, a line without it (one field short); under a
    header without it, a line with it (one empty field more): the columns are
    still aligned. (A line that lost a field inside and kept its trailing `|`
    looks the same as the first case; the last columns, mostly empty in the
    extract, cannot tell them apart.) Anything else is malformed (None).
    """
    count = len(row)
    if trailing and count == width - 1:
        return [*row, ""]
    if not trailing and count == width + 1 and row[-1] == "":
        return row[:-1]
    return None


def _count_reason(row: list[str], text: str, width: int, trailing: bool, *, hint: bool = True) -> str:
    """« 24 colonnes au lieu des 52 de l'en-tête », counted without the trailing `|`."""
    columns = len(row) - (1 if text.endswith(SEPARATOR) else 0)
    expected = width - (1 if trailing else 0)
    guess = (" (un « | » dans une valeur ?)" if columns > expected else " (ligne coupée ?)") if hint else ""
    return f"{columns} colonne(s) au lieu des {expected} de l'en-tête{guess}"


def read_annuaire(path: Path | str, **options) -> tuple[list[Professional], AnnuaireReport]:
    """The whole file at once (tests, small files): the kept rows and the report."""
    reader = AnnuaireReader(path, **options)
    professionals = list(reader)
    return professionals, reader.report
