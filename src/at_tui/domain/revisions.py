"""Which of two copies of one visit is the newer: the rule an import and the sync share.

A visit travels between laptops (by file, or through the central) and comes back
changed, or not. Two copies are compared in the same order everywhere:

1. Same **content** (identity, state, classification forcée, answers; never the
   navigation — `NAVIGATION_FIELDS` — nor when it was last touched): `SAME`, nothing
   to do, whatever else differs.
2. Otherwise their **lineage** says which one extends the other: `NEWER` (the incoming
   copy extends the one here: it replaces it), `OLDER` (the one here already extends
   it: nothing to do), `DIVERGED` (each has changes the other lacks: a person decides).

An import knows the whole edit history of both copies (`history_relation`); a sync
operation carries no history, only the central revision it is based on, so the sync
asks the same question of that base content (`against_base`).

Pure: no I/O. History entries are any objects with `field`, `old_value`, `new_value`
and `at` (at_tui.store.visits.HistoryEntry).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Protocol


class Revision(Enum):
    SAME = "same"  # the same content: nothing to write
    NEWER = "newer"  # the incoming copy extends the one here: it replaces it
    OLDER = "older"  # the copy here already extends the incoming one: nothing to write
    DIVERGED = "diverged"  # each copy has changes the other lacks


# What moving through a visit changes (the step it reopens at, and when it was last
# touched): never content, so never a reason for two copies to differ.
NAVIGATION_FIELDS = frozenset({"current_step", "updated_at"})


class Entry(Protocol):
    field: str
    old_value: Any
    new_value: Any
    at: str


def history_relation(existing: Sequence[Entry], incoming: Sequence[Entry]) -> Revision:
    """How the incoming edit history stands to the one already here.

    `NEWER` when every entry here is in the incoming history, which has more; `OLDER` the
    other way round; `SAME` when both hold the same entries; `DIVERGED` otherwise. Entries
    are compared whole, by value (JSON `true` is not `1`), order aside: each carries its own
    time. An edit session still open when a copy was taken, then typed on within 2 minutes,
    changes that entry: the two copies then read as diverged. No tolerance is made for it:
    two people editing one field from the same value would look the same, and taking one
    for the other would lose the other's text.
    """
    ours, theirs = Counter(map(_key, existing)), Counter(map(_key, incoming))
    if ours == theirs:
        return Revision.SAME
    if ours <= theirs:
        return Revision.NEWER
    if theirs <= ours:
        return Revision.OLDER
    return Revision.DIVERGED


def matching(existing: Sequence[Entry], incoming: Sequence[Entry]) -> dict[int, int] | None:
    """For each entry here, the index of the same entry in the incoming history; None when
    some entry here is not there. The import uses it to add a newer history to the older
    one without rewriting the rows it already holds."""
    free: dict[str, list[int]] = {}
    for index, entry in enumerate(incoming):
        free.setdefault(_key(entry), []).append(index)
    found: dict[int, int] = {}
    for index, entry in enumerate(existing):
        same = free.get(_key(entry))
        if not same:
            return None
        found[index] = same.pop(0)
    return found


def settle(relation: Revision, same_content: bool) -> Revision:
    """The fate of an incoming copy from its lineage (`history_relation`) and whether its
    content equals the one here: equal content is `SAME` unless a lineage says which is newer
    (the newer one then brings its history); an equal history with another content cannot
    be told apart, hence `DIVERGED`."""
    if relation in (Revision.NEWER, Revision.OLDER):
        return relation
    if same_content:
        return Revision.SAME
    return Revision.DIVERGED


def against_base(
    mine: Mapping[str, Any],
    theirs: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    differs: Callable[[Mapping[str, Any], Mapping[str, Any]], bool],
) -> Revision:
    """The same rule where no history travels (a sync operation): `mine` against `theirs`,
    knowing the `base` content `mine` was made from. `SAME` when the contents are equal;
    `NEWER` (mine extends theirs) when theirs is still the base; `OLDER` when mine is;
    `DIVERGED` otherwise. `differs` tells whether two contents differ (navigation aside)."""
    if not differs(mine, theirs):
        return Revision.SAME
    if base is not None and not differs(base, theirs):
        return Revision.NEWER
    if base is not None and not differs(base, mine):
        return Revision.OLDER
    return Revision.DIVERGED


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _key(entry: Entry) -> str:
    return _value([entry.field, entry.old_value, entry.new_value, entry.at])
