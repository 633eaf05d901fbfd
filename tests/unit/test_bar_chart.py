"""The terminal bar chart's lines (widgets.charts): exact bars in eighths of a cell, the number
beside each, labels fitted to the width; a small count never looks like none."""

from __future__ import annotations

from at_tui.domain.indicators import Bar
from at_tui.widgets.charts import MAX_LABEL, bar_text, chart_lines


def test_bars_are_drawn_in_eighths_of_a_cell() -> None:
    assert bar_text(10, 10, 5) == "█████"
    assert bar_text(5, 10, 5) == "██▌"  # 2.5 cells
    assert bar_text(1, 8, 1) == "▏"  # one eighth
    assert bar_text(0, 10, 5) == ""


def test_a_small_count_shows_at_least_one_eighth() -> None:
    assert bar_text(1, 5000, 40) == "▏"


def test_each_line_has_its_label_bar_and_number_within_the_width() -> None:
    bars = [Bar("a", "En attente", 12), Bar("b", "Projet en cours", 3), Bar("c", "Terminé", 0)]
    lines = chart_lines(bars, 60)
    assert [(label.strip(), number) for label, _, number in lines] == [
        ("En attente", "12"), ("Projet en cours", "3"), ("Terminé", "0")]
    assert len({len(label) for label, _, _ in lines}) == 1  # labels padded to one column
    for label, bar, number in lines:
        assert len(label) + 1 + 1 + len(bar) + 1 + len(number) <= 60
    assert len(lines[0][1]) == 60 - len("Projet en cours") - 2 - 3  # the largest fills the room


def test_a_shared_scale_keeps_two_charts_comparable() -> None:
    (line,) = chart_lines([Bar("m", "nov. 2026", 2)], 40, largest=4)
    (full,) = chart_lines([Bar("m", "nov. 2026", 4)], 40, largest=4)
    cells = len(full[1])  # 40 - label (9) - « │ », spaces and number (4)
    assert cells == 27 and full[1] == "█" * 27
    assert line[1] == "█" * 13 + "▌"  # half of 27 cells: 13 and a half


def test_long_labels_end_with_an_ellipsis_and_control_characters_are_dropped() -> None:
    (line,) = chart_lines([Bar("t", "Typologie au nom très très long\x1b[31m", 1)], 120)
    assert len(line[0]) == MAX_LABEL and line[0].endswith("…") and "\x1b" not in line[0]
    (narrow,) = chart_lines([Bar("t", "Discussions complexe", 1)], 30)
    assert len(narrow[0]) == 12 and narrow[0].endswith("…")


def test_no_bar_no_line() -> None:
    assert chart_lines([], 80) == []
