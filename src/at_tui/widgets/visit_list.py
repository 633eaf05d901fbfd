"""The Accueil's list of visits: a header line, rows, a cursor — drawn as text.

Not a DataTable, nor containers: the list is the first thing on screen, and
each new widget type mounted at start-up costs a restyle of the whole app;
a DataTable's first render alone cost more than the start-up budget
(bench/startup.py). Long lists show the window of rows around the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[str, ...]
    styles: tuple[str, ...] = ()  # a Rich style per cell (« en retard » in the Accueil's « À faire »)


class LazyRows(Sequence):
    """Rows built on first access: the list draws a screenful, however long the history."""

    def __init__(self, items: Sequence, build: Callable[[Any], Row]) -> None:
        self._items, self._build, self._built = items, build, {}

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        row = self._built.get(index)
        if row is None:
            row = self._built[index] = self._build(self._items[index])
        return row


class VisitList(Static, can_focus=True):
    """Posts `VisitList.Chosen` when a row is clicked; Enter is the screen's binding.

    Also the Accueil's « À faire » and the « Opportunités » list: one widget type for every
    list of the Accueil keeps its start-up cost (see above)."""

    BINDINGS = [
        Binding("up", "move(-1)", "Haut", show=False),
        Binding("down", "move(1)", "Bas", show=False),
        Binding("pageup", "move(-10)", "Page précédente", show=False),
        Binding("pagedown", "move(10)", "Page suivante", show=False),
        Binding("home", "move(-1000000)", "Début", show=False),
        Binding("end", "move(1000000)", "Fin", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    @dataclass
    class Chosen(Message):
        key: str
        source: VisitList | None = None  # which list: the Accueil has two

        @property
        def control(self) -> VisitList | None:
            return self.source

    def __init__(self, headers: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.headers = headers
        self.rows: list[Row] = []
        self.widths: list[int] = [len(h) for h in headers]
        self.top = 0  # first row shown

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def selected(self) -> str | None:
        return self.rows[self.cursor].key if self.rows else None

    def set_rows(self, rows: list[Row], widths: list[int]) -> None:
        self.rows = rows
        self.widths = widths
        self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self._draw()

    def watch_cursor(self) -> None:
        self._draw()

    def on_focus(self) -> None:
        self._draw()

    def on_blur(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _visible_rows(self) -> int:
        """As many rows as the CSS max-height allows under the header line. Not our current
        height: it is `auto`, so it only grows if we draw more than fits it now."""
        bound = self.styles.max_height
        screen = self.screen.size if self.is_attached else None
        if not screen or not screen.height:
            screen = self.app.size  # before layout: the terminal's
        if bound is None or not screen.height:
            return max(1, min(len(self.rows), screen.height or 100))
        return max(1, min(len(self.rows), int(bound.resolve(screen, screen)) - 1))

    def _line(self, cells, styles: tuple[str, ...] = ()) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, (cell, width) in enumerate(zip(cells, self.widths)):
            shown = cell if len(cell) <= width else cell[: max(0, width - 1)] + "…"
            style = styles[index] if index < len(styles) else ""
            text.append(" ")
            text.append(f"{shown:<{width}}", style=style or None)
            text.append(" ")
        return text

    def _draw(self) -> None:
        shown = self._visible_rows()
        self.top = min(self.top, self.cursor)
        self.top = max(self.top, self.cursor - shown + 1, 0)
        text = self._line(self.headers)
        text.stylize("bold underline")
        for index in range(self.top, min(len(self.rows), self.top + shown)):
            row = self.rows[index]
            line = self._line(row.cells, row.styles)
            if index == self.cursor:
                line.stylize("reverse" if self.has_focus else "bold")
            text.append("\n")
            text.append_text(line)
        self.update(text)

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def on_click(self, event: Click) -> None:
        index = self.top + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.rows):
            self.cursor = index
            self.post_message(self.Chosen(self.rows[index].key, self))
