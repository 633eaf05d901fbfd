"""The range of time a stored timestamp or date may name, checked where values come in.

A value from a file or the central is stored only if every screen can show it and every
computation can shift it: a year 9999 or year 1 with +14:00 leaves Python's calendar once
converted to UTC or local time, and the app would die at every start on it. Visits are
made between these years; anything outside is a mistake or a forgery, refused in French.
"""

from __future__ import annotations

import datetime as dt

MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_OFFSET = dt.timedelta(hours=14)  # the widest real time zone (UTC+14, Kiribati)


def timestamp_problem(value: object) -> str | None:
    """Why `value` is not a usable ISO 8601 timestamp with its offset, in French; None when it is."""
    if not isinstance(value, str):
        return "horodatage ISO 8601 attendu (ex. 2026-11-22T09:30:00+00:00)"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return "horodatage ISO 8601 attendu (ex. 2026-11-22T09:30:00+00:00)"
    offset = moment.utcoffset()
    if offset is None:
        return "l'horodatage doit indiquer son fuseau (ex. +00:00)"
    if abs(offset) > MAX_OFFSET:
        return f"décalage horaire {value[-6:]} hors limites (±14:00 au plus)"
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return f"année {moment.year} hors limites ({MIN_YEAR} à {MAX_YEAR})"
    try:
        utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return f"année {moment.year} hors limites ({MIN_YEAR} à {MAX_YEAR})"
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        return f"horodatage hors limites une fois ramené en UTC ({MIN_YEAR} à {MAX_YEAR})"
    return None


def date_problem(value: object) -> str | None:
    """Why `value` is not an ISO date (AAAA-MM-JJ) in range, in French; None when it is."""
    if not isinstance(value, str):
        return "date AAAA-MM-JJ attendue"
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return "date AAAA-MM-JJ attendue"
    if len(value) != 10:
        return "date AAAA-MM-JJ attendue"
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return f"année {day.year} hors limites ({MIN_YEAR} à {MAX_YEAR})"
    return None
