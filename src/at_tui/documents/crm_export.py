"""The CRM import of a laptop (issue 12 §2): what `at-tui export --format crm` and the app's
« Exporter » write — `opportunites.csv` and `activites.csv` (`documents.crm_csv`, columns in
docs/crm-export.md) from the laptop's opportunities, all of them or only what changed since a
date or since the last CRM export made here (`dernier`, remembered in `store.export_marks`).
"""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

FOLDER_PREFIX = "crm"
LAST = "dernier"


def since_day(text: str) -> dt.date | None:
    """`--depuis` as a real calendar date (2026-02-30 is not one), None otherwise."""
    from at_tui.domain.due_dates import typed_day

    return typed_day(text)


def is_last(text: str) -> bool:
    return text.strip().casefold() == LAST


@dataclass(frozen=True, slots=True)
class CrmExport:
    """What one CRM export wrote: its folder, how many lines each file holds, and what
    `--depuis` meant this time (in French, None without --depuis)."""

    folder: Path
    opportunities: int
    activities: int
    note: str | None


def export_crm(workspace, folder: Path | None = None, depuis: str | None = None) -> CrmExport:
    """Write `opportunites.csv` and `activites.csv` into `folder` (default: a new dated folder
    under the exports folder) and remember the export for `--depuis dernier`. The CLI and the
    TUI call this. `depuis`: None, « AAAA-MM-JJ » or « dernier » (ValueError otherwise).
    Raises TargetRefused or OSError (nothing written then, nothing remembered), StoreError."""
    from at_tui.documents.crm_csv import CrmFiles
    from at_tui.store import export_marks
    from at_tui.store.db import read_snapshot

    since, note = _since(workspace, depuis)
    workspace.ensure_opportunities()  # a visit finished since the app last ran opens its opportunity first
    folder = folder if folder is not None else default_folder()
    began = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")  # before the snapshot's first read
    with read_snapshot(workspace.conn), CrmFiles(folder) as files:
        seq = export_marks.journal_seq(workspace.conn)
        write_rows(workspace, files, since)
    export_marks.remember_export(workspace.conn, export_marks.CRM, export_marks.ExportMark(began, seq))
    return CrmExport(folder, files.opportunities, files.activities, note)


def default_folder() -> Path:
    """A new dated folder under the exports folder (0700): `crm-AAAAMMJJ-HHMMSS`, « -2 », « -3 »…
    after it when an export of the same second exists (the « since the last » one must not
    replace the whole one just written)."""
    from at_tui.paths import exports_dir

    base = exports_dir() / f"{FOLDER_PREFIX}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    folder, number = base, 1
    while folder.exists() or folder.is_symlink():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


def _since(workspace, depuis: str | None) -> tuple[Since | None, str | None]:
    """What `--depuis` keeps, and the sentence that says it."""
    from at_tui.store import export_marks

    if depuis is None:
        return None, None
    if is_last(depuis):
        previous = export_marks.last_export(workspace.conn, export_marks.CRM)
        if previous is None:
            return None, "Premier export CRM sur ce poste : tout est exporté."
        since = Since(moment=_parse(previous.at), journal_seq=previous.journal_seq, stamp=previous.at)
        return since, f"Depuis le dernier export CRM de ce poste ({_local(previous.at)})."
    day = since_day(depuis)
    if day is None:
        raise ValueError(depuis)
    start = dt.datetime.combine(day, dt.time()).astimezone()  # 0 h on this laptop, that day's offset
    return Since(moment=start, journal_seq=None, stamp=start.astimezone(dt.UTC).isoformat()), \
        f"Depuis le {day:%d/%m/%Y}."


@dataclass(frozen=True, slots=True)
class Since:
    """What `--depuis` keeps: changes at or after `moment`; with `journal_seq` (`dernier`), also
    the journal entries stored here after that rowid, whatever time they carry."""

    moment: dt.datetime
    journal_seq: int | None
    stamp: str  # the moment as stored (UTC ISO), for the store's comparisons


def write_rows(workspace, files, since: Since | None) -> None:
    """Every opportunity of the store (changed ones only with `since`) and its current journal
    entries, into `files` (a `documents.crm_csv.CrmFiles`)."""
    from at_tui.documents.crm_csv import activity_fields, opportunity_fields, since_changed
    from at_tui.domain.tracking import tracking_rows
    from at_tui.store.export_marks import arrived_since
    from at_tui.store.tracking import tracked_opportunities

    arrivals = arrived_since(workspace.conn, since.stamp, since.journal_seq) if since is not None else None
    service = workspace.reference.current_playbook("spico").crm.service
    lifecycle, territory = workspace.lifecycle(), workspace.territory
    with closing(tracked_opportunities(workspace.conn)) as tracked:
        for row in tracking_rows(tracked, lifecycle, territory):
            entries = list(row.current_journal)
            if since is not None:
                entries = [e for e in entries if since_changed(e.created_at, since.moment) or e.id in arrivals.entries]
                if not (entries or since_changed(row.updated_at, since.moment)
                        or row.opportunity_id in arrivals.opportunities):
                    continue
            recueil, report = _visit_texts(workspace, row.opportunity_id)
            files.add_opportunity(opportunity_fields(row, recueil))
            for entry in entries:
                files.add_activity(activity_fields(row, entry, _activity_text(entry, report), service))


def _visit_texts(workspace, visit_id: str) -> tuple[str, str | None]:
    """The visit's Recueil text and exchange report as `Workspace.deliverables` writes them for
    the CRM (seed 000, « 3. Classification — Livrable(s) », « 1. Présentation — Livrable(s) »);
    "" and None when this laptop cannot rebuild them (the visit's data changed beyond what its
    reference still accepts): the journal's own text stands in for the report."""
    from at_tui.reference.loader import ReferenceDataError
    from at_tui.store.db import StoreError

    visit = workspace.visits.get(visit_id)
    if visit is None:
        return "", None
    try:
        deliverables = workspace.deliverables(visit)
    except (StoreError, ReferenceDataError, KeyError, ValueError):  # FieldError, ValidationError are ValueErrors
        return "", None
    recueil = deliverables.opportunity.description if deliverables.opportunity is not None else ""
    return recueil, deliverables.activity.description


def _activity_text(entry, report: str | None) -> str:
    """The « Information » entry the visit opened carries the exchange's report, rebuilt from the
    visit as it is now; any other entry, a correction included, its own text."""
    if entry.activity == "information" and not entry.supersedes and report is not None:
        return report
    return entry.text


def _parse(stamp: str) -> dt.datetime:
    from at_tui.documents.crm_csv import moment

    return moment(stamp) or dt.datetime.min.replace(tzinfo=dt.UTC)


def _local(stamp: str) -> str:
    from at_tui.documents.crm_csv import moment_text

    return moment_text(stamp) or stamp
