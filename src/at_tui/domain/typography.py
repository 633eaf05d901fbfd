"""French typography for the text at-tui writes for people (issue 12: « typographie française »).

A compte rendu sent to a structure or pasted in the CRM reads as French when the double
punctuation keeps its space and never starts a line: a narrow no-break space (U+202F) before
« ; ! ? », a no-break space (U+00A0) before « : » and inside « guillemets »; straight double
quotes become guillemets. What is not prose is left as it is: web and mail addresses
(`https://…?a=1`), HTML entities, times (10:30), ratios (3:1), identifiers (a:b), and text
that already has its no-break spaces (the function is idempotent).
"""

from __future__ import annotations

import re

NBSP = "\u00a0"  # before « : », inside guillemets
NNBSP = "\u202f"  # before « ; ! ? »

# Left untouched: addresses (up to the next space or quote) and HTML entities (`&amp;`).
_PROTECTED = re.compile(
    r"(?:\b[A-Za-z][A-Za-z0-9+.\-]*://|\bmailto:|\btel:|\bwww\.)[^\s<>\"«»]*"
    r"|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
)
_STRAIGHT_QUOTES = re.compile(r'"([^"\n]*)"')
# What may stand right before a punctuation mark that takes a space: a word's end, a closing
# bracket or guillemet, Markdown emphasis, a percent sign.
_BEFORE = r"[\w)\]»*%’'…]"
# What may follow it for the space to be inserted: a space, the end, closing marks. A letter or
# a digit right after means it is not prose punctuation (10:30, a:b, page?id=3).
_AFTER = r"(?:[\s.,;:!?)\]»*_]|$)"
_SPACE_BEFORE_HIGH = re.compile(rf"(?<={_BEFORE}) +(?=[;!?])")
_MISSING_BEFORE_HIGH = re.compile(rf"(?<={_BEFORE})(?=[;!?]{_AFTER})")
_SPACE_BEFORE_COLON = re.compile(rf"(?<={_BEFORE}) +(?=:)")
_MISSING_BEFORE_COLON = re.compile(rf"(?<={_BEFORE})(?=:{_AFTER})")
_OPENING = re.compile(r"« *(?=[^\s])")
_CLOSING = re.compile(r"(?<=\S) *»")


def french(text: str) -> str:
    """`text` with French typography: no-break spaces before « ; : ! ? » and inside guillemets,
    straight double quotes made guillemets. Addresses and entities are kept as they are."""
    if not text:
        return text
    text = _STRAIGHT_QUOTES.sub(_guillemets, text)
    kept = list(_PROTECTED.finditer(text))
    if not kept:
        return _prose(text)
    parts: list[str] = []
    position = 0
    for match in kept:
        parts.append(_between(text, position, match.start()))
        parts.append(match.group())
        position = match.end()
    parts.append(_between(text, position, len(text)))
    return "".join(parts)


def _between(text: str, start: int, end: int) -> str:
    """The prose between two kept spans, dressed with the characters around it as context
    (« https://x.fr : » takes its space; « voir:https:// » does not), which stay as they are."""
    if start == end:
        return ""
    before = text[start - 1:start]
    after = text[end:end + 1]
    dressed = _prose(before + text[start:end] + after)
    return dressed[len(before):len(dressed) - len(after)]


def _guillemets(match: re.Match[str]) -> str:
    inner = match.group(1).strip(" ")
    if not inner.strip():
        return match.group()  # "" or " ": nothing quoted, nothing to dress
    return f"«{NBSP}{inner}{NBSP}»"


def _prose(text: str) -> str:
    if not text:
        return text
    text = _OPENING.sub("«" + NBSP, text)
    text = _CLOSING.sub(NBSP + "»", text)
    text = _SPACE_BEFORE_HIGH.sub(NNBSP, text)
    text = _MISSING_BEFORE_HIGH.sub(NNBSP, text)
    text = _SPACE_BEFORE_COLON.sub(NBSP, text)
    return _MISSING_BEFORE_COLON.sub(NBSP, text)
