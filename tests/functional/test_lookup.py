"""The « Annuaire » lookup driven by keyboard: type-ahead, accents, filters, visit pre-filter, card, copy."""

from __future__ import annotations

from helpers import IDENTITY, type_text
from textual.widgets import DataTable, Input, Select

from at_tui.screens.contact_card import ContactCard
from at_tui.screens.home import HomeScreen
from at_tui.screens.lookup import LookupScreen

SIZE = (100, 30)


async def settle(pilot) -> None:
    """Let the search workers finish and their results reach the screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown(app) -> list[tuple[str, str, str]]:
    """(name, kind, email) of each row shown."""
    screen = app.screen
    assert isinstance(screen, LookupScreen)
    table = screen.query_one("#lookup-results", DataTable)
    assert table.row_count == len(screen.entries)
    return [(e.name, e.kind, e.email or "") for e in screen.entries]


async def open_lookup(pilot) -> LookupScreen:
    await pilot.press("f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LookupScreen)
    assert isinstance(screen.focused, Input)
    return screen


async def search_for(pilot, text: str) -> list[tuple[str, str, str]]:
    await pilot.press("ctrl+r")  # empty field and filters
    await type_text(pilot, text)
    await settle(pilot)
    return shown(pilot.app)


async def test_opens_on_the_whole_directory_and_answers_as_the_at_types(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await open_lookup(pilot)
        everyone = shown(app)
        assert len(everyone) == len(app.workspace.reference.contacts)

        dac32 = await search_for(pilot, "DAC 32")
        assert dac32 and {kind for _, kind, _ in dac32[:2]} == {"dac"}
        assert all("dac32" in email for _, kind, email in dac32 if kind == "dac")

        gers = await search_for(pilot, "Gers")
        assert ("Marie-Pierre Thezan-Labat", "at") in [(n, k) for n, k, _ in gers]
        assert {e for _, k, e in gers if k == "dac"} == {e for _, k, e in dac32 if k == "dac"}
        by_number = {(n, k) for n, k, _ in await search_for(pilot, "32")}
        assert {(n, k) for n, k, _ in gers} <= by_number
        assert ("Marie-Pierre Thezan-Labat", "at") in by_number

        cocon = await search_for(pilot, "cocon")
        assert cocon[0][1] == "projet" and "cocon" in cocon[0][0].casefold()

        # Accents, case and punctuation do not matter.
        assert await search_for(pilot, "GWËNOLA") == await search_for(pilot, "gwenola")
        assert await search_for(pilot, "gwenola")
        assert await search_for(pilot, "list-spico") == await search_for(pilot, "LIST SPICO")

        assert await search_for(pilot, "zzzxq") == []
        assert "Aucun résultat" in str(app.screen.query_one("#lookup-status").render())


async def test_filters_by_departement_and_kind(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lookup(pilot)
        await pilot.press("tab")  # département filter
        assert isinstance(screen.focused, Select)
        await pilot.press("enter")
        await type_text(pilot, "gers")
        await pilot.press("enter")
        await settle(pilot)
        in_gers = shown(app)
        assert in_gers and all("32" in e.departements for e in screen.entries)
        assert {"dac", "at"} <= {kind for _, kind, _ in in_gers}

        await pilot.press("tab", "enter")  # kind filter
        await type_text(pilot, "Référent DAC")
        await pilot.press("enter")
        await settle(pilot)
        assert [kind for _, kind, _ in shown(app)] == ["dac", "dac"]

        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(screen.focused, Input)
        assert len(shown(app)) == len(app.workspace.reference.contacts)


async def test_inside_a_visit_the_lookup_is_prefiltered_on_its_departement(make_app, workspace):
    visit, errors = workspace.start_visit({**IDENTITY, "departement": "32", "structure": "CPTS du Gers"})
    assert not errors
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_visit(visit.id)
        await pilot.pause()
        screen = await open_lookup(pilot)
        assert screen.query_one("#lookup-departement", Select).value == "32"
        kinds = {kind for _, kind, _ in shown(app)}
        assert {"dac", "at"} <= kinds
        assert all("32" in e.departements for e in screen.entries)
        assert "visite en cours" in str(screen.query_one("#lookup-status").render())
        await pilot.press("escape")
        await pilot.pause()
        assert getattr(app.screen, "visit", None) is not None  # back in the visit


async def test_enter_opens_the_card_and_keys_copy_the_email(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lookup(pilot)
        results = await search_for(pilot, "dac 09")
        await pilot.press("down")
        second = results[1]
        await pilot.press("ctrl+y")
        assert app.clipboard == second[2]

        await pilot.press("enter")
        await pilot.pause()
        card = app.screen
        assert isinstance(card, ContactCard)
        body = str(card.query_one("#card-body").render())
        assert second[2] in body and "Kit SPICO AT, diapositive" in body and "Vérifié le" in body
        app.copy_to_clipboard("")
        await pilot.press("c")
        assert app.clipboard == second[2]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)


async def test_a_contact_without_email_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lookup(pilot)
        results = await search_for(pilot, "teams")
        assert results and results[0][2] == ""
        app.copy_to_clipboard("avant")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == "avant"


async def test_palette_finds_the_lookup(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await type_text(pilot, "annuaire")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LookupScreen)


async def test_imported_professionals_appear_as_their_own_kind(make_app, db_path, tmp_path):
    from at_tui.importers.professionals_store import import_annuaire
    from at_tui.store.migrations import open_database
    from at_tui.synthetic.annuaire import activity_row, write_rows

    source = write_rows(tmp_path / "annuaire.txt", [
        activity_row(identifier="10000000001", last_name="Martin", first_name="Hélène", profession="Infirmier",
                     structure="Centre de santé du Gers", commune="Auch", postcode="32000", departement="32",
                     email="h.martin@example.fr"),
        activity_row(identifier="10000000002", last_name="Roux", first_name="Paul", profession="Médecin",
                     commune="Toulouse", postcode="31000", departement="31"),
    ])
    conn = open_database(db_path)
    import_annuaire(conn, source)
    conn.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lookup(pilot)
        found = await search_for(pilot, "helene")
        assert found == [("Hélène Martin", "professionnel", "h.martin@example.fr")]
        assert "2 professionnels importés" in str(app.screen.query_one("#lookup-status").render())
        await pilot.press("enter")
        await pilot.pause()
        body = str(app.screen.query_one("#card-body").render())
        assert "Professionnel de santé" in body and "Infirmier" in body and "Importé le" in body


async def test_a_late_result_for_an_older_query_is_dropped(make_app):
    from at_tui.domain.lookup import Query

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lookup(pilot)
        current = await search_for(pilot, "cocon")
        stale = app.workspace.search_directory(Query.parse("dac"))  # what « dac » would have found
        assert len(stale.entries) > 1
        screen._show(stale)  # arrives after the AT typed on: ignored
        await pilot.pause()
        assert shown(app) == current
