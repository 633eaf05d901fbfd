"""No English word reaches the AT, and nothing the AT needs is cut, at 80×24.

Every screen of a whole visit is drawn at 80×24 (what the terminal shows, plus the text of
every widget, scrolled out of view or not) and scanned for a list of English words; so is
the help (`-h`) and one error of every `at-tui` parser and sub-parser. Then the labels an AT
must read whole — the checklist's actions, the strategic-scope choices, a long e-mail in the
Annuaire — are looked for, whole, in the text the terminal shows.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, OptionList, Static, TextArea
from textual.widgets._toggle_button import ToggleButton

SIZE = (80, 24)

# English that Textual or argparse write by themselves, and words of ours that slipped in.
# Word-bounded, so that French words holding them (« options : », « usages ») do not count.
ENGLISH = [re.compile(pattern, flags) for pattern, flags in (
    (r"No matches", re.I), (r"\bSearch(ing)?\b", re.I), (r"\busage:", re.I), (r"\boptions:", re.I),
    (r"\berror\b", re.I), (r"show this help", re.I), (r"\bSeed\b", 0), (r"\bCancel\b", re.I),
    (r"\bSave\b", re.I), (r"\bQuit\b", re.I), (r"\bThemes?\b", 0), (r"Change theme", re.I), (r"\bKeys\b", 0),
    (r"\bScreenshot\b", re.I), (r"positional arguments", re.I), (r"\brequired\b", re.I),
    (r"invalid choice", re.I), (r"unrecognized", re.I), (r"expected (one|at most|at least)", re.I),
    (r"\bLead\b", re.I), (r"\b(dark|light)\b", re.I), (r"\bMaximi[sz]e\b", re.I), (r"\bClose\b", 0),
    (r"\bcommand palette\b", re.I), (r"\bpalette of commands\b", re.I), (r"\b(Next|Previous) (command|page)\b", re.I),
    (r"\bGo to (top|bottom)\b", re.I), (r"\bExit\b", 0), (r"\bYes\b", 0), (r"\bNo\b(?! \d)", 0),
)]

COMPLETE = {"opportunite": True}  # the other yes/no answers are Non: no contradiction to settle


def english_in(text: str) -> list[str]:
    return sorted({match.group(0) for pattern in ENGLISH for match in pattern.finditer(text)})


def test_the_word_list_finds_english_and_spares_french():
    """The scan can fail: each English line is caught, the French ones pass."""
    assert english_in("No matches found") and english_in("usage: at-tui [-h]")
    assert english_in("options:\n  -h, --help  show this help message and exit")
    assert english_in("Seed 001_f565f25cf5719294.txt") and english_in("textual-dark")
    assert english_in("Lead : AT") and english_in("Search for themes…")
    assert english_in("argument --x: expected one argument")
    french = ("utilisation : at-tui [-h]\n\noptions :\n  -h, --help  afficher cette aide et quitter\n"
              "Suivi des usages — Kit SPICO AT, diapositive « Les équipes » — Menée par : AT — Sombre")
    assert english_in(french) == []


def test_a_contact_names_its_source_in_words(reference):
    """The card says where a contact comes from as the AT knows it, never by a seed file name."""
    from at_tui.domain.lookup import contact_source

    sources = {contact_source(contact) for contact in reference.contacts}
    assert sources and not [s for s in sources if ".txt" in s or english_in(s)]
    assert all(s.startswith(("Kit SPICO AT, diapositive « ", "Processus de déploiement SPICO, diapositive « "))
               for s in sources), sources


# -- what the terminal shows --------------------------------------------------------------


def shown(app) -> str:
    """The terminal's text, as the AT sees it (modal screens over what they cover)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def widgets_text(screen) -> str:
    """The text of every widget of the screen, including what is scrolled out of view."""
    parts = []
    for widget in screen.walk_children(with_self=False):
        if isinstance(widget, ToggleButton):
            parts.append(widget.label.plain)
        elif isinstance(widget, Input):
            parts += [widget.value, str(widget.placeholder)]
        elif isinstance(widget, TextArea):
            parts.append(widget.text)
        elif isinstance(widget, OptionList):
            parts += [str(option.prompt) for option in widget.options]
        elif isinstance(widget, DataTable):
            parts += [str(column.label) for column in widget.columns.values()]
            parts += [str(cell) for row in range(widget.row_count) for cell in widget.get_row_at(row)]
        elif isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)


_FRAME = re.compile(r"[▁▂▃▄▅▆▇█▔▎▊▐▌▀│╭╮╰╯─]")


def flowed(text: str) -> str:
    """The terminal's lines as one text: frames and scrollbars out, wrapped lines joined."""
    return " ".join(" ".join(_FRAME.sub(" ", text).split()).split())


def whole(label: str) -> str:
    return " ".join(label.split())


class Tour:
    """Collects, screen by screen, the English found."""

    def __init__(self, app) -> None:
        self.app = app
        self.found: dict[str, list[str]] = {}
        self.screens: list[str] = []

    async def look(self, pilot, name: str) -> str:
        await pilot.pause()
        await pilot.pause()
        text = shown(self.app)
        self.screens.append(name)
        keys = "\n".join(binding.description for _, binding, _, _ in self.app.screen.active_bindings.values()
                         if binding.show)
        english = english_in("\n".join((text, widgets_text(self.app.screen), keys)))
        if english:
            self.found[name] = english
        return text


@pytest.fixture
def visit_id(workspace) -> str:
    """A visit with every question answered (whatever the questionnaire's version asks)."""
    visit, errors = workspace.start_visit({
        "structure": "CPTS Sud Toulousain", "departement": "31", "typologie": "CPTS/MSP",
        "contact_name": "Marie Dupont", "contact_role": "Coordinatrice", "visit_date": "20/11/2026",
        "maillage": True,
    })
    assert not errors, errors
    for question in workspace.questionnaire_for(visit).questions:
        if question.type == "yes_no":
            value = COMPLETE.get(question.id, False)
        elif question.type == "integer":
            value = "20"
        elif question.type in ("text", "long_text"):
            value = "Échanges par téléphone et courriel."
        elif question.type == "single_choice":
            value = question.choices[0].value
        else:
            exclusive = [c.value for c in question.choices if c.exclusive]
            value = exclusive[:1] or [question.choices[0].value]
        workspace.save_answer(visit, question.id, value)
    return visit.id


async def test_no_english_on_any_screen_of_a_whole_visit(make_app, workspace, visit_id):
    from at_tui.domain.flow import visit_flow
    from at_tui.screens.contact_card import ContactCard
    from at_tui.screens.lookup import LookupScreen
    from at_tui.screens.override import OverrideScreen
    from at_tui.screens.result import ResultScreen
    from at_tui.widgets.french import THEME_LABELS, FrenchCommandPalette

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tour = Tour(app)
        await tour.look(pilot, "accueil")
        await pilot.press("n")
        await tour.look(pilot, "nouvelle visite")
        await pilot.press("escape")
        await pilot.pause()

        visit = workspace.visits.require(visit_id)
        for stop in visit_flow(workspace.playbook_for(visit)):
            app.open_visit(visit_id, stop.key)
            await tour.look(pilot, stop.key)
            if isinstance(app.screen, ResultScreen):
                await pilot.press("m")
                await pilot.pause()
                assert isinstance(app.screen, OverrideScreen)
                await tour.look(pilot, "modifier la classification")
                await pilot.press("escape")
                await pilot.pause()

        app.go_home()
        await pilot.press("a")
        await tour.look(pilot, "argumentaire")
        await pilot.press("escape")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)
        await pilot.press("d", "a", "c", "space", "0", "9")
        await pilot.pause(0.3)
        await tour.look(pilot, "annuaire")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ContactCard)
        card = await tour.look(pilot, "fiche contact")
        assert "Kit SPICO AT, diapositive" in flowed(card)
        await pilot.press("escape", "escape")
        await pilot.press("f1")
        await tour.look(pilot, "aide")
        await pilot.press("escape")
        app.action_sync_problems()
        await tour.look(pilot, "problèmes de synchronisation")
        await pilot.press("escape")

        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, FrenchCommandPalette)
        await tour.look(pilot, "palette")
        await pilot.press(*"zzqqxw")
        await pilot.pause(1.2)  # Textual waits before saying that nothing matches
        palette = await tour.look(pilot, "palette sans résultat")
        assert "Aucune commande ne correspond" in palette
        await pilot.press("escape")
        app.action_change_theme()
        await pilot.pause(0.5)
        themes = await tour.look(pilot, "thèmes")
        assert "Sombre (par défaut)" in themes
        await pilot.press(*"nord", "enter")
        await pilot.pause()
        assert app.theme == "nord" and THEME_LABELS["nord"].startswith("Nord")

        assert len(tour.screens) >= 14, tour.screens
        assert tour.found == {}


# -- the command line ---------------------------------------------------------------------


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every parser of `at-tui`, its sub-commands' and their sub-commands', with their path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_cli_help_and_error_is_french(capsys):
    from at_tui.cli.main import build_parser

    parsers = list(_parsers(build_parser()))
    assert {("central", "serve"), ("central", "publish"), ("contacts",), ("login",)} <= {p for p, _ in parsers}
    found = {}
    for path, parser in parsers:
        for argv in (["--help"], [], ["--zz-inconnue"], ["--zz-inconnue", "valeur"]):
            with pytest.raises(SystemExit):
                parser.parse_args(argv)
                raise SystemExit(0)  # a parser with nothing required: `at-tui check-data`
            out, err = capsys.readouterr()
            if english_in(out + err):
                found[(*path, *argv)] = english_in(out + err)
    assert found == {}


@pytest.mark.parametrize("argv", [
    ["--help"], ["central", "revoke", "--help"], ["central", "serve"], ["export", "--format", "xml"],
    ["contacts", "--limit"], ["commande-inconnue"],
])
def test_the_installed_command_speaks_french(at_home, argv):
    result = subprocess.run([sys.executable, "-m", "at_tui", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 2)
    assert english_in(result.stdout + result.stderr) == []
    assert "utilisation : " in result.stdout + result.stderr


@pytest.mark.parametrize("module", ["at_tui.synthetic.finess", "at_tui.synthetic.annuaire"])
def test_the_test_file_generators_speak_french(module):
    """README tells the IT staff to run them."""
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    missing = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and missing.returncode == 2
    assert english_in(result.stdout + missing.stderr) == []


# -- nothing cut at 80×24 and 100×30 -----------------------------------------------------


async def _show(pilot, widget) -> str:
    widget.focus()
    widget.scroll_visible(animate=False, top=True)
    await pilot.pause()
    await pilot.pause()
    return flowed(shown(pilot.app))


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_action_labels_strategic_choices_and_a_long_email_are_whole(
        make_app, workspace, visit_id, reference, size):
    from textual.widgets import Checkbox, SelectionList

    from at_tui.domain.flow import visit_flow

    visit = workspace.visits.require(visit_id)
    stops = visit_flow(workspace.playbook_for(visit))
    checklists = [stop for stop in stops if stop.kind == "checklist"]
    strategic = next(q for q in workspace.questionnaire_for(visit).questions if q.id == "portee_strategique")
    longest = max((c for c in reference.contacts if c.email), key=lambda c: len(c.email))
    assert len(longest.email) > 30 and any(len(c.label) > 80 for c in strategic.choices)

    app = make_app()
    async with app.run_test(size=size) as pilot:
        cut = []
        for stop in checklists:
            app.open_visit(visit_id, stop.key)
            await pilot.pause()
            for box in app.screen.query("Checkbox.action").results(Checkbox):
                if whole(box.label.plain) not in await _show(pilot, box):
                    cut.append(box.label.plain)
        assert checklists and not cut, cut

        app.open_visit(visit_id, "classification")
        await pilot.pause()
        choices = app.screen.query_one("#answer-portee_strategique", SelectionList)
        text = await _show(pilot, choices)
        assert [c.label for c in strategic.choices if whole(c.label) not in text] == []

        app.go_home()
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press(*re.split(r"[.@_-]", longest.email)[0].lower())
        await pilot.pause(0.5)
        text = flowed(shown(app))
        assert longest.email in text and longest.name in text
