"""Streaming reader of the public FINESS establishments extract (data.gouv.fr, etalab).

The format (see shared/reference/data-formats.md): `;`-separated, no header, a
metadata first line (`finess;etalab;111;2026-05-12`), then one `structureet` row
per establishment (32 columns) and, in the geolocated release, `geolocalisation`
rows, which are ignored. Fields are CSV-quoted when needed (a quote inside a
field is doubled).

Each line is decoded on its own (`at_tui.importers.source`): UTF-8 (with or
without BOM), and a line that is not valid UTF-8 as Windows-1252 (Latin-1 when
it holds a byte Windows-1252 leaves undefined); the lines that needed it are
counted and reported. UTF-8 lines with mojibake (`Ã©` for `é`) are repaired
field by field. The file is refused when it changes while it is read, and a
last line cut short (no line end, too few fields) is reported as a truncated file.

Only the départements of the territory (territory.toml) are kept. A malformed
line never stops the import: it is counted, and the first examples are kept
with their line number and a French reason, in the `ImportReport`.

The pieces that do not depend on the FINESS layout (the `ExtractReport` base and
the field clean-ups; the file reading is `at_tui.importers.source`) are shared
with the Annuaire Santé importer (`at_tui.importers.annuaire`).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from at_tui.domain.redaction import printable
from at_tui.importers.source import ExtractSource, ImporterError, ProgressCallback, excerpt

# ImporterError and ProgressCallback live with the file reading (source); callers import them from here too.

if TYPE_CHECKING:
    from at_tui.importers.finess_reference import CategoryMapping

SECTION_STRUCTURE = "structureet"
SECTION_GEOLOCATION = "geolocalisation"
STRUCTURE_FIELDS = 32
MAX_EXAMPLES = 20
TRUNCATED = "dernière ligne incomplète : fichier tronqué ?"

# 0-based columns of a `structureet` row.
COL_FINESS, COL_FINESS_EJ, COL_RS, COL_RS_LONG = 1, 2, 3, 4
COL_DEPARTEMENT, COL_ACHEMINEMENT, COL_PHONE = 13, 15, 16
COL_CATEGORY, COL_CATEGORY_LABEL = 18, 19

# Two characters for the département (2A/2B for Corsica), then 7 digits.
FINESS_NUMBER = re.compile(r"(?:\d{2}|2[AB])\d{7}")
_CEDEX = re.compile(r"\s+CEDEX(?:\s+\d+)?\s*$", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# UTF-8 read as Windows-1252: a lead byte (Â..ï) then a continuation byte (€, ‚, …, ©, ®, ¿…).
_CONTINUATION = bytes(range(0x80, 0xC0)).decode("cp1252", "ignore")
_MOJIBAKE = re.compile(f"[\u00c2-\u00ef][{re.escape(_CONTINUATION)}]")


class FinessStructure(NamedTuple):
    """One establishment kept from the extract (a named tuple: cheap to build 100,000 times)."""

    finess: str
    finess_ej: str | None
    name: str
    long_name: str | None
    departement: str
    commune: str | None
    postcode: str | None
    phone: str | None
    category_code: str | None
    category_label: str | None
    typology: str | None


@dataclass(frozen=True, slots=True)
class MalformedLine:
    line: int
    reason: str
    excerpt: str


@dataclass
class ExtractReport:
    """What reading an extract found, whatever its layout (FINESS, Annuaire Santé)."""

    path: str
    encoding: str  # the encoding of the text lines: utf-8, utf-8-sig, cp1252 or latin-1
    encoding_label: str  # in French, for the AT
    total_bytes: int
    lines: int = 0
    read: int = 0  # data rows (FINESS: `structureet` rows)
    kept: int = 0
    skipped_other_region: int = 0
    malformed: int = 0
    mojibake_repaired: int = 0
    fallback_lines: int = 0  # lines that were not UTF-8, decoded as Windows-1252 (or Latin-1) one by one
    encoding_note: str | None = None  # in French, when a UTF-8 file held such lines
    truncated_line: int | None = None  # the last line, when it was cut short (no line end, too few fields)
    examples: list[MalformedLine] = field(default_factory=list)

    def add_malformed(self, line: int, reason: str, raw: str) -> None:
        self.malformed += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(MalformedLine(line, reason, excerpt(raw, 120)))

    def add_truncated(self, line: int, detail: str, raw: str) -> None:
        """The last line has no line end and too few fields: the file was most likely cut short."""
        self.truncated_line = line
        self.add_malformed(line, f"{TRUNCATED} ({detail})", raw)

    def decoded(self, source: ExtractSource) -> None:
        """Take the encoding found line by line once the whole file was read."""
        decoding = source.decoding
        self.encoding, self.encoding_label = decoding.codec(), decoding.label()
        self.fallback_lines, self.encoding_note = decoding.fallback, decoding.summary()

    def notes(self) -> list[str]:
        """The report lines shared by every extract: encoding fallbacks, a truncated file, repaired accents."""
        lines = []
        if self.encoding_note:
            lines.append(self.encoding_note)
        if self.truncated_line is not None:
            lines.append(
                f"Attention, ligne {self.truncated_line} : {TRUNCATED} Vérifiez que le téléchargement "
                "est allé jusqu'au bout, puis réimportez le fichier complet."
            )
        if self.mojibake_repaired:
            lines.append(f"{self.mojibake_repaired} ligne(s) aux accents mal encodés (« Ã© ») corrigée(s).")
        return lines

    def malformed_lines(self) -> list[str]:
        """The kept examples of malformed lines, then how many more there were, in French."""
        lines = [f"  ligne {example.line} : {printable(example.reason)}" for example in self.examples]
        if self.malformed > len(self.examples):
            lines.append(f"  … et {self.malformed - len(self.examples)} autre(s) ligne(s) mal formée(s).")
        return lines


@dataclass
class ImportReport(ExtractReport):
    metadata: tuple[str, ...] | None = None
    extract_date: str | None = None
    geolocalisation: int = 0
    unmapped_categories: Counter = field(default_factory=Counter)

    def summary_lines(self) -> list[str]:
        """The end-of-import report, in French, one line each."""
        lines = [
            f"Fichier {self.path} ({self.encoding_label}"
            + (f", extrait du {self.extract_date}" if self.extract_date else "")
            + ")",
            f"{self.read} établissement(s) lu(s), {self.kept} gardé(s) (Occitanie), "
            f"{self.skipped_other_region} hors région, {self.malformed} ligne(s) mal formée(s).",
        ]
        lines.extend(self.notes())
        if self.unmapped_categories:
            total = sum(self.unmapped_categories.values())
            codes = ", ".join(printable(code)[:20] for code, _ in self.unmapped_categories.most_common(8))
            more = "…" if len(self.unmapped_categories) > 8 else ""
            lines.append(f"{total} structure(s) sans typologie proposée (catégories {codes}{more}).")
        lines.extend(self.malformed_lines())
        return lines


# -- reading ----------------------------------------------------------------------------------


class _LineFeed:
    """One physical line at a time for csv.reader: a quote left open cannot swallow the next lines."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self.line
        if line is None:
            raise StopIteration
        self.line = None
        return line


class FinessReader:
    """Iterate the Occitanie structures of a FINESS extract; `report` holds the totals.

    Opening checks the file (exists, not empty, text, FINESS-shaped first line) and
    raises `ImporterError` before anything is read further. Iterating streams the
    file once; `on_progress(bytes_read, total_bytes)` is called as it goes, and an
    exception raised by it stops the reading (the caller's import is then abandoned).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        departements: Collection[str] | None = None,
        categories: CategoryMapping | Mapping[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.path = Path(path)
        self._source = ExtractSource(self.path, "extrait FINESS", "sur data.gouv.fr")
        if departements is None:
            from at_tui.importers.finess_reference import occitanie_departements

            departements = occitanie_departements()
        if categories is None:
            from at_tui.importers.finess_reference import load_categories

            categories = load_categories()
        self.departements = frozenset(departements)
        if hasattr(categories, "typologies"):
            self._typologies = dict(categories.typologies)  # type: ignore[union-attr]
            self._labels = dict(categories.labels)  # type: ignore[union-attr]
        else:
            self._typologies, self._labels = dict(categories), {}
        self.on_progress = on_progress
        source = self._source
        self.report = ImportReport(
            path=str(self.path), encoding=source.decoding.codec(), encoding_label=source.decoding.label(),
            total_bytes=source.total_bytes,
        )
        self._metadata_line = self._check_first_line()
        self._consumed = False

    def _check_first_line(self) -> int:
        """The number of the metadata line (0 when the file starts directly with structures)."""
        number, line = self._source.first_line()
        if not number:
            raise ImporterError(f"Le fichier {self.path} est vide : aucun extrait FINESS à importer.")
        try:
            first = next(csv.reader([line], delimiter=";"), [])
        except csv.Error:  # a field longer than the csv module's limit, a quote left open
            first = line.split(";")
        head = first[0].strip().lower() if first else ""
        if head == "finess":
            self.report.metadata = tuple(f.strip() for f in first)
            dates = [f for f in self.report.metadata if _DATE.fullmatch(f)]
            self.report.extract_date = dates[-1] if dates else None
            return number
        if head == SECTION_STRUCTURE:
            return 0
        shown = excerpt(line)
        hint = ""
        lowered = line.lower()
        if "nofinesset" in lowered or "raison" in lowered or "finess" in lowered:
            hint = " (une ligne d'en-tête de colonnes : ce n'est pas l'extrait etalab, qui n'en a pas)"
        elif ";" not in line and any(sep in line for sep in (",", "|", "\t")):
            hint = " (les champs ne sont pas séparés par « ; »)"
        raise ImporterError(
            f"Le fichier {self.path} n'est pas un extrait FINESS des établissements (etalab) : "
            f"sa première ligne devrait être « finess;etalab;… » ou « structureet;… », "
            f"et c'est « {shown} »{hint}. Rien n'a été importé."
        )

    def __iter__(self) -> Iterator[FinessStructure]:
        if self._consumed:
            raise RuntimeError("FinessReader can be iterated only once")
        self._consumed = True
        return self._structures()

    def _structures(self) -> Iterator[FinessStructure]:  # noqa: C901 - one tight loop, kept flat for speed
        report = self.report
        departements = self.departements
        typologies, labels = self._typologies, self._labels
        source = self._source
        seen: dict[str, int] = {}
        feed = _LineFeed()
        reader = csv.reader(feed, delimiter=";")
        structure_prefix = SECTION_STRUCTURE + ";"
        geolocation_prefix = SECTION_GEOLOCATION + ";"
        metadata_line = self._metadata_line
        read = kept = skipped = geolocalisation = 0
        number = 0
        for number, line in source.lines(self.on_progress):
            if line.startswith(geolocation_prefix):
                geolocalisation += 1
                continue
            if number == metadata_line:
                continue
            if '"' in line:  # quoted fields: the csv module, one physical line at a time
                feed.line = line
                try:
                    row = next(reader)
                except csv.Error as error:
                    report.add_malformed(number, _csv_reason(error), line)
                    continue
                last = row[-1] if row else ""
                if "\n" in last or "\r" in last:
                    if row[0].strip().lower() == SECTION_STRUCTURE:
                        read += 1
                    report.add_malformed(number, "guillemet ouvrant sans guillemet fermant", line)
                    continue
            else:
                row = line.rstrip("\r\n").split(";")
            if not line.startswith(structure_prefix):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                section = row[0].strip().lower()
                if section == SECTION_GEOLOCATION:
                    geolocalisation += 1
                    continue
                if section != SECTION_STRUCTURE:
                    shown = printable(row[0].strip())[:30] or "(vide)"
                    report.add_malformed(
                        number, f"section « {shown} » inconnue (attendu : structureet ou geolocalisation)", line
                    )
                    continue
            read += 1
            count = len(row)
            if count != STRUCTURE_FIELDS and (count < STRUCTURE_FIELDS or any(f.strip() for f in row[STRUCTURE_FIELDS:])):
                if count < STRUCTURE_FIELDS and not line.endswith(("\n", "\r")):  # the last line, cut short
                    report.add_truncated(number, f"{count} champs au lieu de {STRUCTURE_FIELDS}", line)
                else:
                    report.add_malformed(number, f"{count} champs au lieu de {STRUCTURE_FIELDS}", line)
                continue
            finess = row[COL_FINESS].strip()
            if not (len(finess) == 9 and finess.isdigit()) and not FINESS_NUMBER.fullmatch(finess):
                report.add_malformed(
                    number,
                    f"numéro FINESS « {printable(finess)[:20]} » invalide (9 caractères attendus : "
                    "le département puis 7 chiffres)",
                    line,
                )
                continue
            finess_ej = row[COL_FINESS_EJ].strip()
            if finess_ej and not (len(finess_ej) == 9 and finess_ej.isdigit()) and not FINESS_NUMBER.fullmatch(
                finess_ej
            ):
                report.add_malformed(
                    number, f"numéro FINESS juridique « {printable(finess_ej)[:20]} » invalide (9 caractères attendus)", line
                )
                continue
            departement = row[COL_DEPARTEMENT].strip().upper()
            if departement not in departements:
                if not departement:
                    report.add_malformed(number, "département manquant (colonne 14)", line)
                    continue
                if len(departement) == 1 and departement.isdigit() and "0" + departement in departements:
                    departement = "0" + departement
                else:
                    skipped += 1
                    continue
            if line.rstrip("\r\n").isprintable():
                name = row[COL_RS].strip()
                long_name = row[COL_RS_LONG].strip()
                routing = row[COL_ACHEMINEMENT].strip()
                category_label = row[COL_CATEGORY_LABEL].strip()
            else:
                name = _clean(row[COL_RS])
                long_name = _clean(row[COL_RS_LONG])
                routing = _clean(row[COL_ACHEMINEMENT])
                category_label = _clean(row[COL_CATEGORY_LABEL])
            if not line.isascii() and source.legacy_line != number and _MOJIBAKE.search(line):
                fixed = [_repair_mojibake(v) for v in (name, long_name, routing, category_label)]
                if fixed != [name, long_name, routing, category_label]:
                    report.mojibake_repaired += 1
                    name, long_name, routing, category_label = fixed
            if not name:
                name = long_name
                if not name:
                    report.add_malformed(number, "raison sociale manquante (colonnes 4 et 5 vides)", line)
                    continue
            first_seen = seen.get(finess)
            if first_seen is not None:
                report.add_malformed(number, f"numéro FINESS {finess} en double (déjà vu ligne {first_seen})", line)
                continue
            seen[finess] = number
            # « 31000 TOULOUSE » → postcode and commune; a CEDEX is not a commune.
            if len(routing) > 6 and routing[5] == " " and routing[:5].isdigit():
                postcode, commune = routing[:5], routing[6:].lstrip()
            else:
                postcode, commune = _split_routing(routing)
            if commune and "CEDEX" in commune.upper():
                commune = _CEDEX.sub("", commune).strip()
            phone = row[COL_PHONE].strip()
            if phone and not (len(phone) == 10 and phone.isdigit()):
                phone = _phone(phone)
            category = row[COL_CATEGORY].strip()
            typology = typologies.get(category)
            if typology is None:
                report.unmapped_categories[category or "(vide)"] += 1
            kept += 1
            yield FinessStructure(
                finess,
                finess_ej or None,
                name,
                long_name or None,
                departement,
                commune or None,
                postcode,
                phone or None,
                category or None,
                category_label or labels.get(category) or None,
                typology,
            )
        report.read, report.kept, report.skipped_other_region = read, kept, skipped
        report.geolocalisation, report.lines = geolocalisation, number
        report.decoded(source)


def read_finess(path: Path | str, **options) -> tuple[list[FinessStructure], ImportReport]:
    """The whole file at once (tests, small files): the structures and the report."""
    reader = FinessReader(path, **options)
    structures = list(reader)
    return structures, reader.report


def _csv_reason(error: csv.Error) -> str:
    """The csv module's complaint about one line, in French."""
    text = str(error)
    if "field larger than field limit" in text:
        return f"champ de plus de {csv.field_size_limit():,} caractères (limite du format CSV) : ligne ignorée".replace(
            ",", "\u202f"
        )
    return f"ligne illisible ({printable(text)[:80]})"


# -- fields -----------------------------------------------------------------------------------


def _clean(value: str) -> str:
    """Trimmed, control characters dropped, odd spaces (no-break…) made plain spaces."""
    value = value.strip()
    if value.isprintable():
        return value
    kept = []
    for char in value:
        if char.isprintable():
            kept.append(char)
        elif unicodedata.category(char) == "Zs" or char in "\t\n\r":
            kept.append(" ")
    return " ".join("".join(kept).split())


def _repair_mojibake(value: str) -> str:
    """UTF-8 text that was decoded as Windows-1252 once too often: « CÃˆDRES » → « CÈDRES »."""
    if not _MOJIBAKE.search(value):
        return value
    try:
        return value.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return value


def _split_routing(routing: str) -> tuple[str | None, str | None]:
    """« 31000 TOULOUSE » → ("31000", "TOULOUSE"); « 31059 TOULOUSE CEDEX 9 » → ("31059", "TOULOUSE")."""
    if not routing:
        return None, None
    postcode = None
    if len(routing) >= 5 and routing[:5].isdigit() and (len(routing) == 5 or routing[5] == " "):
        postcode, routing = routing[:5], routing[5:].strip()
    commune = _CEDEX.sub("", routing).strip() if "CEDEX" in routing.upper() else routing
    return postcode, commune or None


def _phone(value: str) -> str | None:
    digits = value.strip().replace(" ", "").replace(".", "").replace("-", "")
    if not digits:
        return None
    if digits.isdigit() and len(digits) == 9:  # the leading 0 lost by a spreadsheet
        digits = "0" + digits
    return digits
