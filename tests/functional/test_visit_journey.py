"""A whole visit from Accueil to the deliverables, by keys only, then the database checked."""

from __future__ import annotations

import sqlite3

from helpers import acknowledge_guardrails, fill_new_visit_form, type_text
from textual.widgets import RadioSet, SelectionList

from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.questionnaire import QuestionnaireScreen
from at_tui.screens.result import ResultScreen


async def test_whole_visit_by_keyboard(make_app, db_path):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await fill_new_visit_form(pilot, "CPTS Sud Toulousain", "haute garonne", "CPTS")
        await pilot.press("tab")
        await type_text(pilot, "Muret")
        await pilot.press("tab")
        await type_text(pilot, "Marie Dupont")
        await pilot.press("tab")
        await type_text(pilot, "Coordinatrice")
        await pilot.press("tab", "tab", "space")  # date kept (today), maillage ticked
        await pilot.press("ctrl+s")
        await pilot.pause()

        # Step 1: acknowledge the argumentaire's guardrails, check both actions, write the report.
        assert isinstance(app.screen, ChecklistScreen)
        assert await acknowledge_guardrails(pilot) == 2
        await pilot.press("space", "tab", "space", "tab")
        await type_text(pilot, "Presentation a la coordinatrice et au bureau")
        await pilot.press("ctrl+n")
        await pilot.pause()

        # Step 2.
        assert isinstance(app.screen, ChecklistScreen)
        assert app.screen.stop.key == "demonstration"
        await pilot.press("space", "ctrl+n")
        await pilot.pause()

        # Step 3: the questionnaire.
        screen = app.screen
        assert isinstance(screen, QuestionnaireScreen)
        await pilot.press("ctrl+n")  # required answers missing: refused
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("enter")  # opportunité : Oui (focused first)
        await pilot.pause()
        assert screen.query_one("#answer-opportunite", RadioSet).pressed_button.label.plain == "Oui"
        await pilot.press("tab")
        await type_text(pilot, "Telephone et mails non securises")
        await pilot.press("tab")
        await type_text(pilot, "Parcours personne agee")
        await pilot.press("tab")
        await type_text(pilot, "Medecins infirmiers pharmaciens")
        await pilot.press("tab")  # fonctionnalités: first option (partage de documents) → move to messages
        for _ in range(3):
            await pilot.press("down")
        await pilot.press("space")
        await pilot.press("tab")  # partenaires
        await type_text(pilot, "EHPAD voisins")
        await pilot.press("tab")  # professionnels hors structure
        await type_text(pilot, "4")
        await pilot.press("tab")  # utilisateurs potentiels
        await type_text(pilot, "9a")
        await pilot.pause()
        field = screen.query_one("#field-utilisateurs_potentiels")
        assert field.invalid
        await pilot.press("backspace")
        await pilot.pause()
        assert not field.invalid
        await pilot.press("tab", "down", "enter")  # temporalité : dans le trimestre
        await pilot.press("tab", "enter")  # messagerie seule : Oui
        await pilot.press("tab", "right", "enter")  # dossiers : Non
        for _ in range(3):  # paramétrage, demande complexe, portée stratégique : « Aucune » (last choice)
            await pilot.press("tab", "end", "space")
        await pilot.pause()
        assert screen.query_one("#answer-fonctionnalites", SelectionList).selected == ["echanges_messages"]
        await pilot.press("ctrl+n")
        await pilot.pause()

        assert isinstance(app.screen, ResultScreen)
        text = str(app.screen.query_one("#result").render())
        assert "SPICO Discussions simple" in text
        assert "13 personnes = 4 professionnels hors de la structure + 9 utilisateurs" in text
        await pilot.press("ctrl+n")
        await pilot.pause()

        assert isinstance(app.screen, DeliverablesScreen)
        opportunity = app.screen.result.opportunity
        assert opportunity.name == "31 CPTS"
        assert opportunity.status == "en attente"
        assert opportunity.service == "SPICO Discussions simple"
        assert opportunity.maillage == "Maillage"
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)

    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    visit = conn.execute("SELECT * FROM visits").fetchone()
    assert visit["structure"] == "CPTS Sud Toulousain"
    assert visit["departement"] == "31"
    assert visit["typologie"] == "CPTS"
    assert visit["contact_name"] == "Marie Dupont"
    assert visit["commune"] == "Muret"
    assert visit["maillage"] == 1
    assert visit["status"] == "terminee"
    answers = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM answers")}
    assert answers["q:opportunite"] == "true"
    assert answers["q:utilisateurs_potentiels"] == "9"
    assert answers["q:portee_strategique"] == '["aucune"]'
    assert answers["q:temporalite"] == '"trimestre"'
    assert answers["q:messagerie_seule"] == "true"
    assert answers["q:dossiers_coordination"] == "false"
    assert answers["q:fonctionnalites"] == '["echanges_messages"]'
    assert answers["check:presentation:offre-coordination"] == "true"
    assert answers["check:presentation:bonnes-pratiques"] == "true"
    assert answers["ack:cpts-msp:pas-groupes-favoris"] == "true"
    assert "Presentation a la coordinatrice" in answers["notes:presentation"]
    fields = [r["field"] for r in conn.execute("SELECT field FROM history ORDER BY id")]
    assert fields[0] == "visite" and "statut" in fields
