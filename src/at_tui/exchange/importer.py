"""Importing an export: everything is validated first, then written in one transaction.

All the visits of the file are imported, or none. A visit already present with
the same content is left alone (re-importing is harmless); one present with
another content makes the whole import fail.

An imported visit is marked `origin` = 'import', with the `owner` the file names: it
belongs to the AT who made it, so this laptop never pushes it to the central (the outbox
triggers leave it out; docs/sync-protocol.md, « Visites reçues par fichier »). Only when
the file names as owner the login this laptop's own visits have at the central is the
visit taken as this laptop's (`origin` = 'local', queued like one made here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from at_tui.exchange.compare import VisitContent, differences, stored_content
from at_tui.exchange.errors import ExchangeError, ImportReport, refusal, visit_label
from at_tui.exchange.fileio import loads, read_file
from at_tui.exchange.incoming import validate_visit
from at_tui.exchange.references import References, reference_conflicts, validate_references

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    from at_tui.workspace import Workspace


def import_file(workspace: Workspace, path: Path | str) -> ImportReport:
    return import_visits(workspace, read_file(path))


def import_visits(workspace: Workspace, data: bytes | str | dict) -> ImportReport:
    """Import the visits of an export; all or nothing. Raises ExchangeError (French)."""
    from at_tui.exchange.format import validate_envelope

    raw = data if isinstance(data, dict) else loads(data)
    envelope = validate_envelope(raw)

    references, problems = validate_references(envelope)
    incoming: list[tuple[str, VisitContent]] = []
    owners: dict[str, str | None] = {}
    seen: set[str] = set()
    for visit in envelope.visits:
        label = visit_label(visit.identity.structure, visit.id)
        if visit.id in seen:
            problems.append(f"{label} : présente deux fois dans le fichier.")
            continue
        seen.add(visit.id)
        result = validate_visit(workspace, visit, label, references)
        if isinstance(result, list):
            problems.extend(result)
        else:
            incoming.append((label, result))
            owners[visit.id] = visit.owner
    if problems:
        raise refusal(problems)

    report = ImportReport()
    with _immediate(workspace.conn):
        # Checked inside the write lock: another at-tui may have written meanwhile.
        conflicts = reference_conflicts(workspace.visits, references)
        new: list[VisitContent] = []
        for label, content in incoming:
            existing = stored_content(workspace.visits, content.visit.id)
            if existing is None:
                new.append(content)
            elif existing == content:
                report.unchanged.append(content.visit.id)
            else:
                conflicts.append(
                    f"la {label[0].lower()}{label[1:]} existe déjà avec un contenu "
                    f"différent ({', '.join(differences(existing, content))})."
                )
        if conflicts:
            raise refusal(conflicts)
        _write(workspace.conn, references, new, owners)
    report.imported.extend(content.visit.id for content in new)
    return report


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
           owners: dict[str, str | None]) -> None:
    """Insert inside the caller's transaction (sqlite-utils then uses savepoints, never commits)."""
    import sqlite_utils

    from at_tui.store.visits import history_paused

    with history_paused(conn):  # the file brings the visits' own history
        _insert(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False), references, visits,
                owners)


def _insert(db, references: References, visits: list[VisitContent], owners: dict[str, str | None]) -> None:
    from at_tui.store.visits import encode

    row = db.conn.execute("SELECT value FROM sync_state WHERE key = 'login'").fetchone()
    login = row[0] if row else None  # the name the central gives this laptop's AT, once learnt

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
