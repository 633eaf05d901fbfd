"""Text from a file, the central or another user, made safe to show in a widget.

Two dangers: an escape sequence or control character (an OSC 52 in a structure name writes
the clipboard, a CSI moves the cursor), and Textual/Rich markup (a name « [/] » fails to draw,
« [link=…] » makes a link; a DataTable reads its str cells as markup too). `markup` removes
the first and escapes the brackets.
"""

from __future__ import annotations

import re

from rich.markup import escape

from at_tui.domain.redaction import printable


def markup(value: object, *, multiline: bool = False) -> str:
    """`value` to put inside a markup string.

    Rich's `escape` leaves « [M1] » alone (its tags start lower case), but Textual's markup
    reads it as a tag and drops it: the seed's titles « [M1] SPICO Suivi des usages » vanished."""
    return _TEXTUAL_TAG.sub(r"\\[", escape(printable("" if value is None else str(value), multiline=multiline)))


_TEXTUAL_TAG = re.compile(r"(?<!\\)\[(?=[A-Z0-9$])")
