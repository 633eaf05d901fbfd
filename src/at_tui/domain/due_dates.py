"""Calendar arithmetic of the follow-ups: local calendar dates, never timestamps.

Seed 000, « 6. Suivi des usages et remontée des indicateurs »: « Point de suivi à M+1, M+3
et M+6 suite à la fin du déploiement ». A month later is the same day number, clamped at
the month's end (31 January + 1 month = 28 or 29 February): the AT plans « le 28 » rather
than a date that does not exist.
"""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months, clamped at the end of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def week_end(today: dt.date) -> dt.date:
    """The Sunday closing `today`'s week: « à faire cette semaine » runs up to it."""
    return today + dt.timedelta(days=6 - today.weekday())


def typed_day(text: str) -> dt.date | None:
    """A date typed as AAAA-MM-JJ (`--date`, `--depuis`) that is a real calendar day; None otherwise
    (fromisoformat alone would also take « 20261201 » or « 2026-W49-1 »)."""
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not (text[:4] + text[5:7] + text[8:]).isdigit():
        return None
    return parse_day(text)


def parse_day(value: object) -> dt.date | None:
    """An ISO date as stored, or None (absent or unreadable: shown as « date invalide » elsewhere)."""
    try:
        return dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
