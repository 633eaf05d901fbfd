"""Typed text placed in the Markdown at-tui writes (documents.markdown_text) renders as typed: no
emphasis, link, heading, list, code or HTML comes out of what a person wrote."""

from __future__ import annotations

from html import escape

import pytest

from at_tui.documents.html_page import render
from at_tui.documents.markdown_text import cell, inline, paragraph

TYPED = [
    "*a*", "_a_", "__a__", "a_b", "a_b_c", "a*b*c", "*", "_", "\\_", "a\\*b", "fin \\", "\\\\",
    "[x](y)", "![i](s)", "[r]: /u", "[a]", "[a][b]", "<https://x.fr>", "<b>gras</b>", "<!-- c -->", "x<y",
    "5 < 6 > 4", "`c`", "```", "~~~", "~~s~~", "# h", "#h", "1. x", "12) x", "- x", "+ x", "* x", "> q",
    "===", "---", "***", "&amp;", "&#233;", "R&D", "&copy", 'l\'"x"', "http://x.fr", "www.x.fr", "a | b",
]


def shown(text: str) -> str:
    """`text` as markdown-it writes plain text in HTML (it escapes & < > and ")."""
    return escape(text, quote=False).replace('"', "&quot;")


@pytest.mark.parametrize("text", TYPED)
def test_a_typed_line_renders_as_typed(text: str) -> None:
    assert render(paragraph(text)) == f"<p>{shown(text)}</p>\n"


@pytest.mark.parametrize("text", TYPED)
def test_as_a_list_item_too(text: str) -> None:
    """« - » + the value: a value starting with « 1. » or « - » must not nest a list."""
    html = render(f"- {inline(text)}")
    assert html.count("<li>") == 1 and "<ol" not in html and html.count("<ul>") == 1
    assert f"<li>{shown(text)}</li>" in html


def test_several_lines_keep_their_breaks() -> None:
    assert render(paragraph("# un\n\n- deux\n  1. trois")) == "<p># un<br />\n- deux<br />\n1. trois</p>\n"


def test_a_pipe_ends_no_table_cell() -> None:
    html = render(f"| a | b |\n| --- | --- |\n| {cell('x | y')} | z |")
    assert "<td>x | y</td>" in html and "<td>z</td>" in html


def test_what_markdown_ignores_is_not_escaped() -> None:
    """The Markdown is also pasted as is in the CRM: no backslash where none is needed."""
    text = "MSP de l'Isle-Jourdain (32) : 15 % des patients, a_b, [M1] suivi, 5 < 6, R&D, 10:30 !"
    assert inline(text) == text
