"""How every command speaks: one French line on stderr, made safe (tokens masked, no escape sequences)."""

from __future__ import annotations

import sys

from at_tui.domain.redaction import safe


def fail(message: str, code: int = 1) -> int:
    print(f"at-tui : {safe(message, multiline=True)}", file=sys.stderr)
    return code
