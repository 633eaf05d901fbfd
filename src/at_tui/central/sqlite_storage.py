"""The central store on SQLite: WAL, synchronous=FULL, every write in a BEGIN IMMEDIATE (a push: one, with a savepoint per operation).

Writers are serialized by SQLite, so the counter incremented inside a write
transaction gives positions in commit order (`postgres_storage` does otherwise:
see `storage.py`). One connection per thread: FastAPI runs the endpoints in a
thread pool. The schema and its versioned steps are in `sqlite_schema`.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from at_tui.central.push_reads import PushReads
from at_tui.central.sqlite_schema import APPLICATION_ID, upgrade, version
from at_tui.central.storage import (
    DATASETS,
    SCHEMA_VERSION,
    STREAM_REFERENCE,
    STREAM_VISITS,
    CentralVisit,
    Decide,
    LedgerEntry,
    OpportunityWrite,
    Page,
    ReferenceItem,
    ReferenceReader,
    ReferenceWrite,
    Role,
    StorageError,
    TokenInfo,
    User,
    VisitWrite,
    ledger_entry_from_row,
    new_user,
    now,
    reference_item_from_row,
    to_json,
    visit_from_row,
)
from at_tui.store.db import connect, immediate

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStorage"]


class SQLiteStorage:
    """`Storage` on one SQLite file (created with its schema when missing or empty)."""

    kind = "sqlite"

    def __init__(self, path: Path | str, create: bool = True, target: int = SCHEMA_VERSION) -> None:
        """`create` False: only an existing central database (not an absent or empty file).
        `target`: the schema version to bring it to (lower than the current: tests only)."""
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writers = FifoLock()
        self._closed = False
        if not create and not self.path.is_file():
            raise StorageError(f"Base du service central introuvable : {self.path} (vérifiez --db). Rien n'a été écrit.")
        _create_private_file(self.path)
        self.migrated = (0, 0)
        self.instance = self._initialise(create, target)

    # Connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StorageError("La base du service central est fermée.")
            try:
                conn = connect(self.path)
            except sqlite3.Error as error:
                raise StorageError(f"Impossible d'ouvrir la base du service central {self.path} : {error}") from None
            with self._lock:
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def _initialise(self, create: bool, target: int) -> str:
        """Schema brought to the current version under the write lock (`sqlite_schema.upgrade`)."""
        conn = self._conn()
        try:
            with immediate(conn):
                self.migrated = upgrade(conn, str(self.path), create, target)
                return conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()[0]
        except sqlite3.DatabaseError as error:
            self.close()
            raise StorageError(f"Impossible d'ouvrir la base du service central {self.path} : {error}") from None
        except StorageError:
            self.close()
            raise

    # Operations ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        try:
            return version(self._conn())
        except sqlite3.Error as error:
            raise StorageError(f"Base du service central {self.path} illisible : {error}") from None

    def check_ready(self) -> None:
        found = self.schema_version()
        if found != SCHEMA_VERSION:
            raise StorageError(
                f"La base du service central {self.path} est au schéma v{found}, ce service attend la "
                f"v{SCHEMA_VERSION} : at-tui central migrate --db …, puis redémarrez le service."
            )

    def renew_instance(self) -> str:
        instance = secrets.token_hex(6)
        conn = self._conn()
        with immediate(conn):
            conn.execute("UPDATE meta SET value = ? WHERE key = 'instance'", (instance,))
        self.instance = instance
        return instance

    # Users and tokens ----------------------------------------------------------------------

    def add_user(self, name: str, role: Role) -> User:
        user = new_user(name, role, now())
        conn = self._conn()
        with immediate(conn):
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise StorageError(f"L'utilisateur « {name} » existe déjà.")
            conn.execute(
                "INSERT INTO users (name, role, created_at) VALUES (?, ?, ?)", (user.name, user.role, user.created_at)
            )
        return user

    def get_user(self, name: str) -> User | None:
        row = self._conn().execute("SELECT name, role, created_at FROM users WHERE name = ?", (name,)).fetchone()
        return User(row["name"], row["role"], row["created_at"]) if row else None

    def list_users(self) -> list[User]:
        rows = self._conn().execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()
        return [User(row["name"], row["role"], row["created_at"]) for row in rows]

    def add_token(self, user_name: str, token_hash: str, prefix: str) -> TokenInfo:
        info = TokenInfo(user_name=user_name, prefix=prefix, created_at=now())
        conn = self._conn()
        with immediate(conn):
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (user_name,)).fetchone():
                raise StorageError(f"Utilisateur « {user_name[:64]} » inconnu.")
            conn.execute(
                "INSERT INTO tokens (hash, user_name, prefix, created_at) VALUES (?, ?, ?, ?)",
                (token_hash, user_name, prefix, info.created_at),
            )
        return info

    def list_tokens(self, user_name: str) -> list[TokenInfo]:
        rows = self._conn().execute(
            "SELECT user_name, prefix, created_at, revoked_at FROM tokens WHERE user_name = ? ORDER BY created_at",
            (user_name,),
        ).fetchall()
        return [TokenInfo(row["user_name"], row["prefix"], row["created_at"], row["revoked_at"]) for row in rows]

    def revoke_tokens(self, user_name: str, prefix: str | None = None) -> int:
        conn = self._conn()
        with immediate(conn):
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (user_name,)).fetchone():
                raise StorageError(f"Utilisateur « {user_name[:64]} » inconnu.")
            sql = "UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL"
            params: list[Any] = [now(), user_name]
            if prefix is not None:
                sql += " AND substr(prefix, 1, ?) = ?"
                params += [len(prefix), prefix]
            return conn.execute(sql, params).rowcount

    def user_for_token(self, token_hash: str) -> User | None:
        row = self._conn().execute(
            "SELECT users.name, users.role, users.created_at FROM tokens JOIN users ON users.name = tokens.user_name "
            "WHERE tokens.hash = ? AND tokens.revoked_at IS NULL",
            (token_hash,),
        ).fetchone()
        return User(row["name"], row["role"], row["created_at"]) if row else None

    # Visits --------------------------------------------------------------------------------

    def get_visit(self, visit_id: str) -> CentralVisit | None:
        return _visit(self._conn(), visit_id)

    def visits_since(self, after_seq: int, limit: int, owner: str | None = None) -> Page:
        sql = VISIT_SELECT + " WHERE visits.seq > ?"
        params: list[Any] = [after_seq]
        if owner is not None:
            sql += " AND visits.owner = ?"
            params.append(owner)
        sql += " ORDER BY visits.seq LIMIT ?"
        params.append(limit + 1)
        conn = self._conn()
        found = conn.execute(sql, params).fetchall()
        rows = found[:limit]
        # The journals of the whole page in one query (index opportunity_journal_visit: in order).
        journals = _journals(conn, [row["id"] for row in rows if row["opportunity_fields"] is not None])
        return Page([visit_from_row(row, journals.get(row["id"])) for row in rows], more=len(found) > limit)

    def journal_owners(self, entry_ids: Sequence[str]) -> dict[str, str]:
        if not entry_ids:
            return {}
        rows = self._conn().execute(
            "SELECT id, visit_id FROM opportunity_journal WHERE id IN (SELECT value FROM json_each(?))",
            (to_json(list(entry_ids)),),
        ).fetchall()
        return {row["id"]: row["visit_id"] for row in rows}

    def last_seq(self, stream: str) -> int:
        row = self._conn().execute("SELECT value FROM counters WHERE name = ?", (stream,)).fetchone()
        return row[0] if row else 0

    def apply_operations(self, operations: Sequence[tuple[str, str, Decide]]) -> list[dict[str, Any]]:
        conn = self._conn()
        results: list[dict[str, Any]] = []
        stamp = now()
        # The push's writers of this process wait their turn here, in arrival order, rather than
        # in SQLite's busy handler (it polls, up to 100 ms apart, in no order: slow and unfair
        # when many laptops push at once). BEGIN IMMEDIATE still guards against other processes.
        with self._writers, immediate(conn):
            reads = _read_batch(conn, operations)
            counter = _Counter(conn, STREAM_VISITS)
            for op_id, visit_id, decide in operations:
                # Each operation in its own nested transaction: a failure undoes that one
                # operation only, and the ones before it are still committed below.
                conn.execute("SAVEPOINT operation")
                try:
                    results.append(_apply_one(conn, op_id, visit_id, decide, stamp, reads, counter))
                except BaseException:
                    conn.execute("ROLLBACK TO operation")
                    conn.execute("RELEASE operation")
                    counter.save()
                    conn.execute("COMMIT")
                    raise
                conn.execute("RELEASE operation")
            counter.save()
        return results

    # Reference data sets -------------------------------------------------------------------

    def put_reference_item(self, dataset: str, key: str, content: Any, deleted: bool = False) -> int:
        if dataset not in DATASETS:
            raise StorageError(f"Jeu de données « {dataset[:60]} » inconnu ({', '.join(DATASETS)}).")
        conn = self._conn()
        with immediate(conn):
            seq = _next_seq(conn, STREAM_REFERENCE)
            conn.execute(
                "INSERT INTO reference_items (dataset, key, content, deleted, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dataset, key) DO UPDATE SET content = excluded.content, deleted = excluded.deleted, "
                "updated_at = excluded.updated_at, seq = excluded.seq",
                (dataset, key, to_json(None if deleted else content), int(deleted), now(), seq),
            )
        return seq

    def reference_since(self, dataset: str, after_seq: int, limit: int) -> Page:
        rows = self._conn().execute(
            "SELECT * FROM reference_items WHERE dataset = ? AND seq > ? ORDER BY seq LIMIT ?",
            (dataset, after_seq, limit + 1),
        ).fetchall()
        items = [
            reference_item_from_row(row)
            for row in rows[:limit]
        ]
        return Page(items, more=len(rows) > limit)

    def put_reference_items(self, decide: Callable[[ReferenceReader], Iterable[ReferenceWrite]]) -> int:
        conn = self._conn()
        with immediate(conn):
            writes = list(decide(lambda dataset: _current_reference_items(conn, dataset)))
            for write in writes:
                if write.dataset not in DATASETS:
                    raise StorageError(f"Jeu de données « {write.dataset[:60]} » inconnu ({', '.join(DATASETS)}).")
            if not writes:
                return 0
            # One counter update for the whole publication: still in commit order (writers are serialized).
            last = conn.execute(
                "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (len(writes), STREAM_REFERENCE)
            ).fetchone()[0]
            first, stamp = last - len(writes) + 1, now()
            conn.executemany(
                "INSERT INTO reference_items (dataset, key, content, deleted, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dataset, key) DO UPDATE SET content = excluded.content, deleted = excluded.deleted, "
                "updated_at = excluded.updated_at, seq = excluded.seq",
                (
                    (w.dataset, w.key, to_json(None if w.deleted else w.content), int(w.deleted), stamp, first + number)
                    for number, w in enumerate(writes)
                ),
            )
        return len(writes)


def _create_private_file(path: Path) -> None:
    """A new database file readable by its owner only (SQLite gives the -wal and -shm files the same mode)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StorageError(f"Impossible de créer la base du service central {path} : {error.strerror}") from None
    os.close(fd)


def _current_reference_items(conn: sqlite3.Connection, dataset: str, chunk: int = 5000) -> Iterator[ReferenceItem]:
    """A data set's items in key order, read by chunks: no statement stays open across the writes."""
    after, compare = "", ">="  # the first chunk includes an empty key
    while True:
        rows = conn.execute(
            f"SELECT * FROM reference_items WHERE dataset = ? AND key {compare} ? ORDER BY key LIMIT ?", (dataset, after, chunk)
        ).fetchall()
        compare = ">"
        for row in rows:
            yield reference_item_from_row(row)
        if len(rows) < chunk:
            return
        after = rows[-1]["key"]


class FifoLock:
    """A lock handed over in arrival order (`threading.Lock` wakes any waiter): the pushes of
    one process are written one after the other, first come first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        waiter.acquire()  # released by the holder, which hands the lock over to this thread

    def __exit__(self, *_: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class _Counter:
    """A stream's position counter inside a push: read once, written once before the commit
    (the writes are serialized: still in commit order)."""

    def __init__(self, conn: sqlite3.Connection, stream: str) -> None:
        self.conn, self.stream = conn, stream
        self.value = self.saved = conn.execute("SELECT value FROM counters WHERE name = ?", (stream,)).fetchone()[0]

    def next(self) -> int:
        self.value += 1
        return self.value

    def save(self) -> None:
        if self.value != self.saved:
            self.conn.execute("UPDATE counters SET value = ? WHERE name = ?", (self.value, self.stream))
            self.saved = self.value


def _next_seq(conn: sqlite3.Connection, stream: str) -> int:
    # Inside the write transaction: writers are serialized, so positions follow commit order.
    return conn.execute("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", (stream,)).fetchone()[0]


# A visit with its opportunity's fields (NULL when it has none).
VISIT_SELECT = (
    "SELECT visits.*, opportunities.fields AS opportunity_fields, opportunities.updated_at AS opportunity_updated_at "
    "FROM visits LEFT JOIN opportunities ON opportunities.visit_id = visits.id"
)


def _visit(conn: sqlite3.Connection, visit_id: str) -> CentralVisit | None:
    row = conn.execute(VISIT_SELECT + " WHERE visits.id = ?", (visit_id,)).fetchone()
    if row is None:
        return None
    journals = _journals(conn, [visit_id]) if row["opportunity_fields"] is not None else {}
    return visit_from_row(row, journals.get(visit_id))


def _read_batch(conn: sqlite3.Connection, operations: Sequence[tuple[str, str, Decide]]) -> PushReads:
    """The push's ledger entries and visits (with their journals), three queries for the whole
    batch, inside its write transaction."""
    op_ids = to_json(sorted({op_id for op_id, _, _ in operations}))
    visit_ids = to_json(sorted({visit_id for _, visit_id, _ in operations}))
    entries = conn.execute(
        "SELECT * FROM operations WHERE op_id IN (SELECT value FROM json_each(?))", (op_ids,)
    ).fetchall()
    rows = conn.execute(VISIT_SELECT + " WHERE visits.id IN (SELECT value FROM json_each(?))", (visit_ids,)).fetchall()
    journals = _journals(conn, [row["id"] for row in rows if row["opportunity_fields"] is not None])
    return PushReads(
        {row["op_id"]: ledger_entry_from_row(row) for row in entries},
        {row["id"]: visit_from_row(row, journals.get(row["id"])) for row in rows},
        lambda op_id: _read_entry(conn, op_id),
        lambda visit_id: _visit(conn, visit_id),
    )


def _read_entry(conn: sqlite3.Connection, op_id: str) -> LedgerEntry | None:
    row = conn.execute("SELECT * FROM operations WHERE op_id = ?", (op_id,)).fetchone()
    return ledger_entry_from_row(row) if row else None


def _journals(conn: sqlite3.Connection, visit_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The journal of each of these visits, every entry, ordered by day, created_at, id."""
    journals: dict[str, list[dict[str, Any]]] = {}
    if not visit_ids:
        return journals
    rows = conn.execute(
        "SELECT visit_id, entry FROM opportunity_journal WHERE visit_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY visit_id, day, created_at, id",
        (to_json(visit_ids),),
    )
    for visit_id, entry in rows:
        journals.setdefault(visit_id, []).append(json.loads(entry))
    return journals


def _write_opportunity(conn: sqlite3.Connection, write: OpportunityWrite, counter: _Counter | None) -> None:
    """The opportunity's fields and new journal entries; the visit pulled again (new `seq`), same `rev`."""
    if write.fields_json is not None:
        conn.execute(
            "INSERT INTO opportunities (visit_id, fields, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (visit_id) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at",
            (write.visit_id, write.fields_json, write.updated_at),
        )
    elif conn.execute(
        "UPDATE opportunities SET updated_at = ? WHERE visit_id = ?", (write.updated_at, write.visit_id)
    ).rowcount != 1:
        raise StorageError(f"La visite {write.visit_id} n'a pas d'opportunité : son journal ne peut pas être complété.")
    for entry in write.entries:
        try:
            conn.execute(
                "INSERT INTO opportunity_journal (id, visit_id, day, created_at, entry) VALUES (?, ?, ?, ?, ?)",
                (entry.id, write.visit_id, entry.day, entry.created_at, entry.entry_json),
            )
        except sqlite3.IntegrityError:
            # Checked before (operations.apply); only a concurrent push can get here: it is retried.
            raise StorageError(f"L'entrée de journal {entry.id} est déjà enregistrée.") from None
    if counter is not None and conn.execute(
        "UPDATE visits SET seq = ? WHERE id = ?", (counter.next(), write.visit_id)
    ).rowcount != 1:
        raise StorageError(f"La visite {write.visit_id} est introuvable : son opportunité ne peut pas être écrite.")


def _write_visit(conn: sqlite3.Connection, write: VisitWrite, counter: _Counter) -> None:
    seq = counter.next()
    content, followup = write.content_json, write.followup_json
    if write.expected_rev == 0:
        conn.execute(
            "INSERT INTO visits (id, rev, owner, content, followup, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (write.id, write.rev, write.owner, content, followup, write.updated_at, seq),
        )
        return
    # The owner is part of the condition, never of the update: a visit's owner cannot change.
    changed = conn.execute(
        "UPDATE visits SET rev = ?, content = ?, followup = ?, updated_at = ?, seq = ? "
        "WHERE id = ? AND rev = ? AND owner = ?",
        (write.rev, content, followup, write.updated_at, seq, write.id, write.expected_rev, write.owner),
    ).rowcount
    if changed != 1:  # cannot happen while writers are serialized; never write over a newer revision
        raise StorageError(f"La visite {write.id} a changé pendant l'opération (ou son propriétaire n'est pas le même).")


def _apply_one(
    conn: sqlite3.Connection, op_id: str, visit_id: str, decide: Decide, stamp: str, reads: PushReads,
    counter: _Counter,
) -> dict[str, Any]:
    decision = decide(reads.entry(op_id), reads.visit(visit_id))
    if decision.write is not None:
        _write_visit(conn, decision.write, counter)
    if decision.opportunity is not None:
        _write_opportunity(conn, decision.opportunity, counter if decision.write is None else None)
    if decision.ledger is not None:
        ledger = decision.ledger
        conn.execute(
            "INSERT INTO operations (op_id, user_name, visit_id, fingerprint, status, result, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ledger.op_id, ledger.user_name, ledger.visit_id, ledger.fingerprint, ledger.status,
             to_json(ledger.result), stamp),
        )
    reads.wrote(decision)
    return decision.result
