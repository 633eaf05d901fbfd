"""The monthly CM–AT pack of a zone: the meeting's agenda, ready to walk through (issue 12 §4).

Seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) » : « Documentation de
base = fichier de déploiement à parcourir à chacune des réunions ; état d'avancement des
actions de chacun, suivi du déploiement (saisie par le CM dans le fichier ad hoc), partage
d'agendas, remontées terrain ». Made from the tracking file's rows (`domain.tracking`), per
département of the zone in the territory's order, every département listed even when
nothing happened there (the meeting says so and moves on). Four sections, each item saying
what to say: structure, offer, status, who leads, AT, CM, the date and what happened.

What goes where (documented in docs/cm-at-pack.md):
- the period runs from `since` to `today`, both included (by default `since` is the same day
  one month before: the meeting is monthly). Something « happened since » when its day is in
  the period OR when it was recorded in the period (an activity typed after the last meeting
  about an older day was never discussed).
- NOUVELLES: the opportunity's visit is in the period, or the opportunity itself was opened in
  the period (its « Information » entry, written when the visit ended, was typed then). Its activities since are
  listed with it: a new opportunity is never also « en mouvement ».
- EN MOUVEMENT: not new, and a journal entry since that is not a free note (an activity of the
  lifecycle or a status change). Only the journal says when: a record's `updated_at` is when a
  laptop or the central last stored it (a late sync, a CM's pull), not when the project moved.
- EN RETARD: independent of the two above (a new opportunity may be late already): a follow-up
  (M+1, M+3, M+6) past due on `today` and not done (`TrackingRow.overdue`), or « En attente »
  (the lifecycle's initial status) more than N days (30 by default) after the visit date.
- REMONTÉES TERRAIN: the journal entries since that carry words from the field: every free
  note (activity « note »), and any other entry with a text (RETEX, témoignage, a comment on a
  follow-up) — except the « Information » entry, whose text is the CRM description of the
  visit itself, and status changes, whose reason is said under EN MOUVEMENT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from at_tui.domain.due_dates import add_months, parse_day
from at_tui.domain.opportunity import STATUS_ACTIVITY, JournalEntry
from at_tui.domain.territory import zone_departements
from at_tui.domain.tracking import NOTE_ACTIVITY, TrackingRow

if TYPE_CHECKING:
    from at_tui.domain.playbook import Territory

DEFAULT_WAITING_DAYS = 30
INFORMATION_ACTIVITY = "information"  # the visit's own entry (its text: the CRM description)
# Section keys and their French headings, in the order the meeting walks through them.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("new", "Nouvelles opportunités"),
    ("moved", "En mouvement"),
    ("late", "En retard"),
    ("notes", "Remontées terrain"),
)


@dataclass(frozen=True, slots=True)
class PackItem:
    """One line of the agenda: which opportunity, and what to say about it."""

    opportunity_id: str
    structure: str
    crm_name: str
    offer_label: str
    status_label: str
    status_reason: str | None
    lead: str  # « AT » / « CM »
    support: str | None
    at_login: str | None
    cm_login: str | None
    day: dt.date | None  # the date of what happened (the visit, the latest move, the oldest delay, the note)
    what: str  # what happened, in one sentence
    details: tuple[str, ...] = ()  # one line each (journal entries, delays) — a note's text, lines kept

    @property
    def who_leads(self) -> str:
        return f"menée par {self.lead}" + (f", {self.support} en soutien" if self.support else "")


@dataclass(frozen=True, slots=True)
class DepartementSection:
    code: str
    name: str
    new: tuple[PackItem, ...] = ()
    moved: tuple[PackItem, ...] = ()
    late: tuple[PackItem, ...] = ()
    notes: tuple[PackItem, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    def items(self, section: str) -> tuple[PackItem, ...]:
        return getattr(self, section)

    @property
    def empty(self) -> bool:
        return not (self.new or self.moved or self.late or self.notes)

    def summary(self) -> str:
        """« 2 nouvelles, 1 en mouvement, 0 en retard, 3 notes » (the terminal's recap)."""
        return (f"{len(self.new)} nouvelle{_s(self.new)}, {len(self.moved)} en mouvement, "
                f"{len(self.late)} en retard, {len(self.notes)} note{_s(self.notes)}")


@dataclass(frozen=True, slots=True)
class CmAtPack:
    zone: str  # the territory's sector, as it writes it (« Est »)
    since: dt.date
    today: dt.date
    since_is_default: bool
    waiting_days: int
    departements: tuple[DepartementSection, ...]

    @property
    def title(self) -> str:
        return f"Point CM – AT, zone {self.zone} — {french_day(self.today)}"

    @property
    def period(self) -> str:
        """The period in words, saying when it is the default one (the meeting is monthly)."""
        text = f"Depuis le {french_day(self.since)} jusqu'au {french_day(self.today)} inclus"
        if self.since_is_default:
            text += " (par défaut : un mois, depuis le même jour du mois précédent)"
        return text

    @property
    def rules(self) -> str:
        """What each section holds, said once at the top of every output."""
        return (
            "Nouvelles : visite ou opportunité ouverte dans la période. En mouvement : une activité ou un "
            "changement de statut enregistré dans la période. "
            f"En retard : suivi M+1/M+3/M+6 dépassé, ou « En attente » plus de {self.waiting_days} jours après "
            "la visite (une opportunité nouvelle peut y figurer aussi). Remontées terrain : les notes et les "
            "textes saisis dans le journal pendant la période."
        )


def default_since(today: dt.date) -> dt.date:
    """The same day one month before (clamped: 31 March → 28 or 29 February)."""
    return add_months(today, -1)


def cm_at_pack(
    rows: Iterable[TrackingRow],
    territory: Territory,
    zone: str,
    today: dt.date,
    *,
    initial_status: str,
    since: dt.date | None = None,
    waiting_days: int = DEFAULT_WAITING_DAYS,
) -> CmAtPack:
    """The agenda of the zone's meeting on `today`; rows of other zones are left out."""
    zone_name, departements = zone_departements(territory, zone)
    start = since if since is not None else default_since(today)
    by_code: dict[str, dict[str, list[PackItem]]] = {d.code: {key: [] for key, _ in SECTIONS} for d in departements}
    for row in rows:
        sections = by_code.get(row.departement)
        if sections is None:
            continue
        _place(row, sections, start, today, initial_status, waiting_days)
    return CmAtPack(
        zone=zone_name, since=start, today=today, since_is_default=since is None, waiting_days=waiting_days,
        departements=tuple(
            DepartementSection(
                d.code, d.name,
                new=_sorted(by_code[d.code]["new"]),
                moved=_sorted(by_code[d.code]["moved"]),
                late=_sorted(by_code[d.code]["late"]),
                notes=_sorted(by_code[d.code]["notes"]),
            )
            for d in departements
        ),
    )


def _place(row: TrackingRow, sections: dict[str, list[PackItem]], since: dt.date, today: dt.date,
           initial_status: str, waiting_days: int) -> None:
    recent = [e for e in row.current_journal if _in_period(e, since, today)]
    moves = [e for e in recent if e.activity not in (NOTE_ACTIVITY, INFORMATION_ACTIVITY)]
    # Opened: when its « Information » entry was written, which travels with the journal. The
    # row's own creation time is only a fallback: on a CM's laptop it is when it was received.
    information = next((e for e in row.current_journal if e.activity == INFORMATION_ACTIVITY), None)
    opened = _stamp_day(information.created_at if information else row.created_at)
    if _between(row.visit_date, since, today) or _between(opened, since, today):
        visit = f"visite du {french_day(row.visit_date)}" if row.visit_date else "visite sans date"
        sections["new"].append(_item(row, row.visit_date or opened, f"Opportunité ouverte ({visit})",
                                     tuple(_entry_line(e) for e in moves)))
    elif moves:
        latest = max(moves, key=_entry_day)
        sections["moved"].append(_item(row, _entry_day(latest), _entry_title(latest),
                                       tuple(_entry_line(e) for e in moves)))
    late = _delays(row, today, initial_status, waiting_days)
    if late:
        oldest = min(day for day, _ in late)
        sections["late"].append(_item(row, oldest, late[0][1], tuple(text for _, text in late[1:])))
    for entry in recent:
        if _is_field_note(entry):
            sections["notes"].append(_item(
                row, _entry_day(entry), f"{entry.title} — {_author(entry)}",
                tuple(entry.text.strip().splitlines()) if entry.text.strip() else (),
            ))


def _delays(row: TrackingRow, today: dt.date, initial_status: str, waiting_days: int) -> list[tuple[dt.date, str]]:
    """Why the opportunity is late (the oldest first): overdue follow-ups, a long wait."""
    delays = []
    if row.status == initial_status and row.visit_date is not None:
        waited = (today - row.visit_date).days
        if waited > waiting_days:
            delays.append((row.visit_date, f"{row.status_label} depuis la visite du {french_day(row.visit_date)} "
                                           f"({waited} jours, au-delà de {waiting_days})"))
    for follow_up in row.overdue(today):
        if follow_up.due is None:  # overdue() keeps dated follow-ups only
            continue
        days = (today - follow_up.due).days
        delays.append((follow_up.due, f"Suivi {follow_up.label} dû le {french_day(follow_up.due)} : "
                                      f"en retard de {days} jour{'s' if days > 1 else ''}"))
    return sorted(delays, key=lambda d: d[0])


def _is_field_note(entry: JournalEntry) -> bool:
    if entry.activity == NOTE_ACTIVITY:
        return True
    return entry.activity not in (STATUS_ACTIVITY, INFORMATION_ACTIVITY) and bool(entry.text.strip())


def _in_period(entry: JournalEntry, since: dt.date, today: dt.date) -> bool:
    """Its day is in the period, or it was recorded in the period."""
    return _between(parse_day(entry.day), since, today) or _between(_stamp_day(entry.created_at), since, today)


def _between(day: dt.date | None, since: dt.date, today: dt.date) -> bool:
    return day is not None and since <= day <= today


def _entry_day(entry: JournalEntry) -> dt.date | None:
    return parse_day(entry.day) or _stamp_day(entry.created_at)


def _entry_title(entry: JournalEntry) -> str:
    if entry.activity == STATUS_ACTIVITY and entry.text.strip():
        return f"{entry.title} : {entry.text.strip()}"
    return entry.title


def _entry_line(entry: JournalEntry) -> str:
    """« 10/12/2026 — Cadrage (déploiement acté) — marie (AT) »."""
    day = _entry_day(entry)
    return f"{french_day(day) if day else 'sans date'} — {_entry_title(entry)} — {_author(entry)}"


def _author(entry: JournalEntry) -> str:
    if entry.author and entry.role:
        return f"{entry.author} ({entry.role})"
    return entry.author or entry.role or "auteur inconnu"


def _item(row: TrackingRow, day: dt.date | None, what: str, details: tuple[str, ...]) -> PackItem:
    return PackItem(
        opportunity_id=row.opportunity_id, structure=row.structure, crm_name=row.crm_name, offer_label=row.offer_label,
        status_label=row.status_label, status_reason=row.status_reason, lead=row.lead, support=row.support,
        at_login=row.at_login, cm_login=row.cm_login, day=day, what=what, details=details,
    )


def _sorted(items: Sequence[PackItem]) -> tuple[PackItem, ...]:
    """Oldest first (undated last), then structure: a stable order the meeting can follow on paper."""
    dated = sorted((i for i in items if i.day is not None), key=lambda i: (i.day, i.structure, i.opportunity_id))
    undated = sorted((i for i in items if i.day is None), key=lambda i: (i.structure, i.opportunity_id))
    return tuple(dated + undated)


def _stamp_day(stamp: str | None) -> dt.date | None:
    """The calendar day of an ISO timestamp (« 2026-11-23T10:00:00+00:00 »), or None."""
    return parse_day(stamp[:10]) if stamp else None


def french_day(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _s(items: Sequence[object]) -> str:
    return "s" if len(items) > 1 else ""
