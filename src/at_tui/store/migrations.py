"""Versioned schema migrations, tracked in PRAGMA user_version.

An older database is backed up (VACUUM INTO) then upgraded in one transaction;
a database written by a newer at-tui is refused and left untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from at_tui.domain.visit import IDENTITY_FIELDS
from at_tui.store.db import StoreError, connect, immediate

# Consecutive edits of one field within this window are one history entry.
HISTORY_MERGE_SECONDS = 120


def _v1_core(conn: sqlite3.Connection) -> None:
    for statement in (
        """CREATE TABLE visits (
            id TEXT PRIMARY KEY,
            structure TEXT NOT NULL,
            departement TEXT NOT NULL,
            typologie TEXT NOT NULL,
            contact_name TEXT NOT NULL DEFAULT '',
            contact_role TEXT NOT NULL DEFAULT '',
            visit_date TEXT NOT NULL,
            maillage INTEGER NOT NULL DEFAULT 0 CHECK (maillage IN (0, 1)),
            playbook_id TEXT NOT NULL,
            playbook_version INTEGER NOT NULL,
            questionnaire_id TEXT NOT NULL,
            questionnaire_version INTEGER NOT NULL,
            current_step TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'en_cours' CHECK (status IN ('en_cours', 'terminee')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            override_offer TEXT,
            override_justification TEXT
        )""",
        """CREATE TABLE answers (
            visit_id TEXT NOT NULL REFERENCES visits(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (visit_id, key)
        )""",  # a rowid table: long notes overflow badly in WITHOUT ROWID rows
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            visit_id TEXT NOT NULL REFERENCES visits(id),
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX history_by_visit ON history(visit_id, id)",
    ):
        conn.execute(statement)


def _v2_snapshots(conn: sqlite3.Connection) -> None:
    # Visits keep opening after the bundled playbook changes: the version they
    # started with is kept here.
    conn.execute(
        """CREATE TABLE reference_snapshots (
            kind TEXT NOT NULL CHECK (kind IN ('playbook', 'questionnaire')),
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            content TEXT NOT NULL,
            PRIMARY KEY (kind, id, version)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX visits_by_update ON visits(status, updated_at)")


def _v3_history_triggers(conn: sqlite3.Connection) -> None:
    """History written by SQLite itself, so saving an answer is one statement from Python.

    (Trigger bodies avoid INSERT OR REPLACE: the upsert that fires them would
    override that conflict clause.)

    Answers are saved on every keystroke. An answer's open edit session lives in
    `answer_sessions` (the value before it); typing rewrites only the answer row.
    When the field changes again after HISTORY_MERGE_SECONDS of quiet, a trigger
    closes the session into `history` and opens the next. Visit-level changes go
    through `history_log`, which extends the last entry of the same field within
    that window. `history_pause` holds a row only inside an import transaction,
    which brings its own history.
    """
    slack = HISTORY_MERGE_SECONDS - 0.001  # absorbs julianday's floating-point rounding
    statements = [
        """CREATE TABLE answer_sessions (
            visit_id TEXT NOT NULL,
            key TEXT NOT NULL,
            old_value TEXT NOT NULL,
            PRIMARY KEY (visit_id, key),
            FOREIGN KEY (visit_id, key) REFERENCES answers (visit_id, key) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        "INSERT INTO answer_sessions (visit_id, key, old_value) SELECT visit_id, key, value FROM answers",
        "CREATE TABLE history_pause (reason TEXT NOT NULL)",
        """CREATE VIEW history_log AS
           SELECT visit_id, field, old_value, new_value, at, 1 AS merge FROM history""",
        f"""CREATE TRIGGER history_log_insert INSTEAD OF INSERT ON history_log BEGIN
             UPDATE history SET new_value = NEW.new_value, at = NEW.at
              WHERE NEW.merge
                AND id = (SELECT max(id) FROM history WHERE visit_id = NEW.visit_id)
                AND field = NEW.field
                AND (julianday(NEW.at) - julianday(at)) * 86400.0 < {slack};
             INSERT INTO history (visit_id, field, old_value, new_value, at)
               SELECT NEW.visit_id, NEW.field, NEW.old_value, NEW.new_value, NEW.at WHERE changes() = 0;
           END""",
        """CREATE TRIGGER answer_session_opened AFTER INSERT ON answers
           WHEN NOT EXISTS (SELECT 1 FROM history_pause) BEGIN
             INSERT INTO answer_sessions (visit_id, key, old_value) VALUES (NEW.visit_id, NEW.key, 'null');
           END""",
        f"""CREATE TRIGGER answer_session_closed AFTER UPDATE OF value ON answers
           WHEN (julianday(NEW.updated_at) - julianday(OLD.updated_at)) * 86400.0 >= {slack}
                AND NOT EXISTS (SELECT 1 FROM history_pause) BEGIN
             INSERT INTO history (visit_id, field, old_value, new_value, at)
               SELECT OLD.visit_id, OLD.key, old_value, OLD.value, OLD.updated_at FROM answer_sessions
                WHERE visit_id = OLD.visit_id AND key = OLD.key AND old_value IS NOT OLD.value;
             UPDATE answer_sessions SET old_value = OLD.value WHERE visit_id = OLD.visit_id AND key = OLD.key;
           END""",
        """CREATE TRIGGER visit_created AFTER INSERT ON visits
           WHEN NOT EXISTS (SELECT 1 FROM history_pause) BEGIN
             INSERT INTO history_log (visit_id, field, old_value, new_value, at, merge)
               VALUES (NEW.id, 'visite', 'null', '"créée"', NEW.created_at, 0);
           END""",
    ]
    for statement in statements:
        conn.execute(statement)
    _create_visit_updated_trigger(conn, _V3_IDENTITY_COLUMNS)


# The identity columns as schema v3 knew them; later versions recreate the trigger.
_V3_IDENTITY_COLUMNS = (
    "structure", "departement", "typologie", "contact_name", "contact_role", "visit_date", "maillage",
)


def _create_visit_updated_trigger(conn: sqlite3.Connection, identity_columns: tuple[str, ...]) -> None:
    """History of visit-level changes: one entry per changed identity field, status or override."""
    changes = [
        (column, _json(column, "OLD"), _json(column, "NEW"), 1)
        for column in identity_columns
    ]
    changes.append(("statut", "json_quote(OLD.status)", "json_quote(NEW.status)", 0))
    override = (
        "CASE WHEN {0}.override_offer IS NULL THEN 'null' ELSE json_object("
        "'offer', {0}.override_offer, 'justification', {0}.override_justification) END"
    )
    changes.append(("classification_forcee", override.format("OLD"), override.format("NEW"), 0))
    body = "\n".join(
        f"""INSERT INTO history_log (visit_id, field, old_value, new_value, at, merge)
              SELECT NEW.id, '{field}', {old}, {new}, NEW.updated_at, {merge} WHERE {old} IS NOT {new};"""
        for field, old, new, merge in changes
    )
    columns = ", ".join(identity_columns + ("status", "override_offer", "override_justification"))
    conn.execute(
        f"""CREATE TRIGGER visit_updated AFTER UPDATE OF {columns} ON visits
            WHEN NOT EXISTS (SELECT 1 FROM history_pause) BEGIN
              {body}
            END"""
    )


def _json(column: str, row: str) -> str:
    if column == "maillage":
        return f"CASE WHEN {row}.maillage THEN 'true' ELSE 'false' END"
    return f"json_quote({row}.{column})"


def _v4_structures(conn: sqlite3.Connection) -> None:
    """Structures imported from the public FINESS extract (at_tui.importers.structures_store).

    The word index is contentless: its rowid is structures.id, rebuilt at each import.
    """
    for statement in (
        """CREATE TABLE structures (
            id INTEGER PRIMARY KEY,
            finess TEXT NOT NULL UNIQUE,
            finess_ej TEXT,
            name TEXT NOT NULL,
            long_name TEXT,
            departement TEXT NOT NULL,
            commune TEXT,
            postcode TEXT,
            phone TEXT,
            category_code TEXT,
            category_label TEXT,
            typology TEXT,
            imported_at TEXT NOT NULL,
            name_folded TEXT NOT NULL
        )""",
        "CREATE INDEX structures_by_name ON structures(name_folded)",
        """CREATE VIRTUAL TABLE structures_fts USING fts5(
            name_words, long_name_words, place_words, content='', detail='column', prefix='1 2 3'
        )""",
    ):
        conn.execute(statement)


def _v5_directory(conn: sqlite3.Connection) -> None:
    """The contacts directory and the professionals of the Annuaire Santé; commune and FINESS on visits.

    `contacts` is the curated directory, copied from the bundled data files
    (at_tui.store.directory). `professionals` is the public Annuaire Santé extract
    (at_tui.importers.annuaire), replaced whole at each import, its rows numbered in
    `name_folded` order so that FTS5 results (rowid order) come out alphabetically.
    Both word indexes are contentless: their rowid is the row's id.
    """
    for statement in (
        "ALTER TABLE visits ADD COLUMN commune TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE visits ADD COLUMN finess TEXT NOT NULL DEFAULT ''",
        "DROP TRIGGER visit_updated",
        """CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            contact_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            organisation TEXT NOT NULL,
            role TEXT NOT NULL,
            departements TEXT NOT NULL,
            sector TEXT,
            email TEXT,
            phone TEXT,
            url TEXT,
            notes TEXT,
            source TEXT NOT NULL,
            last_checked TEXT NOT NULL
        )""",
        """CREATE VIRTUAL TABLE contacts_fts USING fts5(
            name_words, other_words, content='', prefix='1 2 3'
        )""",
        """CREATE TABLE directory_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE professionals (
            id INTEGER PRIMARY KEY,
            identifier TEXT NOT NULL,
            last_name TEXT NOT NULL,
            first_name TEXT NOT NULL,
            profession TEXT,
            specialty TEXT,
            structure TEXT,
            commune TEXT,
            postcode TEXT,
            phone TEXT,
            email TEXT,
            departement TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            name_folded TEXT NOT NULL
        )""",
        "CREATE INDEX professionals_by_name ON professionals(name_folded)",
        "CREATE INDEX professionals_by_departement ON professionals(departement, name_folded)",
        "CREATE INDEX professionals_by_identifier ON professionals(identifier)",
        """CREATE VIRTUAL TABLE professionals_fts USING fts5(
            name_words, other_words, departement_words, content='', detail='column', prefix='1 2 3'
        )""",
    ):
        conn.execute(statement)
    _create_visit_updated_trigger(conn, IDENTITY_FIELDS)


def _v6_outbox(conn: sqlite3.Connection) -> None:
    """The sync outbox (docs/sync-protocol.md), fed by triggers in the transaction of each change.

    Any change to a visit or its answers leaves exactly one `pending` operation for
    that visit: created by the first change, later changes find it there. Its payload
    and base revision are fixed when it is first sent (state `sent`); a change after
    that opens the next pending operation. `sync_pause` holds a row only inside the
    transaction that applies what a pull brought, which must not be sent back.
    `sync_visits` keeps, per visit, the central revision the local copy is based on,
    the CM's follow-up, and the central copy a pull could not apply; `sync_state` the
    pull cursors and the time of the last successful sync.
    """
    op_id = (
        "lower(substr(hex(randomblob(4)), 1) || '-' || substr(hex(randomblob(2)), 1) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    )
    statements = [
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            op_id TEXT NOT NULL UNIQUE,
            visit_id TEXT NOT NULL REFERENCES visits(id),
            kind TEXT NOT NULL DEFAULT 'content' CHECK (kind IN ('content', 'followup')),
            base_rev INTEGER,
            payload TEXT,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'done', 'conflict', 'resolved', 'rejected')),
            result TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX outbox_one_pending ON outbox(visit_id) WHERE state = 'pending'",
        "CREATE INDEX outbox_by_state ON outbox(state, seq)",
        """CREATE TABLE sync_visits (
            visit_id TEXT PRIMARY KEY REFERENCES visits(id),
            rev INTEGER NOT NULL DEFAULT 0,
            owner TEXT,
            followup TEXT,
            central_copy TEXT,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE TABLE sync_pause (reason TEXT NOT NULL)",
        # Visits that existed before: each gets its first operation (never sent yet).
        f"""INSERT INTO outbox (op_id, visit_id, created_at, updated_at)
            SELECT {op_id}, id, updated_at, updated_at FROM visits""",
    ]
    enqueue = (
        "INSERT INTO outbox (op_id, visit_id, created_at, updated_at) "
        f"SELECT {op_id}, NEW.{{column}}, strftime('%Y-%m-%dT%H:%M:%f+00:00'), strftime('%Y-%m-%dT%H:%M:%f+00:00') "
        "WHERE NOT EXISTS (SELECT 1 FROM sync_pause) "
        "AND NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = NEW.{column} AND state = 'pending');"
    )
    for name, event, table, column in (
        ("outbox_visit_created", "INSERT", "visits", "id"),
        ("outbox_visit_changed", "UPDATE", "visits", "id"),
        ("outbox_answer_created", "INSERT", "answers", "visit_id"),
        ("outbox_answer_changed", "UPDATE", "answers", "visit_id"),
    ):
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {enqueue.format(column=column)} END"
        )
    statements.append(
        "CREATE TRIGGER outbox_answer_deleted AFTER DELETE ON answers BEGIN "
        + enqueue.replace("NEW.", "OLD.").format(column="visit_id") + " END"
    )
    for statement in statements:
        conn.execute(statement)


def _v7_pulled_reference(conn: sqlite3.Connection) -> None:
    """Reference items pulled from the central (contacts, argumentaire, playbooks): at_tui.store.pulled_reference.

    A tombstone has `deleted` = 1 and no content. `stale` is only ever set during a full
    resync: rows not listed again by the time it completes are then forgotten.
    A rowid table: argumentaire sheets are long.
    """
    conn.execute(
        """CREATE TABLE pulled_reference (
            dataset TEXT NOT NULL,
            key TEXT NOT NULL,
            content TEXT,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
            received_at TEXT NOT NULL,
            stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
            PRIMARY KEY (dataset, key),
            CHECK ((deleted = 1) = (content IS NULL))
        )"""
    )
    # Finding what a completed resync must forget, without scanning 200,000 contacts each pull.
    conn.execute("CREATE INDEX pulled_reference_stale ON pulled_reference(dataset) WHERE stale = 1")


def _v8_origin_and_quarantine(conn: sqlite3.Connection) -> None:
    """Who a visit belongs to, what a sync operation is based on, and the values set aside.

    `visits.origin` is 'import' for a visit received by file (`at-tui import`) and
    `visits.owner` the AT the file names: such a visit belongs to another laptop's AT, so
    the outbox triggers leave it out (docs/sync-protocol.md, « Visites reçues par
    fichier »). `sync_visits.base_content` is the content at `rev`, what the next
    operation is based on: a conflict whose central content still equals it (a CM
    changed only the follow-up) is re-sent on the new revision. `sync_visits.quarantine`
    says in French why the central copy (kept in `central_copy`) could not be taken.
    `repaired_values` keeps every stored timestamp or date this migration had to replace
    (out of range: the app could not show it): nothing is lost.
    """
    op_id = (
        "lower(substr(hex(randomblob(4)), 1) || '-' || substr(hex(randomblob(2)), 1) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    )
    statements = [
        "ALTER TABLE visits ADD COLUMN origin TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'import'))",
        "ALTER TABLE visits ADD COLUMN owner TEXT",
        "ALTER TABLE sync_visits ADD COLUMN base_content TEXT",
        "ALTER TABLE sync_visits ADD COLUMN quarantine TEXT",
        """CREATE TABLE repaired_values (
            id INTEGER PRIMARY KEY,
            table_name TEXT NOT NULL,
            row_key TEXT NOT NULL,
            column_name TEXT NOT NULL,
            original TEXT,
            replaced_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            repaired_at TEXT NOT NULL
        )""",
        # What the visits already synced are based on: the content of their last acknowledged push.
        """UPDATE sync_visits SET base_content = (
               SELECT o.payload FROM outbox o
                WHERE o.visit_id = sync_visits.visit_id AND o.state = 'done' AND o.payload IS NOT NULL
                  AND json_valid(o.result) AND json_extract(o.result, '$.rev') = sync_visits.rev
                ORDER BY o.seq DESC LIMIT 1)""",
    ]
    enqueue = (
        "INSERT INTO outbox (op_id, visit_id, created_at, updated_at) "
        f"SELECT {op_id}, NEW.{{column}}, strftime('%Y-%m-%dT%H:%M:%f+00:00'), strftime('%Y-%m-%dT%H:%M:%f+00:00') "
        "WHERE NOT EXISTS (SELECT 1 FROM sync_pause) "
        "AND NOT EXISTS (SELECT 1 FROM visits WHERE id = NEW.{column} AND origin = 'import') "
        "AND NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = NEW.{column} AND state = 'pending');"
    )
    for name, event, table, column in (
        ("outbox_visit_created", "INSERT", "visits", "id"),
        ("outbox_visit_changed", "UPDATE", "visits", "id"),
        ("outbox_answer_created", "INSERT", "answers", "visit_id"),
        ("outbox_answer_changed", "UPDATE", "answers", "visit_id"),
    ):
        statements.append(f"DROP TRIGGER {name}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {enqueue.format(column=column)} END"
        )
    statements.append("DROP TRIGGER outbox_answer_deleted")
    statements.append(
        "CREATE TRIGGER outbox_answer_deleted AFTER DELETE ON answers BEGIN "
        + enqueue.replace("NEW.", "OLD.").format(column="visit_id") + " END"
    )
    for statement in statements:
        conn.execute(statement)
    repair_stored_moments(conn)


def _v9_archive(conn: sqlite3.Connection) -> None:
    """`visits.archived_at`: when the AT archived the visit (NULL: shown on the Accueil).

    Archiving is the AT's housekeeping on this laptop, not the visit's content: it writes no
    history (`visit_updated` only watches the content columns), no sync operation (the
    outbox trigger below ignores an update that only archives or restores), and the export
    and sync content leave it out (docs/visit-format.md, « Visites archivées »). A pending
    operation of an archived visit the central has never received waits in the outbox
    (at_tui.sync.outbox.HELD_SQL) and leaves once the visit is restored.
    """
    op_id = (
        "lower(substr(hex(randomblob(4)), 1) || '-' || substr(hex(randomblob(2)), 1) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    )
    for statement in (
        "ALTER TABLE visits ADD COLUMN archived_at TEXT",
        "DROP TRIGGER outbox_visit_changed",
        f"""CREATE TRIGGER outbox_visit_changed AFTER UPDATE ON visits
            WHEN OLD.archived_at IS NEW.archived_at BEGIN
              INSERT INTO outbox (op_id, visit_id, created_at, updated_at)
              SELECT {op_id}, NEW.id, strftime('%Y-%m-%dT%H:%M:%f+00:00'), strftime('%Y-%m-%dT%H:%M:%f+00:00')
               WHERE NOT EXISTS (SELECT 1 FROM sync_pause)
                 AND NEW.origin <> 'import'
                 AND NOT EXISTS (SELECT 1 FROM outbox WHERE visit_id = NEW.id AND state = 'pending');
            END""",
    ):
        conn.execute(statement)


def _v10_opportunities(conn: sqlite3.Connection) -> None:
    """The opportunity a finished visit opens, its append-only journal, and what is due.

    `opportunities.id` is the visit's id (one opportunity per visit). `journal` rows are
    never updated nor deleted: a correction is a new row whose `supersedes` names the old
    one. `due_items` is what « À faire » reads in one indexed query, rewritten with each
    change of its opportunity (at_tui.store.opportunities)."""
    for statement in (
        """CREATE TABLE opportunities (
            id TEXT PRIMARY KEY REFERENCES visits(id),
            playbook_id TEXT NOT NULL,
            playbook_version INTEGER NOT NULL,
            offer TEXT NOT NULL,
            lead TEXT NOT NULL,
            support TEXT,
            status TEXT NOT NULL,
            status_reason TEXT,
            at_login TEXT,
            cm_login TEXT,
            visit_date TEXT,
            launch_date TEXT,
            deployment_end TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX opportunities_by_status ON opportunities (status)",
        """CREATE TABLE journal (
            id TEXT PRIMARY KEY,
            opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
            activity TEXT NOT NULL,
            type TEXT NOT NULL,
            title TEXT NOT NULL,
            day TEXT NOT NULL,
            author TEXT,
            role TEXT,
            text TEXT NOT NULL DEFAULT '',
            answers TEXT NOT NULL DEFAULT '{}',
            supersedes TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX journal_by_opportunity ON journal (opportunity_id, day)",
        """CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal BEGIN
             SELECT RAISE(ABORT, 'journal en ajout seul');
           END""",
        """CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal BEGIN
             SELECT RAISE(ABORT, 'journal en ajout seul');
           END""",
        # What the list shows is copied in (structure, département, status), so that reading
        # it joins nothing; the visit's identity follows by trigger when the AT edits it.
        """CREATE TABLE due_items (
            opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
            activity TEXT NOT NULL,
            title TEXT NOT NULL,
            due TEXT,
            lead TEXT NOT NULL,
            structure TEXT NOT NULL,
            departement TEXT NOT NULL,
            status TEXT NOT NULL,
            PRIMARY KEY (opportunity_id, activity)
        ) WITHOUT ROWID""",
        "CREATE INDEX due_items_by_date ON due_items (due IS NULL, due)",
        """CREATE TRIGGER due_items_follow_identity AFTER UPDATE OF structure, departement ON visits BEGIN
             UPDATE due_items SET structure = NEW.structure, departement = NEW.departement
              WHERE opportunity_id = NEW.id;
           END""",
        "CREATE INDEX visits_archived ON visits (archived_at) WHERE archived_at IS NOT NULL",
        # Finished visits looked at that opened no opportunity (none detected, answers to settle),
        # as they were then: looked at again only once they change (start-up stays flat).
        """CREATE TABLE opportunity_scan (
            visit_id TEXT PRIMARY KEY REFERENCES visits(id),
            visit_updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        # The actions of steps 4 to 7 ticked off (the variant's checklist), like a visit's checks.
        """CREATE TABLE opportunity_checks (
            opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
            key TEXT NOT NULL,
            done INTEGER NOT NULL,
            author TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (opportunity_id, key)
        ) WITHOUT ROWID""",
    ):
        conn.execute(statement)


def _v11_opportunity_sync(conn: sqlite3.Connection) -> None:
    """The opportunity through the central (docs/sync-protocol.md, issue 11 §3): its own outbox.

    `opportunity_outbox` works like `outbox` (one `pending` operation per visit, its payload
    fixed when sent — at_tui.sync.opportunity_outbox), fed by triggers on `opportunities`
    and `journal` in the transaction of each change: only for a visit made on this laptop,
    or on a CM's laptop (sync_state « role » = 'cm': the CM writes the lifecycle of the
    visits she pulled), never for what a pull writes (`sync_pause`). `sync_opportunities`
    keeps the fields as the central last gave them (`base`, what the next operation is
    based on) and, for a conflict, the central copy and the conflicting field names.
    `journal_synced` lists the journal entries the central holds (never sent again).
    Every opportunity of a visit made here gets its first operation.
    """
    op_id = (
        "lower(substr(hex(randomblob(4)), 1) || '-' || substr(hex(randomblob(2)), 1) || '-4' || "
        "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    )
    now = "strftime('%Y-%m-%dT%H:%M:%f+00:00')"
    fields = ("playbook_id", "playbook_version", "offer", "lead", "support", "status", "status_reason",
              "at_login", "cm_login", "visit_date", "launch_date", "deployment_end")
    statements = [
        """CREATE TABLE opportunity_outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL UNIQUE,
            visit_id TEXT NOT NULL REFERENCES visits(id),
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'done', 'conflict', 'resolved', 'rejected')),
            payload TEXT,
            result TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX opportunity_outbox_one_pending ON opportunity_outbox(visit_id) WHERE state = 'pending'",
        "CREATE INDEX opportunity_outbox_by_state ON opportunity_outbox(state, seq)",
        # A pull asks, for each visit it brings, whether an operation of it waits.
        "CREATE INDEX opportunity_outbox_by_visit ON opportunity_outbox(visit_id, state)",
        """CREATE TABLE sync_opportunities (
            visit_id TEXT PRIMARY KEY REFERENCES visits(id),
            base TEXT,
            central_copy TEXT,
            conflict_fields TEXT,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE journal_synced (
            entry_id TEXT PRIMARY KEY REFERENCES journal(id),
            visit_id TEXT NOT NULL
        ) WITHOUT ROWID""",
        f"""INSERT INTO opportunity_outbox (op_id, visit_id, created_at, updated_at)
            SELECT {op_id}, o.id, {now}, {now} FROM opportunities o JOIN visits v ON v.id = o.id
             WHERE v.origin = 'local' ORDER BY o.created_at, o.id""",
    ]
    enqueue = (
        f"INSERT INTO opportunity_outbox (op_id, visit_id, created_at, updated_at) SELECT {op_id}, {{id}}, {now}, {now} "
        "WHERE NOT EXISTS (SELECT 1 FROM sync_pause) "
        "AND (EXISTS (SELECT 1 FROM visits WHERE id = {id} AND origin = 'local') "
        "     OR EXISTS (SELECT 1 FROM sync_state WHERE key = 'role' AND value = 'cm')) "
        "AND NOT EXISTS (SELECT 1 FROM opportunity_outbox WHERE visit_id = {id} AND state = 'pending');"
    )
    changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in fields)
    statements += [
        f"CREATE TRIGGER opportunity_outbox_created AFTER INSERT ON opportunities BEGIN "
        f"{enqueue.format(id='NEW.id')} END",
        f"CREATE TRIGGER opportunity_outbox_changed AFTER UPDATE ON opportunities WHEN {changed} BEGIN "
        f"{enqueue.format(id='NEW.id')} END",
        f"CREATE TRIGGER opportunity_outbox_entry AFTER INSERT ON journal BEGIN "
        f"{enqueue.format(id='NEW.opportunity_id')} END",
    ]
    for statement in statements:
        conn.execute(statement)


def _v12_export_marks(conn: sqlite3.Connection) -> None:
    """When each kind of file was last exported from this laptop (issue 12 §2).

    `at-tui export --format crm --depuis dernier` sends the CRM only what changed since the
    last successful CRM import file made here (at_tui.store.export_marks): one row per kind
    of export, the time (UTC ISO) its reading began and the journal's last rowid it saw (an
    entry pulled later keeps the time it was written elsewhere, maybe earlier: its rowid says
    it arrived after). Kept on the laptop, never synced: each laptop's files are its own.
    """
    conn.execute(
        """CREATE TABLE export_marks (
            kind TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            journal_seq INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID"""
    )


def _v13_restore_check(conn: sqlite3.Connection) -> None:
    """What a laptop needs to put back what a restored central lost (issue 13 §4).

    `sync_opportunities.central_updated_at` is the central's `updated_at` of the opportunity
    as last acknowledged or pulled here: after a restore, a central copy older than it lost
    writes this laptop had sent. `sync_restore` lists the visits still to compare with the
    restored central (filled when a pull is refused with 410, emptied as the full re-pull
    brings each one; those left when it ends are missing from the central):
    at_tui.sync.restore.
    """
    conn.execute("ALTER TABLE sync_opportunities ADD COLUMN central_updated_at TEXT")
    conn.execute(
        """CREATE TABLE sync_restore (
            visit_id TEXT PRIMARY KEY REFERENCES visits(id),
            started_at TEXT NOT NULL
        ) WITHOUT ROWID"""
    )


def repair_stored_moments(conn: sqlite3.Connection) -> int:
    """Replace every stored timestamp or date the app cannot show (year 9999, year 1 at +14:00,
    garbage) by the time of the repair; the original is kept in `repaired_values`.

    A database that took such a value before the boundaries checked them (an import, a
    pull) made the app die at every start. Not queued for the central (`sync_pause`): the
    value came from outside. Returns how many values were replaced."""
    from at_tui.domain.moments import date_problem, timestamp_problem

    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    today = now[:10]
    found: list[tuple[str, str, str, str | None, str, str]] = []
    checks = (
        ("visits", "id", ("created_at", "updated_at", "finished_at"), timestamp_problem),
        ("visits", "id", ("visit_date",), date_problem),
        ("answers", "rowid", ("updated_at",), timestamp_problem),
        ("history", "id", ("at",), timestamp_problem),
    )
    for table, key, columns, problem_of in checks:
        for column in columns:
            for row_key, value in conn.execute(f"SELECT {key}, {column} FROM {table}"):
                if value is None and column == "finished_at":
                    continue
                problem = problem_of(value)
                if problem is not None:
                    found.append((table, str(row_key), column, value, today if column == "visit_date" else now,
                                  problem))
    if not found:
        return 0
    conn.execute("INSERT INTO sync_pause (reason) VALUES ('valeurs réparées')")
    try:
        for table, row_key, column, original, replacement, reason in found:
            key = "id" if table != "answers" else "rowid"
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (replacement, row_key))
            conn.execute(
                "INSERT INTO repaired_values (table_name, row_key, column_name, original, replaced_by, reason, "
                "repaired_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (table, row_key, column, None if original is None else str(original), replacement, reason, now),
            )
    finally:
        conn.execute("DELETE FROM sync_pause WHERE reason = 'valeurs réparées'")
    return len(found)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_core,
    _v2_snapshots,
    _v3_history_triggers,
    _v4_structures,
    _v5_directory,
    _v6_outbox,
    _v7_pulled_reference,
    _v8_origin_and_quarantine,
    _v9_archive,
    _v10_opportunities,
    _v11_opportunity_sync,
    _v12_export_marks,
    _v13_restore_check,
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def open_database(
    path: Path | str, migrations: tuple[Callable[[sqlite3.Connection], None], ...] = MIGRATIONS
) -> sqlite3.Connection:
    """Open, refuse a newer schema, back up and upgrade an older one."""
    path = Path(path)
    target = len(migrations)
    _refuse_newer(path, target)
    try:
        conn = connect(path)
    except sqlite3.Error as error:
        raise StoreError(_unopenable(path, error)) from None
    try:
        current = schema_version(conn)
        if current == target:
            return conn
        if current > 0:
            backup(conn, path, f"avant-migration-v{current}")
    except (sqlite3.Error, OSError) as error:
        conn.close()
        raise StoreError(_unopenable(path, error)) from None
    try:
        with immediate(conn):
            # Re-read inside the lock: another process may have migrated meanwhile.
            current = schema_version(conn)
            for number in range(current + 1, target + 1):
                migrations[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
    except sqlite3.Error as error:
        conn.close()
        from at_tui.domain.redaction import safe
        from at_tui.store.errors import cause

        raise StoreError(
            f"La mise à jour de la base (schéma v{current} vers v{target}) a échoué : {cause(error)} "
            f"({safe(error, limit=300)}). La base est restée dans son état précédent."
        ) from None
    return conn


def _refuse_newer(path: Path, known: int) -> None:
    """Check the schema version without writing anything, not even a -wal or -shm file."""
    if not path.exists():
        return
    found = _stored_version(path)
    if found == 0:
        _refuse_foreign(path)
    if found > known:
        raise StoreError(
            f"La base {path} a été écrite par une version plus récente d'at-tui "
            f"(schéma v{found} ; cette version connaît jusqu'à v{known}). "
            "Mettez at-tui à jour : la base n'a pas été modifiée."
        )


def _refuse_foreign(path: Path) -> None:
    """A SQLite file at version 0 that already holds tables is another program's: never migrate it."""
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise StoreError(_unopenable(path, error)) from None
    try:
        tables = [row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 5")]
    except sqlite3.Error as error:
        raise StoreError(_unopenable(path, error)) from None
    finally:
        probe.close()
    if tables:
        raise StoreError(
            f"Le fichier {path} est une base SQLite d'un autre programme, pas une base at-tui : "
            "elle n'a pas été modifiée. Déplacez-la ou choisissez un autre dossier (AT_TUI_HOME)."
        )


def _unopenable(path: Path, error: BaseException) -> str:
    """Why the database cannot be opened, in French, and what the AT can do about it."""
    from at_tui.store.errors import CANT_OPEN, CORRUPT, IO_ERROR, NOT_A_DATABASE, READ_ONLY, cause, explain

    if path.parent.is_dir() and not os.access(path.parent, os.W_OK) and cause(error) in (READ_ONLY, CANT_OPEN):
        # A read-only mount or folder: SQLite only says it "cannot open" (no -wal/-shm possible).
        return (
            f"Ouverture de la base {path} impossible : le dossier {path.parent} est en lecture seule "
            "(disque monté en lecture seule, ou droits d'écriture retirés) ; at-tui doit pouvoir y écrire "
            "(fichiers -wal et -shm de la base). La base n'a pas été modifiée."
        )
    sentence = explain(error, f"Ouverture de la base {path}")
    if cause(error) == IO_ERROR and _nearly_full(path.parent):
        # SQLite reports a full disk met while mapping its -shm file as a mere I/O error.
        sentence += " Le disque est plein : libérez de la place puis relancez."
    elif cause(error) in (CORRUPT, NOT_A_DATABASE):
        sentence += (
            " La base n'a pas été modifiée : remettez une copie de « sauvegardes/ » à sa place, "
            "ou déplacez ce fichier pour repartir d'une base vide."
        )
    return sentence


def _nearly_full(folder: Path) -> bool:
    """Less room left than SQLite needs to open a database (its 32 KiB -shm, a few pages)."""
    try:
        usage = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return usage.f_bavail * usage.f_frsize < 256 * 1024


_HEADER_MAGIC = b"SQLite format 3\x00"


def _stored_version(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # Recent changes may still sit in the WAL: ask SQLite, read-only.
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return schema_version(probe)
        except sqlite3.Error as error:
            raise StoreError(_unopenable(path, error)) from None
        finally:
            probe.close()
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise StoreError(_unopenable(path, error)) from None
    if not header:
        return 0
    if len(header) < 100 or not header.startswith(_HEADER_MAGIC):
        raise StoreError(
            f"Le fichier {path} n'est pas une base at-tui lisible (en-tête SQLite absent) : il n'a pas été modifié. "
            "Remettez une copie de « sauvegardes/ » à sa place, ou déplacez ce fichier pour repartir d'une base vide."
        )
    return int.from_bytes(header[60:64], "big")


def backup(conn: sqlite3.Connection, path: Path, label: str) -> Path:
    """A copy of the database before a risky change; 0600 in a 0700 folder (it names people)."""
    from at_tui.paths import private_dir

    folder = private_dir(path.parent / "sauvegardes")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}-{label}-{stamp}{path.suffix}"
    # Created empty 0600 first: VACUUM INTO then writes into it with these modes kept.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn.execute("VACUUM INTO ?", (str(target),))
    os.chmod(target, 0o600)
    return target
