"""Keys: the help screen, the command palette, French Footer labels, and every main screen at 80×24."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from helpers import type_text
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Input, OptionList

from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.deliverables import DeliverablesScreen
from at_tui.screens.help import HelpScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.questionnaire import QuestionnaireScreen
from at_tui.screens.result import ResultScreen
from at_tui.screens.visit_base import VisitScreen
from at_tui.screens.visit_form import VisitFormScreen

MAIN_SCREENS = [HomeScreen, VisitFormScreen, ChecklistScreen, QuestionnaireScreen, ResultScreen, DeliverablesScreen]

SMALL = (80, 24)


def help_text() -> str:
    return (resources.files("at_tui") / "help.md").read_text(encoding="utf-8")


# -- help -------------------------------------------------------------------------


async def test_f1_opens_help_from_accueil_and_from_a_visit(make_app, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")  # F1 again closes it
        await pilot.pause()
        assert app.screen is home
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert sum(isinstance(s, HelpScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is home

        app.open_visit(seeded["cpts"], "classification")
        await pilot.pause()
        visit_screen = app.screen
        assert isinstance(visit_screen, QuestionnaireScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")  # closes the help, does not leave the visit
        await pilot.pause()
        assert app.screen is visit_screen


def shown_bindings(screen_class: type[Screen]) -> list[Binding]:
    """The Footer bindings a screen class declares, its bases' included (Textual's own merge)."""
    merged = screen_class._merge_bindings()
    return [b for _, b in merged if b.show]


def human_key(key: str) -> str:
    """How help.md writes a key: `Ctrl+N`, `F2`, `Échap`, `Entrée`, `n`."""
    names = {"escape": "Échap", "enter": "Entrée", "tab": "Tab", "space": "Espace"}
    if key in names:
        return names[key]
    if re.fullmatch(r"f\d+", key):
        return key.upper()
    if "+" in key:
        *modifiers, last = key.split("+")
        return "+".join([m.capitalize() for m in modifiers] + [last.upper() if len(last) == 1 else last.capitalize()])
    return key


def test_human_key_mapping():
    assert [human_key(k) for k in ("ctrl+n", "f2", "escape", "enter", "n")] == ["Ctrl+N", "F2", "Échap", "Entrée", "n"]


@pytest.mark.parametrize("screen_class", MAIN_SCREENS, ids=lambda c: c.__name__)
def test_help_mentions_every_footer_key_of_the_main_screens(screen_class):
    text = help_text()
    bindings = shown_bindings(screen_class)
    assert bindings, f"{screen_class.__name__} shows no key at all"
    missing = []
    for binding in bindings:
        for key in binding.key.split(","):
            human = human_key(key.strip())
            if f"`{human}`" not in text:
                missing.append(f"{key.strip()} ({binding.description}) → `{human}`")
    assert not missing, f"help.md does not mention: {missing}"


def test_help_mentions_the_app_wide_keys():
    from at_tui.app import ATApp

    text = help_text()
    for key in ["f1", "ctrl+q", "ctrl+p"]:
        assert f"`{human_key(key)}`" in text
    assert any(b.key == "f1" for b in ATApp.BINDINGS)


# -- command palette --------------------------------------------------------------


async def run_palette_command(app, pilot, search: str, expected_prompt: str) -> None:
    """Open the palette, type `search`, wait for the first hit to be `expected_prompt`, run it."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    palette = app.screen
    assert isinstance(palette, CommandPalette)
    await type_text(pilot, search)
    options = palette.query_one(OptionList)
    for _ in range(100):
        await pilot.pause(0.02)
        if options.option_count and options.highlighted is not None:
            prompt = options.get_option_at_index(options.highlighted).prompt
            if expected_prompt in str(getattr(prompt, "plain", prompt)):
                break
    else:
        found = [str(getattr(o.prompt, "plain", o.prompt)) for o in options.options]
        pytest.fail(f"« {expected_prompt} » not offered for « {search} »: {found}")
    await pilot.press("enter")
    await pilot.pause()


async def test_palette_starts_a_new_visit(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await run_palette_command(app, pilot, "nouvelle", "Nouvelle visite")
        assert isinstance(app.screen, VisitFormScreen)
        assert not app.screen.editing
        assert isinstance(app.focused, Input) and app.focused.id == "structure"


async def test_palette_resumes_the_latest_visit_in_progress(make_app, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await run_palette_command(app, pilot, "reprendre la dern", "Reprendre la dernière visite")
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        # The EHPAD visit is the most recently changed of the two in progress.
        assert screen.visit.id == seeded["ehpad"]


async def test_palette_resumes_a_named_visit(make_app, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await run_palette_command(app, pilot, "reprendre cpts", "Reprendre : CPTS Sud Toulousain")
        screen = app.screen
        assert screen.visit.id == seeded["cpts"]
        assert isinstance(screen, ChecklistScreen) and screen.stop.key == "presentation"  # where it was left


async def test_palette_exports_all_visits_to_json(make_app, seeded, at_home):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await run_palette_command(app, pilot, "export", "Exporter les visites (JSON)")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    files = sorted((at_home / "exports").glob("*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert data["format"] == "at-tui.visites"
    assert sorted(v["id"] for v in data["visits"]) == sorted(seeded.values())
    assert {v["identity"]["structure"] for v in data["visits"]} == {
        "CPTS Sud Toulousain", "EHPAD Les Tilleuls", "DAC 34",
    }


# -- French Footer ------------------------------------------------------------------

ENGLISH_WORDS = {
    "quit", "dismiss", "search", "close", "cancel", "save", "next", "previous", "back", "help", "copy",
    "paste", "toggle", "select", "submit", "open", "show", "hide", "exit", "finish", "new", "resume",
    "edit", "export", "import", "home", "delete", "focus", "scroll", "keys", "command", "commands",
    "maximize", "minimize", "screenshot", "theme", "go", "to", "the", "and", "or", "of",
}


def test_english_word_detection():
    assert english_words("Quit the app") == {"quit", "the"}
    assert english_words("Fermer la palette") == set()


def english_words(description: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-zÀ-ÿ]+", description.lower()) if w in ENGLISH_WORDS}


def footer_labels(app) -> dict[str, str]:
    """The Footer entries of the current screen: key → description."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show or key == app.COMMAND_PALETTE_BINDING
    }


def footer_problems(labels: dict[str, str]) -> list[str]:
    """Footer entries whose description is empty or English."""
    problems = []
    for key, description in labels.items():
        if not description.strip():
            problems.append(f"{key}: no description")
        elif english_words(description):
            problems.append(f"{key}: « {description} »")
    return problems


async def test_every_footer_label_is_french(make_app, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        seen: dict[str, dict[str, str]] = {}

        async def check(name: str) -> None:
            await pilot.pause()
            seen[name] = footer_labels(app)

        await check("Accueil")
        await pilot.press("n")
        await check("Nouvelle visite")
        await pilot.press("tab", "tab", "enter")  # the typology list, opened
        await check("Nouvelle visite, liste des typologies")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("ctrl+p")
        await check("Palette de commandes")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f1")
        await check("Aide")
        await pilot.press("escape")
        for key in ("presentation", "classification", "classification:resultat", "classification:livrables"):
            app.open_visit(seeded["cpts"], key)
            await check(key)
            if key == "classification:resultat":
                await pilot.press("m")
                await check("Modifier la classification")
                await pilot.press("escape")
        await pilot.press("f2")
        await check("Identité de la visite")
    assert all(seen.values()), f"a screen shows no key: {seen}"
    assert seen["Accueil"]["n"] == "Nouvelle visite"
    assert seen["Nouvelle visite, liste des typologies"]["escape"] == "Fermer la liste"
    assert seen["Palette de commandes"]["escape"] == "Fermer la palette"
    assert seen["classification:resultat"]["m"] == "Modifier"
    problems = {name: found for name, labels in seen.items() if (found := footer_problems(labels))}
    assert not problems, problems


# -- every main screen at 80×24 ------------------------------------------------------


def assert_focus_visible(app) -> None:
    focused = app.focused
    assert focused is not None, f"nothing focused on {app.screen}"
    region = focused.region
    assert region.width > 0 and region.height > 0, f"{focused} has no room on screen"
    screen_region = app.screen.region
    assert screen_region.contains_region(region) or screen_region.overlaps(region), f"{focused} is off screen"
    # What is drawn at the middle of the focused widget is that widget (or one of its parts).
    centre = region.clip(screen_region.width, screen_region.height).center
    widget, _ = app.screen.get_widget_at(*centre)
    assert widget is focused or focused in widget.ancestors, f"{focused} is hidden behind {widget}"


SCREEN_CASES = [
    pytest.param(None, HomeScreen, id="accueil"),
    pytest.param("new", VisitFormScreen, id="nouvelle-visite"),
    pytest.param("presentation", ChecklistScreen, id="checklist"),
    pytest.param("classification", QuestionnaireScreen, id="questionnaire"),
    pytest.param("classification:resultat", ResultScreen, id="resultat"),
    pytest.param("classification:livrables", DeliverablesScreen, id="livrables"),
]


@pytest.mark.parametrize(("stop", "screen_class"), SCREEN_CASES)
async def test_main_screen_at_80x24_shows_its_focused_widget(make_app, seeded, stop, screen_class):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        if stop == "new":
            await pilot.press("n")
        elif stop is not None:
            app.open_visit(seeded["cpts"], stop)
        await pilot.pause()
        assert type(app.screen) is screen_class
        assert app.screen.size == (80, 24)
        assert_focus_visible(app)
        # The whole screen renders (no markup or layout error).
        svg = app.export_screenshot()
        assert "<svg" in svg
