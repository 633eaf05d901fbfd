"""The AT's housekeeping, driven by keys as she would: archive a visit from the Accueil (asked,
named), find it among the archived visits, read it, restore it; the export keeps it; a
new-visit form holding typed text asks before Échap throws it away; the banner counts
steps of the process."""

from __future__ import annotations

import json

from helpers import press_to, type_text

from at_tui.exchange import export_visits
from at_tui.screens.checklist import ChecklistScreen
from at_tui.screens.confirm import ArchiveVisitScreen, DiscardTypedScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.widgets.visit_list import VisitList


def shown(app) -> list[str]:
    """The structures the Accueil's list shows, top to bottom."""
    return [row.cells[1] for row in app.screen.query_one("#visits", VisitList).rows]


def key_bar(app) -> str:
    return str(app.screen.query_one("KeyBar").render())


def select(app, structure: str) -> None:
    listing = app.screen.query_one("#visits", VisitList)
    listing.cursor = [row.cells[1] for row in listing.rows].index(structure)


async def test_archive_hide_find_read_and_restore_a_visit(make_app, seeded, workspace):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "EHPAD Les Tilleuls" in shown(app)
        assert "x Archiver" in key_bar(app) and "v Archivées" in key_bar(app)
        select(app, "EHPAD Les Tilleuls")

        dialog = await press_to(pilot, "x", ArchiveVisitScreen)
        text = str(dialog.query_one("#archive-text").render())
        assert "« EHPAD Les Tilleuls (32, visite du 18/11/2026) »" in text
        await press_to(pilot, "escape", HomeScreen)  # Échap: nothing archived
        assert "EHPAD Les Tilleuls" in shown(app)

        await press_to(pilot, "x", ArchiveVisitScreen)
        await press_to(pilot, "o", HomeScreen)
        assert "EHPAD Les Tilleuls" not in shown(app)
        assert set(shown(app)) == {"CPTS Sud Toulousain", "DAC 34"}

        await pilot.press("v")
        await pilot.pause()
        assert shown(app) == ["EHPAD Les Tilleuls"]
        assert "x Restaurer" in key_bar(app) and "v Non archivées" in key_bar(app)
        assert "archivée" in str(app.screen.query_one("#home-hint").render())

        screen = await press_to(pilot, "enter", ChecklistScreen)  # readable from the archived list
        banner = str(screen.query_one("#visit-banner").render())
        assert "EHPAD Les Tilleuls" in banner and "archivée" in banner
        await press_to(pilot, "escape", HomeScreen)
        assert shown(app) == ["EHPAD Les Tilleuls"]  # back in the archived view

        await pilot.press("x")  # restore: nothing to lose, no question
        await pilot.pause()
        assert shown(app) == []
        assert "Aucune visite archivée" in str(app.screen.query_one("#home-hint").render())
        await pilot.press("v")
        await pilot.pause()
        assert "EHPAD Les Tilleuls" in shown(app) and len(shown(app)) == 3
    assert workspace.visits.archived_at(seeded["ehpad"]) is None


async def test_an_accueil_with_every_visit_archived_says_where_they_are(make_app, seeded, workspace):
    for visit_id in seeded.values():
        workspace.visits.set_archived(visit_id, True)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert shown(app) == []
        assert "3 archivée(s) : v pour les voir" in str(app.screen.query_one("#home-hint").render())


async def test_an_archived_visit_is_exported_and_left_out_of_resume(make_app, seeded, workspace):
    workspace.visits.set_archived(seeded["ehpad"], True)
    exported = export_visits(workspace)
    assert seeded["ehpad"] in [visit["id"] for visit in exported["visits"]]
    assert "archived" not in json.dumps(exported)  # the AT's housekeeping, not the visit's content

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Reprendre : CPTS Sud Toulousain" in titles
        assert "Reprendre : EHPAD Les Tilleuls" not in titles
        assert "Visites archivées" in titles
        assert any(title.startswith("Archiver la visite : ") for title in titles)

        app.screen.action_show_archived(True)
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Restaurer la visite archivée : EHPAD Les Tilleuls" in titles
        assert "Revenir aux visites de l'accueil" in titles


async def test_escape_on_a_new_visit_form_asks_only_when_something_was_typed(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press_to(pilot, "n", VisitFormScreen)
        await press_to(pilot, "escape", HomeScreen)  # empty: leaves at once

        form = await press_to(pilot, "n", VisitFormScreen)
        await type_text(pilot, "CPTS Sud")
        dialog = await press_to(pilot, "escape", DiscardTypedScreen)
        assert "Structure" in str(dialog.query_one("#discard-text").render())
        assert "o Abandonner" in key_bar(app)
        await press_to(pilot, "escape", VisitFormScreen)  # Échap again: back to the form, text kept
        assert app.screen is form and form.query_one("#structure").value == "CPTS Sud"

        await press_to(pilot, "escape", DiscardTypedScreen)
        await press_to(pilot, "o", HomeScreen)
        assert app.workspace.visits.list() == []  # nothing was created


async def test_the_banner_counts_steps_of_the_process(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key, expected in (
            ("presentation", "Étape 1/7 · Présentation offres"),
            ("classification", "Étape 3/7 · Classification — Recueil des besoins (1/3)"),
            ("classification:resultat", "Étape 3/7 · Classification — Résultat (2/3)"),
            ("classification:livrables", "Étape 3/7 · Classification — Livrables CRM (3/3)"),
        ):
            app.open_visit(seeded["cpts"], key)
            await pilot.pause()
            banner = str(app.screen.query_one("#visit-banner").render())
            assert expected in banner.splitlines(), banner
