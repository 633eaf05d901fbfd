"""The agency's spreadsheets, written the same way (issue 12): the SPICO tracking file, the CM–AT pack.

openpyxl in write-only mode: rows are streamed to disk as they are appended, so a region of
thousands of opportunities is written in flat memory. In that mode what a sheet looks like
(column widths, frozen header) must be set before its first row and the auto-filter after
its last: `TableSheet` holds that order so that a writer only appends rows. Every text goes
through `cells.cell_text` (printable, never a formula), every date is a real Excel date
shown JJ/MM/AAAA (it sorts and filters as a date), every number stays a number.
The workbook reaches its path whole or not at all (`atomic_workbook`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from at_tui.documents.cells import cell_text
from at_tui.files import atomic_file

if TYPE_CHECKING:  # openpyxl is imported only when a spreadsheet is written
    from openpyxl import Workbook

# JJ/MM/AAAA, French locale stated ([$-40C]): without it LibreOffice shows a day/month/year
# format in its own locale's order (11/20/2026 in English), with it every reader shows 20/11/2026.
DATE_FORMAT = "[$-40C]dd/mm/yyyy"
HEADER_FILL = "DDEBF7"  # a light blue, readable printed in grey too
MAX_WIDTH = 60
MAX_CELL_TEXT = 32_767  # Excel's limit: a longer text makes it « repair » the file


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its French header and its width in characters."""

    header: str
    width: float = 14


def new_workbook() -> Workbook:
    """An empty streaming workbook, signed by at-tui (openpyxl signs « openpyxl » otherwise)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "at-tui"
    return workbook


class TableSheet:
    """A sheet with a styled, frozen header row, readable widths and an auto-filter over its rows.

    `table=False`: widths only, for a sheet of several small tables (a synthesis) whose
    headers are appended with `append_header`."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column], *, table: bool = True) -> None:
        from openpyxl.cell import Cell, WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self._sheet = workbook.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
        self._WriteOnlyCell, self._Cell = WriteOnlyCell, Cell
        self._header_style = (Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL),
                              Alignment(vertical="center", wrap_text=True))
        self.table = table
        self.width = len(columns)
        self.rows = 0  # data rows appended, header excluded
        for index, column in enumerate(columns, 1):  # before the first row: written at the top of the sheet
            self._sheet.column_dimensions[get_column_letter(index)].width = min(column.width, MAX_WIDTH)
        if table:
            self._sheet.freeze_panes = "A2"  # likewise: the sheet view is written before the rows
            # Printed for a meeting: landscape, as wide as the page, the header on every page.
            self._sheet.page_setup.orientation = "landscape"
            self._sheet.page_setup.paperSize = "9"  # A4 (ECMA-376 paper size 9)
            self._sheet.sheet_properties.pageSetUpPr.fitToPage = True
            self._sheet.page_setup.fitToWidth, self._sheet.page_setup.fitToHeight = 1, 0
            self._sheet.print_title_rows = "1:1"
            self.append_header([column.header for column in columns])
            self.rows = 0

    def append_header(self, values: Iterable[Any]) -> None:
        """A row in the header style (bold on light blue): a table's titles, or its totals."""
        font, fill, alignment = self._header_style
        row = []
        for value in values:
            cell = self._cell(value)
            if not isinstance(cell, self._Cell):
                cell = self._WriteOnlyCell(self._sheet, value=cell)
            cell.font, cell.fill, cell.alignment = font, fill, alignment
            row.append(cell)
        self._sheet.append(row)
        self.rows += 1

    def append_title(self, text: str) -> None:
        """A line of bold text, unwrapped (it reads across the empty cells beside it)."""
        font, _, _ = self._header_style
        cell = self._WriteOnlyCell(self._sheet, value=_text(text))
        cell.font = font
        self._sheet.append([cell])
        self.rows += 1

    def append(self, values: Iterable[Any]) -> None:
        """One data row: text made safe, dates as dates shown JJ/MM/AAAA, numbers as numbers, None empty."""
        row = []
        for value in values:  # the common kinds first, without a call: thousands of rows go through here
            kind = type(value)
            if kind is str:
                row.append(_text(value))
            elif value is None or kind is int:
                row.append(value)
            else:
                row.append(self._cell(value))
        self._sheet.append(row)
        self.rows += 1

    def _cell(self, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return None if value is None else ("oui" if value else "non")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, dt.date):  # a datetime is a date too: shown as its day
            cell = self._WriteOnlyCell(self._sheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        return _text(value)

    def finish(self) -> None:
        """Filter over the header and every row appended (written with the sheet's tail)."""
        from openpyxl.utils import get_column_letter

        if self.table:
            self._sheet.auto_filter.ref = f"A1:{get_column_letter(max(self.width, 1))}{self.rows + 1}"


@contextmanager
def atomic_workbook(path: Path, *, mode: int = 0o600) -> Iterator[Workbook]:
    """A new streaming workbook, saved to `path` when the block ends, whole or not at all.

    The temporary file beside `path` is created first: a folder that cannot be written fails
    before a single row is read. 0600 like every export (the file names people). On any
    failure (disk full…) `path` is left as it was and no temporary file stays behind.
    Raises OSError or `files.TargetRefused` (French message) for the caller to explain."""
    with atomic_file(path, mode=mode) as handle:
        workbook = new_workbook()
        try:
            yield workbook
            workbook.save(handle)
        except BaseException:
            _discard(workbook)
            raise


def _text(value: object) -> str | None:
    text = cell_text(value)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text or None


def save_atomically(workbook: Workbook, path: Path, *, mode: int = 0o600) -> None:
    """Save a workbook already filled to `path`, with the guarantees of `atomic_workbook`."""
    with atomic_file(path, mode=mode) as handle:
        try:
            workbook.save(handle)
        except BaseException:
            _discard(workbook)
            raise


def _discard(workbook: Workbook) -> None:
    """Close the sheets of a workbook that will not be saved: each streams to its own temporary
    file, which would otherwise be finished at exit with an « Exception ignored » on stderr."""
    for sheet in workbook.worksheets:
        if not getattr(sheet, "closed", True):
            try:
                sheet.close()
            except Exception:  # noqa: BLE001 — already failing: the first error is the one to tell
                pass
