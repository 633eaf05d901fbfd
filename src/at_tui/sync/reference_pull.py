"""Pulling the reference data sets (contacts, argumentaire, playbooks) from the central.

Per data set, pages of `GET /v1/reference/<set>?since=<cursor>`; each page's items and
the cursor it ends on are stored in ONE local transaction, so a pull cut anywhere resumes
after the last stored page and never skips or half-applies one.

An expired or unknown cursor (410: the central database was recreated, restored, or is
another one) means a full resync from "0". Nothing local is deleted first: the rows stay
in use, marked stale, while the resync runs (across interruptions if need be); each item
listed again is refreshed, and only when the resync has completed are the rows the central
no longer lists forgotten. The local copy then mirrors the central exactly: an item it
lost (a tombstone gone with a recreated database) falls back to the bundled data.

The pulled items are only stored here; `at_tui.reference.pulled` validates them when the
app reads them (an invalid item is ignored there, never here: storing never fails on content).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from at_tui.domain.reference_items import DATASETS
from at_tui.store import pulled_reference
from at_tui.store.db import immediate
from at_tui.sync.outbox import get_state, set_state, utc_now
from at_tui.sync.transport import CursorExpired, SyncError, Transport

if TYPE_CHECKING:  # engine imports this module: no import cycle at run time
    from at_tui.sync.engine import Report

PAGE = 1000  # the protocol's largest page: fewer round trips for 200,000 contacts

MALFORMED = "Réponse inattendue du serveur pour les données de référence : la réception reprendra plus tard."


def pull_reference(workspace, transport: Transport, report: Report, *, page_size: int = PAGE,
                   datasets: Sequence[str] = DATASETS) -> int:
    """Pull every data set; how many items were received (tombstones included).

    `report` (engine.Report) is not changed: the count is returned for the caller to file.
    A SyncError stops the pull; what was stored before it stays, with its cursor."""
    received = 0
    for dataset in datasets:
        received += _pull_dataset(workspace.conn, transport, dataset, page_size)
    return received


def _pull_dataset(conn, transport: Transport, dataset: str, page_size: int) -> int:
    cursor = get_state(conn, pulled_reference.cursor_key(dataset)) or "0"
    received = 0
    while True:
        try:
            page = transport.get(f"/v1/reference/{dataset}", {"since": cursor, "limit": page_size})
        except CursorExpired:
            if cursor == "0":
                raise
            cursor = "0"  # full resync: nothing removed now, stale rows are forgotten once it completes
            continue
        items, next_cursor, more = _checked(page)
        store_page(conn, dataset, items, next_cursor, full_resync=cursor == "0", complete=not more)
        received += len(items)
        cursor = next_cursor
        if not more:
            return received


def store_page(conn, dataset: str, items: list[dict[str, Any]], cursor: str, *, full_resync: bool,
               complete: bool) -> None:
    """One page and the cursor it ends on, in one transaction."""
    now = utc_now()
    with immediate(conn):
        if full_resync:  # the first page of a pull from "0"
            pulled_reference.mark_stale(conn, dataset)
        pulled_reference.upsert(conn, dataset, items, now)
        forgotten = pulled_reference.drop_stale(conn, dataset) if complete else 0
        if items or forgotten:
            set_state(conn, pulled_reference.version_key(dataset), uuid.uuid4().hex, now)
        set_state(conn, pulled_reference.cursor_key(dataset), cursor, now)


def _checked(page: Any) -> tuple[list[dict[str, Any]], str, bool]:
    """The page's items, cursor and `more`, after checking their shape (a bad answer stores nothing).
    The transport already checked it; one shape definition serves both (transport.reference_page_problem)."""
    from at_tui.sync.transport import reference_page_problem

    if reference_page_problem(page) is not None:
        raise SyncError(MALFORMED)
    return page["items"], page["cursor"], page.get("more", False)
