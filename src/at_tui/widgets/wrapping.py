"""Choices and checklist lines that wrap: the AT reads each label whole, even at 80 columns.

Textual draws a Checkbox, a RadioButton or a SelectionList choice on one line and ends a
long label with « … »; the strategic-scope criteria and some checklist actions run to 100
or 150 characters. Here the label goes on under itself, indented past the box.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, OptionList, RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist


class _WrappedLabel:
    """The label wrapped to the widget's width, its lines under the first one's text.

    A plain mixin, first in the bases: Textual's CSS type names follow the first DOMNode
    base, so a WrappingCheckbox still matches `Checkbox` in queries and style sheets."""

    def _label_lines(self, width: int) -> list[Content]:
        room = width - self._button.cell_length - 2  # a space before the label, one after
        return self._label.wrap(max(room, 10))

    def render(self) -> Content:
        button = self._button
        label_style = self.get_visual_style("toggle--label")
        lines = [line.pad(0, 1).stylize_before(label_style) for line in self._label_lines(self.content_size.width)]
        indent = " " * (button.cell_length + 1)
        first = Content.assemble(button, " ", lines[0])
        return Content("\n").join([first, *(Content(indent) + line for line in lines[1:])])

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._label_lines(width))


class WrappingCheckbox(_WrappedLabel, Checkbox):
    DEFAULT_CSS = "WrappingCheckbox { width: 100%; height: auto; }"


class WrappingRadioButton(_WrappedLabel, RadioButton):
    DEFAULT_CSS = "WrappingRadioButton { width: 100%; height: auto; }"


class WrappingSelectionList(SelectionList[str]):
    """A SelectionList whose long choices wrap instead of ending in « … ».

    The choices of a multiple-choice question are long sentences (the strategic-scope
    criteria run to 150 characters) and the AT must read each whole at 80 columns.
    Textual's SelectionList draws its box on every line of the list, as if each choice took
    one line: here the box is drawn on a choice's first line and the following lines are
    indented under its text."""

    DEFAULT_CSS = """
    WrappingSelectionList {
        text-wrap: wrap;
        text-overflow: fold;
        overflow-y: hidden;  /* as tall as its choices: the page scrolls, not the list */
    }
    """

    def scroll_to_highlight(self, top: bool = False) -> None:
        """The page scrolls to show the highlighted choice whole (the list itself never scrolls)."""
        super().scroll_to_highlight(top)
        index = self.highlighted
        if index is None or not self.is_mounted or not self.has_focus:  # not while the page is built
            return
        self._update_lines()
        if index not in self._index_to_line:
            return
        gutter = self.styles.gutter
        box = self.virtual_region
        region = Region(box.x, box.y + gutter.top + self._index_to_line[index], box.width, self._heights[index])
        widget = self
        while isinstance(widget.parent, Widget) and region:
            container = widget.parent
            scrolled = container.scroll_to_region(region, animate=False, immediate=True)
            region = (region.translate(-scrolled).translate(container.styles.margin.top_left)
                      .translate(container.styles.border.spacing.top_left)
                      .translate(container.virtual_region_with_margin.offset)
                      .intersection(container.virtual_region_with_margin))
            widget = container

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # OptionList measures its choices on the whole width; they are drawn beside the box.
        return super().get_content_height(container, viewport, width - self._get_left_gutter_width())

    def render_line(self, y: int) -> Strip:
        # SelectionList.render_line takes the line number for the choice's index: right only
        # while every choice is one line. Same drawing, with the index of the line's choice.
        line = OptionList.render_line(self, y)
        try:
            index, offset = self._lines[self.scroll_offset.y + y]
            selection = self.get_option_at_index(index)
        except (IndexError, OptionDoesNotExist):
            return line
        underlying = next(iter(line)).style or self.rich_style
        if offset:
            return Strip([Segment(" " * self._get_left_gutter_width(), underlying), *line])
        component = "selection-list--button"
        if selection.value in self._selected:
            component += "-selected"
        if self.highlighted == index:
            component += "-highlighted"
        button = self.get_component_rich_style(component) + Style(meta={"option": index})
        side = Style.from_color(button.bgcolor, underlying.bgcolor) + Style(meta={"option": index})
        return Strip([
            Segment(ToggleButton.BUTTON_LEFT, style=side),
            Segment(ToggleButton.BUTTON_INNER, style=button),
            Segment(ToggleButton.BUTTON_RIGHT, style=side),
            Segment(" ", style=underlying),
            *line,
        ])
