"""The « fichier de suivi des déploiements SPICO » as an XLSX workbook (issue 12 §1).

Seed 000: the CMs update it (« 3. Classification — Livrable(s) » : « Mise à jour du fichier
de suivi des déploiements SPICO »), with « une estimation du nombre de comptes qui seront
créés » (« 5. Lancement et formation — Livrable(s) »), and the monthly CM–AT meeting per
zone walks through it (« Gouvernance — documentation de base = fichier de déploiement à
parcourir à chacune des réunions »).

One sheet « Suivi » with a Zone column rather than one sheet per zone: the meeting of a
zone filters it in one click (auto-filter), the manager sorts and counts the whole region
on one sheet, and an opportunity whose département has no zone still has its row. A
second sheet « Synthèse » counts the opportunities by statut × offre and by département;
its counts are gathered while the rows are streamed (the rows are read once, never held).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from at_tui.documents.spreadsheet import Column, TableSheet, atomic_workbook
from at_tui.domain.tracking import TrackingRow

SHEET_ROWS = "Suivi"
SHEET_SUMMARY = "Synthèse"
TOTAL = "Total"

# The fixed columns before and after the follow-ups (whose number is the lifecycle's).
HEAD_COLUMNS = (
    Column("Département", 16), Column("Zone", 8), Column("Structure", 34), Column("FINESS", 11),
    Column("Typologie", 14), Column("Nom CRM", 18), Column("Offre", 26), Column("Pilote", 8),
    Column("Soutien", 8), Column("AT", 12), Column("CM", 12), Column("Statut", 16),
    Column("Raison du statut", 30), Column("Date de visite", 12), Column("Cadrage", 12),
    Column("Lancement", 12), Column("Fin du déploiement", 12),
)
TAIL_COLUMNS = (
    Column("Comptes estimés", 10), Column("Utilisateurs potentiels", 12), Column("Dernière activité", 34),
    Column("Date de la dernière activité", 13),
)


@dataclass(frozen=True, slots=True)
class TrackingFile:
    """What was written: where, and how many opportunities."""

    path: Path
    count: int


def tracking_columns(follow_up_labels: Sequence[str]) -> list[Column]:
    """Every column of « Suivi »: « M+1 dû le », « M+1 fait le »… for each follow-up of the lifecycle."""
    follow_ups = [Column(f"{label} {what}", 12) for label in follow_up_labels for what in ("dû le", "fait le")]
    return [*HEAD_COLUMNS, *follow_ups, *TAIL_COLUMNS]


def departement_text(row: TrackingRow) -> str:
    """« 32 Gers » (as « À faire » shows it): the code sorts, the name reads."""
    if row.departement_name and row.departement_name != row.departement:
        return f"{row.departement} {row.departement_name}"
    return row.departement


def row_values(row: TrackingRow, follow_up_labels: Sequence[str]) -> list:
    """One line of « Suivi », in the order of `tracking_columns` (dates as dates, counts as ints)."""
    follow_ups = {f.label: f for f in row.follow_ups}
    dates: list = []
    for label in follow_up_labels:
        found = follow_ups.get(label)
        dates += [found.due, found.done] if found else [None, None]
    return [
        departement_text(row), row.zone, row.structure, row.finess, row.typologie, row.crm_name, row.offer_label,
        row.lead, row.support, row.at_login, row.cm_login, row.status_label, row.status_reason,
        row.visit_date, row.cadrage_date, row.launch_date, row.deployment_end,
        *dates,
        row.estimated_accounts, row.potential_users, row.last_activity, row.last_activity_date,
    ]


class _Summary:
    """The counts of « Synthèse », gathered one row at a time."""

    def __init__(self) -> None:
        self.by_status_offer: Counter[tuple[str, str]] = Counter()
        self.by_departement_status: Counter[tuple[str, str]] = Counter()
        self.departements: dict[str, tuple[str, str]] = {}  # code → (« 32 — Gers », zone)
        self.count = 0

    def add(self, row: TrackingRow) -> None:
        self.count += 1
        self.by_status_offer[row.status_label, row.offer_label] += 1
        self.by_departement_status[row.departement, row.status_label] += 1
        self.departements.setdefault(row.departement, (departement_text(row), row.zone))


def write_tracking_workbook(rows: Iterable[TrackingRow], path: Path, *,
                            follow_up_labels: Sequence[str] | None = None,
                            status_order: Sequence[str] = (), offer_order: Sequence[str] = (),
                            today: dt.date | None = None) -> TrackingFile:
    """Write the tracking file of `rows` to `path` (whole or not at all) and say how many rows it has.

    `follow_up_labels` (« M+1 »…, the lifecycle's) fix the follow-up columns even when there is
    no row; by default they are the first row's. `status_order` and `offer_order` (labels) order
    the Synthèse like the process; a label not listed comes after, alphabetically."""
    iterator: Iterator[TrackingRow] = iter(rows)
    if follow_up_labels is None:
        first = next(iterator, None)
        follow_up_labels = [f.label for f in first.follow_ups] if first else []
        if first is not None:
            iterator = chain([first], iterator)
    summary = _Summary()
    with atomic_workbook(path) as workbook:
        sheet = TableSheet(workbook, SHEET_ROWS, tracking_columns(follow_up_labels))
        for row in iterator:
            sheet.append(row_values(row, follow_up_labels))
            summary.add(row)
        sheet.finish()
        _write_summary(workbook, summary, status_order, offer_order, today or dt.date.today())
    return TrackingFile(path, summary.count)


def _ordered(seen: Iterable[str], order: Sequence[str]) -> list[str]:
    present = set(seen)
    return [label for label in order if label in present] + sorted(present - set(order))


def _write_summary(workbook, summary: _Summary, status_order: Sequence[str], offer_order: Sequence[str],
                   today: dt.date) -> None:
    statuses = _ordered((s for s, _ in summary.by_status_offer), status_order)
    offers = _ordered((o for _, o in summary.by_status_offer), offer_order)
    width = max(len(offers), len(statuses)) + 3
    columns = [Column("", 28), *(Column("", 16) for _ in range(width - 1))]
    sheet = TableSheet(workbook, SHEET_SUMMARY, columns, table=False)
    sheet.append_title(f"Synthèse du suivi des déploiements SPICO au {today:%d/%m/%Y} : "
                       f"{summary.count} opportunité{'s' if summary.count > 1 else ''}")
    sheet.append([])
    sheet.append_header(["Statut / offre", *offers, TOTAL])
    for status in statuses:
        counts = [summary.by_status_offer[status, offer] for offer in offers]
        sheet.append([status, *counts, sum(counts)])
    totals = [sum(summary.by_status_offer[s, offer] for s in statuses) for offer in offers]
    sheet.append_header([TOTAL, *totals, sum(totals)])
    sheet.append([])
    sheet.append_header(["Département", "Zone", *statuses, TOTAL])
    for code in sorted(summary.departements):
        label, zone = summary.departements[code]
        counts = [summary.by_departement_status[code, status] for status in statuses]
        sheet.append([label, zone, *counts, sum(counts)])
    sheet.append_header([TOTAL, "", *(sum(summary.by_departement_status[c, s] for c in summary.departements)
                                      for s in statuses), summary.count])
