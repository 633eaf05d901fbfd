"""The deliverables screen: `c` copies the Recueil, `a` the activity's description, both also in the
command palette; a legacy « CPTS/MSP » visit shows why its name is a guess, and F2 fixes it."""

from __future__ import annotations

from typing import Any

import pytest
from answer_sets import SIMPLE_ANSWERS
from helpers import press_to

from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.visit_form import VisitFormScreen

ANSWERS = SIMPLE_ANSWERS


def make_visit(db_path, reference, answers: dict[str, Any], **identity: Any) -> str:
    from at_tui.domain.visit import notes_key
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP", "contact_name": "Anne Roque",
            "contact_role": "Coordinatrice", "visit_date": "22/11/2026", "maillage": True, **identity,
        })
        assert errors == {} and visit is not None
        workspace.save_note(visit.id, notes_key("presentation"), "Présentation à l'équipe de la MSP.")
        for question_id, raw in answers.items():
            workspace.save_answer(visit, question_id, raw)
        return visit.id
    finally:
        workspace.close()


async def open_deliverables(pilot, visit_id: str) -> DeliverablesScreen:
    pilot.app.open_visit(visit_id, "classification:livrables")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DeliverablesScreen)
    return screen


def shown(screen: DeliverablesScreen) -> str:
    return str(screen.query_one("#deliverables").render())


async def test_c_copies_the_recueil_and_a_the_activity(make_app, db_path, reference) -> None:
    visit_id = make_visit(db_path, reference, ANSWERS)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_deliverables(pilot, visit_id)
        labels = {key: b.binding.description for key, b in screen.active_bindings.items() if b.binding.show}
        assert labels["c"] == "Copier recueil" and labels["a"] == "Copier activité"
        await pilot.press("c")
        await pilot.pause()
        recueil = app.clipboard
        assert recueil == screen.result.opportunity.description
        assert recueil.startswith("Maillage\n\nRecueil des opportunités offre USE")
        assert "— Aucune" in recueil and "(cocher" not in recueil
        await pilot.press("a")
        await pilot.pause()
        assert app.clipboard == screen.result.activity.description
        assert app.clipboard.startswith("Visite du 22/11/2026 (Maillage) — Présentation offres : Présentation")
        assert "32 libéraux" in shown(screen)
        assert "À vérifier" not in shown(screen)


@pytest.mark.parametrize(
    ("command", "expected"),
    [("Copier le recueil", "recueil"), ("Copier la description de l'activité", "activity")],
)
async def test_both_copies_are_in_the_palette(make_app, db_path, reference, command, expected) -> None:
    visit_id = make_visit(db_path, reference, ANSWERS)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_deliverables(pilot, visit_id)
        titles = {c.title: c for c in app.get_system_commands(screen)}
        [title] = [t for t in titles if t.startswith(command)]
        titles[title].callback()
        await pilot.pause()
        want = screen.result.opportunity.description if expected == "recueil" else screen.result.activity.description
        assert app.clipboard == want


async def test_the_palette_offers_no_copy_elsewhere(make_app, db_path, reference) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not [c for c in app.get_system_commands(app.screen) if c.title.startswith("Copier")]


async def test_without_opportunity_c_says_so_and_a_still_copies(make_app, db_path, reference) -> None:
    visit_id = make_visit(db_path, reference, {"opportunite": False})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_deliverables(pilot, visit_id)
        app.copy_to_clipboard("avant")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == "avant"
        await pilot.press("a")
        await pilot.pause()
        assert app.clipboard == screen.result.activity.description


async def test_a_legacy_visit_warns_and_f2_fixes_the_name(make_app, db_path, reference) -> None:
    visit_id = make_visit(db_path, reference, ANSWERS, typologie="CPTS/MSP", structure="MSP des Coteaux")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_deliverables(pilot, visit_id)
        text = shown(screen)
        assert "À vérifier" in text and "ancienne liste" in text and "(F2)" in text
        assert "32 CPTS" in text
        form = await press_to(pilot, "f2", VisitFormScreen)
        from textual.widgets import Select

        select = form.query_one("#typologie", Select)
        assert select.value == "CPTS/MSP"  # shown, marked « ancienne liste », until another is picked
        select.value = "MSP"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        text = shown(screen)
        assert "32 libéraux" in text and "À vérifier" not in text


async def test_unanswered_criteria_say_classification_to_settle(make_app, db_path, reference) -> None:
    """An opportunity whose criteria are not all answered is not « no opportunity »."""
    answers = {key: value for key, value in ANSWERS.items() if key != "portee_strategique"}
    visit_id = make_visit(db_path, reference, answers)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_deliverables(pilot, visit_id)
        assert screen.result.opportunity is None and screen.result.outcome.blocked
        text = shown(screen)
        assert "Classification à régler" in text and "Aucune opportunité détectée" not in text


@pytest.mark.parametrize(
    ("typologie", "sheet"),
    [("MSP", "cpts-msp"), ("Professionnels libéraux", "cpts-msp"), ("Centre de santé", "cpts-msp"),
     ("EHPAD", "essms"), ("ESSMS (autre)", "essms"), ("CPTS/MSP", "cpts-msp"), ("ESSMS/EHPAD", "essms")],
)
async def test_the_argumentaire_opens_the_sheet_of_the_typology(make_app, typologie, sheet) -> None:
    from textual.widgets import OptionList

    from at_tui.screens.argumentaire import ArgumentaireScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.action_argumentaire(typologie)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArgumentaireScreen)
        listing = screen.query_one(OptionList)
        option = listing.get_option_at_index(listing.highlighted)
        assert option.id == f"sheet:{sheet}"
        # The sheet is listed under the typologies a new visit may take, never an old label.
        assert "/" not in str(option.prompt)
        if sheet == "cpts-msp":
            assert str(option.prompt) == "CPTS · MSP · Centre de santé · Professionnels libéraux"
