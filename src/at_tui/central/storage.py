"""The storage interface of the central service, and the values that cross it.

The protocol's rules (authorization, validation, revisions: `operations.py`) are
written once, above this interface; a storage only keeps rows and makes the
writes of one operation atomic. Two implementations keep the same guarantees:
`sqlite_storage.SQLiteStorage` (the default, one file) and
`postgres_storage.PostgresStorage` (the agency's PostgreSQL); `backends.open_storage`
chooses from the `--db` value. Both are at schema version `SCHEMA_VERSION`.

* **One operation = one (nested) transaction, one commit per request.**
  `apply_operations` takes the operations of one push in order; for each it reads
  the ledger entry and the visit, calls `decide`, then writes the visit (if any)
  **and** the ledger entry (if any) atomically, seeing the operations before it.
  The whole request is committed once, before any answer leaves (group commit:
  one synchronous disk write for the batch instead of one per operation). If an
  operation fails unexpectedly, it alone is undone, the ones before it are
  committed, and the error propagates (the client resends; the ledger answers
  `duplicate` for those). Two concurrent requests touching the same visit or op
  id are serialized (SQLite: `BEGIN IMMEDIATE`, writers are serialized, and a
  `SAVEPOINT` per operation; PostgreSQL: one transaction with a `SAVEPOINT` per
  operation, transaction-level advisory locks on the request's op and visit ids,
  `SELECT … FOR UPDATE` on the visit, the ledger's primary key on `op_id`, and the
  whole request rolled back and retried on a unique violation, serialization
  failure or deadlock caused by a concurrent request: `decide` is pure given the
  ledger entry and the visit, so a retry decides again on what is committed then).

* **Commit-ordered cursor.** Every write of a visit (or reference item) gives
  the row a new `seq`, and a reader that has seen `seq` = n must never later
  discover a row committed with a `seq` ≤ n. On SQLite the writes are serialized,
  so a counter incremented inside the write transaction is in commit order.
  On PostgreSQL a `SEQUENCE` is **not** (`nextval` is handed out before commit:
  a transaction holding 41 may commit after another holding 42, and a client that
  already read 42 would skip 41 for ever). `PostgresStorage` stamps a row with
  `(pg_current_xact_id() << 20) + n` (its transaction's id, n-th row of that
  transaction) and serves only rows below `pg_snapshot_xmin(pg_current_snapshot()) << 20`,
  in the same statement: the proof is in `postgres_storage`'s docstring and in
  docs/sync-protocol.md (« Curseurs sur PostgreSQL »). Positions fit 19 digits.

* **Owner for ever.** A visit's `owner` is written at its creation only; an update
  whose owner differs from the stored one fails (StorageError) instead of moving it.

* **The opportunity beside the visit.** A visit's opportunity (its fields) and its journal
  (append-only entries, each id once in the whole database) are written by a `Decision`'s
  `opportunity` in the same nested transaction as its ledger entry; such a write gives the
  visit a new `seq` (it is pulled again) and never changes its `rev`.

* **Permanent ledger.** An op id once recorded stays recorded (no expiry): a
  laptop can stay offline for weeks and re-send.

Cursors handed to clients are `"<instance>-<seq>"` (see `format_cursor`): the
instance is a random id made with the database, so a cursor from another (or a
recreated) database is refused (410) instead of silently skipping rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["at", "cm"]
ROLES: tuple[str, ...] = ("at", "cm")
DATASETS: tuple[str, ...] = ("contacts", "argumentaire", "playbooks")
STREAM_VISITS = "visits"
STREAM_REFERENCE = "reference"

# The central's schema version, the same on both backends (each has its own steps to reach it:
# `sqlite_schema`, `postgres_schema`). A database of a newer version is refused, never written.
SCHEMA_VERSION = 3

USER_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # use with fullmatch
_DIGITS = re.compile(r"[0-9]{1,19}")  # PostgreSQL positions: xid << 20


class StorageError(Exception):
    """A storage problem explained in French (for the service's operator)."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: str


@dataclass(frozen=True)
class TokenInfo:
    """What is kept of a device token: never the token, only its hash and a short prefix to name it."""

    user_name: str
    prefix: str
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class CentralOpportunity:
    """The opportunity of a visit (issue 11 §3): its fields (`domain.opportunity_fields`) and
    every journal entry, superseded ones too, ordered by day, created_at, id."""

    fields: dict[str, Any]
    journal: tuple[dict[str, Any], ...]
    updated_at: str

    def public(self, with_journal: bool = True) -> dict[str, Any]:
        """As the protocol shows it; without the journal in a push's answer (kept small)."""
        journal = list(self.journal) if with_journal else []
        return {"fields": self.fields, "journal": journal, "updated_at": self.updated_at}


@dataclass(frozen=True)
class CentralVisit:
    id: str
    rev: int
    owner: str
    content: dict[str, Any]
    followup: dict[str, Any]
    updated_at: str
    seq: int = 0
    opportunity: CentralOpportunity | None = None

    def public(self) -> dict[str, Any]:
        """The visit as the protocol shows it (the cursor position `seq` is not part of it)."""
        return {
            "id": self.id,
            "rev": self.rev,
            "owner": self.owner,
            "content": self.content,
            "followup": self.followup,
            "updated_at": self.updated_at,
            "opportunity": self.opportunity.public() if self.opportunity is not None else None,
        }


@dataclass(frozen=True)
class LedgerEntry:
    """One applied (or conflicting, or rejected) operation, kept for ever."""

    op_id: str
    user_name: str
    visit_id: str
    fingerprint: str  # hash of what was sent (visit, kind, base_rev, payload)
    status: str  # applied / conflict / rejected
    result: dict[str, Any]  # the answer given the first time


@dataclass(frozen=True)
class VisitWrite:
    """The new state of a visit; `expected_rev` 0 means « create ». `owner` is set once, at the
    creation: an update must carry the stored owner and a storage refuses it otherwise."""

    id: str
    expected_rev: int
    rev: int
    owner: str
    content_json: str  # as stored: the service serializes each payload once
    followup_json: str
    updated_at: str


@dataclass(frozen=True)
class JournalWrite:
    """One new journal entry: its id, the keys it is ordered by, and the entry as stored (JSON)."""

    id: str
    day: str
    created_at: str
    entry_json: str


@dataclass(frozen=True)
class OpportunityWrite:
    """What an `opportunity` operation writes: the new fields (None: unchanged; required when the
    visit has no opportunity yet) and the entries to append. The visit gets a new `seq`, same `rev`."""

    visit_id: str
    fields_json: str | None
    entries: tuple[JournalWrite, ...]
    updated_at: str


@dataclass(frozen=True)
class Decision:
    """What `decide` wants done: the answer, and optionally a write, an opportunity write and a ledger entry."""

    result: dict[str, Any]
    write: VisitWrite | None = None
    ledger: LedgerEntry | None = None
    opportunity: OpportunityWrite | None = None


@dataclass(frozen=True)
class ReferenceItem:
    dataset: str
    key: str
    content: Any
    deleted: bool
    seq: int = 0

    def public(self) -> dict[str, Any]:
        return {"key": self.key, "content": self.content, "deleted": self.deleted}


@dataclass(frozen=True)
class ReferenceWrite:
    """One item a publication writes: new or changed content, or a tombstone (`deleted`)."""

    dataset: str
    key: str
    content: Any
    deleted: bool = False


# Reads a data set's current items (tombstones included, in key order) inside a publication.
ReferenceReader = Callable[[str], Iterator[ReferenceItem]]


@dataclass(frozen=True)
class Page:
    """Rows after a position, in commit order; `more` tells whether rows remain after the last."""

    items: list = field(default_factory=list)
    more: bool = False


Decide = Callable[[LedgerEntry | None, CentralVisit | None], Decision]


class Storage(Protocol):
    """Everything the central service keeps. Methods are synchronous and thread-safe."""

    instance: str  # random id of this database, part of every cursor
    kind: str  # "sqlite" or "postgresql"
    migrated: tuple[int, int]  # the schema version found at open, and the one it was brought to

    def close(self) -> None: ...

    # Operations (`at-tui central migrate`, /readyz, restore)
    def schema_version(self) -> int:
        """The database's schema version, read now."""

    def check_ready(self) -> None:
        """One round trip to the database: StorageError (French) if it cannot be reached or its
        schema is not `SCHEMA_VERSION`."""

    def renew_instance(self) -> str:
        """Give the database a new random instance id (after a restore: every cursor handed out
        before becomes unknown, 410, and the laptops pull everything again); the new id."""

    # Users and device tokens
    def add_user(self, name: str, role: Role) -> User:
        """Create a user; StorageError if the name is taken or invalid."""

    def get_user(self, name: str) -> User | None: ...

    def list_users(self) -> list[User]: ...

    def add_token(self, user_name: str, token_hash: str, prefix: str) -> TokenInfo:
        """Record a device token by its hash; StorageError if the user does not exist."""

    def list_tokens(self, user_name: str) -> list[TokenInfo]: ...

    def revoke_tokens(self, user_name: str, prefix: str | None = None) -> int:
        """Revoke the user's active tokens (all, or those whose prefix starts with `prefix`); how many."""

    def user_for_token(self, token_hash: str) -> User | None:
        """The user of an active (not revoked) token, by the token's hash."""

    # Visits
    def get_visit(self, visit_id: str) -> CentralVisit | None: ...

    def visits_since(self, after_seq: int, limit: int, owner: str | None = None) -> Page:
        """Visits written after `after_seq`, in commit order (only `owner`'s when given), each with
        its opportunity and journal (read for the whole page at once, not visit by visit)."""

    def journal_owners(self, entry_ids: Sequence[str]) -> dict[str, str]:
        """The visit each of these journal entry ids already belongs to (ids not stored are absent)."""

    def last_seq(self, stream: str) -> int:
        """The highest position handed out in a stream (`visits` or `reference`): newer cursors are unknown."""

    def apply_operations(self, operations: Sequence[tuple[str, str, Decide]]) -> list[dict[str, Any]]:
        """For each (op_id, visit_id, decide), in order and atomically: read the ledger entry of
        `op_id` and the visit, call `decide`, write what it returns (visit with a new `seq`,
        opportunity and journal entries — a new `seq`, the same `rev` —, ledger entry). One
        commit for all, before returning their results in order."""

    # Reference data sets (contacts, argumentaire, playbooks)
    def put_reference_item(self, dataset: str, key: str, content: Any, deleted: bool = False) -> int:
        """Create or replace one item (a deletion keeps a tombstone); its new position."""

    def reference_since(self, dataset: str, after_seq: int, limit: int) -> Page: ...

    def put_reference_items(self, decide: Callable[[ReferenceReader], Iterable[ReferenceWrite]]) -> int:
        """One publication, in one transaction: call `decide` with a reader of the current items,
        write every item it returns (each with a new position, in the order given), commit;
        how many were written. If `decide` raises, nothing is written."""


# Rows as both backends read them (sqlite3.Row or psycopg's dict rows: looked up by column name).


def visit_from_row(row: Any, journal: Iterable[dict[str, Any]] | None) -> CentralVisit:
    """A visit read with its opportunity's columns (`opportunity_fields` NULL: none) and its journal."""
    opportunity = None
    if row["opportunity_fields"] is not None:
        opportunity = CentralOpportunity(
            fields=json.loads(row["opportunity_fields"]),
            journal=tuple(journal or ()),
            updated_at=row["opportunity_updated_at"],
        )
    return CentralVisit(
        id=row["id"],
        rev=row["rev"],
        owner=row["owner"],
        content=json.loads(row["content"]),
        followup=json.loads(row["followup"]),
        updated_at=row["updated_at"],
        seq=row["seq"],
        opportunity=opportunity,
    )


def ledger_entry_from_row(row: Any) -> LedgerEntry:
    return LedgerEntry(row["op_id"], row["user_name"], row["visit_id"], row["fingerprint"], row["status"],
                       json.loads(row["result"]))


def reference_item_from_row(row: Any) -> ReferenceItem:
    return ReferenceItem(row["dataset"], row["key"], json.loads(row["content"]), bool(row["deleted"]), row["seq"])


def new_user(name: str, role: str, created_at: str) -> User:
    """A user to create, its name and role checked (the same words on every backend)."""
    if not USER_NAME_PATTERN.fullmatch(name):
        raise StorageError(
            f"Nom d'utilisateur « {name[:64]} » invalide : minuscules, chiffres, « . », « _ » ou « - », "
            "64 caractères au plus, commençant par une lettre ou un chiffre."
        )
    if role not in ROLES:
        raise StorageError(f"Rôle « {role} » inconnu (at ou cm).")
    return User(name=name, role=role, created_at=created_at)


def now() -> str:
    """A timestamp as the central stores them (UTC, microseconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def to_json(value: Any) -> str:
    """JSON text as the service stores it: compact, accents as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def format_cursor(instance: str, seq: int) -> str:
    return f"{instance}-{seq}"


def parse_cursor(storage: Storage, cursor: str | None, stream: str) -> int | None:
    """The position a cursor names; None when it is unknown (other database, malformed, or ahead)."""
    if cursor is None or cursor in ("", "0"):
        return 0
    instance, sep, raw = cursor.rpartition("-")
    if not sep or instance != storage.instance or not _DIGITS.fullmatch(raw):
        return None
    seq = int(raw)
    if seq > storage.last_seq(stream):
        return None
    return seq
