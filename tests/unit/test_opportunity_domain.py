"""The opportunity's life as pure rules (seed 000, steps 4 to 7): due dates, statuses, journal."""

from __future__ import annotations

import datetime as dt

import pytest

from at_tui.domain.due_dates import add_months, week_end
from at_tui.domain.opportunity import (
    JournalEntry,
    Opportunity,
    TransitionError,
    change_status,
    current_entries,
    due_items,
    may_record,
    proposed_status,
    record,
)
from at_tui.reference.loader import load_reference

LIFECYCLE = load_reference().current_playbook("spico").lifecycle


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2026-01-31", 3, "2026-04-30"),
        ("2026-08-31", 6, "2027-02-28"),
        ("2026-11-15", 1, "2026-12-15"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-09-30", 6, "2027-03-30"),
        ("2027-08-29", 6, "2028-02-29"),
    ],
)
def test_calendar_months_clamp_at_the_months_end(day: str, months: int, expected: str) -> None:
    assert add_months(dt.date.fromisoformat(day), months).isoformat() == expected


def test_the_week_ends_on_sunday() -> None:
    assert week_end(dt.date(2026, 12, 3)) == dt.date(2026, 12, 6)  # a Thursday
    assert week_end(dt.date(2026, 12, 6)) == dt.date(2026, 12, 6)


def opportunity(**changes) -> Opportunity:
    base = dict(id="v1", structure="MSP de Lectoure", departement="32", offer="discussions_simple",
                lead="AT", support="CM", status="en_attente", visit_date="2026-12-01")
    return Opportunity(**{**base, **changes})


def entry(activity: str, day: str, n: int = 0, **changes) -> JournalEntry:
    spec = LIFECYCLE.activity(activity)
    base = dict(id=f"e{activity}{n}", opportunity_id="v1", activity=activity, type=spec.type, title=spec.title,
                day=day, author="marie", role="AT", created_at=f"{day}T10:00:0{n}")
    return JournalEntry(**{**base, **changes})


def test_the_seeds_activity_titles_are_the_data() -> None:
    titles = {a.id: a.title for a in LIFECYCLE.activities}
    assert titles["cadrage"] == "Cadrage (déploiement acté)"
    assert titles["formation"] == "Formation — Accompagnement aux premiers usages"
    assert [titles[f"suivi-m{n}"] for n in (1, 3, 6)] == [f"[M{n}] SPICO Suivi des usages" for n in (1, 3, 6)]
    assert LIFECYCLE.initial == "en_attente"
    assert [s.label for s in LIFECYCLE.statuses] == ["En attente", "Projet en cours", "Terminé", "Sans suite"]


def test_a_pending_opportunity_has_its_cadrage_to_do_without_a_date() -> None:
    (item,) = due_items(opportunity(), [], LIFECYCLE)
    assert (item.activity, item.title, item.due, item.lead) == ("cadrage", "Cadrage (déploiement acté)", None, "AT")
    assert item.urgency(dt.date(2026, 12, 5)) == 3


def test_the_cadrage_moves_to_projet_en_cours_and_the_end_of_deployment_sets_the_follow_ups() -> None:
    opp = record(opportunity(), LIFECYCLE, LIFECYCLE.activity("cadrage"), "2026-12-10")
    assert opp.status == "projet_en_cours"
    journal = [entry("cadrage", "2026-12-10")]
    opp = record(opp, LIFECYCLE, LIFECYCLE.activity("fin-deploiement"), "2027-01-31")
    assert opp.deployment_end == "2027-01-31"
    due = {i.activity: i.due for i in due_items(opp, journal, LIFECYCLE)}
    assert due == {"suivi-m1": "2027-02-28", "suivi-m3": "2027-04-30", "suivi-m6": "2027-07-31"}


def test_moving_the_end_date_moves_only_the_follow_ups_not_done() -> None:
    opp = opportunity(status="projet_en_cours", deployment_end="2027-01-31")
    journal = [entry("cadrage", "2026-12-10"), entry("suivi-m1", "2027-03-01")]
    moved = record(opp, LIFECYCLE, LIFECYCLE.activity("fin-deploiement"), "2027-02-15")
    assert {i.activity: i.due for i in due_items(moved, journal, LIFECYCLE)} == {
        "suivi-m3": "2027-05-15", "suivi-m6": "2027-08-15",
    }


@pytest.mark.parametrize(("due", "urgency"), [("2026-12-04", 0), ("2026-12-05", 1), ("2026-12-06", 1), ("2026-12-07", 2)])
def test_urgency_orders_overdue_then_this_week_then_later(due: str, urgency: int) -> None:
    opp = opportunity(status="projet_en_cours", deployment_end=add_months(dt.date.fromisoformat(due), -1).isoformat())
    item = next(i for i in due_items(opp, [entry("cadrage", "2026-01-01")], LIFECYCLE) if i.activity == "suivi-m1")
    assert item.due == due and item.urgency(dt.date(2026, 12, 5)) == urgency


def test_m6_with_usages_en_run_proposes_termine_which_the_lead_confirms() -> None:
    m6 = LIFECYCLE.activity("suivi-m6")
    assert proposed_status(m6, {"usages_en_run": True}) == "termine"
    assert proposed_status(m6, {"usages_en_run": False}) is None
    assert proposed_status(LIFECYCLE.activity("suivi-m3"), {"usages_en_run": True}) is None
    done = change_status(opportunity(status="projet_en_cours"), LIFECYCLE, "termine", None)
    assert done.status == "termine" and due_items(done, [], LIFECYCLE) == []


@pytest.mark.parametrize(
    ("start", "target", "reason", "message"),
    [
        ("en_attente", "termine", None, "ne peut pas passer à « Terminé »"),
        ("termine", "en_attente", None, "possible : aucun"),
        ("en_attente", "sans_suite", "", "Indiquez pourquoi"),
        ("projet_en_cours", "inconnu", None, "inconnu"),
    ],
)
def test_transitions_the_lifecycle_does_not_allow_are_refused_in_french(start, target, reason, message) -> None:
    with pytest.raises(TransitionError, match=message):
        change_status(opportunity(status=start), LIFECYCLE, target, reason)


def test_a_close_without_deployment_keeps_its_reason_and_can_reopen() -> None:
    closed = change_status(opportunity(), LIFECYCLE, "sans_suite", "La structure a choisi un autre outil.")
    assert (closed.status, closed.status_reason) == ("sans_suite", "La structure a choisi un autre outil.")
    assert due_items(closed, [], LIFECYCLE) == []
    reopened = change_status(closed, LIFECYCLE, "en_attente", None)
    assert (reopened.status, reopened.status_reason) == ("en_attente", None)


def test_a_correction_supersedes_an_entry_without_erasing_it() -> None:
    first = entry("suivi-m1", "2027-03-01", text="12 comptes actifs")
    fixed = entry("suivi-m1", "2027-03-01", n=1, text="21 comptes actifs", supersedes=first.id)
    note = entry("note", "2027-02-01")
    assert [e.id for e in current_entries([fixed, first, note])] == [note.id, fixed.id]


@pytest.mark.parametrize(
    ("offer_lead", "role", "activity", "allowed"),
    [("AT", "AT", "cadrage", True), ("CM", "AT", "cadrage", False), ("CM", "CM", "fiche-cadrage", True),
     ("CM", "AT", "note", True), ("AT", "CM", "temoignage", True)],
)
def test_who_records_what_follows_the_variants_lead(offer_lead, role, activity, allowed) -> None:
    opp = opportunity(lead=offer_lead, support="AT" if offer_lead == "CM" else "CM")
    assert may_record(LIFECYCLE.activity(activity), opp, role) is allowed
