"""Text someone typed, placed in Markdown that at-tui writes: shown as typed, never as markup.

A structure named « *Clinique* [du Parc](https://…) » or a note starting with « # » must read
the same in the Markdown file and in its HTML page, not become emphasis, a link or a heading.
Only what Markdown would act on is backslash-escaped, so the file stays pleasant to paste.
"""

from __future__ import annotations

import re

# Only what Markdown would act on: a backslash before punctuation, code and emphasis markers
# (`_` only at a word's edge: « a_b » is no emphasis), « ]( » « ][ » « ]: » that close a link
# or define one, « < » that opens an autolink, « & » that starts an entity.
_INLINE = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])|[`*]|(?<![^\W_])_|_(?![^\W_])|\](?=[(\[:])|<(?=[A-Za-z/!?])|&(?=#?\w+;)"
)
# A line that would open a block: heading, quote, list item, thematic break, setext underline,
# tilde fence (a backtick fence is escaped above).
_BLOCK_MARK = re.compile(r"^(\s*)([#>+=~-])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def inline(text: str) -> str:
    """`text` (one line) with Markdown's markers escaped, one that would open a block at its start
    too: it may be placed at the start of a line or of a list item (« - 1. … » nests a list)."""
    line = _INLINE.sub(lambda m: "\\" + m.group(), text)
    line = _BLOCK_MARK.sub(r"\1\\\2", line)
    return _ORDERED.sub(r"\1\\\2", line)


def cell(text: str) -> str:
    """`text` in a table cell: a « | » would end the cell."""
    return inline(text).replace("|", "\\|")


def lines(text: str) -> list[str]:
    """`text` (several lines) escaped line by line."""
    return [inline(line) for line in text.splitlines()]


def paragraph(text: str) -> str:
    """`text` as one Markdown paragraph whose line breaks are kept (hard breaks)."""
    return "  \n".join(line.strip() for line in lines(text) if line.strip())
