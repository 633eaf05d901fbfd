"""Text as it may go into a spreadsheet cell or a CSV field (issue 12).

Text read from the store or the central was typed by someone else or imported: it is made
printable (no escape sequence, no control character), and it is defused against formula
injection: a spreadsheet evaluates a field starting with « = + - @ » (or a tab / line break
before one) as a formula, so such a value gets a leading apostrophe, which both
Excel and LibreOffice read as « this is text » (OWASP, « CSV Injection »).
"""

from __future__ import annotations

import re
from functools import lru_cache

from at_tui.domain.redaction import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_text(value: object, *, multiline: bool = False) -> str:
    """`value` as safe cell text: printable (newlines kept when `multiline`), never a formula.

    None is the empty string; anything else is written as its `str`."""
    if value is None:
        return ""
    return _safe(str(value), multiline)


# What no UTF-8 file or XML document can hold: a lone surrogate (JSON may carry one) would stop
# the writer half-way, a non-character makes Excel « repair » the file.
_UNWRITABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


@lru_cache(maxsize=4096)
def _safe(text: str, multiline: bool) -> str:
    """Cached: a region's file repeats the same statuses, offers, logins and titles thousands of times."""
    text = printable(_UNWRITABLE.sub("\ufffd", text), multiline=multiline)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
