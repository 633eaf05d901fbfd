"""The monthly CM–AT pack of a zone, written as a workbook or a page (issue 12 §4): one path for
`at-tui point-cm-at`, `at-tui central point-cm-at` and the app's « Exporter »."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

FILE_PREFIX = "point-cm-at"
FORMATS = ("xlsx", "html")


def write_pack(tracked: Iterable, lifecycle, territory, zone: str, today: dt.date, *, since: dt.date | None = None,
               waiting_days: int | None = None, file_format: str = "xlsx", target: Path | None = None):
    """Build the pack of `tracked` (TrackedOpportunity of any source) and write it; returns
    (pack, path). Without `target`: exports/point-cm-at-<zone>-AAAAMMJJ.<format> (0600).
    Raises UnknownZone, TargetRefused, StoreError or OSError (nothing written then)."""
    from at_tui.domain.cm_at_pack import DEFAULT_WAITING_DAYS, cm_at_pack
    from at_tui.domain.tracking import tracking_rows

    rows = list(tracking_rows(tracked, lifecycle, territory))  # one zone: read once, used by the pack and the charts
    pack = cm_at_pack(rows, territory, zone, today, initial_status=lifecycle.initial, since=since,
                      waiting_days=DEFAULT_WAITING_DAYS if waiting_days is None else waiting_days)
    if target is None:
        from at_tui.paths import exports_dir

        target = exports_dir() / f"{FILE_PREFIX}-{zone.lower()}-{today:%Y%m%d}.{file_format}"
    if file_format == "html":
        from at_tui.documents.pack_html import write_pack_html

        write_pack_html(pack, target, _charts(rows, lifecycle, pack))
    else:
        from at_tui.documents.pack_xlsx import write_pack_workbook

        write_pack_workbook(pack, target)
    return pack, target


def write_laptop_pack(workspace, zone: str, file_format: str = "html", today: dt.date | None = None, **options):
    """The pack of this laptop's opportunities of `zone` (a CM's laptop holds the region);
    `options`: those of `write_pack` (since, waiting_days, target)."""
    from at_tui.domain.territory import zone_departements
    from at_tui.store.tracking import tracked_opportunities

    workspace.ensure_opportunities()  # a finished visit's opportunity is opened, as `a-faire` does
    departements = {d.code for d in zone_departements(workspace.territory, zone)[1]}
    return write_pack(tracked_opportunities(workspace.conn, departements), workspace.lifecycle(), workspace.territory,
                      zone, today or dt.date.today(), file_format=file_format, **options)


def _charts(rows, lifecycle, pack) -> str:
    """The zone's indicators over the last 12 months as SVG charts."""
    from at_tui.documents.charts_html import indicators_html
    from at_tui.domain.indicators import PERIODS, compute, records_from_rows, visits_from_rows

    indicators = compute(records_from_rows(rows), visits_from_rows(rows),
                         [(s.id, s.label) for s in lifecycle.statuses], pack.today,
                         period=next(p for p in PERIODS if p.key == "12m"), zone=pack.zone)
    return indicators_html(indicators)
