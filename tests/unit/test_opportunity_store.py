"""Opportunities in the local database (schema v10): opened by a finished visit, an append-only
journal, « À faire » from one indexed query (seed 000, steps 4 to 7)."""

from __future__ import annotations

import sqlite3

import pytest
from answer_sets import SIMPLE_ANSWERS, finished_visit

from at_tui.domain.opportunity import TransitionError


def test_a_finished_visit_with_an_opportunity_opens_one_with_its_information_entry(workspace) -> None:
    visit_id = finished_visit(workspace)
    unfinished, _ = workspace.start_visit({"structure": "CH d'Auch", "departement": "32", "typologie": "CH",
                                           "visit_date": "02/12/2026"})
    assert workspace.ensure_opportunities() == 1
    assert workspace.ensure_opportunities() == 0  # once
    opportunity = workspace.opportunities.get(visit_id)
    assert (opportunity.offer, opportunity.lead, opportunity.support, opportunity.status) == (
        "discussions_simple", "AT", "CM", "en_attente")
    assert workspace.opportunities.get(unfinished.id) is None
    (information,) = workspace.opportunities.journal(visit_id)
    assert (information.title, information.day) == ("Information", "2026-12-01")
    assert information.text.startswith("Visite du 01/12/2026")
    (due,) = workspace.opportunities.due()
    assert (due.item.title, due.item.due, due.structure) == ("Cadrage (déploiement acté)", None, "MSP de Lectoure")


def test_a_visit_without_opportunity_or_still_to_settle_opens_none(workspace) -> None:
    finished_visit(workspace, {"opportunite": False}, structure="EHPAD Les Tilleuls")
    contradicting = {**SIMPLE_ANSWERS, "fonctionnalites": ["teleexpertise"]}
    finished_visit(workspace, contradicting, structure="CPTS du Gers")
    assert workspace.ensure_opportunities() == 0


def test_the_simple_journey_to_termine(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    opp, _ = store.add_entry(visit_id, lifecycle, "cadrage", "2026-12-10", author="marie", role="AT")
    assert opp.status == "projet_en_cours"
    store.add_entry(visit_id, lifecycle, "formation", "2027-01-10", author="marie", role="AT")
    opp, _ = store.add_entry(visit_id, lifecycle, "fin-deploiement", "2027-01-31", author="marie", role="AT")
    assert [(d.item.title, d.item.due) for d in store.due()] == [
        ("[M1] SPICO Suivi des usages", "2027-02-28"),
        ("[M3] SPICO Suivi des usages", "2027-04-30"),
        ("[M6] SPICO Suivi des usages", "2027-07-31"),
    ]
    for activity, day in (("suivi-m1", "2027-03-01"), ("suivi-m3", "2027-05-02")):
        store.add_entry(visit_id, lifecycle, activity, day, author="marie", role="AT",
                        answers={"usages_en_run": False})
    store.add_entry(visit_id, lifecycle, "suivi-m6", "2027-08-01", author="marie", role="AT",
                    answers={"usages_en_run": True})
    assert store.due() == []  # every follow-up done; the opportunity stays open until the lead confirms
    opp = store.set_status(visit_id, lifecycle, "termine", None, author="marie", role="AT", day="2027-08-01")
    assert opp.status == "termine"
    titles = [e.title for e in store.journal(visit_id)]
    assert titles == [
        "Information", "Cadrage (déploiement acté)", "Formation — Accompagnement aux premiers usages",
        "Fin du déploiement", "[M1] SPICO Suivi des usages", "[M3] SPICO Suivi des usages",
        "[M6] SPICO Suivi des usages", "Statut « Terminé »",
    ]


def test_a_refused_transition_changes_nothing(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    before = workspace.opportunities.journal(visit_id)
    with pytest.raises(TransitionError, match="Terminé"):
        workspace.opportunities.set_status(visit_id, workspace.lifecycle(), "termine", None,
                                           author=None, role="AT", day="2026-12-05")
    assert workspace.opportunities.get(visit_id).status == "en_attente"
    assert workspace.opportunities.journal(visit_id) == before


def test_the_journal_is_append_only_in_the_database_itself(workspace, db_path) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    conn = sqlite3.connect(db_path)
    for statement in ("UPDATE journal SET text = 'x'", "DELETE FROM journal"):
        with pytest.raises(sqlite3.IntegrityError, match="ajout seul"):
            conn.execute(statement)
    assert len(workspace.opportunities.journal(visit_id)) == 1


def test_an_earlier_cm_follow_up_status_is_carried_over(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.conn.execute(
        "INSERT INTO sync_visits (visit_id, rev, followup, updated_at) VALUES (?, 1, ?, '2026-12-02T10:00:00+00:00')",
        (visit_id, '{"status": "perdue", "lead": "CM", "comment": ""}'),
    )
    workspace.conn.commit()
    workspace.ensure_opportunities()
    opportunity = workspace.opportunities.get(visit_id)
    assert (opportunity.status, opportunity.status_reason) == (
        "sans_suite", "Opportunité perdue (suivi du chargé de mission).")
    assert workspace.opportunities.due() == []


def test_a_todo_query_uses_the_index(workspace) -> None:
    plan = " ".join(str(r[-1]) for r in workspace.conn.execute(
        "EXPLAIN QUERY PLAN SELECT d.opportunity_id FROM due_items d ORDER BY d.due IS NULL, d.due"))
    assert "due_items_by_date" in plan and "TEMP B-TREE" not in plan


def test_step_actions_are_ticked_off_and_kept(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    workspace.opportunities.set_check(visit_id, "qualification:creation-comptes", True, "marie")
    workspace.opportunities.set_check(visit_id, "qualification:recueil-detaille", True, "marie")
    workspace.opportunities.set_check(visit_id, "qualification:recueil-detaille", False, "marie")
    assert workspace.opportunities.checks(visit_id) == {
        "qualification:creation-comptes": True, "qualification:recueil-detaille": False}


def test_a_pending_opportunity_follows_its_visits_new_classification(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    visit = workspace.visits.require(visit_id)
    workspace.visits.set_override(visit_id, "dossiers", "Dossiers de coordination demandés par le DAC.")
    visit = workspace.visits.require(visit_id)
    workspace.refresh_opportunity(visit, workspace.outcome(visit))
    opportunity = workspace.opportunities.get(visit_id)
    assert (opportunity.offer, opportunity.lead, opportunity.support) == ("dossiers", "CM", "AT")
    (due,) = workspace.opportunities.due()
    assert due.item.lead == "CM"
    # Once the project runs, the classification of the visit no longer moves it.
    workspace.opportunities.add_entry(visit_id, workspace.lifecycle(), "cadrage", "2026-12-10", author=None, role="CM")
    workspace.visits.set_override(visit_id, None, None)
    visit = workspace.visits.require(visit_id)
    workspace.refresh_opportunity(visit, workspace.outcome(visit))
    assert workspace.opportunities.get(visit_id).offer == "dossiers"


def test_a_finished_visit_without_opportunity_is_looked_at_again_only_once_changed(workspace) -> None:
    visit_id = finished_visit(workspace, {"opportunite": False}, structure="EHPAD Les Tilleuls")
    assert workspace.opportunities.missing_for_finished_visits() == [visit_id]
    assert workspace.ensure_opportunities() == 0
    assert workspace.opportunities.missing_for_finished_visits() == []  # start-up reads nothing more
    for question, value in SIMPLE_ANSWERS.items():  # reopened: an opportunity after all
        workspace.save_answer(workspace.visits.require(visit_id), question, value)
    assert workspace.opportunities.missing_for_finished_visits() == [visit_id]
    assert workspace.ensure_opportunities() == 1


def test_the_overdue_count_reads_the_index_and_skips_archived_visits(workspace) -> None:
    visit_id = finished_visit(workspace)
    workspace.ensure_opportunities()
    lifecycle = workspace.lifecycle()
    workspace.opportunities.add_entry(visit_id, lifecycle, "cadrage", "2026-12-10", author=None, role="AT")
    workspace.opportunities.add_entry(visit_id, lifecycle, "fin-deploiement", "2027-01-31", author=None, role="AT")
    assert workspace.opportunities.overdue_count("2027-02-28") == 0
    assert workspace.opportunities.overdue_count("2027-03-01") == 1
    assert workspace.opportunities.overdue_count("2027-08-01") == 3
    workspace.visits.set_archived(visit_id, True)
    assert workspace.opportunities.overdue_count("2027-08-01") == 0
