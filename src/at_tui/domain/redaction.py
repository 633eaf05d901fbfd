"""What may be shown or written: secrets masked, terminal control sequences removed.

Every message, stored error, log line and crash report goes through `safe` (or `redact`
when the text never reaches a terminal). Text from a file, the server or another user is
shown only after `printable`: an escape sequence in a structure name must not move the
cursor, retitle the terminal or write the clipboard (OSC 52).
"""

from __future__ import annotations

import re

MASK = "att_…(masqué)"
_MASKED_SECRET = "…(masqué)"

# `att_` + base64url (docs/sync-protocol.md), and whatever follows an authorization scheme:
# a server quoting its request headers may quote a token of another shape.
_TOKEN_RE = re.compile(r"att_[A-Za-z0-9_\-]+=*")
_AUTH_RE = re.compile(r"(?i)\b(bearer|token|authorization)(\s*[:=]?\s*)(?!att_…)([A-Za-z0-9._~+/\-]{12,}=*)")
_KNOWN: set[str] = set()  # secrets this process has loaded (an AT_TUI_TOKEN of any shape)

# CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte escapes, and C1 controls.
_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|[\x80-\x9f]"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_NO_NEWLINE_RE = re.compile(r"[\x00-\x1f\x7f]")
# Bidi overrides can make a displayed name read differently from what it is.
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def remember_secret(secret: str) -> None:
    """Mask this exact value too from now on (a token read from the keyring or environment)."""
    if secret and len(secret) >= 8:
        _KNOWN.add(secret)


def redact(text: str) -> str:
    """`text` with every token masked: `att_…`, a value after Bearer/Authorization, a known secret."""
    text = _TOKEN_RE.sub(MASK, text)
    for secret in _KNOWN:
        if secret in text:
            text = text.replace(secret, _MASKED_SECRET)
    return _AUTH_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{_MASKED_SECRET}", text)


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` without escape sequences and control characters (newlines kept when `multiline`)."""
    text = _ESCAPE_RE.sub("", text)
    text = _BIDI_RE.sub("", text)
    if multiline:
        return _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL_NO_NEWLINE_RE.sub(" ", text.replace("\r\n", " ").replace("\n", " ")).strip()


def safe(text: object, *, multiline: bool = False, limit: int | None = 2000) -> str:
    """What any message may show: printable, redacted, and bounded (a server may send megabytes).

    Stripped before it is redacted: an escape sequence inside a token must not hide it."""
    cleaned = redact(printable(str(text), multiline=multiline))
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit] + " […]"
    return cleaned
