"""A visit can travel by file more than once (issue 10 §3): navigation is not content, a newer
revision replaces the older copy, a divergence is reported for that visit alone, and the rule
is the one the sync uses (at_tui.domain.revisions). Real SQLite files; the CLI cases are in
tests/unit/test_import_revisions_cli.py."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from at_tui.domain.conflicts import differences as sync_differences
from at_tui.domain.revisions import Revision, against_base, history_relation, matching, settle
from at_tui.exchange import dumps, export_visits, import_visits
from at_tui.exchange.errors import Fate
from at_tui.workspace import Workspace

SAME, NEWER, OLDER, DIVERGED = Revision.SAME, Revision.NEWER, Revision.OLDER, Revision.DIVERGED


@dataclass(frozen=True)
class E:
    field: str
    old_value: Any
    new_value: Any
    at: str


def t(minute: int, second: int = 0) -> str:
    return f"2026-11-22T10:{minute:02d}:{second:02d}.000000+00:00"


CREATED = E("visite", None, "créée", t(0))
NOTE = E("notes:presentation", None, "Accueil", t(1))
NOTE_ON = E("notes:presentation", None, "Accueil chaleureux", t(1, 40))  # that edit session, typed on
COUNT = E("q:utilisateurs_potentiels", None, 12, t(2))
STATUS = E("statut", "en_cours", "terminee", t(3))
OTHER = E("q:utilisateurs_potentiels", 12, 40, t(5))


# -- the pure rule, table-driven -------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "incoming", "expected"),
    [
        ([], [], SAME),
        ([CREATED, NOTE], [CREATED, NOTE], SAME),
        ([CREATED, NOTE], [NOTE, CREATED], SAME),  # entries carry their own time: order aside
        ([CREATED], [CREATED, NOTE, STATUS], NEWER),
        ([CREATED, NOTE, STATUS], [CREATED], OLDER),
        ([], [CREATED], NEWER),
        ([CREATED], [], OLDER),
        ([CREATED, NOTE], [CREATED, COUNT], DIVERGED),  # each has a change the other lacks
        # A changed entry is never taken for a continued one: two people typing in one field
        # from the same value would look the same (see history_relation).
        ([CREATED, NOTE], [CREATED, NOTE_ON], DIVERGED),
        ([CREATED, NOTE], [CREATED, NOTE_ON, STATUS], DIVERGED),
        ([CREATED, NOTE], [CREATED, NOTE, E("notes:presentation", "Accueil", "Accueil chaleureux", t(4))], NEWER),
        ([CREATED, COUNT, COUNT], [CREATED, COUNT], OLDER),  # entries counted, not only seen
        ([CREATED, E("q:x", None, True, t(1))], [CREATED, E("q:x", None, 1, t(1))], DIVERGED),  # true is not 1
        ([CREATED, COUNT, OTHER], [CREATED, COUNT], OLDER),
    ],
)
def test_history_relation(existing, incoming, expected) -> None:
    assert history_relation(existing, incoming) is expected


def test_matching_finds_each_entry_in_the_newer_history() -> None:
    assert matching([CREATED, NOTE], [CREATED, STATUS, NOTE]) == {0: 0, 1: 2}
    assert matching([NOTE, NOTE], [NOTE, CREATED, NOTE]) == {0: 0, 1: 2}
    assert matching([CREATED, NOTE], [CREATED, NOTE_ON]) is None


@pytest.mark.parametrize(
    ("relation", "same_content", "expected"),
    [
        (SAME, True, SAME),
        (SAME, False, DIVERGED),  # the same history, another content: cannot tell which is right
        (NEWER, True, NEWER),  # the newer copy brings its longer history
        (NEWER, False, NEWER),
        (OLDER, True, OLDER),
        (OLDER, False, OLDER),
        (DIVERGED, True, SAME),  # histories apart (e.g. a copy received through the central): same content
        (DIVERGED, False, DIVERGED),
    ],
)
def test_settle(relation, same_content, expected) -> None:
    assert settle(relation, same_content) is expected


def content(step: str = "presentation", **answers: Any) -> dict:
    return {"identity": {"structure": "MSP"}, "status": "en_cours", "current_step": step, "finished_at": None,
            "override": None, "updated_at": t(0), "answers": answers}


def _differ(a, b) -> bool:
    return bool(sync_differences(a, b))


@pytest.mark.parametrize(
    ("mine", "theirs", "base", "expected"),
    [
        (content(note="a"), content(note="a"), None, SAME),
        (content(note="a"), content("classification", note="a"), None, SAME),  # navigation is not content
        (content(note="b"), content(note="a"), content(note="a"), NEWER),  # theirs is still the base
        (content(note="a"), content(note="b"), content(note="a"), OLDER),
        (content(note="b"), content(note="c"), content(note="a"), DIVERGED),
        (content(note="b"), content(note="c"), None, DIVERGED),
    ],
)
def test_the_sync_asks_the_same_question_of_its_base(mine, theirs, base, expected) -> None:
    assert against_base(mine, theirs, base, _differ) is expected


def test_the_sync_conflict_ignores_navigation() -> None:
    mine = {**content("classification:resultat"), "updated_at": t(9)}
    assert sync_differences(mine, content()) == []
    assert [d.path for d in sync_differences(content(note="a"), content())] == [("answers", "note")]


# -- laptops -------------------------------------------------------------------------------


class Clock:
    """The store's clock, moved by hand: edit sessions merge within 2 minutes."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> str:
        self.now += dt.timedelta(seconds=1)
        return self.now.isoformat(timespec="microseconds")

    def wait(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def laptop(tmp_path: Path, name: str, reference, clock: Clock) -> Workspace:
    path = tmp_path / name / "at-tui.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(path, reference=reference)
    workspace.visits.clock = clock
    return workspace


@pytest.fixture
def at_laptop(tmp_path, reference, clock):
    workspace = laptop(tmp_path, "at", reference, clock)
    yield workspace
    workspace.close()


@pytest.fixture
def cm_laptop(tmp_path, reference, clock):
    workspace = laptop(tmp_path, "cm", reference, clock)
    yield workspace
    workspace.close()


IDENTITY = {"structure": "MSP des Coteaux", "departement": "31", "typologie": "cpts-msp",
            "contact_name": "Dr Claire Martin", "contact_role": "Coordinatrice", "visit_date": "22/11/2026",
            "maillage": True}


def finished_visit(workspace: Workspace, clock: Clock, **identity: Any) -> str:
    visit, errors = workspace.start_visit({**IDENTITY, **identity})
    assert errors == {}
    store = workspace.visits
    store.set_answer(visit.id, "check:presentation:offre-coordination", True)
    store.set_answer(visit.id, "notes:presentation", "Accueil chaleureux, 12 professionnels présents.")
    store.set_answer(visit.id, "q:opportunite", True)
    store.set_step(visit.id, "classification")
    clock.wait(5)
    store.set_status(visit.id, "terminee")
    clock.wait(5)
    return visit.id


def export(workspace: Workspace, visit_id: str | None = None) -> str:
    return dumps(export_visits(workspace, visit_id))


def dump(workspace: Workspace) -> dict[str, list[tuple]]:
    return {
        table: [tuple(row) for row in workspace.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
        for table in ("visits", "answers", "answer_sessions", "history", "outbox")
    }


def fates(report) -> list[tuple[str, Fate]]:
    return [(item.visit_id, item.fate) for item in report.fates]


def assert_same_visit(a: Workspace, b: Workspace, visit_id: str) -> None:
    assert b.visits.get(visit_id) == a.visits.get(visit_id)
    assert b.visits.answers(visit_id) == a.visits.answers(visit_id)
    assert b.visits.history(visit_id) == a.visits.history(visit_id)


def test_navigation_changes_neither_updated_at_nor_history_nor_the_outbox(at_laptop, clock) -> None:
    visit_id = finished_visit(at_laptop, clock)
    store = at_laptop.visits
    at_laptop.conn.execute("UPDATE outbox SET state = 'done'")  # as after a sync
    before, history = store.require(visit_id), store.history(visit_id)

    for step in ("presentation", "demonstration", "classification"):
        store.set_step(visit_id, step)
    after = store.require(visit_id)
    assert after.current_step == "classification" and after.updated_at == before.updated_at
    assert store.history(visit_id) == history
    pending = "SELECT count(*) FROM outbox WHERE state = 'pending'"
    assert at_laptop.conn.execute(pending).fetchone()[0] == 0
    assert at_laptop.conn.execute("SELECT count(*) FROM sync_pause").fetchone()[0] == 0
    store.set_answer(visit_id, "notes:demonstration", "Démo faite")  # a real change is queued
    assert at_laptop.conn.execute(pending).fetchone()[0] == 1


def test_a_reexport_after_navigation_is_already_present(at_laptop, cm_laptop, clock) -> None:
    visit_id = finished_visit(at_laptop, clock)
    first = export(at_laptop)
    assert fates(import_visits(cm_laptop, first)) == [(visit_id, Fate.IMPORTED)]
    before = dump(cm_laptop)

    clock.wait(60 * 24)  # the next day: reopened and browsed, nothing changed
    for step in ("presentation", "qualification", "classification:resultat"):
        at_laptop.visits.set_step(visit_id, step)
    second = export(at_laptop)
    assert json.loads(second)["visits"][0]["current_step"] == "classification:resultat"

    report = import_visits(cm_laptop, second)
    assert fates(report) == [(visit_id, Fate.PRESENT)] and report.complete
    assert report.lines()[0].endswith(": déjà présente.")
    assert dump(cm_laptop) == before
    assert fates(import_visits(cm_laptop, first)) == [(visit_id, Fate.PRESENT)]


def test_an_updated_visit_replaces_the_older_copy(at_laptop, cm_laptop, clock) -> None:
    visit_id = finished_visit(at_laptop, clock)
    import_visits(cm_laptop, export(at_laptop))
    old_rows = cm_laptop.conn.execute("SELECT * FROM history WHERE visit_id = ?", (visit_id,)).fetchall()

    clock.wait(60)  # reopened later: every kind of change
    store = at_laptop.visits
    store.set_status(visit_id, "en_cours")
    store.update_identity(visit_id, "contact_role", "Coordinatrice adjointe")
    store.set_answer(visit_id, "notes:presentation", "Accueil chaleureux, 14 professionnels présents.")
    store.set_answer(visit_id, "check:presentation:offre-coordination", None)  # cleared
    store.set_answer(visit_id, "notes:demonstration", "Démo de la messagerie.")
    store.set_override(visit_id, "discussions_complexe", "Projet régional.")
    clock.wait(5)
    store.set_status(visit_id, "terminee")

    report = import_visits(cm_laptop, export(at_laptop))
    assert fates(report) == [(visit_id, Fate.UPDATED)] and report.complete
    assert "1 mise à jour" in report.summary
    assert_same_visit(at_laptop, cm_laptop, visit_id)
    assert "check:presentation:offre-coordination" not in cm_laptop.visits.answers(visit_id)
    # Nothing of the older history is lost: its rows are all still there, as they were.
    rows = cm_laptop.conn.execute("SELECT * FROM history WHERE visit_id = ?", (visit_id,)).fetchall()
    assert set(map(tuple, old_rows)) <= set(map(tuple, rows))
    # Still a visit received by file: never queued for the central from the CM's laptop.
    origin = cm_laptop.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()[0]
    assert origin == "import"
    assert cm_laptop.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    # Its edit sessions are closed: a change made on the CM's laptop starts a new entry.
    before = len(cm_laptop.visits.history(visit_id))
    clock.wait(5)
    cm_laptop.visits.set_answer(visit_id, "notes:demonstration", "Démo de la messagerie et du partage.")
    assert len(cm_laptop.visits.history(visit_id)) == before + 1


def test_an_older_revision_is_ignored(at_laptop, cm_laptop, clock) -> None:
    visit_id = finished_visit(at_laptop, clock)
    older = export(at_laptop)
    clock.wait(10)
    at_laptop.visits.set_answer(visit_id, "notes:demonstration", "Démo faite.")
    import_visits(cm_laptop, export(at_laptop))
    before = dump(cm_laptop)

    report = import_visits(cm_laptop, older)
    assert fates(report) == [(visit_id, Fate.UP_TO_DATE)] and report.complete
    assert "déjà à jour, ignorée" in report.lines()[0]
    assert dump(cm_laptop) == before


def test_an_edit_after_the_export_is_a_newer_revision_once_its_session_closed(at_laptop, cm_laptop, clock) -> None:
    """A field exported while being typed: typed on later (the session then closes into the
    entry the file already has) is a newer revision; typed on within 2 minutes, the entry the
    file has changes, and the copies read as diverged — reported, nothing lost (the known limit
    of docs/visit-format.md)."""
    visit_id = finished_visit(at_laptop, clock)
    at_laptop.visits.set_answer(visit_id, "notes:qualification", "RDV le")
    import_visits(cm_laptop, export(at_laptop))  # exported while typing
    clock.wait(3)
    at_laptop.visits.set_answer(visit_id, "notes:qualification", "RDV le 3 décembre")

    report = import_visits(cm_laptop, export(at_laptop))
    assert fates(report) == [(visit_id, Fate.UPDATED)]
    assert_same_visit(at_laptop, cm_laptop, visit_id)
    assert import_visits(cm_laptop, export(at_laptop)).fates[0].fate is Fate.PRESENT

    at_laptop.visits.set_answer(visit_id, "notes:qualification", "RDV le 3 décembre à 14 h")  # within 2 minutes
    before = dump(cm_laptop)
    [fate] = import_visits(cm_laptop, export(at_laptop)).fates
    assert fate.fate is Fate.DIVERGED and "« notes:qualification »" in fate.reason
    assert dump(cm_laptop) == before


def test_a_file_mixing_new_updated_and_diverging_visits(at_laptop, cm_laptop, clock) -> None:
    updated = finished_visit(at_laptop, clock)
    diverging = finished_visit(at_laptop, clock, structure="CH d'Albi", departement="81", typologie="ch")
    import_visits(cm_laptop, export(at_laptop))
    untouched = dump(cm_laptop)["answers"]

    clock.wait(30)
    at_laptop.visits.set_answer(updated, "notes:demonstration", "Démo faite.")
    at_laptop.visits.set_answer(diverging, "notes:presentation", "Version de l'AT.")
    cm_laptop.visits.set_answer(diverging, "notes:presentation", "Version du CM.")
    cm_diverging = (cm_laptop.visits.require(diverging), cm_laptop.visits.answers(diverging),
                    cm_laptop.visits.history(diverging))
    new = finished_visit(at_laptop, clock, structure="EHPAD Les Tilleuls", departement="34", typologie="ehpad")

    report = import_visits(cm_laptop, export(at_laptop))
    assert dict(fates(report)) == {updated: Fate.UPDATED, diverging: Fate.DIVERGED, new: Fate.IMPORTED}
    assert not report.complete
    assert_same_visit(at_laptop, cm_laptop, updated)
    assert_same_visit(at_laptop, cm_laptop, new)
    # The diverging visit is left exactly as the CM has it, and the report says what differs.
    assert (cm_laptop.visits.require(diverging), cm_laptop.visits.answers(diverging),
            cm_laptop.visits.history(diverging)) == cm_diverging
    [line] = [item.line for item in report.fates if item.fate is Fate.DIVERGED]
    assert "CH d'Albi" in line and diverging in line and "« notes:presentation »" in line
    assert "rien n'est écrit pour elle" in line
    assert report.summary == "1 visite importée, 1 mise à jour, 1 divergente."
    assert len(untouched) < len(dump(cm_laptop)["answers"])


def test_the_ats_own_visit_stays_hers_when_a_newer_revision_comes_back(at_laptop, cm_laptop, clock) -> None:
    """The CM completes the AT's visit and sends it back by file: on the AT's laptop the visit is
    updated, stays hers (`origin` local) and its change is queued for the central."""
    visit_id = finished_visit(at_laptop, clock)
    import_visits(cm_laptop, export(at_laptop))
    at_laptop.conn.execute("UPDATE outbox SET state = 'done'")
    clock.wait(30)
    cm_laptop.visits.set_answer(visit_id, "notes:qualification", "Complété par le CM.")

    assert fates(import_visits(at_laptop, export(cm_laptop))) == [(visit_id, Fate.UPDATED)]
    assert at_laptop.visits.answers(visit_id)["notes:qualification"] == "Complété par le CM."
    row = at_laptop.conn.execute("SELECT origin FROM visits WHERE id = ?", (visit_id,)).fetchone()
    assert row[0] == "local"
    assert at_laptop.conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 1


def test_a_newer_revision_given_to_another_at_is_refused_alone(at_laptop, cm_laptop, clock) -> None:
    visit_id = finished_visit(at_laptop, clock)
    first = json.loads(export(at_laptop))
    first["visits"][0]["owner"] = "marie"
    import_visits(cm_laptop, first)
    before = dump(cm_laptop)
    clock.wait(30)
    at_laptop.visits.set_answer(visit_id, "notes:demonstration", "Démo faite.")
    newer = json.loads(export(at_laptop))
    newer["visits"][0]["owner"] = "paul"

    report = import_visits(cm_laptop, newer)
    assert fates(report) == [(visit_id, Fate.REFUSED)] and not report.complete
    assert "« marie »" in report.lines()[0] and "« paul »" in report.lines()[0]
    assert dump(cm_laptop) == before


def test_a_sync_conflict_that_differs_only_by_the_step_is_no_conflict(at_laptop, clock) -> None:
    """The sync side of the same rule: the central copy differs only in navigation → `done`;
    it is still the base the laptop worked from → re-sent on it (`resolved`)."""
    from at_tui.sync import outbox

    visit_id = finished_visit(at_laptop, clock)
    [op] = outbox.take_batch(at_laptop.conn, 10)
    central = {**op.payload, "current_step": "qualification", "updated_at": t(59)}
    answer = {"op_id": op.op_id, "status": "conflict", "central": {"rev": 3, "content": central}}
    assert outbox.record_results(at_laptop.conn, [answer]) == {op.op_id: "done"}

    at_laptop.conn.execute("UPDATE sync_visits SET base_content = ? WHERE visit_id = ?",
                           (json.dumps(central), visit_id))
    at_laptop.visits.set_answer(visit_id, "notes:demonstration", "Démo faite.")
    [op] = outbox.take_batch(at_laptop.conn, 10)
    answer = {"op_id": op.op_id, "status": "conflict", "central": {"rev": 4, "content": central}}
    assert outbox.record_results(at_laptop.conn, [answer]) == {op.op_id: outbox.REBASED}
