"""The SPICO tracking file of a laptop or of the central, as the CLI and the TUI write it (issue 12 §1).

Reads the rows (`store.tracking` or `central.tracking`), streams them into the workbook
(`documents.tracking_xlsx`) and says the outcome in French: one path for
`at-tui export --format xlsx`, `at-tui central export-suivi` and the app's « Exporter ».
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

FILE_PREFIX = "suivi-deploiements"


def write_tracking_file(tracked, lifecycle, territory, target: Path | None = None, *, zone: str | None = None):
    """Write the tracking file of `tracked` (an iterable of TrackedOpportunity) and return the
    `TrackingFile` (path, count). Without `target`: a dated name in the private exports folder.

    The TUI calls this too (`write_laptop_tracking_file`), then notifies the path. Raises
    OSError, `files.TargetRefused` or `store.db.StoreError`; `describe_failure` says them in French."""
    from at_tui.documents.tracking_xlsx import write_tracking_workbook
    from at_tui.domain.classification import OFFER_LABELS
    from at_tui.domain.tracking import follow_up_labels, tracking_rows

    now = dt.datetime.now()
    if target is None:
        from at_tui.paths import exports_dir

        suffix = f"-{zone}" if zone else ""
        target = exports_dir() / f"{FILE_PREFIX}{suffix}-{now:%Y%m%d-%H%M%S}.xlsx"
    return write_tracking_workbook(
        tracking_rows(tracked, lifecycle, territory), target,
        follow_up_labels=follow_up_labels(lifecycle),
        status_order=[status.label for status in lifecycle.statuses],
        offer_order=list(OFFER_LABELS.values()), today=now.date(),
    )


def write_laptop_tracking_file(workspace, target: Path | None = None):
    """The laptop's tracking file: every opportunity its store holds (an AT's own, a CM's region)."""
    from at_tui.store.tracking import tracked_opportunities

    return write_tracking_file(tracked_opportunities(workspace.conn), workspace.lifecycle(), workspace.territory, target)


def describe_failure(error: BaseException, target: Path | None) -> str:
    """One French sentence for a failed tracking file (CLI and TUI alike)."""
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain

    if isinstance(error, (TargetRefused, StoreError)):
        return str(error)
    where = f" dans {target}" if target is not None else ""
    return f"{explain(error, f'Écriture du fichier de suivi{where}')} Rien n'a été écrit."


def written_sentence(written) -> str:
    from at_tui.domain.redaction import safe

    count = written.count
    return (f"Fichier de suivi écrit dans {safe(str(written.path))} : {count} opportunité{'s' if count > 1 else ''} "
            "(lisible par vous seul).")
