"""The SPICO tracking workbook (issue 12 §1) read back by readers that are not its writer:
python-calamine (Rust), openpyxl in read mode, and LibreOffice headless where it is installed."""

from __future__ import annotations

import csv
import datetime as dt
import stat
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from real_readers import EVERY_SHEET_AS_CSV, convert, needs_libreoffice
from tracking_journeys import EXPECTED_HEADER, EXPECTED_ROWS, NAUGHTY_STRUCTURE, known_opportunities

from at_tui.documents.cells import cell_text
from at_tui.documents.spreadsheet import DATE_FORMAT, Column, TableSheet, new_workbook, save_atomically
from at_tui.documents.tracking_xlsx import SHEET_ROWS, SHEET_SUMMARY, write_tracking_workbook
from at_tui.domain.classification import OFFER_LABELS
from at_tui.domain.tracking import follow_up_labels, tracking_rows
from at_tui.store.tracking import tracked_opportunities

TODAY = dt.date(2027, 3, 15)


def write(workspace, path: Path, **options):
    lifecycle = workspace.lifecycle()
    rows = tracking_rows(tracked_opportunities(workspace.conn), lifecycle, workspace.territory)
    options = {"follow_up_labels": follow_up_labels(lifecycle), "today": TODAY,
               "status_order": [s.label for s in lifecycle.statuses],
               "offer_order": list(OFFER_LABELS.values()), **options}
    return write_tracking_workbook(rows, path, **options)


@pytest.fixture
def workbook_path(workspace, tmp_path) -> Path:
    known_opportunities(workspace)
    path = tmp_path / "exports" / "suivi.xlsx"
    assert write(workspace, path).count == 3
    return path


def by_structure(rows: list[list]) -> dict[str, list]:
    return {row[2]: row for row in rows}


def calamine_value(value):
    """calamine gives every number as a float and an empty cell as ""."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def test_calamine_reads_every_column_of_every_known_opportunity(workbook_path) -> None:
    rows = CalamineWorkbook.from_path(str(workbook_path)).get_sheet_by_name(SHEET_ROWS).to_python()
    assert rows[0] == EXPECTED_HEADER
    found = by_structure([[calamine_value(v) for v in row] for row in rows[1:]])
    assert found == EXPECTED_ROWS
    deployed = by_structure(rows[1:])["MSP de Lectoure"]
    assert type(deployed[EXPECTED_HEADER.index("Cadrage")]) is dt.date  # a real date, not text
    assert isinstance(deployed[EXPECTED_HEADER.index("Comptes estimés")], float)  # a number, not text


def test_openpyxl_reads_the_same_with_dates_numbers_frozen_header_filter_and_widths(workbook_path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)[SHEET_ROWS]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == EXPECTED_HEADER
    expected = {name: [v if not isinstance(v, dt.date) else dt.datetime.combine(v, dt.time()) for v in row]
                for name, row in EXPECTED_ROWS.items()}
    assert by_structure(values[1:]) == expected
    assert sheet.freeze_panes == "A2"
    assert (sheet.page_setup.orientation, sheet.page_setup.fitToWidth, sheet.print_title_rows) == ("landscape", 1, "$1:$1")
    assert sheet.auto_filter.ref == "A1:AA4"  # 27 columns, header and 3 rows
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert sheet.column_dimensions["C"].width == 34  # Structure
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in ("A", "N", "Z", "AA"))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"  # nothing a spreadsheet evaluates
            if isinstance(cell.value, dt.datetime):
                assert cell.is_date and cell.number_format == DATE_FORMAT
    naughty = next(row for row in sheet.iter_rows(min_row=2) if row[2].value == "'" + NAUGHTY_STRUCTURE)
    assert naughty[2].data_type == "s"


def test_the_synthese_counts_by_statut_and_offre_and_by_departement(workbook_path) -> None:
    rows = CalamineWorkbook.from_path(str(workbook_path)).get_sheet_by_name(SHEET_SUMMARY).to_python()
    cleaned = [[calamine_value(v) for v in row] for row in rows]
    trimmed = [row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in cleaned]
    assert trimmed == [
        ["Synthèse du suivi des déploiements SPICO au 15/03/2027 : 3 opportunités"],
        [],
        ["Statut / offre", "SPICO Discussions simple", "SPICO Discussions complexe", "Total"],
        ["En attente", 1, 0, 1],
        ["Projet en cours", 1, 0, 1],
        ["Sans suite", 0, 1, 1],
        ["Total", 2, 1, 3],
        [],
        ["Département", "Zone", "En attente", "Projet en cours", "Sans suite", "Total"],
        ["11 Aude", "Est", 1, 0, 0, 1],
        ["32 Gers", "Ouest", 0, 1, 0, 1],
        ["34 Hérault", "Est", 0, 0, 1, 1],
        ["Total", None, 1, 1, 1, 3],
    ]
    assert [s.title for s in openpyxl.load_workbook(workbook_path).worksheets] == [SHEET_ROWS, SHEET_SUMMARY]


def test_the_file_is_private_and_replaces_an_older_one_whole(workspace, workbook_path) -> None:
    assert stat.S_IMODE(workbook_path.stat().st_mode) == 0o600
    workspace.opportunities.take_charge(next(iter(_ids(workspace))), "zoe", workspace.lifecycle())
    write(workspace, workbook_path)
    sheet = CalamineWorkbook.from_path(str(workbook_path)).get_sheet_by_name(SHEET_ROWS).to_python()
    assert "zoe" in {row[EXPECTED_HEADER.index("CM")] for row in sheet}
    assert sorted(p.name for p in workbook_path.parent.iterdir()) == ["suivi.xlsx"]  # no temporary file left


def test_without_any_opportunity_the_file_has_its_header_and_an_empty_synthese(workspace, tmp_path) -> None:
    path = tmp_path / "vide.xlsx"
    assert write(workspace, path).count == 0
    book = CalamineWorkbook.from_path(str(path))
    assert book.get_sheet_by_name(SHEET_ROWS).to_python() == [EXPECTED_HEADER]
    assert book.get_sheet_by_name(SHEET_SUMMARY).to_python()[0][0].endswith(": 0 opportunité")
    assert openpyxl.load_workbook(path)[SHEET_ROWS].auto_filter.ref == "A1:AA1"


def test_follow_up_columns_default_to_the_first_rows(workspace, tmp_path) -> None:
    known_opportunities(workspace)
    path = tmp_path / "suivi.xlsx"
    write(workspace, path, follow_up_labels=None)
    header = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET_ROWS).to_python()[0]
    assert header == EXPECTED_HEADER


def test_a_failed_save_leaves_the_previous_file_and_no_temporary_file(workspace, workbook_path, monkeypatch) -> None:
    before = workbook_path.read_bytes()

    real_save = openpyxl.Workbook.save

    def disk_full(self, handle):  # the whole zip written, then the disk is full before the rename
        real_save(self, handle)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        write(workspace, workbook_path)
    assert workbook_path.read_bytes() == before
    assert [p.name for p in workbook_path.parent.iterdir()] == ["suivi.xlsx"]


def test_cell_text_is_printable_and_never_a_formula() -> None:
    for dangerous in ("=SOMME(A1:A9)", "+33 5 62 00 00 00", "-2", "@SUM(1)", "=HYPERLINK(\"http://x\")"):
        assert cell_text(dangerous) == "'" + dangerous
    assert cell_text("\t=1+1") == "'=1+1"  # made printable first: the tab goes, the formula is still caught
    assert cell_text("MSP\x1b]52;c;ZXZpbA==\x07 de Lectoure") == "MSP de Lectoure"
    assert cell_text("ligne 1\nligne 2") == "ligne 1 ligne 2"
    assert cell_text("ligne 1\r\n=ligne 2", multiline=True) == "ligne 1\n=ligne 2"
    assert cell_text("\n=1", multiline=True) == "'\n=1"
    assert (cell_text(None), cell_text(12), cell_text("Hôpital « Sud »")) == ("", "12", "Hôpital « Sud »")
    assert cell_text("EHPAD \ud800des Tilleuls\uffff") == "EHPAD \ufffddes Tilleuls\ufffd"  # never stops a writer


def test_texts_no_spreadsheet_could_hold_are_made_writable(tmp_path) -> None:
    workbook = new_workbook()
    sheet = TableSheet(workbook, "Textes", [Column("Texte")])
    sheet.append(["x" * 40_000])
    sheet.append(["lone \udc80 surrogate"])
    sheet.finish()
    save_atomically(workbook, tmp_path / "t.xlsx")
    rows = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_name("Textes").to_python()
    assert len(rows[1][0]) == 32_767 and rows[1][0].endswith("x…")  # Excel's limit per cell
    assert rows[2][0] == "lone \ufffd surrogate"


def test_a_table_sheet_writes_booleans_in_words_and_long_titles_shortened(tmp_path) -> None:
    workbook = new_workbook()
    sheet = TableSheet(workbook, "Un titre de feuille bien trop long pour Excel", [Column("Maillage", 200)])
    sheet.append([True])
    sheet.append([False])
    sheet.finish()
    save_atomically(workbook, tmp_path / "t.xlsx")
    read = openpyxl.load_workbook(tmp_path / "t.xlsx")
    (only,) = read.worksheets
    assert only.title == "Un titre de feuille bien trop l"  # 31 characters, Excel's limit
    assert [c.value for c in only["A"]] == ["Maillage", "oui", "non"]
    assert only.column_dimensions["A"].width == 60
    assert read.properties.creator == "at-tui"


@needs_libreoffice
def test_libreoffice_opens_the_file_and_shows_dates_as_jj_mm_aaaa(workbook_path, tmp_path) -> None:
    out = convert([workbook_path], EVERY_SHEET_AS_CSV, tmp_path)
    with (out / "suivi-Suivi.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == EXPECTED_HEADER
    shown = {name: ["" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else str(v) for v in row]
             for name, row in EXPECTED_ROWS.items()}
    assert by_structure(rows[1:]) == shown
    assert by_structure(rows[1:])["MSP de Lectoure"][EXPECTED_HEADER.index("M+1 dû le")] == "28/02/2027"
    with (out / "suivi-Synthèse.csv").open(encoding="utf-8", newline="") as handle:
        summary = list(csv.reader(handle))
    assert summary[6][:4] == ["Total", "2", "1", "3"]


def _ids(workspace) -> list[str]:
    return [t.opportunity.id for t in tracked_opportunities(workspace.conn) if t.opportunity.structure == "CH de Béziers"]
