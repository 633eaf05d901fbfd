"""The monthly CM–AT pack as a workbook (issue 12 §4): the agenda a meeting walks through.

Seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) » : « documentation de
base = fichier de déploiement à parcourir à chacune des réunions ». Three sheets:
- « Ordre du jour »: read top to bottom in the meeting — the period and what each section
  holds, then each département of the zone (territory order) with its new, moving and late
  opportunities and its field notes; each item on one row (date, structure, offer, status,
  who leads, AT, CM, what happened), the journal lines or the note's text on the rows below it;
- « Liste »: the same items as one filterable table (département, rubrique…), to sort or
  filter during the meeting;
- « Synthèse »: how many of each per département, and the zone's total.
Written through `spreadsheet.TableSheet` (streaming, safe text, real dates) and saved atomically.
"""

from __future__ import annotations

from pathlib import Path

from at_tui.documents.spreadsheet import Column, TableSheet, new_workbook, save_atomically
from at_tui.domain.cm_at_pack import SECTIONS, CmAtPack, PackItem

AGENDA_COLUMNS = (
    Column("Date", 12), Column("Structure", 32), Column("Nom CRM", 16), Column("Offre", 24), Column("Statut", 16),
    Column("Menée par", 24), Column("AT", 12), Column("CM", 12), Column("Ce qui s'est passé", 60),
)
LIST_COLUMNS = (Column("Département", 20), Column("Rubrique", 22), *AGENDA_COLUMNS, Column("Détails", 60))
SUMMARY_COLUMNS = (Column("Département", 24), *(Column(title, 14) for _, title in SECTIONS))
DETAIL_MARK = "• "  # not « - »: a cell starting with a dash would be read as a formula (and defused)


def write_pack_workbook(pack: CmAtPack, path: Path) -> None:
    """Write the pack to `path` (0600, whole or not at all). Raises OSError or TargetRefused."""
    workbook = new_workbook()
    _agenda(TableSheet(workbook, "Ordre du jour", AGENDA_COLUMNS, table=False), pack)
    _listing(TableSheet(workbook, "Liste", LIST_COLUMNS), pack)
    _summary(TableSheet(workbook, "Synthèse", SUMMARY_COLUMNS, table=False), pack)
    save_atomically(workbook, path)


def _agenda(sheet: TableSheet, pack: CmAtPack) -> None:
    sheet.append_title(pack.title)
    sheet.append([pack.period])
    sheet.append([pack.rules])
    for departement in pack.departements:
        sheet.append([])
        sheet.append_title(f"{departement.label} — {departement.summary()}")
        if departement.empty:
            sheet.append(["Rien à signaler pour la période."])
            continue
        for key, title in SECTIONS:
            items = departement.items(key)
            if not items:
                continue
            sheet.append_header([f"{title} ({len(items)})", *(c.header for c in AGENDA_COLUMNS[1:])])
            for item in items:
                sheet.append(_item_cells(item))
                for line in item.details:
                    sheet.append([*([None] * (len(AGENDA_COLUMNS) - 1)), DETAIL_MARK + line])
    sheet.finish()


def _listing(sheet: TableSheet, pack: CmAtPack) -> None:
    for departement in pack.departements:
        for key, title in SECTIONS:
            for item in departement.items(key):
                sheet.append([departement.label, title, *_item_cells(item), " ; ".join(item.details) or None])
    sheet.finish()


def _summary(sheet: TableSheet, pack: CmAtPack) -> None:
    sheet.append_title(pack.title)
    sheet.append([pack.period])
    sheet.append_header([c.header for c in SUMMARY_COLUMNS])
    totals = [0] * len(SECTIONS)
    for departement in pack.departements:
        counts = [len(departement.items(key)) for key, _ in SECTIONS]
        totals = [a + b for a, b in zip(totals, counts)]
        sheet.append([departement.label, *counts])
    sheet.append_header([f"Zone {pack.zone}", *totals])
    sheet.finish()


def _item_cells(item: PackItem) -> list:
    status = item.status_label + (f" ({item.status_reason})" if item.status_reason else "")
    return [item.day, item.structure, item.crm_name, item.offer_label, status, item.who_leads,
            item.at_login, item.cm_login, item.what]
