"""How every command speaks: one French line on stderr, made safe (tokens masked, no escape sequences)."""

from __future__ import annotations

import json
import re
import sys

from at_tui.domain.redaction import safe

# json.dumps escapes C0 controls (ESC included) but not DEL, C1 controls (\x9b is a CSI for some
# terminals) nor bidi overrides: escaped too, the JSON means the same and the terminal stays safe.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def fail(message: str, code: int = 1) -> int:
    print(f"at-tui : {safe(message, multiline=True)}", file=sys.stderr)
    return code


def terminal_safe_json(value) -> str:
    """`value` as indented JSON in which no character can act on a terminal."""
    return escape_json_text(json.dumps(value, ensure_ascii=False, indent=2))


def escape_json_text(text: str) -> str:
    """JSON text with the characters a terminal would act on written as \\u escapes (same value)."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
