"""What the app runs in a worker thread: probe the server cheaply, sync when it answers.

Everything here uses its own database connection (a fresh Workspace), never the
UI thread's: a sync never holds up typing, and typing never breaks a sync.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from at_tui.sync import outbox

PULL_EVERY = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Status:
    configured: bool
    online: bool
    waiting: int = 0
    conflicts: int = 0
    rejected: int = 0
    last_success: str | None = None
    problem: str | None = None  # French, never the token
    quarantined: int = 0  # central copies this laptop could not take (« Problèmes de synchronisation »)
    hold_until: dt.datetime | None = None  # the server asked to wait (Retry-After): no probe before
    received: int = 0  # visits (and their opportunities) this run brought: open screens read again

    def text(self) -> str:
        if not self.configured:
            return ""
        parts = ["en ligne" if self.online else "hors ligne"]
        parts.append(f"{self.waiting} en attente" if self.waiting else "tout est envoyé")
        if self.conflicts:
            parts.append(f"{self.conflicts} conflit(s)")
        if self.rejected:
            parts.append(f"{self.rejected} refus")
        if self.quarantined:
            parts.append(f"{self.quarantined} écartée(s)")
        if self.hold_until:
            parts.append(f"réessai après {self.hold_until.astimezone():%H:%M} (demandé par le serveur)")
        if self.last_success:
            moment = dt.datetime.fromisoformat(self.last_success).astimezone()
            parts.append(f"synchro {moment:%d/%m %H:%M}")
        return "Synchronisation : " + " · ".join(parts)


def current_status(conn, online: bool, configured: bool, problem: str | None = None,
                   hold_until: dt.datetime | None = None) -> Status:
    summary = outbox.summary(conn)
    return Status(configured, online, summary.waiting, summary.conflicts, summary.rejected,
                  summary.last_success, problem, summary.quarantined, hold_until)


def held(status: Status | None, now: dt.datetime | None = None) -> bool:
    """Whether the server asked this laptop to wait and the time has not come (no probe, no push)."""
    if status is None or status.hold_until is None:
        return False
    return (now or dt.datetime.now(dt.UTC)) < status.hold_until


def _pull_due(last_success: str | None, now: dt.datetime | None = None) -> bool:
    """Nothing to send, but the CMs' follow-ups and the reference data are fetched now and then."""
    if last_success is None:
        return True
    now = now or dt.datetime.now(dt.UTC)
    return now - dt.datetime.fromisoformat(last_success) >= PULL_EVERY


def sync_once(db_path: Path, reference, *, force: bool = False) -> Status:
    """Probe the configured server; when it answers and something waits (or `force`), sync."""
    from at_tui.sync.credentials import CredentialsError, get_token, load_settings
    from at_tui.sync.engine import sync
    from at_tui.sync.transport import Transport
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        try:
            settings = load_settings()
            token = get_token(settings.server_url) if settings else None
        except CredentialsError as error:
            return current_status(workspace.conn, False, True, str(error))
        if settings is None or token is None:
            return current_status(workspace.conn, False, settings is not None,
                                  None if settings is None else "aucun jeton : at-tui login")
        ca_bundle = str(settings.ca_bundle) if settings.ca_bundle else None
        with Transport(settings.server_url, token, ca_bundle=ca_bundle) as transport:
            if not transport.reachable():
                return current_status(workspace.conn, False, True)
            summary = outbox.summary(workspace.conn)
            due = force or summary.waiting or _pull_due(summary.last_success)
            report = sync(workspace, transport) if due else None
        problem = "; ".join(report.errors) if report and report.errors else None
        hold = report.retry_after if report else None
        status = current_status(workspace.conn, problem is None or hold is not None, True, problem, hold)
        return replace(status, received=report.received) if report else status
    finally:
        workspace.close()
