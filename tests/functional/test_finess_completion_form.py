"""« Nouvelle visite » completes the structure from the imported FINESS extract, through the UI.

A small synthetic extract is really imported into the test's database (a file in
tmp_path, `import_finess` or the `at-tui import-finess` command), then the AT types.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import fill_new_visit_form, press_to, type_text
from textual.widgets import Input, Select, Static

from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.synthetic.finess import structure_row, write_rows
from at_tui.widgets.structure_suggestions import StructureSuggestions, suggestion_text, wants_completion

SMALL = (80, 24)
LARGE = (120, 36)

ROWS = [
    structure_row("320000036", "EHPAD LES TILLEULS", departement="32", routing="32000 AUCH", category="500"),
    structure_row("460000020", "EHPAD LES TILLEULS", departement="46", routing="46100 FIGEAC", category="500"),
    structure_row("460000012", "CENTRE HOSPITALIER DE CAHORS", departement="46", routing="46000 CAHORS",
                  category="355"),
    structure_row("460000046", "MSP DE CAHORS", departement="46", routing="46000 CAHORS", category="603"),
    structure_row("310000077", "HÔPITAL LOCAL DE MURET", departement="31", routing="31600 MURET", category="106"),
    structure_row("340000069", "CPTS CŒUR D'HÉRAULT", departement="34", routing="34800 CLERMONT L'HERAULT",
                  category="604"),
    structure_row("320000044", "DAC 32", departement="32", routing="32000 AUCH", category="606"),
    structure_row("810000015", "PHARMACIE DU CENTRE", departement="81", routing="81000 ALBI", category="620"),
]


@pytest.fixture
def finess_imported(db_path: Path, tmp_path: Path) -> Path:
    """The synthetic extract, imported into the test's database as `at-tui import-finess` does."""
    from at_tui.importers.structures_store import import_finess
    from at_tui.store.migrations import open_database

    path = tmp_path / "finess.csv"
    write_rows(path, ROWS, encoding="cp1252")
    conn = open_database(db_path)
    try:
        import_finess(conn, path)
    finally:
        conn.close()
    return path


def visit_rows(db_path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM visits ORDER BY created_at").fetchall()
    finally:
        conn.close()


def visit_row(db_path: Path, visit_id: str) -> sqlite3.Row:
    return next(row for row in visit_rows(db_path) if row["id"] == visit_id)


async def settle(pilot) -> None:
    """Let the completion worker answer and the app draw its answer."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def suggestions(form) -> StructureSuggestions:
    return form.query_one(StructureSuggestions)


def shown(form) -> list[str]:
    """FINESS numbers of the suggestions on screen, [] when the list is closed."""
    listing = suggestions(form)
    return [s.finess for s in listing.structures] if listing.display else []


def value(form, name: str) -> str:
    return form.query_one(f"#{name}", Input).value


def finess_info(form) -> str:
    info = form.query_one("#finess-info", Static)
    return str(info.render()) if info.display else ""


def key_bar(app) -> dict[str, str]:
    return {key: active.binding.description for key, active in app.screen.active_bindings.items()
            if active.binding.show}


async def type_structure(pilot, text: str) -> VisitFormScreen:
    form = await press_to(pilot, "n", VisitFormScreen)
    await type_text(pilot, text)
    await settle(pilot)
    return form


# -- the pure helpers ------------------------------------------------------------------------


def test_completion_starts_from_two_characters_or_a_digit():
    assert not wants_completion("")
    assert not wants_completion(" e ")
    assert wants_completion("eh")
    assert wants_completion("3")


def test_a_suggestion_says_name_commune_departement_and_category():
    from at_tui.importers.finess import FinessStructure

    structure = FinessStructure("320000036", None, "EHPAD LES TILLEULS", None, "32", "AUCH", "32000", None,
                                "500", "Etablissement d'hébergement pour personnes âgées dépendantes", "ESSMS/EHPAD")
    assert suggestion_text(structure) == (
        "EHPAD LES TILLEULS — AUCH (32) — Etablissement d'hébergement pour personnes âgées dépendantes")


# -- new visit -------------------------------------------------------------------------------


async def test_typing_part_of_a_name_shows_the_matching_structures(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "e")
        assert shown(form) == []  # one letter: not yet
        await type_text(pilot, "hpad til")
        await settle(pilot)
        assert sorted(shown(form)) == ["320000036", "460000020"]
        assert app.focused is form.query_one("#structure")  # typing goes on in the field
        await type_text(pilot, "leuls figeac")
        await settle(pilot)
        assert shown(form) == ["460000020"]
        await type_text(pilot, " zzz")
        await settle(pilot)
        assert shown(form) == []
        assert value(form, "structure") == "ehpad tilleuls figeac zzz"


async def test_typing_a_finess_number_prefix_shows_the_structures(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "46000")
        assert shown(form) == ["460000012", "460000020", "460000046"]
        await type_text(pilot, "004")
        await settle(pilot)
        assert shown(form) == ["460000046"]


async def test_accents_and_case_do_not_matter(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "hopital")
        assert shown(form) == ["310000077"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert value(form, "structure") == "HÔPITAL LOCAL DE MURET"
        assert value(form, "departement") == "31 Haute-Garonne"
        assert form.query_one("#typologie", Select).value == "CH"
        form.query_one("#structure", Input).value = ""
        await type_text(pilot, "cœur d'hérault")
        await settle(pilot)
        assert shown(form) == ["340000069"]


async def test_down_enter_picks_a_structure_and_ctrl_s_creates_the_visit_with_it(make_app, db_path, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "tilleuls")
        assert shown(form) == ["320000036", "460000020"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert shown(form) == []  # the list closed
        assert app.focused is form.query_one("#structure")
        assert value(form, "structure") == "EHPAD LES TILLEULS"
        assert value(form, "commune") == "AUCH"
        assert value(form, "departement") == "32 Gers"
        assert form.query_one("#typologie", Select).value == "EHPAD"
        assert form.finess == "320000036"
        assert finess_info(form).startswith("FINESS 320000036 · Etablissement d'hébergement")
        await settle(pilot)
        assert shown(form) == []  # the picked name does not reopen the list

        await press_to(pilot, "ctrl+s", ChecklistScreen)
    [row] = visit_rows(db_path)
    assert (row["structure"], row["finess"], row["commune"], row["departement"], row["typologie"]) == (
        "EHPAD LES TILLEULS", "320000036", "AUCH", "32", "EHPAD")


async def test_arrows_choose_the_row_and_up_from_the_first_goes_back_to_the_field(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "cahors")
        listing = suggestions(form)
        assert shown(form) == ["460000012", "460000046"]
        assert listing.highlighted is None
        await pilot.press("down", "down", "down")
        assert listing.highlighted == 1  # stops at the last row
        await pilot.press("up", "up")
        assert listing.highlighted is None
        await pilot.press("down", "down", "up", "down", "enter")
        await pilot.pause()
        assert value(form, "structure") == "MSP DE CAHORS"
        assert form.query_one("#typologie", Select).value == "MSP"
        assert value(form, "commune") == "CAHORS"


async def test_enter_without_a_chosen_row_goes_to_the_next_field(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "cahors")
        assert shown(form)
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is form.query_one("#departement")
        assert shown(form) == []  # leaving the field closes the list
        assert value(form, "structure") == "cahors"
        assert form.finess == ""


async def test_escape_closes_the_list_then_cancels_the_form(make_app, db_path, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "ehpad")
        keys = key_bar(app)
        assert keys["escape"] == "Fermer la liste"
        assert keys["down"] == "Suggestions"
        assert "enter" not in keys  # no row chosen yet
        await pilot.press("down")
        await pilot.pause()
        assert key_bar(app)["enter"] == "Choisir"
        assert key_bar(app)["ctrl+s"] == "Commencer la visite"

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form
        assert shown(form) == []
        assert value(form, "structure") == "ehpad"
        keys = key_bar(app)
        assert keys["escape"] == "Annuler"
        assert "down" not in keys and "enter" not in keys
        await type_text(pilot, " til")  # typing again reopens it
        await settle(pilot)
        assert len(shown(form)) == 2
        await pilot.press("escape", "escape")  # closes the list, then asks before discarding the text
        await pilot.pause()
        assert app.screen is not form and not isinstance(app.screen, HomeScreen)
        await pilot.press("o")  # « abandonner »
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert visit_rows(db_path) == []


async def test_tab_order_is_unchanged_with_the_list_open(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "ehpad")
        assert shown(form)
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is form.query_one("#departement")
        assert shown(form) == []
        await pilot.press("shift+tab")
        await pilot.pause()
        assert app.focused is form.query_one("#structure")


async def test_editing_the_picked_name_by_hand_drops_the_finess_link(make_app, db_path, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "dac")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert form.finess == "320000044"
        assert form.query_one("#typologie", Select).value == "DAC"
        await pilot.press("end", "backspace")
        await type_text(pilot, "2 Gers")
        await settle(pilot)
        assert form.finess == ""
        assert finess_info(form) == ""
        assert value(form, "structure") == "DAC 32 Gers"
        await press_to(pilot, "ctrl+s", ChecklistScreen)
    [row] = visit_rows(db_path)
    assert (row["structure"], row["finess"], row["commune"], row["departement"], row["typologie"]) == (
        "DAC 32 Gers", "", "AUCH", "32", "DAC")


async def test_a_structure_without_typology_leaves_the_choice_to_the_at(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        form = await type_structure(pilot, "pharmacie")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert value(form, "structure") == "PHARMACIE DU CENTRE"
        assert value(form, "departement") == "81 Tarn"
        assert form.query_one("#typologie", Select).value is Select.NULL
        assert "Typologie à choisir" in finess_info(form)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert form.query_one("#typologie-error").display


async def test_a_structure_not_in_finess_still_creates_a_visit(make_app, db_path, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await fill_new_visit_form(pilot, "Cabinet infirmier Martin", "32", "CPTS")
        await settle(pilot)
        assert shown(form) == []
        await press_to(pilot, "ctrl+s", ChecklistScreen)
    [row] = visit_rows(db_path)
    assert (row["structure"], row["finess"], row["departement"], row["typologie"]) == (
        "Cabinet infirmier Martin", "", "32", "CPTS")


async def test_without_any_import_nothing_shows_and_the_form_works(make_app, db_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await fill_new_visit_form(pilot, "EHPAD Les Tilleuls", "32", "EHPAD")
        await settle(pilot)
        assert shown(form) == []
        assert finess_info(form) == ""
        await press_to(pilot, "ctrl+s", ChecklistScreen)
    [row] = visit_rows(db_path)
    assert (row["structure"], row["finess"], row["typologie"]) == ("EHPAD Les Tilleuls", "", "EHPAD")


async def test_a_late_answer_for_an_older_text_is_dropped(make_app, finess_imported):
    from at_tui.importers.finess import FinessStructure

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "msp")
        listing = suggestions(form)
        assert shown(form) == ["460000046"]
        stale = FinessStructure("320000036", None, "EHPAD LES TILLEULS", None, "32", "AUCH", "32000", None,
                                "500", "EHPAD", "ESSMS/EHPAD")
        listing._found("ms", [stale])  # the answer for a keystroke ago, arriving late
        await pilot.pause()
        assert shown(form) == ["460000046"]


async def test_a_file_imported_with_the_command_completes_a_structure_name(make_app, db_path, tmp_path):
    """Done when: a synthetic FINESS file imported from the shell completes a structure name."""
    from at_tui.cli import main
    from at_tui.importers.structures_store import complete_structures
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.finess import generate

    path = tmp_path / "etalab-finess.csv"
    generate(path, 400, seed=7)
    assert main(["import-finess", str(path)]) == 0
    conn = open_database(db_path)
    try:
        target = complete_structures(conn, "ehpad", limit=1)[0]
    finally:
        conn.close()
    typed = " ".join(target.name.split()[:3]).lower()

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, typed)
        assert target.finess in shown(form)
        row = shown(form).index(target.finess)
        await pilot.press(*["down"] * (row + 1), "enter")
        await pilot.pause()
        assert value(form, "structure") == target.name
        assert form.finess == target.finess
        assert value(form, "commune") == (target.commune or "")


# -- editing a visit's identity (F2) -----------------------------------------------------------


async def test_f2_picking_a_structure_saves_it_at_once(make_app, db_path, seeded, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        app.open_visit(seeded["dac"])
        await pilot.pause()
        visit_screen = app.screen
        form = await press_to(pilot, "f2", VisitFormScreen)
        assert form.editing
        await settle(pilot)
        assert shown(form) == []  # the stored name opens nothing
        await pilot.press("end", *["backspace"] * len("DAC 34"))
        await type_text(pilot, "tilleuls")
        await settle(pilot)
        assert shown(form) == ["320000036", "460000020"]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        row = visit_row(db_path, seeded["dac"])
        assert (row["structure"], row["finess"], row["commune"], row["departement"], row["typologie"]) == (
            "EHPAD LES TILLEULS", "460000020", "FIGEAC", "46", "EHPAD")
        assert finess_info(form).startswith("FINESS 460000020")

        await type_text(pilot, " bis")  # edited by hand: the FINESS link goes
        await settle(pilot)
        row = visit_row(db_path, seeded["dac"])
        assert (row["structure"], row["finess"], row["commune"]) == ("EHPAD LES TILLEULS bis", "", "FIGEAC")
        await pilot.press("escape")
        await pilot.pause()
        # The typology changed: the visit reopens on the new typology's checklist.
        assert isinstance(app.screen, ChecklistScreen) and app.screen.visit.id == visit_screen.visit.id
        assert app.screen.visit.finess == ""


async def test_f2_on_a_visit_linked_to_finess_keeps_the_link_until_the_name_changes(
    make_app, db_path, seeded, finess_imported
):
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path)
    try:
        workspace.save_identity(seeded["ehpad"], "finess", "320000036")
    finally:
        workspace.close()
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        app.open_visit(seeded["ehpad"])
        await pilot.pause()
        form = await press_to(pilot, "f2", VisitFormScreen)
        await settle(pilot)
        assert form.finess == "320000036"
        assert finess_info(form) == "FINESS 320000036"
        await pilot.press("ctrl+s")  # closes: everything is already saved
        await pilot.pause()
    assert visit_row(db_path, seeded["ehpad"])["finess"] == "320000036"


async def test_a_click_on_a_suggestion_picks_it(make_app, finess_imported):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        form = await type_structure(pilot, "cahors")
        assert shown(form) == ["460000012", "460000046"]
        await pilot.click(StructureSuggestions, offset=(5, 2))  # the second row, under the top border
        await pilot.pause()
        assert value(form, "structure") == "MSP DE CAHORS"
        assert form.finess == "460000046"
        assert shown(form) == []
        assert app.focused is form.query_one("#structure")
