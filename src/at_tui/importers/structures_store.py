"""The imported FINESS structures in the local database: atomic replacement and completion.

Replacing is atomic (`at_tui.importers.staging`, shared with the Annuaire Santé
import). The rows are first written into a TEMP staging table (private to the
connection: no lock is taken on the database while the file is parsed, so the
app keeps saving visits meanwhile), then ONE `BEGIN IMMEDIATE` transaction
empties `structures` and its word index and copies the staging rows in. A
failed or interrupted import (an error, Ctrl-C, a killed process, a power cut)
leaves the previous structures exactly as they were.

Completion for « Nouvelle visite » is index-backed and bounded by LIMIT, best
matches first: FINESS number prefix (UNIQUE index) → prefix of the folded name
(`structures_by_name`) → every typed word prefixing a word of the name (FTS5,
prefix index) → of the name or long name → of the name, long name, commune,
département or postcode. Rows are numbered in name order at each
import, so FTS5 results (in rowid order) come out alphabetically.

The tables should become schema migration v4 (`at_tui.store.migrations`): until
then they are created here, with IF NOT EXISTS, inside the swap transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from at_tui.domain.text import search_fold
from at_tui.importers.finess import FinessReader, FinessStructure, ImporterError, ImportReport, ProgressCallback
from at_tui.importers.staging import replace_from_staging
from at_tui.store.bounded import Page, after
from at_tui.store.db import immediate

_STAGED = (
    "finess, finess_ej, name, long_name, departement, commune, postcode, phone, "
    "category_code, category_label, typology, name_folded"
)
_OUT = (
    "s.finess, s.finess_ej, s.name, s.long_name, s.departement, s.commune, s.postcode, s.phone, "
    "s.category_code, s.category_label, s.typology"
)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# -- replacing --------------------------------------------------------------------------------


def replace_structures(
    conn: sqlite3.Connection, structures: Iterable[FinessStructure], *, imported_at: str | None = None
) -> int:
    """Replace every stored structure by `structures`, atomically; returns how many were written.

    An exception raised while `structures` is iterated (a progress callback, Ctrl-C)
    abandons the import, the previous structures intact.
    """
    stamp = imported_at or utc_now()

    def swap(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM main.structures")
        conn.execute("INSERT INTO main.structures_fts (structures_fts) VALUES ('delete-all')")
        # Emptied, the table numbers the rows from 1 in insertion order: name order.
        conn.execute(
            f"INSERT INTO main.structures ({_STAGED}, imported_at) "
            f"SELECT {_STAGED}, ? FROM temp.structures_staging ORDER BY name_folded, finess",
            (stamp,),
        )
        conn.execute(
            "INSERT INTO main.structures_fts (rowid, name_words, long_name_words, place_words) "
            "SELECT s.id, t.name_folded, t.long_name_words, t.place_words "
            "FROM temp.structures_staging t JOIN main.structures s ON s.finess = t.finess "
            "ORDER BY s.id"  # FTS5 builds its index fastest in rowid order
        )

    return replace_from_staging(
        conn,
        staging="structures_staging",
        columns="finess TEXT, finess_ej TEXT, name TEXT, long_name TEXT, departement TEXT, commune TEXT, "
        "postcode TEXT, phone TEXT, category_code TEXT, category_label TEXT, typology TEXT, name_folded TEXT, "
        "long_name_words TEXT, place_words TEXT",
        rows=_staged(structures),
        swap=swap,
        kept="Les structures déjà importées sont conservées.",
        caller="replace_structures",
        transaction=immediate,  # looked up at each call: a benchmark times the swap by replacing it
    )


def _staged(structures: Iterable[FinessStructure]) -> Iterator[tuple]:
    """The staging rows: each structure with its folded name and word-index columns."""
    for s in structures:
        name_folded = search_fold(s.name)
        long_folded = search_fold(s.long_name)
        place = search_fold(s.commune)
        yield (
            s.finess, s.finess_ej, s.name, s.long_name, s.departement, s.commune, s.postcode, s.phone,
            s.category_code, s.category_label, s.typology, name_folded,
            long_folded if long_folded != name_folded else "",
            f"{place} {s.departement} {s.postcode or ''}",
        )


def import_finess(
    conn: sqlite3.Connection,
    path: Path | str,
    *,
    on_progress: ProgressCallback | None = None,
    departements=None,
    categories=None,
    imported_at: str | None = None,
    force: bool = False,
) -> ImportReport:
    """Import a FINESS extract: its Occitanie structures replace the previous import, atomically.

    Raises `ImporterError` (French message) when the file cannot be imported at all:
    missing, empty, not a FINESS extract, or holding no Occitanie structure. The
    previous structures are then kept, as they are when anything else goes wrong.
    `on_progress(bytes_read, total_bytes)` is called while the file is read; the
    swap that follows the last call is short (about a second for 100,000 rows).
    A file keeping less than half as many structures as the previous import is
    refused too (a partial or truncated download), unless `force`.
    """
    reader = FinessReader(path, departements=departements, categories=categories, on_progress=on_progress)
    report = reader.report
    previous = None if force else structures_count(conn)
    replace_structures(conn, _checked(reader, report, previous), imported_at=imported_at)
    return report


def _checked(structures: Iterable[FinessStructure], report: ImportReport, previous: int | None = None):
    """Pass the structures through, then refuse an import that would leave no structure at all,
    or far fewer than the `previous` import (the rows stored: the import state is the table itself)."""
    yield from structures
    if report.read == 0:
        raise ImporterError(
            f"Le fichier {report.path} ne contient aucune ligne « structureet » : ce n'est pas un extrait "
            "FINESS des établissements. Les structures déjà importées sont conservées."
        )
    if report.kept == 0:
        raise ImporterError(
            f"Aucune structure d'Occitanie dans {report.path} ({report.read} lue(s), "
            f"{report.skipped_other_region} hors région, {report.malformed} mal formée(s)). "
            "Les structures déjà importées sont conservées."
        )
    if previous and far_fewer(report.kept, previous):
        raise ImporterError(
            f"Le fichier {report.path} ne donne que {report.kept} structure(s) d'Occitanie, contre {previous} "
            "à l'import précédent : moins de la moitié (extrait partiel ou téléchargement interrompu ?). "
            + (f"Sa ligne {report.truncated_line} est incomplète : fichier tronqué ? " if report.truncated_line else "")
            + "Si c'est bien le fichier voulu, relancez avec --force : « at-tui import-finess --force FICHIER ». "
            "Les structures déjà importées sont conservées."
        )


def far_fewer(kept: int, previous: int) -> bool:
    """Whether an import keeps so few rows next to the previous one that it must be asked for (--force)."""
    return kept * 2 < previous


# -- reading ----------------------------------------------------------------------------------


def structures_count(conn: sqlite3.Connection) -> int:
    try:
        return conn.execute("SELECT count(*) FROM structures").fetchone()[0]
    except sqlite3.OperationalError:  # never imported: no table yet
        return 0


def last_import(conn: sqlite3.Connection) -> str | None:
    """When the stored structures were imported (ISO 8601, UTC), None if never."""
    try:
        row = conn.execute("SELECT imported_at FROM structures LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def get_structure(conn: sqlite3.Connection, finess: str) -> FinessStructure | None:
    try:
        row = conn.execute(f"SELECT {_OUT} FROM structures s WHERE s.finess = ?", (finess.strip().upper(),)).fetchone()
    except sqlite3.OperationalError:
        return None
    return FinessStructure(*row) if row else None


def complete_structures(conn: sqlite3.Connection, text: str, limit: int = 8) -> list[FinessStructure]:
    """Structures matching what the AT typed, best first (see the module docstring), at most `limit`."""
    if limit <= 0:
        return []
    query = search_fold(text)
    if not query:
        return []
    try:
        return _complete(conn, query, limit)
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):  # nothing imported yet
            return []
        raise


def _complete(conn: sqlite3.Connection, query: str, limit: int) -> list[FinessStructure]:
    page = Page(conn, limit)
    compact = query.replace(" ", "").upper()
    if compact.isdigit() or (compact[:2] in ("2A", "2B") and compact[2:].isdigit()):
        sql = f"SELECT {_OUT} FROM structures s WHERE s.finess >= ? AND s.finess < ? ORDER BY s.finess LIMIT ?"
        if page.take(sql, (compact, after(compact), limit)):
            return _structures(page)
    sql = f"SELECT {_OUT} FROM structures s WHERE s.name_folded >= ? AND s.name_folded < ? ORDER BY s.name_folded LIMIT ?"
    if page.take(sql, (query, after(query), limit)):
        return _structures(page)
    words = " AND ".join(f'"{token}"*' for token in query.split())
    sql = (
        f"SELECT {_OUT} FROM structures_fts JOIN structures s ON s.id = structures_fts.rowid "
        "WHERE structures_fts MATCH ? ORDER BY structures_fts.rowid LIMIT ?"
    )
    for match in (f"{{name_words}} : ({words})", f"{{name_words long_name_words}} : ({words})", words):
        if page.take(sql, (match, limit + len(page))):
            break
    return _structures(page)


def _structures(page: Page) -> list[FinessStructure]:
    return [FinessStructure(*row) for row in page.rows.values()]
