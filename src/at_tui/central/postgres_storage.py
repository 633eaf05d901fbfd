"""The central store on PostgreSQL (psycopg 3 and its connection pool): the same guarantees as
`sqlite_storage`, for an agency whose IT runs its databases on PostgreSQL.

**Writes.** A push is one transaction (READ COMMITTED) in which an operation that fails is
undone alone (the outcome of a SAVEPOINT per operation, see below). It first takes, in one
statement and in sorted order, a transaction-level advisory lock per op id and visit id of
the request (`pg_advisory_xact_lock(ID_LOCKS, crc32(id))`): two requests on the same visit
or op id run one after the other, and since every request takes its locks in the same global
order, they cannot deadlock on them. The visits are then read `FOR UPDATE`. Round trips are
what a push costs here, so a push is first applied the fast way: its locks, its transaction
id, its ledger entries and its visits in one round trip (`push_reads`), every operation
decided in turn, and its writes grouped into a few statements over `unnest` arrays sent in
pipeline mode, all under one savepoint. Should anything but a collision fail there (a
decider, a constraint, a row not changed), that savepoint is rolled back and the push
applied again the careful way, still under its locks: a savepoint per operation, each
statement checked before the next — so the operations before the failing one are committed
and it alone is undone, as always. What can still collide (the same journal entry id sent
for two visits at once, a lock taken by an operator's own session) ends in a unique
violation, a serialization failure or a deadlock: the whole request is rolled back and
decided again on what is committed then (`decide` is pure given the ledger entry and the
visit), up to `ATTEMPTS` times, then StorageError (503, the laptop re-sends; the ledger
answers `duplicate`). A publication takes `PUBLISH_LOCK`: publications are serialized, as on
SQLite.

**Cursor positions.** A sequence is not in commit order, so a row's position is

    seq = (pg_current_xact_id() << 20) + n

(the 64-bit id of the writing top-level transaction, n = 1, 2, … the rows it writes, < 2^20),
and a read serves only the rows with

    seq < (pg_snapshot_xmin(pg_current_snapshot()) << 20)

in the same statement, so with the same snapshot S as the rows it reads. Proof that a client
never misses a row: let x = xmin(S). (1) Every transaction whose id is below x had ended when
S was taken (PostgreSQL's own invariant: x is the oldest id still running), so S sees every
row such a transaction committed, and none of them can write again. (2) A transaction that
writes later gets an id ≥ the next id at the time of S ≥ x, so every row written later has a
position ≥ x << 20. Hence the set of rows with a position below x << 20 is final when S reads
it: a page served up to position p (p < x << 20) holds every row between the client's cursor
and p, and no row at or below p can appear afterwards. A row rewritten later gets a new,
larger position and is served again (like SQLite). Positions stay unique (one id per
transaction, n per row) and fit a BIGINT (ids below 2^43). The cost: a transaction that has
written and not yet ended — ours, or any other on the same PostgreSQL server, since the
snapshot is the server's — holds back what later transactions wrote until it ends (it delays
a pull, never loses a row); a push, which takes its transaction id as it starts (its writes
are sent together at its end), lasts milliseconds. `last_seq` is `max(seq)` of the
stream's table (it only grows: a rewrite moves a row up).

**Errors.** Every psycopg error (server gone, pool exhausted, unexpected database error)
leaves as StorageError in French (the service answers 503 with Retry-After), reads included,
but a constraint violation that is not a concurrent request's (a bug: it propagates, as
`sqlite3.IntegrityError` does on SQLite). A URL is shown through `backends.display_name`
(never its password).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from at_tui.central import postgres_schema
from at_tui.central.backends import display_name
from at_tui.central.postgres_errors import french_cause
from at_tui.central.push_reads import PushReads
from at_tui.central.storage import (
    DATASETS,
    SCHEMA_VERSION,
    STREAM_REFERENCE,
    STREAM_VISITS,
    CentralVisit,
    Decide,
    Decision,
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

SHIFT = 20
PER_TRANSACTION = 1 << SHIFT
# The position of the n-th row a transaction writes, and the bound of what a read may serve.
POSITION = f"((pg_current_xact_id()::text::bigint << {SHIFT}) + %s)"
SERVABLE = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {SHIFT})"

ID_LOCKS = 0x41544331  # first key of the two-key advisory locks on op and visit ids ("ATC1")
PUBLISH_LOCK = 0x41544331_5055424C  # one 64-bit key: "ATC1" + "PUBL"
ATTEMPTS = 5
RETRYABLE = (errors.UniqueViolation, errors.SerializationFailure, errors.DeadlockDetected)
POOL_SIZE = 10  # connections per service process (FastAPI's thread pool waits for one)
POOL_WAIT = 10.0  # seconds a request waits for a connection before its 503
READY_WAIT = 3.0  # the same for /readyz
CONNECTION: dict[str, Any] = {
    "autocommit": True,  # transactions are explicit: `conn.transaction()`
    "row_factory": dict_row,
    "connect_timeout": 10,
    "application_name": "at-tui central",
}
CLOSED = "La base du service central est fermée."

VISIT_SELECT = (
    "SELECT v.id, v.rev, v.owner, v.content, v.followup, v.updated_at, v.seq, "
    "o.fields AS opportunity_fields, o.updated_at AS opportunity_updated_at, "
    # The journal with the visit, in the same statement (one snapshot), in order.
    "(SELECT string_agg(j.entry, ',' ORDER BY j.day, j.created_at, j.id) FROM opportunity_journal j "
    "WHERE j.visit_id = v.id) AS journal "
    "FROM visits v LEFT JOIN opportunities o ON o.visit_id = v.id"
)
UPSERT_REFERENCE = (
    "INSERT INTO reference_items (dataset, key, content, deleted, updated_at, seq) "
    f"VALUES (%s, %s, %s, %s, %s, {POSITION}) "
    "ON CONFLICT (dataset, key) DO UPDATE SET content = excluded.content, deleted = excluded.deleted, "
    "updated_at = excluded.updated_at, seq = excluded.seq RETURNING seq"
)


class _Retry(Exception):
    """A concurrent request collided with this one: roll it all back and decide again."""


class PostgresStorage:
    """`Storage` on one PostgreSQL database (an empty one is given the schema at open)."""

    kind = "postgresql"

    def __init__(self, url: str, create: bool = True, target: int = SCHEMA_VERSION, pool_size: int = POOL_SIZE) -> None:
        """`create` False: only an existing central database. `target`: the schema version to
        bring it to (lower than the current: tests only). The pool is made at first use."""
        self.url = url
        self.name = display_name(url)
        self.pool_size = pool_size
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        self._closed = False
        try:
            with psycopg.connect(url, **CONNECTION) as conn:
                self.migrated = postgres_schema.upgrade(conn, self.name, create, target)
                self.instance: str = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()["value"]
        except psycopg.Error as error:
            raise StorageError(self._explain(error)) from None

    # Connections ---------------------------------------------------------------------------

    def _explain(self, error: BaseException) -> str:
        reason = french_cause(str(error))
        password = _password(self.url)
        if password:
            reason = reason.replace(password, "***")
        if isinstance(error, psycopg.OperationalError):
            return f"Base PostgreSQL du service central injoignable ({self.name}) : {reason}"
        return f"Erreur de la base PostgreSQL du service central ({self.name}) : {reason}"

    def _get_pool(self) -> ConnectionPool:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._closed:
                    raise StorageError(CLOSED)
                if self._pool is None:
                    self._pool = ConnectionPool(
                        self.url, min_size=1, max_size=self.pool_size, kwargs=CONNECTION, open=True,
                        timeout=POOL_WAIT, check=ConnectionPool.check_connection, name="at-tui-central",
                    )
                pool = self._pool
        return pool

    @contextmanager
    def _connection(self, wait: float | None = None) -> Iterator[psycopg.Connection]:
        """A pooled connection; a psycopg error that leaves becomes a StorageError in French, but a
        constraint violation (a bug, as `sqlite3.IntegrityError` is on SQLite)."""
        wait = POOL_WAIT if wait is None else wait  # read now: the tests shorten it
        if self._closed:
            raise StorageError(CLOSED)
        try:
            with self._get_pool().connection(timeout=wait) as conn:
                yield conn
        except PoolTimeout:
            raise StorageError(
                f"Aucune connexion à la base PostgreSQL du service central ({self.name}) en {wait:.0f} s : "
                "base injoignable ou surchargée."
            ) from None
        except PoolClosed:
            raise StorageError(CLOSED) from None
        except psycopg.IntegrityError:
            raise
        except psycopg.Error as error:
            raise StorageError(self._explain(error)) from None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # Operations ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._connection() as conn:
            return postgres_schema.version(conn)

    def check_ready(self) -> None:
        with self._connection(wait=READY_WAIT) as conn:  # a probe answers before its own timeout
            found = postgres_schema.version(conn)
        if found != SCHEMA_VERSION:
            raise StorageError(
                f"La base du service central ({self.name}) est au schéma v{found}, ce service attend la "
                f"v{SCHEMA_VERSION} : at-tui central migrate --db …, puis redémarrez le service."
            )

    def renew_instance(self) -> str:
        instance = secrets.token_hex(6)
        with self._connection() as conn:
            conn.execute("UPDATE meta SET value = %s WHERE key = 'instance'", (instance,))
        self.instance = instance
        return instance

    # Users and tokens ----------------------------------------------------------------------

    def add_user(self, name: str, role: Role) -> User:
        user = new_user(name, role, now())
        created = self._one(
            "INSERT INTO users (name, role, created_at) VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING name",
            (user.name, user.role, user.created_at),
        )
        if created is None:
            raise StorageError(f"L'utilisateur « {name} » existe déjà.")
        return user

    def get_user(self, name: str) -> User | None:
        row = self._one("SELECT name, role, created_at FROM users WHERE name = %s", (name,))
        return User(row["name"], row["role"], row["created_at"]) if row else None

    def list_users(self) -> list[User]:
        rows = self._all("SELECT name, role, created_at FROM users ORDER BY name")
        return [User(row["name"], row["role"], row["created_at"]) for row in rows]

    def add_token(self, user_name: str, token_hash: str, prefix: str) -> TokenInfo:
        info = TokenInfo(user_name=user_name, prefix=prefix, created_at=now())
        with self._connection() as conn, conn.transaction():
            if not conn.execute("SELECT 1 FROM users WHERE name = %s FOR KEY SHARE", (user_name,)).fetchone():
                raise StorageError(f"Utilisateur « {user_name[:64]} » inconnu.")
            conn.execute(
                "INSERT INTO tokens (hash, user_name, prefix, created_at) VALUES (%s, %s, %s, %s)",
                (token_hash, user_name, prefix, info.created_at),
            )
        return info

    def list_tokens(self, user_name: str) -> list[TokenInfo]:
        rows = self._all(
            "SELECT user_name, prefix, created_at, revoked_at FROM tokens WHERE user_name = %s ORDER BY created_at",
            (user_name,),
        )
        return [TokenInfo(row["user_name"], row["prefix"], row["created_at"], row["revoked_at"]) for row in rows]

    def revoke_tokens(self, user_name: str, prefix: str | None = None) -> int:
        with self._connection() as conn, conn.transaction():
            if not conn.execute("SELECT 1 FROM users WHERE name = %s", (user_name,)).fetchone():
                raise StorageError(f"Utilisateur « {user_name[:64]} » inconnu.")
            sql = "UPDATE tokens SET revoked_at = %s WHERE user_name = %s AND revoked_at IS NULL"
            params: list[Any] = [now(), user_name]
            if prefix is not None:
                sql += " AND starts_with(prefix, %s)"
                params.append(prefix)
            return conn.execute(sql, params).rowcount

    def user_for_token(self, token_hash: str) -> User | None:
        row = self._one(
            "SELECT users.name, users.role, users.created_at FROM tokens JOIN users ON users.name = tokens.user_name "
            "WHERE tokens.hash = %s AND tokens.revoked_at IS NULL",
            (token_hash,),
        )
        return User(row["name"], row["role"], row["created_at"]) if row else None

    # Visits --------------------------------------------------------------------------------

    def get_visit(self, visit_id: str) -> CentralVisit | None:
        row = self._one(VISIT_SELECT + " WHERE v.id = %s", (visit_id,))
        return _visit(row) if row else None

    def visits_since(self, after_seq: int, limit: int, owner: str | None = None) -> Page:
        sql = VISIT_SELECT + f" WHERE v.seq > %s AND v.seq < {SERVABLE}"
        params: list[Any] = [after_seq]
        if owner is not None:
            sql += " AND v.owner = %s"
            params.append(owner)
        sql += " ORDER BY v.seq LIMIT %s"
        params.append(limit + 1)
        found = self._all(sql, params)
        return Page([_visit(row) for row in found[:limit]], more=len(found) > limit)

    def journal_owners(self, entry_ids: Sequence[str]) -> dict[str, str]:
        if not entry_ids:
            return {}
        rows = self._all("SELECT id, visit_id FROM opportunity_journal WHERE id = ANY(%s)", (list(entry_ids),))
        return {row["id"]: row["visit_id"] for row in rows}

    def last_seq(self, stream: str) -> int:
        table = {STREAM_VISITS: "visits", STREAM_REFERENCE: "reference_items"}.get(stream)
        if table is None:
            return 0
        row = self._one(f"SELECT coalesce(max(seq), 0) AS last FROM {table}")
        return int(row["last"]) if row else 0

    def apply_operations(self, operations: Sequence[tuple[str, str, Decide]]) -> list[dict[str, Any]]:
        stamp = now()
        keys = sorted({_lock_key(op_id) for op_id, _, _ in operations} | {_lock_key(v) for _, v, _ in operations})
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._connection() as conn:
                    return _apply_all(conn, operations, keys, stamp)
            except _Retry:
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not a secret
        raise StorageError(
            f"Envoi non enregistré après {ATTEMPTS} essais : d'autres envois modifiaient les mêmes visites "
            "au même moment. Réessayez."
        )

    # Reference data sets -------------------------------------------------------------------

    def put_reference_item(self, dataset: str, key: str, content: Any, deleted: bool = False) -> int:
        if dataset not in DATASETS:
            raise StorageError(f"Jeu de données « {dataset[:60]} » inconnu ({', '.join(DATASETS)}).")
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))
            row = conn.execute(
                UPSERT_REFERENCE, (dataset, key, to_json(None if deleted else content), deleted, now(), 1)
            ).fetchone()
        return int(row["seq"])

    def reference_since(self, dataset: str, after_seq: int, limit: int) -> Page:
        rows = self._all(
            "SELECT dataset, key, content, deleted, seq FROM reference_items "
            f"WHERE dataset = %s AND seq > %s AND seq < {SERVABLE} ORDER BY seq LIMIT %s",
            (dataset, after_seq, limit + 1),
        )
        return Page([reference_item_from_row(row) for row in rows[:limit]], more=len(rows) > limit)

    def put_reference_items(self, decide: Callable[[ReferenceReader], Iterable[ReferenceWrite]]) -> int:
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))  # publications one at a time
            writes = list(decide(lambda dataset: _current_reference_items(conn, dataset)))
            for write in writes:
                if write.dataset not in DATASETS:
                    raise StorageError(f"Jeu de données « {write.dataset[:60]} » inconnu ({', '.join(DATASETS)}).")
            if not writes:
                return 0
            if len(writes) >= PER_TRANSACTION:
                raise StorageError(
                    f"Publication trop grande ({len(writes)} éléments, {PER_TRANSACTION - 1} au plus en une fois)."
                )
            stamp = now()
            with conn.cursor() as cursor:
                cursor.executemany(
                    UPSERT_REFERENCE,
                    [(w.dataset, w.key, to_json(None if w.deleted else w.content), w.deleted, stamp, number)
                     for number, w in enumerate(writes, start=1)],
                )
        return len(writes)


def _password(url: str) -> str | None:
    try:
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(url)
        return parts.password or (parse_qs(parts.query).get("password") or [None])[0]
    except ValueError:
        return None


def _lock_key(text: str) -> int:
    """A stable signed 32-bit key for an id (the same in every process, unlike hash())."""
    value = zlib.crc32(text.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


class _Positions:
    """n of the positions `(xid << 20) + n` a transaction hands out: 1, 2, … in write order
    (a rolled-back savepoint leaves a gap: positions only need to be unique and increasing)."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        if self.n >= PER_TRANSACTION:
            raise StorageError(f"Trop d'écritures dans une seule transaction ({PER_TRANSACTION - 1} au plus).")
        return self.n


def _apply_all(
    conn: psycopg.Connection, operations: Sequence[tuple[str, str, Decide]], keys: list[int], stamp: str
) -> list[dict[str, Any]]:
    """One attempt of a push: _Retry when a concurrent request collided (all rolled back).

    The fast way first (`_apply_pipelined`): the batch's rows read in one round trip, the
    writes sent without waiting for each answer, under one savepoint. If anything in it
    fails but a collision, that savepoint is rolled back and the push is applied again the
    careful way (`_apply_one`: a savepoint per operation, each statement checked before the
    next), inside the same transaction and still under its locks: the operations before the
    failing one are committed, the failing one is undone, the error propagates — the
    outcome of a savepoint per operation, which the fast way has when nothing fails."""
    results: list[dict[str, Any]] = []
    failure: BaseException | None = None
    positions = _Positions()
    try:
        with conn.transaction():
            reads = _read_batch(conn, operations, keys)
            try:
                with conn.transaction():  # SAVEPOINT: the fast way, all or nothing
                    return _apply_pipelined(conn, operations, reads, stamp, positions)
            except (*RETRYABLE, psycopg.OperationalError):
                raise
            except Exception:  # noqa: BLE001, S110 - decided again the careful way, where it propagates
                pass
            for op_id, visit_id, decide in operations:
                try:
                    with conn.transaction():  # SAVEPOINT: a failure undoes this operation only
                        results.append(_apply_one(conn, op_id, visit_id, decide, stamp, positions))
                except (*RETRYABLE, psycopg.OperationalError):
                    raise
                except BaseException as error:  # noqa: BLE001 - the ones before are committed, then it propagates
                    failure = error
                    break
    except RETRYABLE as error:
        raise _Retry from error
    if failure is not None:
        raise failure
    return results


LEDGER_SELECT = "SELECT op_id, user_name, visit_id, fingerprint, status, result FROM operations"


def _read_batch(conn: psycopg.Connection, operations: Sequence[tuple[str, str, Decide]], keys: list[int]) -> PushReads:
    """The request's locks and its transaction id, then its ledger entries and its visits
    (locked FOR UPDATE, in id order), in one round trip."""
    op_ids = sorted({op_id for op_id, _, _ in operations})
    visit_ids = sorted({visit_id for _, visit_id, _ in operations})
    with conn.pipeline():
        if keys:
            conn.execute("SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%b::integer[]) AS k", (ID_LOCKS, keys))
        # The transaction's id, hence its positions, taken now, before any decision: the writes
        # are sent together at the end, but the bound pulls are served below is held back from here.
        conn.execute("SELECT pg_current_xact_id()")
        # Binary arrays (%b): no quoting of each id, as the grouped writes below.
        entries = conn.execute(LEDGER_SELECT + " WHERE op_id = ANY(%b::text[])", (op_ids,))
        visits = conn.execute(
            VISIT_SELECT + " WHERE v.id = ANY(%b::text[]) ORDER BY v.id FOR UPDATE OF v", (visit_ids,)
        )
        entry_rows, visit_rows = entries.fetchall(), visits.fetchall()
    return PushReads(
        {row["op_id"]: ledger_entry_from_row(row) for row in entry_rows},
        {row["id"]: _visit(row) for row in visit_rows},
        lambda op_id: _read_entry(conn, op_id),
        lambda visit_id: _read_visit(conn, visit_id),
    )


def _read_entry(conn: psycopg.Connection, op_id: str) -> LedgerEntry | None:
    row = conn.execute(LEDGER_SELECT + " WHERE op_id = %s", (op_id,)).fetchone()
    return ledger_entry_from_row(row) if row else None


def _read_visit(conn: psycopg.Connection, visit_id: str) -> CentralVisit | None:
    row = conn.execute(VISIT_SELECT + " WHERE v.id = %s FOR UPDATE OF v", (visit_id,)).fetchone()
    return _visit(row) if row else None


XID = "(pg_current_xact_id()::text::bigint << 20)"
BULK_INSERT_VISITS = (
    "INSERT INTO visits (id, rev, owner, content, followup, updated_at, seq) "
    f"SELECT id, rev, owner, content, followup, updated_at, {XID} + n FROM unnest("
    "%b::text[], %b::integer[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bigint[]"
    ") AS t(id, rev, owner, content, followup, updated_at, n)"
)
BULK_UPDATE_VISITS = (
    "UPDATE visits AS v SET rev = t.rev, content = t.content, followup = t.followup, updated_at = t.updated_at, "
    f"seq = {XID} + t.n FROM unnest("
    "%b::text[], %b::integer[], %b::integer[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bigint[]"
    ") AS t(id, expected_rev, rev, owner, content, followup, updated_at, n) "
    "WHERE v.id = t.id AND v.rev = t.expected_rev AND v.owner = t.owner"  # the owner never changes
)
BULK_UPSERT_OPPORTUNITIES = (
    "INSERT INTO opportunities (visit_id, fields, updated_at) "
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) "
    "ON CONFLICT (visit_id) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at"
)
BULK_TOUCH_OPPORTUNITIES = (
    "UPDATE opportunities AS o SET updated_at = t.updated_at FROM unnest(%b::text[], %b::text[]) "
    "AS t(visit_id, updated_at) WHERE o.visit_id = t.visit_id"
)
BULK_INSERT_JOURNAL = (
    "INSERT INTO opportunity_journal (id, visit_id, day, created_at, entry) "
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[])"
)
BULK_MOVE_VISITS = (
    f"UPDATE visits AS v SET seq = {XID} + t.n FROM unnest(%b::text[], %b::bigint[]) AS t(id, n) WHERE v.id = t.id"
)
BULK_INSERT_LEDGER = (
    "INSERT INTO operations (op_id, user_name, visit_id, fingerprint, status, result, recorded_at) "
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])"
)


class _Pending:
    """The writes of consecutive decisions, sent as one statement per kind of write (rows of
    `unnest` arrays: the statements stay the same, prepared once per connection). Two
    decisions touching the same row never share it: `send` comes first."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.inserts: list[tuple] = []
        self.updates: list[tuple] = []
        self.upserts: list[tuple] = []
        self.touches: list[tuple] = []
        self.entries: list[tuple] = []
        self.moves: list[tuple] = []
        self.ledger: list[tuple] = []
        self.rows: set[tuple[str, str]] = set()

    @staticmethod
    def _rows(decision: Decision) -> set[tuple[str, str]]:
        rows = set()
        if decision.write is not None:
            rows.add(("visit", decision.write.id))
        if decision.opportunity is not None:
            rows.add(("visit", decision.opportunity.visit_id))
        if decision.ledger is not None:
            rows.add(("op", decision.ledger.op_id))
        return rows

    def add(
        self, conn: psycopg.Connection, decision: Decision, stamp: str, positions: _Positions, checks: list
    ) -> None:
        """Queue a decision's writes (in the order `_write_decision` makes them, positions too)."""
        rows = self._rows(decision)
        if rows & self.rows:
            self.send(conn, checks)
        self.rows |= rows
        if (write := decision.write) is not None:
            if write.expected_rev == 0:
                self.inserts.append((write.id, write.rev, write.owner, write.content_json, write.followup_json,
                                     write.updated_at, positions.next()))
            else:
                self.updates.append((write.id, write.expected_rev, write.rev, write.owner, write.content_json,
                                     write.followup_json, write.updated_at, positions.next()))
        if (opportunity := decision.opportunity) is not None:
            if opportunity.fields_json is not None:
                self.upserts.append((opportunity.visit_id, opportunity.fields_json, opportunity.updated_at))
            else:
                self.touches.append((opportunity.visit_id, opportunity.updated_at))
            self.entries.extend((entry.id, opportunity.visit_id, entry.day, entry.created_at, entry.entry_json)
                                for entry in opportunity.entries)
            if decision.write is None:
                self.moves.append((opportunity.visit_id, positions.next()))
        if (ledger := decision.ledger) is not None:
            self.ledger.append((ledger.op_id, ledger.user_name, ledger.visit_id, ledger.fingerprint, ledger.status,
                                to_json(ledger.result), stamp))

    def send(self, conn: psycopg.Connection, checks: list) -> None:
        """Queue the statements (pipeline mode); `checks`: (cursor, rows it must change)."""
        for sql, rows, counted in (
            (BULK_INSERT_VISITS, self.inserts, False),
            (BULK_UPDATE_VISITS, self.updates, True),
            (BULK_UPSERT_OPPORTUNITIES, self.upserts, False),
            (BULK_TOUCH_OPPORTUNITIES, self.touches, True),
            (BULK_INSERT_JOURNAL, self.entries, False),
            (BULK_MOVE_VISITS, self.moves, True),
            (BULK_INSERT_LEDGER, self.ledger, False),
        ):
            if rows:
                cursor = conn.execute(sql, [list(column) for column in zip(*rows, strict=True)])
                if counted:
                    checks.append((cursor, len(rows)))
        self._clear()


def _apply_pipelined(
    conn: psycopg.Connection,
    operations: Sequence[tuple[str, str, Decide]],
    reads: PushReads,
    stamp: str,
    positions: _Positions,
) -> list[dict[str, Any]]:
    """Every operation decided on the rows read up front (read again after this push wrote
    them), the writes gathered into a few statements sent in pipeline mode; then every answer
    checked. Raises on the first problem (the caller rolls this attempt back)."""
    results: list[dict[str, Any]] = []
    checks: list[tuple[psycopg.Cursor, int]] = []
    pending = _Pending()
    with conn.pipeline():
        for op_id, visit_id, decide in operations:
            if reads.needs_reading(op_id, visit_id):
                pending.send(conn, checks)  # what it reads again is written first
            decision = decide(reads.entry(op_id), reads.visit(visit_id))
            pending.add(conn, decision, stamp, positions, checks)
            reads.wrote(decision)
            results.append(decision.result)
        pending.send(conn, checks)
    for cursor, expected in checks:  # every answer is in once the pipeline is left
        if cursor.rowcount != expected:
            raise StorageError("Une écriture groupée n'a pas touché les lignes attendues.")
    return results


def _apply_one(
    conn: psycopg.Connection, op_id: str, visit_id: str, decide: Decide, stamp: str, positions: _Positions
) -> dict[str, Any]:
    decision = decide(_read_entry(conn, op_id), _read_visit(conn, visit_id))
    _write_decision(conn, decision, stamp, positions, None)
    return decision.result


def _write_decision(
    conn: psycopg.Connection,
    decision: Decision,
    stamp: str,
    positions: _Positions,
    checks: list[tuple[psycopg.Cursor, str]] | None,
) -> None:
    """The writes of one decision. `checks`: where to leave the statements that must change
    exactly one row (pipeline mode: counted later); None: checked at once."""
    if decision.write is not None:
        _write_visit(conn, decision.write, positions, checks)
    if decision.opportunity is not None:
        _write_opportunity(conn, decision.opportunity, positions if decision.write is None else None, checks)
    if decision.ledger is not None:
        ledger = decision.ledger
        conn.execute(
            "INSERT INTO operations (op_id, user_name, visit_id, fingerprint, status, result, recorded_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (ledger.op_id, ledger.user_name, ledger.visit_id, ledger.fingerprint, ledger.status,
             to_json(ledger.result), stamp),
        )


def _one_row(cursor: psycopg.Cursor, message: str, checks: list[tuple[psycopg.Cursor, str]] | None) -> None:
    """The statement must have changed exactly one row (checked now, or later in pipeline mode)."""
    if checks is not None:
        checks.append((cursor, message))
    elif cursor.rowcount != 1:
        raise StorageError(message)


def _write_visit(
    conn: psycopg.Connection, write: VisitWrite, positions: _Positions, checks: list | None = None
) -> None:
    content, followup = write.content_json, write.followup_json
    if write.expected_rev == 0:
        conn.execute(
            "INSERT INTO visits (id, rev, owner, content, followup, updated_at, seq) "
            f"VALUES (%s, %s, %s, %s, %s, %s, {POSITION})",
            (write.id, write.rev, write.owner, content, followup, write.updated_at, positions.next()),
        )
        return
    # The owner is part of the condition, never of the update: a visit's owner cannot change.
    # The visit is locked FOR UPDATE: only a different owner can leave it unchanged.
    _one_row(
        conn.execute(
            f"UPDATE visits SET rev = %s, content = %s, followup = %s, updated_at = %s, seq = {POSITION} "
            "WHERE id = %s AND rev = %s AND owner = %s",
            (write.rev, content, followup, write.updated_at, positions.next(), write.id, write.expected_rev,
             write.owner),
        ),
        f"La visite {write.id} a changé pendant l'opération (ou son propriétaire n'est pas le même).",
        checks,
    )


def _write_opportunity(
    conn: psycopg.Connection, write: OpportunityWrite, positions: _Positions | None, checks: list | None = None
) -> None:
    """The opportunity's fields and new journal entries; the visit pulled again (new `seq`, when
    `positions` is given), same `rev`. A journal id taken meanwhile by a concurrent push is a
    unique violation: the request is decided again (`apply_operations`)."""
    if write.fields_json is not None:
        conn.execute(
            "INSERT INTO opportunities (visit_id, fields, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (visit_id) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at",
            (write.visit_id, write.fields_json, write.updated_at),
        )
    else:
        _one_row(
            conn.execute("UPDATE opportunities SET updated_at = %s WHERE visit_id = %s",
                         (write.updated_at, write.visit_id)),
            f"La visite {write.visit_id} n'a pas d'opportunité : son journal ne peut pas être complété.",
            checks,
        )
    if write.entries:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO opportunity_journal (id, visit_id, day, created_at, entry) VALUES (%s, %s, %s, %s, %s)",
                [(entry.id, write.visit_id, entry.day, entry.created_at, entry.entry_json) for entry in write.entries],
            )
    if positions is not None:
        _one_row(
            conn.execute(f"UPDATE visits SET seq = {POSITION} WHERE id = %s", (positions.next(), write.visit_id)),
            f"La visite {write.visit_id} est introuvable : son opportunité ne peut pas être écrite.",
            checks,
        )


def _visit(row: dict[str, Any]) -> CentralVisit:
    """A visit row whose `journal` column is its entries joined by commas (one JSON array once bracketed)."""
    journal = json.loads(f"[{row['journal']}]") if row["journal"] is not None else None
    return visit_from_row(row, journal)


def _current_reference_items(conn: psycopg.Connection, dataset: str, chunk: int = 5000) -> Iterator[ReferenceItem]:
    """A data set's items in key order, read by chunks (inside the publication, under its lock)."""
    after, compare = "", ">="  # the first chunk includes an empty key
    while True:
        rows = conn.execute(
            "SELECT dataset, key, content, deleted, seq FROM reference_items "
            f"WHERE dataset = %s AND key {compare} %s ORDER BY key LIMIT %s",
            (dataset, after, chunk),
        ).fetchall()
        compare = ">"
        for row in rows:
            yield reference_item_from_row(row)
        if len(rows) < chunk:
            return
        after = rows[-1]["key"]
