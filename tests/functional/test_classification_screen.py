"""The classification screen shows contradictions and missing criteria before the result,
and the AT fixes them in place (seed 000, « Spécificité SPICO Discussions »)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from textual.widgets import RadioSet, SelectionList

from at_tui.app import ATApp
from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.result import ResultScreen
from at_tui.workspace import Workspace

# Télé-expertise wanted, « messagerie seule » answered Oui, 10 people: it used to come out simple.
TELEEXPERTISE = {
    "opportunite": True,
    "situation_actuelle": "Téléphone et fax.",
    "besoins_sante": "Avis de cardiologue.",
    "types_professionnels": "Médecins généralistes.",
    "fonctionnalites": ["echanges_messages", "teleexpertise"],
    "utilisateurs_potentiels": "10",
    "temporalite": "mois",
    "messagerie_seule": True,
    "dossiers_coordination": False,
    "parametrage": ["aucune"],
    "demandes_complexes": ["aucune"],
}


@pytest.fixture
def teleexpertise_visit(db_path, reference) -> str:
    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
            "contact_name": "Dr Claire Roux", "contact_role": "Médecin coordinatrice", "visit_date": "01/12/2026",
        })
        assert not errors, errors
        for question, value in TELEEXPERTISE.items():
            workspace.save_answer(visit, question, value)
        return visit.id
    finally:
        workspace.close()


def result_text(app) -> str:
    screen = app.screen
    return str(screen.query_one("#problems").render()) + "\n" + str(screen.query_one("#result").render())


async def test_a_contradiction_is_shown_before_the_result_and_fixed_in_place(make_app, db_path, teleexpertise_visit):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_visit(teleexpertise_visit, "classification:resultat")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ResultScreen)
        text = result_text(app)
        assert "Réponses contradictoires" in text
        assert "SPICO Discussions simple" not in text and "Classification en attente" in text
        assert "Télé-expertise" in text and "Classification incomplète" in text
        assert [f.question.id for f in screen.query("QuestionField")] == [
            "messagerie_seule", "fonctionnalites", "demandes_complexes", "portee_strategique",
        ]

        await pilot.press("ctrl+n")  # refused while the answers disagree
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("m")  # no override of a classification that does not exist yet
        await pilot.pause()
        assert app.screen is screen

        # Fix in place: messaging only → Non (the focused field), « demande d'avis » ticked,
        # then the strategic scope left unanswered: « Aucune ».
        assert app.focused is screen.query_one("#answer-messagerie_seule", RadioSet)
        await pilot.press("right", "enter")
        await pilot.pause()
        assert result_text(app).count("Télé-expertise") == 1  # one contradiction left
        screen.query_one("#answer-demandes_complexes", SelectionList).focus()
        await pilot.press("home", "space", "down", "space")  # « Aucune » unticked by the real request
        await pilot.pause()
        assert "Réponses contradictoires" not in result_text(app)
        assert "Classification incomplète" in result_text(app)
        screen.query_one("#answer-portee_strategique", SelectionList).focus()
        await pilot.press("end", "space")
        await pilot.pause()
        text = result_text(app)
        assert "SPICO Discussions complexe" in text and "menée par CM" in text
        assert "Demande complexe : demande d'avis ou de télé-expertise." in text
        assert "Télé-expertise" in text.split("Demande complexe : demande d'avis")[1].splitlines()[0]

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, DeliverablesScreen)
        assert app.screen.result.opportunity.service == "SPICO Discussions complexe"

    # What was fixed in place is saved like any answer.
    rows = dict(sqlite3.connect(db_path).execute(
        "SELECT key, value FROM answers WHERE visit_id = ? AND key IN ('q:messagerie_seule', 'q:demandes_complexes')",
        (teleexpertise_visit,),
    ).fetchall())
    assert rows == {"q:messagerie_seule": "false", "q:demandes_complexes": '["groupe_favoris_public_regional","avis_teleexpertise"]'}


@pytest.fixture
def snap_app(db_path, reference, teleexpertise_visit):
    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 12, 5))

    return factory


def test_snapshot_contradiction_shown_before_the_result(snap_compare, snap_app, teleexpertise_visit):
    async def run_before(pilot) -> None:
        pilot.app.open_visit(teleexpertise_visit, "classification:resultat")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=(80, 24))


def test_snapshot_result_with_reasons(snap_compare, snap_app, db_path, reference, teleexpertise_visit):
    workspace = Workspace(db_path, reference=reference)
    try:
        visit = workspace.visits.require(teleexpertise_visit)
        workspace.save_answer(visit, "messagerie_seule", False)
        workspace.save_answer(visit, "portee_strategique", ["aucune"])
        workspace.save_answer(visit, "professionnels_hors_structure", "5")
    finally:
        workspace.close()

    async def run_before(pilot) -> None:
        pilot.app.open_visit(teleexpertise_visit, "classification:resultat")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=(80, 24))


async def test_ticking_none_unticks_the_other_choices_and_back(make_app, db_path, teleexpertise_visit):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_visit(teleexpertise_visit, "classification:resultat")
        await pilot.pause()
        selection = app.screen.query_one("#answer-portee_strategique", SelectionList)
        selection.focus()
        await pilot.press("down", "space")  # projet structurant
        await pilot.press("end", "space")  # « Aucune »: the other choice is unticked
        await pilot.pause()
        assert selection.selected == ["aucune"]
        await pilot.press("home", "space")  # a real scope: « Aucune » is unticked
        await pilot.pause()
        assert selection.selected == ["acteurs_strategiques"]
    stored = sqlite3.connect(db_path).execute(
        "SELECT value FROM answers WHERE visit_id = ? AND key = 'q:portee_strategique'", (teleexpertise_visit,)
    ).fetchone()
    assert stored == ('["acteurs_strategiques"]',)
