"""Two copies of one opportunity (this laptop's, and one a file or the other side brings): what
to take, what to keep, what to tell (issue 11, « journal entries from both sides merge without
conflict; a status or date changed on both sides is a per-field conflict »).

The journal is append-only, so it never conflicts: the union by entry id (an entry already
here is kept as it is, never rewritten). The journal is also the lineage that says who changed
the opportunity's row since the copies parted: an entry only one copy holds that sets the
status (« Cadrage (déploiement acté) », a « Statut » entry) or records a date (« Fin du
déploiement ») explains that copy's value. Group by group (status with its reason, each date):

* equal: nothing;
* the incoming copy is **newer** (its journal holds every entry of ours, and its `updated_at`
  is later): its value;
* ours is newer the same way: ours;
* otherwise only the side whose own entries touched the group changed it: its value; both
  did (or neither explains a difference between two values): a **divergence**, ours kept and
  named (« statut, fin du déploiement »), for a person to settle.

The other fields (classification, logins, date of the visit) follow the newer copy, or fill
what this copy does not know; they are never a divergence.

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from at_tui.domain.lifecycle import Lifecycle
from at_tui.domain.opportunity import STATUS_ACTIVITY, JournalEntry

# The activity of the entry a status change leaves (at_tui.store.opportunities.set_status).

# Groups of the row that are a divergence when both copies changed them, with their French names.
TRACKED: dict[str, tuple[tuple[str, ...], str]] = {
    "status": (("status", "status_reason"), "statut"),
    "launch_date": (("launch_date",), "réunion de lancement"),
    "deployment_end": (("deployment_end",), "fin du déploiement"),
}
# Groups that follow the newer copy (or fill an unknown value), never reported.
FOLLOWING: dict[str, tuple[str, ...]] = {
    "classification": ("offer", "lead", "support"),
    "at_login": ("at_login",),
    "cm_login": ("cm_login",),
    "visit_date": ("visit_date",),
}
MERGED_FIELDS = tuple(f for fields, _ in TRACKED.values() for f in fields) + tuple(
    f for fields in FOLLOWING.values() for f in fields)


@dataclass(frozen=True)
class OpportunityMerge:
    """What to write on this laptop: the row's fields to take, the journal entries to add, and the
    French names of the groups kept here although the incoming copy changed them too."""

    taken: Mapping[str, Any]
    updated_at: str  # the row's updated_at once merged: the later of the two
    new_entries: tuple[JournalEntry, ...]
    diverged: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.taken or self.new_entries)


def touched(entries: Iterable[JournalEntry], lifecycle: Lifecycle) -> set[str]:
    """The tracked groups these entries change: an activity that sets a status or records a date,
    or a status change. An activity this lifecycle does not know (history) touches nothing."""
    groups: set[str] = set()
    for entry in entries:
        if entry.activity == STATUS_ACTIVITY:
            groups.add("status")
            continue
        try:
            activity = lifecycle.activity(entry.activity)
        except KeyError:
            continue
        if activity.sets_status:
            groups.add("status")
        if activity.records:
            groups.add(activity.records)
    return groups


def merge_opportunity(
    ours: Mapping[str, Any], our_updated_at: str, our_entries: Sequence[JournalEntry],
    theirs: Mapping[str, Any], their_updated_at: str, their_entries: Sequence[JournalEntry],
    lifecycle: Lifecycle,
) -> OpportunityMerge:
    """The merge of the incoming copy (`theirs`) into the one here (`ours`); see the module."""
    our_ids = {e.id for e in our_entries}
    their_ids = {e.id for e in their_entries}
    new_entries = tuple(e for e in their_entries if e.id not in our_ids)
    ours_only = [e for e in our_entries if e.id not in their_ids]
    theirs_newer = their_ids >= our_ids and _moment(their_updated_at) > _moment(our_updated_at)
    ours_newer = our_ids >= their_ids and _moment(our_updated_at) > _moment(their_updated_at)
    by_them, by_us = touched(new_entries, lifecycle), touched(ours_only, lifecycle)

    taken: dict[str, Any] = {}
    diverged: list[str] = []
    for group, (fields, label) in TRACKED.items():
        if all(ours.get(f) == theirs.get(f) for f in fields):
            continue
        if theirs_newer:
            take = True
        elif ours_newer:
            take = False
        elif (group in by_them) != (group in by_us):
            take = group in by_them
        elif group not in by_them and all(ours.get(f) is None for f in fields):
            take = True  # nothing known here: nothing is lost
        else:
            take = False
            diverged.append(label)
        if take:
            taken.update({f: theirs.get(f) for f in fields})
    for fields in FOLLOWING.values():
        if all(ours.get(f) == theirs.get(f) for f in fields):
            continue
        unknown_here = all(ours.get(f) is None for f in fields)
        known_there = any(theirs.get(f) is not None for f in fields)
        if (theirs_newer and known_there) or unknown_here:
            taken.update({f: theirs.get(f) for f in fields})
    later = max(our_updated_at, their_updated_at, key=_moment) if taken else our_updated_at
    return OpportunityMerge(taken, later, new_entries, tuple(diverged))


def merge_checks(ours: Mapping[str, Mapping[str, Any]],
                 theirs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The incoming ticks to write: a key absent here, or ticked (or unticked) later there.
    A tick is a state, not history: the later change wins, like a visit's checklist."""
    taken = []
    for check in theirs:
        here = ours.get(check["key"])
        if here is None or (here["done"] != check["done"]
                            and _moment(check["updated_at"]) > _moment(here["updated_at"])):
            taken.append(check)
    return taken


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
