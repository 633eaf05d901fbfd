"""The argumentaire: the typology's sheet and its guardrails at step 1 (acknowledged, recorded,
required to go on), and the « Argumentaire SPICO » screen outside a visit — all through the UI."""

from __future__ import annotations

import pytest
from helpers import acknowledge_guardrails, press_to, type_text
from textual.command import CommandPalette
from textual.widgets import Checkbox, Markdown, OptionList, Static

from at_tui.screens.argumentaire import ArgumentaireScreen
from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.home import HomeScreen
from at_tui.widgets.guardrails import GuardrailPanel

SMALL = (80, 24)
LARGE = (120, 36)

CRT_GUARDRAILS = ["vagues-go-ars", "se-referer-cp-cm", "pas-equipe-ressource-systematique", "compte-structure"]


def start_visit(db_path, reference, typologie: str, structure: str = "CRT du Tarn") -> str:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": structure, "departement": "81", "typologie": typologie,
            "contact_name": "Paul Vidal", "contact_role": "Coordinateur", "visit_date": "20/11/2026",
        })
        assert errors == {}
        return visit.id
    finally:
        workspace.close()


def stored(db_path, reference, visit_id: str) -> tuple[dict, list]:
    """The visit's answers and history, read through a fresh Workspace."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        return workspace.visits.answers(visit_id), workspace.visits.history(visit_id)
    finally:
        workspace.close()


def acks(answers: dict) -> dict:
    return {k: v for k, v in answers.items() if k.startswith("ack:")}


def guardrail_boxes(screen) -> list[Checkbox]:
    return list(screen.query("Checkbox.guardrail"))


def record_notifications(app) -> list[str]:
    messages: list[str] = []
    original = app.notify

    def notify(message, **kwargs):
        messages.append(str(message))
        return original(message, **kwargs)

    app.notify = notify
    return messages


async def open_step_1(app, pilot, visit_id: str) -> ChecklistScreen:
    app.open_visit(visit_id, "presentation")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ChecklistScreen) and screen.stop.key == "presentation"
    return screen


@pytest.fixture
def crt_visit(db_path, reference) -> str:
    return start_visit(db_path, reference, "CRT")


# -- step 1 -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x36"])
async def test_crt_visit_shows_its_guardrails_first_at_step_1(make_app, reference, crt_visit, size):
    sheet = reference.argumentaire.sheet("crt")
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_step_1(app, pilot, crt_visit)
        boxes = guardrail_boxes(screen)
        assert [b.id for b in boxes] == [f"ack-{g}" for g in CRT_GUARDRAILS]
        assert [b.label.plain for b in boxes] == [g.text for g in sheet.guardrails]
        assert not any(b.value for b in boxes)
        assert "se font par vagues et avec le go de l'ARS" in boxes[0].label.plain
        title = str(screen.query_one("#guardrails-title", Static).render())
        assert "Garde-fous" in title and "4 à confirmer" in title
        # The guardrails come first, focused, fully on screen; then the sheet's sections, then the checklist.
        assert app.focused is boxes[0]
        assert screen.region.contains_region(boxes[0].region)
        body = screen.query_one("#visit-body")
        order = [child.id or child.classes for child in body.children]
        assert order.index("guardrails") < order.index("sheet-sections") < order.index("check-offre-coordination")
        sections = screen.query_one("#sheet-sections", Markdown).source
        for title in ("Ce que l'on peut mettre en avant", "Ce qu'il ne faut pas proposer", "Cas d'usage type",
                      "Référent", "Autre"):
            assert f"### {title}" in sections
        assert "Lala Ndiaye" in sections
        # A long guardrail wraps on several lines instead of being cut.
        assert boxes[1].size.height >= 2
        # Tab moves through the guardrails, then to the actions.
        await pilot.press("tab")
        assert app.focused is boxes[1]
        await pilot.press("tab", "tab", "tab")
        assert app.focused is screen.query_one("#check-offre-coordination")


async def test_ctrl_n_is_refused_until_every_guardrail_is_acknowledged(make_app, db_path, reference, crt_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_step_1(app, pilot, crt_visit)
        messages = record_notifications(app)
        boxes = guardrail_boxes(screen)

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert "encore 4 garde-fous avant de continuer" in messages[-1]
        assert app.focused is boxes[0]

        await pilot.press("space", "tab", "space")  # the first two
        await pilot.press("tab", "tab", "tab")  # away from them, down to the actions
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert "encore 2 garde-fous" in messages[-1]
        assert app.focused is boxes[2]  # the first one left, brought back on screen
        assert screen.region.contains_region(boxes[2].region)

        await pilot.press("space", "tab")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert "encore 1 garde-fou avant" in messages[-1]
        assert app.focused is boxes[3]
        assert "1 à confirmer" in str(screen.query_one("#guardrails-title", Static).render())

        await pilot.press("space")
        await pilot.pause()
        assert screen.query_one(GuardrailPanel).has_class("-all-acknowledged")
        assert "tous confirmés" in str(screen.query_one("#guardrails-title", Static).render())
        demonstration = await press_to(pilot, "ctrl+n", ChecklistScreen)
        assert demonstration.stop.key == "demonstration"
        assert not demonstration.query("Checkbox.guardrail")  # step 2 has no argumentaire

    answers, _ = stored(db_path, reference, crt_visit)
    assert acks(answers) == {f"ack:crt:{g}": True for g in CRT_GUARDRAILS}


async def test_acknowledgements_are_recorded_at_once_and_survive_reopening(make_app, db_path, reference, crt_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_step_1(app, pilot, crt_visit)
        await pilot.press("space", "tab", "tab", "space")  # first and third
        await pilot.pause()
        answers, history = stored(db_path, reference, crt_visit)
        assert acks(answers) == {"ack:crt:vagues-go-ars": True, "ack:crt:pas-equipe-ressource-systematique": True}
        entries = [h for h in history if h.field == "ack:crt:vagues-go-ars"]
        assert [(h.old_value, h.new_value) for h in entries] == [(None, True)]
        assert entries[0].at  # when it was acknowledged

        await pilot.press("space")  # the third, un-ticked: no longer acknowledged
        await pilot.pause()
        answers, _ = stored(db_path, reference, crt_visit)
        assert acks(answers) == {"ack:crt:vagues-go-ars": True}
        await pilot.press("space")
        await pilot.pause()
        app.exit()

    app = make_app()  # quit, start again, resume the visit from the Accueil
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        screen = await press_to(pilot, "enter", ChecklistScreen)
        assert screen.visit.id == crt_visit
        assert [b.value for b in guardrail_boxes(screen)] == [True, False, True, False]
        assert "2 à confirmer" in str(screen.query_one("#guardrails-title", Static).render())
        messages = record_notifications(app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert "encore 2 garde-fous" in messages[-1]
        assert app.focused is guardrail_boxes(screen)[1]
        assert await acknowledge_guardrails(pilot) == 2
        await press_to(pilot, "ctrl+n", ChecklistScreen)

    answers, _ = stored(db_path, reference, crt_visit)
    assert acks(answers) == {f"ack:crt:{g}": True for g in CRT_GUARDRAILS}


async def test_typology_without_a_sheet_does_not_block(make_app, db_path, reference):
    visit_id = start_visit(db_path, reference, "Autre", "Clinique du Parc")
    assert reference.argumentaire.for_typology("Autre") is None
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_step_1(app, pilot, visit_id)
        note = str(screen.query_one("#no-sheet", Static).render())
        assert "Pas de fiche argumentaire pour la typologie « Autre »" in note
        assert not screen.query(GuardrailPanel) and not screen.query("#sheet-sections")
        assert app.focused is screen.query_one("#check-offre-coordination")
        demonstration = await press_to(pilot, "ctrl+n", ChecklistScreen)
        assert demonstration.stop.key == "demonstration"


async def test_sheet_without_guardrails_shows_its_sections_and_does_not_block(make_app, db_path, reference):
    visit_id = start_visit(db_path, reference, "DAC", "DAC 81")
    assert reference.argumentaire.for_typology("DAC").guardrails == ()
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_step_1(app, pilot, visit_id)
        assert not screen.query(GuardrailPanel)
        assert "### Ce que l'on peut mettre en avant" in screen.query_one("#sheet-sections", Markdown).source
        await press_to(pilot, "ctrl+n", ChecklistScreen)


async def test_changing_the_typology_shows_the_new_sheet(make_app, db_path, reference):
    from at_tui.screens.visit_form import VisitFormScreen

    visit_id = start_visit(db_path, reference, "Autre", "Centre de ressources du Tarn")
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_step_1(app, pilot, visit_id)
        assert screen.query("#no-sheet")
        form = await press_to(pilot, "f2", VisitFormScreen)
        app.workspace.save_identity(visit_id, "typologie", "CRT")  # as the form saves it
        form.dismiss()
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChecklistScreen) and screen.visit.typologie == "CRT"
        assert len(guardrail_boxes(screen)) == 4


async def test_acknowledgements_made_in_the_app_survive_export_and_import(
    make_app, db_path, reference, crt_visit, tmp_path
):
    from at_tui.exchange import dumps, export_visits, import_visits
    from at_tui.workspace import Workspace

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_step_1(app, pilot, crt_visit)
        await acknowledge_guardrails(pilot)
        text = dumps(export_visits(app.workspace, crt_visit))

    (tmp_path / "cm").mkdir()
    (tmp_path / "cm2").mkdir()
    other = Workspace(tmp_path / "cm" / "at-tui.sqlite3", reference=reference)
    try:
        assert import_visits(other, text).imported == [crt_visit]
        assert acks(other.visits.answers(crt_visit)) == {f"ack:crt:{g}": True for g in CRT_GUARDRAILS}
    finally:
        other.close()
    bad = text.replace('"ack:crt:compte-structure"', '"ack:crt:garde-fou-invente"')
    other = Workspace(tmp_path / "cm2" / "at-tui.sqlite3", reference=reference)
    try:
        from at_tui.exchange import ExchangeError

        with pytest.raises(ExchangeError, match="garde-fou « garde-fou-invente » inconnu"):
            import_visits(other, bad)
        assert other.visits.get(crt_visit) is None
    finally:
        other.close()


# -- « Argumentaire SPICO », outside a visit ------------------------------------------------


def option_ids(screen: ArgumentaireScreen) -> list[str]:
    listing = screen.query_one(OptionList)
    return [listing.get_option_at_index(i).id for i in range(listing.option_count)]


def shown_text(screen: ArgumentaireScreen) -> str:
    return screen.query_one("#argumentaire-text", Markdown).source


async def test_a_opens_the_argumentaire_from_the_accueil(make_app, reference):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        labels = {key: b.binding.description for key, b in home.active_bindings.items() if b.binding.show}
        assert labels["a"] == "Argumentaire"
        screen = await press_to(pilot, "a", ArgumentaireScreen)
        ids = option_ids(screen)
        pages = [f"page:{p.id}" for p in sorted(reference.argumentaire.pages, key=lambda p: p.order)]
        assert ids[: len(pages) + 1] == ["heading:pages", *pages]
        assert ids[len(pages) + 1] == "heading:sheets"
        assert {i for i in ids if i.startswith("sheet:")} == {f"sheet:{s.id}" for s in reference.argumentaire.sheets}
        assert ids[len(pages) + 2] == "sheet:ch"  # the territory's order of typologies
        listing = screen.query_one(OptionList)
        assert app.focused is listing
        assert listing.get_option_at_index(listing.highlighted).id == "page:presentation-spico"
        assert shown_text(screen).startswith("# Présentation de SPICO")
        assert "financé par l'ARS" in shown_text(screen)
        assert {key: b.binding.description for key, b in screen.active_bindings.items() if b.binding.show} == {
            "escape": "Fermer", "f1": "Aide", "f3": "Annuaire",
        }

        # Down the list: the pages in order, the headings skipped, then the sheets.
        await pilot.press("down")
        await pilot.pause()
        assert shown_text(screen).startswith("# La stratégie de déploiement")
        for _ in range(len(pages) - 1):
            await pilot.press("down")
        await pilot.pause()
        assert listing.get_option_at_index(listing.highlighted).id == "sheet:ch"
        assert shown_text(screen).startswith(f"# {reference.argumentaire.sheet('ch').title}")
        crt = ids.index("sheet:crt")
        listing.highlighted = crt
        await pilot.pause()
        text = shown_text(screen)
        assert text.startswith("# Centres de Ressources Territoriaux (CRT)")
        assert "### Garde-fous" in text and "⚠ Les accompagnements des CRT" in text
        assert "### Ce qu'il ne faut pas proposer" in text
        # Enter moves to the text, to scroll it; Escape closes.
        await pilot.press("enter")
        assert app.focused is screen.query_one("#argumentaire-content")
        await press_to(pilot, "escape", HomeScreen)


async def test_palette_opens_the_argumentaire(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await type_text(pilot, "argumentaire")
        options = palette.query_one(OptionList)
        for _ in range(100):
            await pilot.pause(0.02)
            if options.option_count and options.highlighted is not None:
                prompt = options.get_option_at_index(options.highlighted).prompt
                if "Argumentaire SPICO" in str(getattr(prompt, "plain", prompt)):
                    break
        else:
            pytest.fail("« Argumentaire SPICO » not offered by the palette")
        screen = await press_to(pilot, "enter", ArgumentaireScreen)
        assert "Présentation de SPICO" in shown_text(screen)


async def test_f6_in_a_visit_opens_the_argumentaire_on_its_sheet(make_app, crt_visit):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        visit_screen = await open_step_1(app, pilot, crt_visit)
        screen = await press_to(pilot, "f6", ArgumentaireScreen)
        listing = screen.query_one(OptionList)
        assert listing.get_option_at_index(listing.highlighted).id == "sheet:crt"
        assert shown_text(screen).startswith("# Centres de Ressources Territoriaux (CRT)")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is visit_screen
