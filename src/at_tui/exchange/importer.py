"""Importing an export: everything is validated first, then written in one transaction.

A file that cannot be read, or a visit of it that is not valid, refuses the whole
import: nothing is written. Otherwise each visit meets the copy already on this laptop
under the rule the sync uses too (at_tui.domain.revisions):

* none here: the visit is **imported**;
* the same content (moving between steps is not content): **déjà présente**, untouched;
* a newer revision (its edit history extends the one here): it **replaces** the copy
  here — identity, state, answers, history — in the same transaction; nothing of the
  older copy's history is lost, since the newer one holds it;
* an older revision: **déjà à jour**, ignored;
* a divergence (each copy has changes the other lacks), or a newer revision the file
  gives to another AT than the copy here: reported for that visit alone, nothing of it
  written; the other visits are imported.

An imported visit is marked `origin` = 'import', with the `owner` the file names: it
belongs to the AT who made it, so this laptop never pushes it to the central (the outbox
triggers leave it out; docs/sync-protocol.md, « Visites reçues par fichier »). Only when
the file names as owner the login this laptop's own visits have at the central is the
visit taken as this laptop's (`origin` = 'local', queued like one made here). A visit
that is this laptop's stays so when a newer revision replaces it (its change is queued).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from at_tui.exchange.compare import VisitContent, content_differences, differences
from at_tui.exchange.errors import SETTLED, ExchangeError, Fate, ImportReport, VisitFate, refusal, visit_label
from at_tui.exchange.fileio import loads, read_file
from at_tui.exchange.incoming import validate_visit
from at_tui.exchange.opportunities import IncomingOpportunity, merge_opportunity, validate_opportunity
from at_tui.exchange.references import References, reference_conflicts, validate_references
from at_tui.store.visits import history_with_rows

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.workspace import Workspace


def import_file(workspace: Workspace, path: Path | str) -> ImportReport:
    return import_visits(workspace, read_file(path))


def import_visits(workspace: Workspace, data: bytes | str | dict) -> ImportReport:
    """Import the visits of an export; each one's fate in the report. Raises ExchangeError
    (French), writing nothing, when the file or one of its visits is not valid."""
    from at_tui.exchange.format import validate_envelope

    raw = data if isinstance(data, dict) else loads(data)
    envelope = validate_envelope(raw)

    references, problems = validate_references(envelope)
    incoming: list[tuple[str, VisitContent]] = []
    opportunities: dict[str, IncomingOpportunity] = {}
    owners: dict[str, str | None] = {}
    seen: set[str] = set()
    for visit in envelope.visits:
        label = visit_label(visit.identity.structure, visit.id)
        if visit.id in seen:
            problems.append(f"{label} : présente deux fois dans le fichier.")
            continue
        seen.add(visit.id)
        result = validate_visit(workspace, visit, label, references)
        opportunity = validate_opportunity(workspace, visit, label)
        if isinstance(opportunity, list):
            problems.extend(opportunity)
        elif opportunity is not None:
            opportunities[visit.id] = opportunity
        if isinstance(result, list):
            problems.extend(result)
        else:
            incoming.append((label, result))
            owners[visit.id] = visit.owner
    if problems:
        raise refusal(problems)

    report = ImportReport()
    conn = workspace.conn
    with _immediate(conn):
        # Checked inside the write lock: another at-tui may have written meanwhile.
        conflicts = reference_conflicts(workspace.visits, references)
        if conflicts:
            raise refusal(conflicts)
        new: list[VisitContent] = []
        newer: list[VisitContent] = []
        for label, content in incoming:
            fate, reason = _fate(conn, workspace, content, owners.get(content.visit.id))
            report.fates.append(VisitFate(content.visit.id, label, fate, reason))
            if fate is Fate.IMPORTED:
                new.append(content)
            elif fate is Fate.UPDATED:
                newer.append(content)
        _write(conn, references, new, newer, owners)
        # The opportunity follows its visit: nothing of it for a visit divergent or refused.
        for index, item in enumerate(report.fates):
            if item.visit_id in opportunities and item.fate in SETTLED:
                note, diverged = merge_opportunity(workspace, item.visit_id, opportunities[item.visit_id])
                report.fates[index] = replace(item, opportunity=note, opportunity_diverged=diverged)
    return report


def _fate(conn: sqlite3.Connection, workspace: Workspace, content: VisitContent,
          owner: str | None) -> tuple[Fate, str]:
    """What becomes of one valid visit of the file (see the module), and why."""
    from at_tui.domain.redaction import printable
    from at_tui.domain.revisions import Revision, history_relation, settle
    from at_tui.store.visit_content import known_owner

    visit_id = content.visit.id
    stored = workspace.visits.get(visit_id)
    if stored is None:
        return Fate.IMPORTED, ""
    _, history = history_with_rows(conn, visit_id)
    existing = VisitContent(stored, workspace.visits.answers(visit_id), history)
    revision = settle(history_relation(existing.history, content.history),
                      not content_differences(existing, content))
    if revision is Revision.SAME:
        return Fate.PRESENT, ""
    if revision is Revision.OLDER:
        return Fate.UP_TO_DATE, ""
    if revision is Revision.DIVERGED:
        return Fate.DIVERGED, ", ".join(differences(existing, content))
    here = known_owner(conn, visit_id)
    if owner is not None and here is not None and owner != here:
        return (Fate.REFUSED, f"elle appartient à « {printable(here)} » sur ce poste, le fichier la donne "
                f"à « {printable(owner)} »")
    return Fate.UPDATED, ""


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """The store's write transaction, its failure told in French."""
    from at_tui.store.db import immediate

    try:
        with immediate(conn):
            yield
    except sqlite3.Error as error:
        from at_tui.store.errors import explain

        raise ExchangeError(f"{explain(error, 'Enregistrement des visites')[:-1]} : rien n'a été importé.") from error


def _write(conn: sqlite3.Connection, references: References, visits: list[VisitContent],
           newer: list[VisitContent], owners: dict[str, str | None]) -> None:
    """Insert the new visits and replace the older copies, inside the caller's transaction
    (sqlite-utils then uses savepoints, never commits)."""
    import sqlite_utils

    from at_tui.store.visits import history_paused

    login = _login(conn)
    with history_paused(conn):  # the file brings the visits' own history
        _insert(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False), references, visits,
                owners)
        for content in newer:
            _replace(conn, content, owners.get(content.visit.id), login)


def _login(conn: sqlite3.Connection) -> str | None:
    """The name the central gives this laptop's AT, once learnt."""
    row = conn.execute("SELECT value FROM sync_state WHERE key = 'login'").fetchone()
    return row[0] if row else None


def _replace(conn: sqlite3.Connection, content: VisitContent, owner: str | None, login: str | None) -> None:
    """Make the copy here the file's newer revision: the visit row, its answers (one the newer
    revision cleared is removed: its history keeps it), and its history — the rows of the older
    history are kept as they are, the newer entries added, every edit session closed (the
    file's history is complete)."""
    from at_tui.domain.revisions import matching
    from at_tui.store.visits import encode

    visit = content.visit
    rows, stored = history_with_rows(conn, visit.id)
    pairs = matching(stored, content.history)
    if pairs is None:  # _fate found it newer, in this same transaction: never
        raise ExchangeError(f"Visite {visit.id} : son historique ne se prolonge pas : rien n'a été importé.")

    origin, kept_owner = conn.execute("SELECT origin, owner FROM visits WHERE id = ?", (visit.id,)).fetchone()
    if origin != "local":  # this laptop's own visit stays so; another's, as a new import would take it
        origin = "local" if owner is not None and owner == login else "import"
        kept_owner = owner if owner is not None else kept_owner
    values = {name: value for name, value in asdict(visit).items() if name != "id"}
    values["maillage"] = int(bool(values["maillage"]))
    values.update(origin=origin, owner=kept_owner)
    conn.execute(
        f"UPDATE visits SET {', '.join(f'{name} = ?' for name in values)} WHERE id = ?",
        (*values.values(), visit.id),
    )

    changed_at = {entry.field: entry.at for entry in content.history}
    conn.execute(
        "DELETE FROM answers WHERE visit_id = ? AND key NOT IN (SELECT value FROM json_each(?))",
        (visit.id, json.dumps(list(content.answers))),
    )
    conn.executemany(
        "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (visit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [(visit.id, key, encode(value), changed_at.get(key, visit.updated_at)) for key, value in content.answers.items()],
    )
    conn.execute(
        "INSERT INTO answer_sessions (visit_id, key, old_value) SELECT visit_id, key, value FROM answers "
        "WHERE visit_id = ? ON CONFLICT (visit_id, key) DO UPDATE SET old_value = excluded.old_value",
        (visit.id,),
    )

    # The older history's rows stay as they are; open edit sessions here are written below, closed.
    kept = {pairs[index] for index, row_id in enumerate(rows) if row_id is not None}
    conn.executemany(
        "INSERT INTO history (visit_id, field, old_value, new_value, at) VALUES (?, ?, ?, ?, ?)",
        [
            (visit.id, entry.field, encode(entry.old_value), encode(entry.new_value), entry.at)
            for index, entry in enumerate(content.history) if index not in kept
        ],
    )


def _insert(db, references: References, visits: list[VisitContent], owners: dict[str, str | None]) -> None:
    from at_tui.store.visits import encode

    login = _login(db.conn)

    db["reference_snapshots"].insert_all(
        (
            {"kind": kind, "id": ref_id, "version": version, "content": encode(model.model_dump(mode="json"))}
            for (kind, ref_id, version), model in references.items()
        ),
        ignore=True,
    )
    for content in visits:
        visit = content.visit
        owner = owners.get(visit.id)
        # The AT's own visit coming back (a new laptop, a restored export) is this laptop's to send.
        origin = "local" if owner is not None and owner == login else "import"
        db["visits"].insert({**asdict(visit), "origin": origin, "owner": owner})
        # An answer's time is that of its last change in the history, else the visit's.
        changed_at = {entry.field: entry.at for entry in content.history}
        db["answers"].insert_all(
            {
                "visit_id": visit.id,
                "key": key,
                "value": encode(value),
                "updated_at": changed_at.get(key, visit.updated_at),
            }
            for key, value in content.answers.items()
        )
        # Each answer arrives with its edit session closed: the file's history is complete.
        db["answer_sessions"].insert_all(
            {"visit_id": visit.id, "key": key, "old_value": encode(value)} for key, value in content.answers.items()
        )
        db["history"].insert_all(
            {
                "visit_id": visit.id,
                "field": entry.field,
                "old_value": encode(entry.old_value),
                "new_value": encode(entry.new_value),
                "at": entry.at,
            }
            for entry in content.history
        )
