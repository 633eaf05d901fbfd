"""Terminal charts of the Indicateurs screen: horizontal bars, the number beside each.

Why not `textual-plotext` (the issue's suggestion, 1.0.1 with plotext 5.3): tried on
05/12/2026 with Textual 8.2 it installs and renders, but at the sizes of an 80×24 screen its
horizontal bars are scaled wrongly (5 drawn as long as 12 on a 76×8 plot), its vertical bars
merge neighbouring months and draw a bar for 0, it prints no number beside a bar, and it
pulls plotext (its own renderer, its own colours, pinned < 6) for charts the AT must read
exactly. The figures here are counts to compare and read: one line per bar, the label, a bar
drawn in Unicode eighths (▏▎▍▌▋▊▉█, eight steps per cell), then the number — exact,
deterministic in snapshots, readable at 80 columns, and a few dozen lines of code.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widget import Widget

from at_tui.domain.indicators import Bar
from at_tui.domain.redaction import printable

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
MAX_LABEL = 24  # a longer label (a typologie, a département's name) ends with « … »
GAP = 1


def bar_text(value: int, largest: int, cells: int) -> str:
    """`value` as a bar of at most `cells` cells, `largest` filling them all; a value above 0
    shows at least one eighth (a small count must not look like none)."""
    if value <= 0 or largest <= 0 or cells <= 0:
        return ""
    eighths = max(1, round(value * cells * 8 / largest))
    whole, part = divmod(eighths, 8)
    return FULL * whole + (EIGHTHS[part] if part else "")


def chart_lines(bars: Sequence[Bar], width: int, largest: int | None = None) -> list[tuple[str, str, str]]:
    """(label, bar, number) of each bar, fitted to `width` cells: labels padded to the longest
    (at most MAX_LABEL, or two fifths of the width), numbers beside their bar; `largest` fills
    the width (the largest bar by default; charts to compare share theirs)."""
    if not bars:
        return []
    labels = [printable(b.label) for b in bars]
    label_width = min(max(len(label) for label in labels), MAX_LABEL, max(6, width * 2 // 5))
    numbers = [str(b.value) for b in bars]
    number_width = max(len(n) for n in numbers)
    cells = max(1, width - label_width - number_width - 2 * GAP - 1)
    largest = max([largest or 0, *(b.value for b in bars)])
    lines = []
    for label, number, bar in zip(labels, numbers, bars, strict=True):
        if len(label) > label_width:
            label = label[: label_width - 1] + "…"
        lines.append((label.ljust(label_width), bar_text(bar.value, largest, cells), number))
    return lines


class BarChart(Widget):
    """A titled horizontal bar chart: one line per bar, as tall as its bars (the screen scrolls)."""

    # Styles as Content variables, not component classes: six charts open in one frame.
    DEFAULT_CSS = """
    BarChart { height: auto; width: 1fr; padding-right: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, title: str = "", bars: Sequence[Bar] = (), *, empty: str = "Aucune donnée.",
                 largest: int | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart_title = title
        self.bars: tuple[Bar, ...] = tuple(bars)
        self.empty = empty
        self.largest = largest

    def show(self, title: str, bars: Sequence[Bar], empty: str | None = None, largest: int | None = None) -> None:
        self.chart_title, self.bars, self.largest = title, tuple(bars), largest
        if empty is not None:
            self.empty = empty
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + max(1, len(self.bars))

    def render(self) -> Content:
        width = self.content_size.width or 80
        parts: list[tuple[str, str] | str] = [(printable(self.chart_title)[:width], "bold")]
        if not self.bars:
            parts += ["\n", (self.empty, "$text-muted")]
        for label, bar, number in chart_lines(self.bars, width, self.largest):
            parts += [f"\n{label}{' ' * GAP}│", (bar, "$accent"), f"{' ' * GAP}{number}"]
        return Content.assemble(*parts)
