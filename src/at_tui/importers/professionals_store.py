"""The imported Annuaire Santé professionals in the local database: atomic replacement.

The tables are those of schema migration v5 (`at_tui.store.migrations._v5_directory`):
`professionals` (one row per person × activity kept) and its contentless FTS5
word index `professionals_fts` (rowid = professionals.id), filled like this:

- the rows are numbered in `name_folded, identifier` order at each import (then
  file order), so that FTS5 results, in rowid order, come out alphabetically;
- `name_folded` = `search_fold("<last name> <first name>")`, which is also the
  FTS `name_words`; `other_words` = the folded profession, specialty, structure
  and commune; `departement_words` = the code then the folded name (« 32 gers »).

Replacing is atomic (`at_tui.importers.staging`, shared with the FINESS import):
the rows are staged into a TEMP table while the file is read (no lock on the
database), ordered into a second TEMP table (still no lock), then ONE
`BEGIN IMMEDIATE` transaction empties both tables and copies the ordered rows in.
A failed or interrupted import leaves the previous professionals intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from at_tui.domain.text import search_fold
from at_tui.importers.annuaire import AnnuaireReader, AnnuaireReport, Professional
from at_tui.importers.finess import ImporterError, ProgressCallback
from at_tui.importers.staging import replace_from_staging
from at_tui.importers.structures_store import far_fewer, utc_now
from at_tui.store.db import immediate

KEPT = "Les professionnels déjà importés sont conservés."
FTS_HASHSIZE = 1024 * 1024  # FTS5's default
FTS_BULK_HASHSIZE = 8 * 1024 * 1024

# The columns of `professionals` copied from the ordered TEMP table (id, imported_at apart).
_COPIED = (
    "identifier, last_name, first_name, profession, specialty, structure, commune, postcode, phone, email, "
    "departement, name_folded"
)
_STAGING_COLUMNS = (
    "identifier TEXT, last_name TEXT, first_name TEXT, profession TEXT, specialty TEXT, structure TEXT, "
    "commune TEXT, postcode TEXT, phone TEXT, email TEXT, departement TEXT, name_folded TEXT, "
    "other_words TEXT, departement_words TEXT"
)


def replace_professionals(
    conn: sqlite3.Connection,
    professionals: Iterable[Professional],
    *,
    departement_names: Mapping[str, str] | None = None,
    imported_at: str | None = None,
) -> int:
    """Replace every stored professional by `professionals`, atomically; returns how many were written.

    `departement_names` (code → name, e.g. « 32 » → « Gers ») fills the
    département words of the index; a code without a name is indexed alone.
    An exception raised while `professionals` is iterated (a progress callback,
    Ctrl-C) abandons the import, the previous professionals intact.
    """
    stamp = imported_at or utc_now()
    names = dict(departement_names or {})

    def prepare(conn: sqlite3.Connection) -> None:
        # Ordered once, before the lock: its rowids (1, 2, …) become the ids and the FTS rowids.
        conn.execute(
            f"CREATE TEMP TABLE professionals_ordered AS SELECT {_COPIED}, other_words, departement_words "
            "FROM temp.professionals_staging ORDER BY name_folded, identifier, rowid"
        )
        conn.execute("DROP TABLE temp.professionals_staging")

    def swap(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM main.professionals")
        conn.execute("INSERT INTO main.professionals_fts (professionals_fts) VALUES ('delete-all')")
        conn.execute(
            f"INSERT INTO main.professionals (id, {_COPIED}, imported_at) "
            f"SELECT rowid, {_COPIED}, ? FROM temp.professionals_ordered ORDER BY rowid",
            (stamp,),
        )
        # FTS5 buffers 1 MiB of terms by default before writing a segment; with prefix indexes a bulk
        # load of 200,000 rows then spends more time merging segments than indexing (8 MiB: 2x faster).
        # Restored to the default in the same transaction.
        conn.execute(f"INSERT INTO main.professionals_fts (professionals_fts, rank) VALUES ('hashsize', {FTS_BULK_HASHSIZE})")
        conn.execute(
            "INSERT INTO main.professionals_fts (rowid, name_words, other_words, departement_words) "
            "SELECT rowid, name_folded, other_words, departement_words FROM temp.professionals_ordered "
            "ORDER BY rowid"  # FTS5 builds its index fastest in rowid order
        )
        conn.execute(f"INSERT INTO main.professionals_fts (professionals_fts, rank) VALUES ('hashsize', {FTS_HASHSIZE})")

    return replace_from_staging(
        conn,
        staging="professionals_staging",
        columns=_STAGING_COLUMNS,
        rows=_staged(professionals, names),
        prepare=prepare,
        scratch=("professionals_ordered",),
        swap=swap,
        kept=KEPT,
        caller="replace_professionals",
        transaction=immediate,  # looked up at each call: the benchmark times the swap by replacing it
    )


def _staged(professionals: Iterable[Professional], names: Mapping[str, str]) -> Iterator[tuple]:
    """The staging rows: each professional with its folded name and word-index columns.

    Professions, savoir-faire, structures and communes repeat from row to row: each
    distinct value is folded once (folding is character by character, so folding the
    parts then joining them gives search_fold of the joined text).
    """
    departement_words: dict[str, str] = {}
    folded: dict[str | None, str] = {None: ""}
    for p in professionals:
        words = departement_words.get(p.departement)
        if words is None:
            words = departement_words[p.departement] = f"{p.departement} {search_fold(names.get(p.departement))}".strip()
        parts = []
        for value in (p.profession, p.specialty, p.structure, p.commune):
            part = folded.get(value)
            if part is None:
                part = folded[value] = search_fold(value)
            if part:
                parts.append(part)
        yield (*p, search_fold(f"{p.last_name} {p.first_name}"), " ".join(parts), words)


def import_annuaire(
    conn: sqlite3.Connection,
    path: Path | str,
    *,
    on_progress: ProgressCallback | None = None,
    departements: Mapping[str, str] | Iterable[str] | None = None,
    imported_at: str | None = None,
    force: bool = False,
) -> AnnuaireReport:
    """Import an Annuaire Santé extract: its Occitanie rows replace the previous import, atomically.

    Raises `ImporterError` (French message) when the file cannot be imported at
    all: missing, empty, not the extract (a required column missing), or keeping
    no Occitanie row. The previous professionals are then kept, as they are when
    anything else goes wrong. `on_progress(bytes_read, total_bytes)` is called
    while the file is read; the ordering and the swap follow the last call.
    `departements`: the codes kept, or code → name (default: territory.toml's).
    A file keeping less than half as many rows as the previous import is refused
    too (a partial or truncated download), unless `force`.
    """
    reader = AnnuaireReader(path, departements=departements, on_progress=on_progress)
    report = reader.report
    previous = None if force else professionals_count(conn)
    replace_professionals(
        conn, _checked(reader, report, previous), departement_names=reader.departement_names, imported_at=imported_at
    )
    return report


def _checked(
    professionals: Iterable[Professional], report: AnnuaireReport, previous: int | None = None
) -> Iterator[Professional]:
    """Pass the rows through, then refuse an import that would leave no professional at all, or far
    fewer than the `previous` import (the rows stored: the import state is the table itself)."""
    yield from professionals
    if report.read == 0:
        raise ImporterError(
            f"Le fichier {report.path} ne contient que son en-tête, aucune ligne de professionnel : "
            f"rien à importer. {KEPT}"
        )
    if report.kept == 0:
        raise ImporterError(
            f"Aucun professionnel d'Occitanie dans {report.path} ({report.read} ligne(s) lue(s) : "
            f"{report.skipped_other_region} hors région, {report.skipped_no_departement} sans département, "
            f"{report.malformed} mal formée(s)). {KEPT}"
        )
    if previous and far_fewer(report.kept, previous):
        raise ImporterError(
            f"Le fichier {report.path} ne donne que {report.kept} ligne(s) de professionnels d'Occitanie, contre "
            f"{previous} à l'import précédent : moins de la moitié (extrait partiel ou téléchargement interrompu ?). "
            + (f"Sa ligne {report.truncated_line} est incomplète : fichier tronqué ? " if report.truncated_line else "")
            + "Si c'est bien le fichier voulu, relancez avec --force : « at-tui import-annuaire --force FICHIER ». "
            f"{KEPT}"
        )


# -- reading ----------------------------------------------------------------------------------


def professionals_count(conn: sqlite3.Connection) -> int:
    """How many activity rows are stored (0 when nothing was imported)."""
    try:
        return conn.execute("SELECT count(*) FROM professionals").fetchone()[0]
    except sqlite3.OperationalError:  # a database from before schema v5
        return 0


def last_annuaire_import(conn: sqlite3.Connection) -> str | None:
    """When the stored professionals were imported (ISO 8601, UTC), None if never."""
    try:
        row = conn.execute("SELECT imported_at FROM professionals LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None
