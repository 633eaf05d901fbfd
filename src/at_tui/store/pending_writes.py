"""Saves that failed (disk full, read-only base, lock held by another program, I/O error).

What the AT typed is never lost to a failed save: the value stays in the field, and the
write that could not be done is kept here, in memory, with the error that stopped it. It is
tried again on the next change and periodically (the app's timer) until it goes through;
quitting while some are left asks for confirmation and names them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

# The errors a save can meet that retrying may cure; anything else is a bug (crash report).
SAVE_ERRORS = (sqlite3.Error, OSError)


class NotSaved(Exception):
    """A save failed; the value is kept in memory and retried. `cause` is short and French."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause

    @property
    def message(self) -> str:
        return not_saved_message(self.cause)


def not_saved_message(reason: str) -> str:
    """What a field's error line says while its value waits to be saved."""
    return f"non enregistré : {reason} — nouvel essai automatique"


class PendingWrite:
    """A plain class, not a dataclass: this module is imported on the app's start-up path."""

    __slots__ = ("visit_id", "key", "label", "raw", "save", "error")

    def __init__(self, visit_id: str, key: str, label: str, raw: Any, save: Callable[[], object],
                 error: BaseException) -> None:
        self.visit_id = visit_id
        self.key = key  # the field: an answer key (q:…, notes:…, check:…) or identity:<field>
        self.label = label  # French, for the quit confirmation
        self.raw = raw  # what the AT typed, to put back in the field if its screen is drawn again
        self.save = save  # the write itself, with the validated value
        self.error = error

    @property
    def cause(self) -> str:
        from at_tui.store.errors import cause

        return cause(self.error)


class PendingWrites(dict):
    """(visit id, field key) → the field's last unsaved write, oldest first (retried in the order
    they were typed). A dict, so that « anything pending? » on every save costs nothing."""

    def __iter__(self) -> Iterator[PendingWrite]:  # type: ignore[override]
        return iter(list(self.values()))

    def get(self, visit_id: str, key: str) -> PendingWrite | None:
        return dict.get(self, (visit_id, key))

    def hold(self, write: PendingWrite) -> None:
        """Keep (or replace: the newest value of a field wins) a write that failed."""
        self[(write.visit_id, write.key)] = write

    def release(self, visit_id: str, key: str) -> None:
        """The field's newest value went through: its older unsaved value is obsolete."""
        self.pop((visit_id, key), None)

    def raw_values(self, visit_id: str, prefix: str = "") -> dict[str, Any]:
        """The unsaved values of a visit's fields (key → raw), to draw its screens with them."""
        return {w.key: w.raw for w in self.values() if w.visit_id == visit_id and w.key.startswith(prefix)}

    def last_error_cause(self) -> str:
        """The French cause of the most recent failure (what the header says)."""
        writes = list(self.values())
        return writes[-1].cause if writes else ""

    def retry(self, after_failure: Callable[[], None] = lambda: None) -> int:
        """Try each write again, oldest first; stop at the first one that still fails (a held lock
        would otherwise cost the busy timeout once per field). Returns how many went through."""
        done = 0
        for key, write in list(self.items()):
            try:
                write.save()
            except SAVE_ERRORS as error:
                after_failure()
                write.error = error
                break
            if dict.get(self, key) is write:  # not replaced by a newer value meanwhile
                del self[key]
            done += 1
        return done
