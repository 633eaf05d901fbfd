"""Text checks and normalisation shared by every field."""

from __future__ import annotations

import unicodedata

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 20_000


class FieldError(ValueError):
    """A French message meant for the field the AT is typing in."""


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form, for matching what the AT types."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in letters)
    return " ".join(cleaned.split())


def _char_fold(char: str) -> str:
    """What `search_fold` makes of one character, its non-alphanumerics as a space."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return letters.replace("œ", "oe").replace("æ", "ae")


# Latin letters and the Windows-1252 punctuation, folded one character at a time: fold works
# character by character, so translating then collapsing spaces gives the same text, faster.
_FOLD_TABLE = {
    code: _char_fold(chr(code))
    for code in [*range(0x250), *(ord(c) for c in bytes(range(0x80, 0xA0)).decode("cp1252", "ignore"))]
}


def search_fold(text: str | None) -> str:
    """The form names are indexed and searched in: `fold`, with œ/æ spelled oe/ae."""
    if not text:
        return ""
    translated = text.translate(_FOLD_TABLE)
    if translated.isascii():  # every character was in the table: same result as the slow path
        return " ".join(translated.split())
    folded = fold(text)
    return folded.replace("œ", "oe").replace("æ", "ae")


# Emoji sequences use these format characters: they are not control characters.
_EMOJI_FORMAT = {"\u200d"} | {chr(c) for c in range(0xE0020, 0xE0080)}
# Bytes of printable ASCII, newline and tab (and every non-ASCII byte, checked otherwise).
_ASCII_OK = bytes([9, 10, *range(0x20, 0x7F), *range(0x80, 0x100)])


def normalize_newlines(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(
    raw: str, *, multiline: bool = False, max_length: int | None = None, checked: str | None = None
) -> str:
    """Validate free text: bounded length, no control characters. Emoji are welcome.

    `checked` is a text that already passed (normalized): only what differs from it
    is scanned, since a keystroke changes a character, not a whole note.
    """
    limit = max_length or (LONG_TEXT_MAX if multiline else SHORT_TEXT_MAX)
    text = normalize_newlines(raw)
    start, end = changed_span(checked, text) if checked is not None else (0, len(text))
    _refuse_controls(text[start:end], multiline)
    text = text.strip()
    if len(text) > limit:
        raise FieldError(
            f"Texte trop long : {len(text):,} caractères pour {limit:,} au maximum.".replace(",", "\u202f")
        )
    return text


def _refuse_controls(text: str, multiline: bool) -> None:
    """Refuse control, format and surrogate characters (Unicode Cc, Cf, Cs).

    Fast paths first: this runs on every keystroke of a long note.
    """
    if text.isascii():
        if not text.encode().translate(None, _ASCII_OK):
            if multiline or ("\n" not in text and "\t" not in text):
                return
    elif (text.replace("\n", "").replace("\t", "") if multiline else text).isprintable():
        return
    allowed = {"\n", "\t"} if multiline else set()
    for char in text:
        if char in allowed or char in _EMOJI_FORMAT:
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            if char == "\n":
                raise FieldError("Une seule ligne est attendue ici.")
            raise FieldError(f"Caractère non autorisé (U+{ord(char):04X}) : retirez les caractères de contrôle.")


def changed_span(old: str, new: str) -> tuple[int, int]:
    """Bounds of the part of `new` that differs from `old` (common prefix and suffix removed).

    Binary search over slice comparisons: each comparison runs in C, so a few
    thousand characters cost microseconds, not a Python loop over them.
    """
    if new.startswith(old):  # typing at the end, the usual keystroke: no copy at all
        return len(old), len(new)
    if old.startswith(new):  # deleting at the end
        return len(new), len(new)
    limit = min(len(old), len(new))
    low, high = 0, limit
    while low < high:  # longest common prefix
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:  # longest common suffix, not overlapping the prefix
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return prefix, len(new) - low
