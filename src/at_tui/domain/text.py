"""Text checks and normalisation shared by every field."""

from __future__ import annotations

import unicodedata

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 20_000

_ALLOWED_CONTROLS_LONG = {"\n", "\t"}


class FieldError(ValueError):
    """A French message meant for the field the AT is typing in."""


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form, for matching what the AT types."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in letters)
    return " ".join(cleaned.split())


def clean_text(raw: str, *, multiline: bool = False, max_length: int | None = None) -> str:
    """Validate free text: bounded length, no control characters. Emoji are welcome."""
    limit = max_length or (LONG_TEXT_MAX if multiline else SHORT_TEXT_MAX)
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    allowed = _ALLOWED_CONTROLS_LONG if multiline else set()
    # Fast path for the common case (this runs on every keystroke of a long note);
    # isprintable() is False for some legitimate characters too, which the loop then accepts.
    if not ((text.replace("\n", "").replace("\t", "") if multiline else text).isprintable()):
        _check_controls(text, allowed)
    text = text.strip()
    if len(text) > limit:
        raise FieldError(
            f"Texte trop long : {len(text):,} caractères pour {limit:,} au maximum.".replace(",", "\u202f")
        )
    return text


def _check_controls(text: str, allowed: set[str]) -> None:
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs") and char not in allowed and char != "\u200d":
            if char == "\n":
                raise FieldError("Une seule ligne est attendue ici.")
            raise FieldError(
                f"Caractère non autorisé (U+{ord(char):04X}) : retirez les caractères de contrôle."
            )
