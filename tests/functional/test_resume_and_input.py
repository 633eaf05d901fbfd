"""Resuming a visit in a new app, refusing bad input at the field, required and conditional
questions, editing the identity and overriding the classification — all through the UI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import IDENTITY, acknowledge_guardrails, fill_new_visit_form, press_to, type_text
from textual import events
from textual.widgets import Input, RadioSet, SelectionList, Static, TextArea

from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.override import OverrideScreen
from at_tui.screens.questionnaire import QuestionnaireScreen
from at_tui.screens.result import ResultScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.question_field import QuestionField
from at_tui.widgets.visit_list import VisitList

SMALL = (80, 24)
LARGE = (120, 36)


# -- helpers --------------------------------------------------------------------


def query(db_path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def stored_answer(db_path: Path, visit_id: str, question_id: str):
    rows = query(db_path, "SELECT value FROM answers WHERE visit_id = ? AND key = ?", (visit_id, f"q:{question_id}"))
    return json.loads(rows[0]["value"]) if rows else None


def visit_row(db_path: Path, visit_id: str) -> sqlite3.Row:
    return query(db_path, "SELECT * FROM visits WHERE id = ?", (visit_id,))[0]


def visit_history(db_path: Path, visit_id: str, name: str) -> list[tuple]:
    """(old, new) of the history entries of one field, as the app reads its history."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path)
    try:
        return [(h.old_value, h.new_value) for h in workspace.visits.history(visit_id) if h.field == name]
    finally:
        workspace.close()


def field(screen, question_id: str) -> QuestionField:
    return screen.query_one(f"#field-{question_id}", QuestionField)


def field_error(screen, question_id: str) -> str:
    """The text of the field's error line, "" when the line is hidden."""
    line = field(screen, question_id).query_one(ErrorLine)
    return str(line.render()) if line.display else ""


def home_row(home: HomeScreen, visit_id: str) -> tuple[VisitList, list[str]]:
    """The Accueil list showing the visit, and the row's cells as text."""
    listing = home.query_one("#visits", VisitList)
    for row in listing.rows:
        if row.key == visit_id and listing.display:
            return listing, list(row.cells)
    raise AssertionError(f"visit {visit_id} not listed on Accueil")


def shown_texts(screen) -> str:
    """The text of every displayed Static of a screen (titles, hints)."""
    return "\n".join(str(w.render()) for w in screen.query(Static) if w.display)


def static_text(widget: Static) -> str:
    return str(widget.render())


def result_text(screen) -> str:
    return static_text(screen.query_one("#result", Static))


def deliverables_text(screen) -> str:
    return static_text(screen.query_one("#deliverables", Static))


@pytest.fixture
def new_visit(db_path, reference):
    """A fresh visit (no answer yet) created through the workspace; returns its id."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP des Coteaux", "departement": "81", "typologie": "CPTS/MSP",
            "contact_name": "Anne Roux", "contact_role": "Coordinatrice", "visit_date": "10/11/2026",
        })
        assert errors == {}
        return visit.id
    finally:
        workspace.close()


async def open_questionnaire(app, pilot, visit_id: str, *keys: str) -> QuestionnaireScreen:
    """Open the visit at its questionnaire, then press `keys` there (the opportunité is focused first)."""
    app.open_visit(visit_id, "classification")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, QuestionnaireScreen)
    await pilot.press(*keys)
    await pilot.pause()
    return screen


# -- resume ---------------------------------------------------------------------


async def test_quit_mid_questionnaire_and_resume_in_a_new_app(make_app, db_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await fill_new_visit_form(pilot, "CPTS du Lauragais", "31", "CPTS")
        await press_to(pilot, "ctrl+s", ChecklistScreen)
        await acknowledge_guardrails(pilot)
        await press_to(pilot, "ctrl+n", ChecklistScreen)
        screen = await press_to(pilot, "ctrl+n", QuestionnaireScreen)

        await pilot.press("enter")  # opportunité : Oui
        await pilot.press("tab")  # situation actuelle (TextArea)
        await type_text(pilot, "Mails non securises")
        await pilot.press("tab", "tab", "tab")  # fonctionnalités (SelectionList)
        await pilot.press("down", "space")  # partage d'informations
        await pilot.press("tab", "tab", "tab")  # partenaires, hors structure → utilisateurs potentiels
        await type_text(pilot, "18")
        await pilot.press("tab", "down", "enter")  # temporalité : dans le trimestre
        await pilot.press("tab", "right", "enter")  # messagerie seule : Non
        await pilot.pause()
        assert screen.query_one("#answer-utilisateurs_potentiels", Input).value == "18"
        visit_id = screen.visit.id
        app.exit()

    rows = query(db_path, "SELECT id, structure, status, current_step FROM visits")
    assert [tuple(r) for r in rows] == [(visit_id, "CPTS du Lauragais", "en_cours", "classification")]

    app = make_app()  # a new start, in a bigger terminal this time
    async with app.run_test(size=LARGE) as pilot:
        await pilot.pause()
        home = app.screen
        assert isinstance(home, HomeScreen)
        listing, cells = home_row(home, visit_id)
        assert "CPTS du Lauragais" in cells
        assert "En cours" in cells, cells
        assert "1 en cours" in shown_texts(home)
        assert app.focused is listing
        assert listing.selected == visit_id

        screen = await press_to(pilot, "enter", QuestionnaireScreen)
        assert screen.visit.id == visit_id
        opportunite = screen.query_one("#answer-opportunite", RadioSet)
        assert opportunite.pressed_button is not None and opportunite.pressed_button.label.plain == "Oui"
        assert screen.query_one("#answer-situation_actuelle", TextArea).text == "Mails non securises"
        assert screen.query_one("#answer-besoins_sante", TextArea).text == ""
        assert screen.query_one("#answer-fonctionnalites", SelectionList).selected == ["partage_informations"]
        assert screen.query_one("#answer-utilisateurs_potentiels", Input).value == "18"
        temporalite = screen.query_one("#answer-temporalite", RadioSet)
        assert temporalite.pressed_button is not None and temporalite.pressed_button.name == "trimestre"
        messagerie = screen.query_one("#answer-messagerie_seule", RadioSet)
        assert messagerie.pressed_button is not None and messagerie.pressed_button.label.plain == "Non"
        dossiers = screen.query_one("#answer-dossiers_coordination", RadioSet)
        assert dossiers.pressed_button is None
        # Conditional questions come back as they were left.
        assert field(screen, "situation_actuelle").display
        assert not field(screen, "fonctionnalites_autre").display

    answers = {r["key"]: json.loads(r["value"]) for r in query(db_path, "SELECT key, value FROM answers")}
    assert answers == {
        "ack:cpts-msp:pas-equipe-ressource-systematique": True,
        "ack:cpts-msp:pas-groupes-favoris": True,
        "q:opportunite": True,
        "q:situation_actuelle": "Mails non securises",
        "q:fonctionnalites": ["partage_informations"],
        "q:utilisateurs_potentiels": 18,
        "q:temporalite": "trimestre",
        "q:messagerie_seule": False,
    }


# -- bad input at the field -------------------------------------------------------


async def test_integer_answer_refuses_letters_and_negative_numbers(make_app, db_path, new_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        # Opportunité : Oui, so the count question shows.
        screen = await open_questionnaire(app, pilot, new_visit, "enter")
        count = screen.query_one("#answer-utilisateurs_potentiels", Input)
        count.focus()
        await pilot.pause()
        await type_text(pilot, "12")
        await pilot.pause()
        assert field_error(screen, "utilisateurs_potentiels") == ""
        assert stored_answer(db_path, new_visit, "utilisateurs_potentiels") == 12

        await pilot.press("a")
        await pilot.pause()
        assert count.value == "12a"  # what was typed stays on screen, to be corrected
        assert field(screen, "utilisateurs_potentiels").has_class("-field-error")
        assert "Indiquez un nombre entier" in field_error(screen, "utilisateurs_potentiels")
        assert stored_answer(db_path, new_visit, "utilisateurs_potentiels") == 12

        await pilot.press("backspace", "home", "minus")
        await pilot.pause()
        assert count.value == "-12"
        assert field(screen, "utilisateurs_potentiels").has_class("-field-error")
        assert "négatif" in field_error(screen, "utilisateurs_potentiels")
        assert stored_answer(db_path, new_visit, "utilisateurs_potentiels") == 12

        await pilot.press("backspace")  # the minus sign goes: 12 again, valid
        await pilot.pause()
        assert count.value == "12"
        assert not field(screen, "utilisateurs_potentiels").has_class("-field-error")
        assert field_error(screen, "utilisateurs_potentiels") == ""
        assert stored_answer(db_path, new_visit, "utilisateurs_potentiels") == 12


async def test_pasting_a_huge_text_is_refused_and_the_previous_text_kept(make_app, db_path, new_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        # Opportunité : Oui, then the situation TextArea.
        screen = await open_questionnaire(app, pilot, new_visit, "enter", "tab")
        area = screen.query_one("#answer-situation_actuelle", TextArea)
        assert app.focused is area
        await type_text(pilot, "Fax")
        await pilot.pause()
        assert stored_answer(db_path, new_visit, "situation_actuelle") == "Fax"

        app.post_message(events.Paste("x" * 100_000))  # what a terminal paste delivers
        await pilot.pause()
        assert len(area.text) == 100_003
        assert field(screen, "situation_actuelle").has_class("-field-error")
        error = field_error(screen, "situation_actuelle")
        assert error.startswith("Texte trop long")
        assert "20\u202f000" in error
        assert stored_answer(db_path, new_visit, "situation_actuelle") == "Fax"

        # Leaving the questionnaire is refused while the field is invalid.
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert stored_answer(db_path, new_visit, "situation_actuelle") == "Fax"


async def test_control_character_refused_and_emoji_kept_in_a_short_text(make_app, db_path, new_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_questionnaire(app, pilot, new_visit, "enter")  # opportunité : Oui
        choices = screen.query_one("#answer-fonctionnalites", SelectionList)
        choices.focus()
        await pilot.press(*["down"] * 5, "space")  # « Autre » → its short text question appears
        await pilot.pause()
        other = screen.query_one("#answer-fonctionnalites_autre", Input)
        other.focus()
        await pilot.pause()

        app.post_message(events.Paste("Agenda\x1bpartage"))
        await pilot.pause()
        assert "\x1b" in other.value
        assert field(screen, "fonctionnalites_autre").has_class("-field-error")
        error = field_error(screen, "fonctionnalites_autre")
        assert "Caractère non autorisé" in error and "U+001B" in error
        assert stored_answer(db_path, new_visit, "fonctionnalites_autre") is None

        other.value = ""
        app.post_message(events.Paste("🙂 ok"))
        await pilot.pause()
        assert other.value == "🙂 ok"
        assert not field(screen, "fonctionnalites_autre").has_class("-field-error")
        assert field_error(screen, "fonctionnalites_autre") == ""
        assert stored_answer(db_path, new_visit, "fonctionnalites_autre") == "🙂 ok"


async def test_new_visit_form_shows_french_errors_and_creates_nothing(make_app, db_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await press_to(pilot, "n", VisitFormScreen)

        def error(name: str) -> str:
            line = form.query_one(f"#{name}-error", ErrorLine)
            return str(line.render()) if line.display else ""

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert error("structure") == "Indiquez le nom de la structure."
        assert error("departement") == "Indiquez le département (numéro ou nom)."
        assert error("typologie") == "Choisissez la typologie de la structure."
        assert error("visit_date") == ""  # today's date is prefilled
        for name in ("structure", "departement", "typologie"):
            assert form.query_one(f"#{name}").has_class("-field-error")
        assert app.focused is form.query_one("#structure")
        assert query(db_path, "SELECT count(*) FROM visits")[0][0] == 0

        await type_text(pilot, "Clinique de Paris")
        await pilot.press("tab")
        await pilot.pause()
        await type_text(pilot, "75")
        await pilot.press("enter")
        await pilot.pause()
        assert "Occitanie" in error("departement")
        assert error("departement").startswith("« 75 » n'est pas un département d'Occitanie")

        date = form.query_one("#visit_date", Input)
        date.value = "31/02/2026"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert error("visit_date") == "Date « 31/02/2026 » invalide : utilisez le format JJ/MM/AAAA."
        assert "Occitanie" in error("departement")
        assert error("structure") == ""  # re-checked on submit: the name is fine now
        assert query(db_path, "SELECT count(*) FROM visits")[0][0] == 0


async def test_new_visit_form_error_goes_away_once_the_field_is_corrected(make_app, db_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        line = form.query_one("#structure-error", ErrorLine)
        assert line.display
        assert app.focused is form.query_one("#structure")
        await type_text(pilot, "Clinique")
        await pilot.pause()
        # The field is valid again: its French error must not stay on screen.
        assert not line.display, f"stale error under a corrected field: {line.render()}"
        assert not form.query_one("#structure").has_class("-field-error")


# -- required answers -------------------------------------------------------------


REQUIRED_WHEN_OPPORTUNITY = [
    "situation_actuelle", "besoins_sante", "types_professionnels", "fonctionnalites",
    "utilisateurs_potentiels", "temporalite", "messagerie_seule", "dossiers_coordination",
    # Criteria are answered explicitly (« Aucune »): no answer is not « none » (issue 10).
    "parametrage", "demandes_complexes", "portee_strategique",
]


async def test_opportunity_yes_requires_the_other_answers(make_app, db_path, new_visit):
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_questionnaire(app, pilot, new_visit, "enter")  # opportunité : Oui
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        for question_id in REQUIRED_WHEN_OPPORTUNITY:
            assert field_error(screen, question_id) == "Réponse obligatoire.", question_id
        for question_id in ("opportunite", "partenaires", "professionnels_hors_structure"):
            assert field_error(screen, question_id) == "", question_id
        assert app.focused is screen.query_one("#answer-situation_actuelle")
        assert visit_row(db_path, new_visit)["current_step"] == "classification"


async def test_opportunity_no_goes_to_a_result_without_opportunity(make_app, db_path, new_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_questionnaire(app, pilot, new_visit, "right", "enter")  # opportunité : Non
        assert stored_answer(db_path, new_visit, "opportunite") is False
        assert not field(screen, "situation_actuelle").display
        result = await press_to(pilot, "ctrl+n", ResultScreen)
        assert "Aucune opportunité à classer." in result_text(result)
        deliverables = await press_to(pilot, "ctrl+n", DeliverablesScreen)
        assert deliverables.result.opportunity is None
        text = deliverables_text(deliverables)
        assert "Aucune opportunité détectée : pas d'opportunité à créer." in text
        assert "Service :" not in text.split("2. Opportunité CRM")[1]


# -- conditional question ---------------------------------------------------------


async def test_ticking_autre_shows_its_question_and_unticking_hides_it(make_app, new_visit):
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_questionnaire(app, pilot, new_visit, "enter")  # opportunité : Oui
        other = field(screen, "fonctionnalites_autre")
        assert not other.display
        choices = screen.query_one("#answer-fonctionnalites", SelectionList)
        choices.focus()
        await pilot.press(*["down"] * 5, "space")
        await pilot.pause()
        assert choices.selected == ["autre"]
        assert other.display
        await pilot.press("space")
        await pilot.pause()
        assert choices.selected == []
        assert not other.display


# -- identity edit ----------------------------------------------------------------


async def test_f2_edits_the_structure_name_with_history(make_app, db_path, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        app.open_visit(seeded["ehpad"])
        await pilot.pause()
        visit_screen = app.screen
        assert isinstance(visit_screen, ChecklistScreen)
        form = await press_to(pilot, "f2", VisitFormScreen)
        assert form.editing
        name = form.query_one("#structure", Input)
        assert app.focused is name
        assert name.value == "EHPAD Les Tilleuls"
        await pilot.press("end", *["backspace"] * len("Tilleuls"))
        await type_text(pilot, "Acacias")
        await pilot.pause()
        assert name.value == "EHPAD Les Acacias"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is visit_screen
        banner = static_text(visit_screen.query_one("#visit-banner", Static))
        assert "EHPAD Les Acacias" in banner
        assert "Tilleuls" not in banner

    assert visit_row(db_path, seeded["ehpad"])["structure"] == "EHPAD Les Acacias"
    assert visit_history(db_path, seeded["ehpad"], "structure") == [("EHPAD Les Tilleuls", "EHPAD Les Acacias")]


# -- override -------------------------------------------------------------------


async def test_override_needs_a_justification_and_can_be_removed(make_app, db_path, seeded):
    visit_id = seeded["cpts"]
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        app.open_visit(visit_id, "classification:resultat")
        await pilot.pause()
        result = app.screen
        assert isinstance(result, ResultScreen)
        assert "Classification calculée : SPICO Discussions complexe" in result_text(result)

        modal = await press_to(pilot, "m", OverrideScreen)
        offers = modal.query_one("#offer", RadioSet)
        assert offers.pressed_button.name == "calculee"
        await pilot.press("down", "down", "enter")  # SPICO Dossiers
        await pilot.pause()
        assert offers.pressed_button.name == "dossiers"

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is modal
        error = modal.query_one("#override-error", ErrorLine)
        assert error.display
        assert str(error.render()) == "Écrivez pourquoi la classification calculée ne convient pas."
        assert visit_row(db_path, visit_id)["override_offer"] is None

        assert app.focused is modal.query_one("#justification", TextArea)
        await type_text(pilot, "Partage de dossiers de coordination demande")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is result
        row = visit_row(db_path, visit_id)
        assert row["override_offer"] == "dossiers"
        assert row["override_justification"] == "Partage de dossiers de coordination demande"
        text = result_text(result)
        assert "Classification retenue par l'AT : SPICO Dossiers" in text
        assert "Partage de dossiers de coordination demande" in text

        deliverables = await press_to(pilot, "ctrl+n", DeliverablesScreen)
        assert deliverables.result.opportunity.service == "SPICO Dossiers"
        text = deliverables_text(deliverables)
        assert "Service : SPICO Dossiers" in text
        assert "Classification modifiée par l'AT : Partage de dossiers de coordination demande" in text

        result = await press_to(pilot, "ctrl+b", ResultScreen)
        modal = await press_to(pilot, "m", OverrideScreen)
        offers = modal.query_one("#offer", RadioSet)
        assert offers.pressed_button.name == "dossiers"
        assert modal.query_one("#justification", TextArea).text == "Partage de dossiers de coordination demande"
        # The highlight starts on the first choice, « Classification calculée (…) ».
        await pilot.press("enter")
        await pilot.pause()
        assert offers.pressed_button.name == "calculee"
        assert offers.pressed_button.label.plain == "Classification calculée (SPICO Discussions complexe)"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is result
        row = visit_row(db_path, visit_id)
        assert row["override_offer"] is None
        assert row["override_justification"] is None
        assert "Classification retenue par l'AT" not in result_text(result)

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.result.opportunity.service == "SPICO Discussions complexe"

    assert [new for _, new in visit_history(db_path, visit_id, "classification_forcee")] == [
        {"offer": "dossiers", "justification": "Partage de dossiers de coordination demande"},
        None,
    ]


async def test_accueil_shows_every_visit_created_after_it_opened_empty(make_app, workspace):
    from at_tui.widgets.visit_list import VisitList

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for index in range(3):
            visit, _ = workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
            app.open_visit(visit.id)  # as after « Nouvelle visite »
            await pilot.pause()
            await pilot.press("escape")  # back to the Accueil
            await pilot.pause()
        shown = str(app.screen.query_one("#visits", VisitList).render())
        assert all(f"Structure {index}" in shown for index in range(3)), shown
        for index in range(3, 40):
            workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
        app.screen.refresh_visits()
        await pilot.pause()
        listing = app.screen.query_one("#visits", VisitList)
        assert 3 < listing.size.height <= 24  # bounded by the screen (max-height 80%)
