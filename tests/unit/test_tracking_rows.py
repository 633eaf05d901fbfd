"""`domain.tracking` rows read from a real laptop store (`store.tracking`): one line of the
« fichier de suivi des déploiements SPICO » per opportunity (issue 12, seed 000 steps 3 to 6)."""

from __future__ import annotations

import datetime as dt
import types

from answer_sets import SIMPLE_ANSWERS, finished_visit
from tracking_journeys import NAUGHTY_STRUCTURE, known_opportunities

from at_tui.domain.opportunity import Opportunity
from at_tui.domain.tracking import (
    FollowUpDates,
    TrackedOpportunity,
    answer_number,
    crm_name,
    tracking_row,
    tracking_rows,
)
from at_tui.store.tracking import tracked_opportunities

D = dt.date


def rows_by_structure(workspace, departements=None):
    rows = tracking_rows(tracked_opportunities(workspace.conn, departements), workspace.lifecycle(), workspace.territory)
    return {row.structure: row for row in rows}


def test_the_deployed_opportunity_has_every_date_the_journal_fixed(workspace) -> None:
    ids = known_opportunities(workspace)
    row = rows_by_structure(workspace)["MSP de Lectoure"]
    assert (row.opportunity_id, row.departement, row.departement_name, row.zone) == (ids["simple"], "32", "Gers", "Ouest")
    assert (row.finess, row.typologie, row.crm_name) == ("320000163", "MSP", "32 libéraux")
    assert (row.offer, row.offer_label, row.lead, row.support) == (
        "discussions_simple", "SPICO Discussions simple", "AT", "CM")
    assert (row.at_login, row.cm_login) == ("marie", "carole")
    assert (row.status, row.status_label, row.status_reason, row.closed) == (
        "projet_en_cours", "Projet en cours", None, False)
    assert (row.visit_date, row.cadrage_date, row.launch_date, row.deployment_end) == (
        D(2026, 12, 1), D(2026, 12, 10), D(2026, 12, 20), D(2027, 1, 31))
    # Due whole months after the end of the deployment (31/01 + 1 month: the last day of February).
    assert row.follow_ups == (
        FollowUpDates("M+1", D(2027, 2, 28), D(2027, 3, 1)),
        FollowUpDates("M+3", D(2027, 4, 30), None),
        FollowUpDates("M+6", D(2027, 7, 31), None),
    )
    assert (row.estimated_accounts, row.potential_users) == (15, 8)  # fiche de cadrage; Recueil
    assert (row.last_activity, row.last_activity_date) == ("Note", D(2027, 3, 5))
    assert row.contact == "Dr Claire Roux, Médecin"
    assert [e.title for e in row.current_journal][0] == "Information"
    assert len(row.current_journal) == 8


def test_a_closed_opportunity_keeps_its_reason_and_a_status_change_is_not_its_last_activity(workspace) -> None:
    known_opportunities(workspace)
    rows = rows_by_structure(workspace)
    closed = rows["CH de Béziers"]
    assert (closed.zone, closed.crm_name, closed.offer_label, closed.lead, closed.support) == (
        "Est", "34 CH", "SPICO Discussions complexe", "CM", "AT")
    assert (closed.status_label, closed.status_reason, closed.closed) == ("Sans suite", "Projet reporté à 2028", True)
    assert (closed.last_activity, closed.last_activity_date) == ("Information", D(2026, 11, 15))
    assert closed.current_journal[-1].title == "Statut « Sans suite »"
    assert closed.follow_ups == tuple(FollowUpDates(label, None, None) for label in ("M+1", "M+3", "M+6"))
    assert (closed.estimated_accounts, closed.potential_users, closed.cadrage_date) == (None, 40, None)
    waiting = rows[NAUGHTY_STRUCTURE]
    assert (waiting.departement_name, waiting.zone, waiting.status_label, waiting.cm_login) == (
        "Aude", "Est", "En attente", None)


def test_follow_ups_are_overdue_once_past_due_and_never_on_a_closed_opportunity(workspace) -> None:
    known_opportunities(workspace)
    rows = rows_by_structure(workspace)
    deployed = rows["MSP de Lectoure"]
    assert deployed.overdue(D(2027, 4, 30)) == []  # due that day: not late yet
    assert [f.label for f in deployed.overdue(D(2027, 5, 1))] == ["M+3"]
    assert [f.label for f in deployed.overdue(D(2027, 8, 1))] == ["M+3", "M+6"]
    assert rows["CH de Béziers"].overdue(D(2030, 1, 1)) == []


def test_a_corrected_fiche_de_cadrage_gives_the_new_estimate(workspace) -> None:
    ids = known_opportunities(workspace)
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    first = next(e for e in store.journal(ids["simple"]) if e.activity == "fiche-cadrage")
    store.add_entry(ids["simple"], lifecycle, "fiche-cadrage", "2027-03-10", author="marie", role="AT",
                    answers={"comptes_estimes": 22}, supersedes=first.id)
    row = rows_by_structure(workspace)["MSP de Lectoure"]
    assert row.estimated_accounts == 22
    assert first.id not in {e.id for e in row.current_journal}
    assert (row.last_activity, row.last_activity_date) == ("Fiche de cadrage SPICO", D(2027, 3, 10))
    assert row.updated_at >= max(e.created_at for e in row.current_journal)


def test_the_store_streams_only_the_departements_asked_by_departement_and_structure(workspace) -> None:
    known_opportunities(workspace)
    assert set(rows_by_structure(workspace, {"34", "11"})) == {"CH de Béziers", NAUGHTY_STRUCTURE}
    keys = [(t.opportunity.departement, t.opportunity.structure) for t in tracked_opportunities(workspace.conn)]
    assert keys == sorted(keys) and len(keys) == 3
    journal_counts = {t.opportunity.structure: len(t.journal) for t in tracked_opportunities(workspace.conn)}
    assert journal_counts == {"MSP de Lectoure": 8, "CH de Béziers": 2, NAUGHTY_STRUCTURE: 1}


def test_potential_users_typed_as_text_by_an_import_still_count(workspace) -> None:
    visit_id = finished_visit(workspace, {**SIMPLE_ANSWERS, "utilisateurs_potentiels": "22"})
    workspace.ensure_opportunities()
    (row,) = rows_by_structure(workspace).values()
    assert (row.opportunity_id, row.potential_users) == (visit_id, 22)
    assert [answer_number(v) for v in (7, "12", " 3 ", "douze", True, None, 2.5)] == [7, 12, 3, None, None, None, None]


def test_a_typology_the_territory_no_longer_knows_keeps_its_own_name(workspace) -> None:
    territory, lifecycle = workspace.territory, workspace.lifecycle()
    assert crm_name(territory, "32", "MSP") == "32 libéraux"
    assert crm_name(territory, "32", "Maison de répit") == "32 Maison de répit"
    tracked = TrackedOpportunity(Opportunity(
        id="x", structure="Maison de répit du Gers", departement="99", offer="inconnue", lead="AT", support=None,
        status="disparu", status_reason=None, at_login=None, cm_login=None, visit_date="2026-01-05",
        launch_date=None, deployment_end=None), typologie="Maison de répit")
    row = tracking_row(tracked, lifecycle, territory)
    assert (row.departement_name, row.zone, row.crm_name, row.offer_label, row.status_label) == (
        "99", "", "99 Maison de répit", "inconnue", "disparu")
    assert (row.visit_date, row.last_activity, row.updated_at) == (D(2026, 1, 5), None, "")


def test_rows_are_computed_lazily() -> None:
    consumed = []

    def source():
        consumed.append(1)
        yield from ()

    rows = tracking_rows(source(), types.SimpleNamespace(), types.SimpleNamespace())
    assert consumed == []
    assert list(rows) == [] and consumed == [1]

