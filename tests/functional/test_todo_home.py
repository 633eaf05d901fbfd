"""The Accueil's « À faire » and the « Opportunités » list (issue 11 §2 and §3), driven by keys.

An AT's simple opportunity is made with the Workspace API (visit finished, cadrage, end of
the deployment on 31/01/2027: M+1 on 28/02, M+3 on 30/04, M+6 on 31/07); the app's clock
(`today`) is moved, the data is not.
"""

from __future__ import annotations

import datetime as dt

import pytest
from answer_sets import finished_visit

from at_tui.app import ATApp
from at_tui.screens.home import HomeScreen
from at_tui.widgets.visit_list import VisitList
from at_tui.workspace import Workspace

END_OF_DEPLOYMENT = "2027-01-31"
MONTH_AFTER = dt.date(2027, 3, 5)  # M+1 (28/02/2027) is past, M+3 and M+6 to come


def finish_visit(workspace: Workspace, structure: str = "MSP de Lectoure", departement: str = "32") -> str:
    return finished_visit(workspace, structure=structure, departement=departement)


@pytest.fixture
def deployed(db_path, reference) -> str:
    """A simple opportunity led by the AT: cadrage recorded, deployment ended on 31/01/2027."""
    workspace = Workspace(db_path, reference=reference)
    visit_id = finish_visit(workspace)
    workspace.ensure_opportunities()
    lifecycle = workspace.lifecycle()
    workspace.opportunities.add_entry(visit_id, lifecycle, "cadrage", "2026-12-10", author="marie", role="AT")
    workspace.opportunities.add_entry(visit_id, lifecycle, "fin-deploiement", END_OF_DEPLOYMENT,
                                      author="marie", role="AT")
    workspace.close()
    return visit_id


def app_on(db_path, reference, today: dt.date) -> ATApp:
    return ATApp(db_path, reference=reference, today=lambda: today)


def todo_rows(app) -> list[tuple[str, ...]]:
    todo = app.screen.query_one("#todo", VisitList)
    return [row.cells for row in todo.rows] if todo.display else []


def header(app) -> str:
    return app.format_title(app.title, app.sub_title).plain


class Calls(list):
    """Stands for ATApp.open_opportunity (the opportunity screen is another part of issue 11)."""

    def __call__(self, opportunity_id: str) -> None:
        self.append(opportunity_id)


async def test_a_month_after_the_deployment_m1_is_first_and_overdue(db_path, reference, deployed) -> None:
    app = app_on(db_path, reference, MONTH_AFTER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = todo_rows(app)
        assert [(r[0], r[1], r[4]) for r in rows] == [
            ("en retard", "28/02/2027", "[M1] SPICO Suivi des usages"),
            ("à venir", "30/04/2027", "[M3] SPICO Suivi des usages"),
            ("à venir", "31/07/2027", "[M6] SPICO Suivi des usages"),
        ]
        assert rows[0][2:4] == ("MSP de Lectoure", "32") and rows[0][5] == "AT"
        assert "1 en retard" in header(app)
        assert "1 en retard · 2 à venir" in str(app.screen.query_one("#todo-title").render())


async def test_before_m1_nothing_is_overdue_and_the_week_is_told(db_path, reference, deployed) -> None:
    app = app_on(db_path, reference, dt.date(2027, 2, 24))  # a Wednesday: M+1 on Sunday 28/02
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [r[0] for r in todo_rows(app)] == ["cette sem.", "à venir", "à venir"]
        assert "en retard" not in header(app)
    app = app_on(db_path, reference, dt.date(2027, 2, 24))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert todo_rows(app)[0][0] == "cette semaine"  # written whole when there is room


async def test_enter_in_a_faire_opens_the_opportunity_and_in_the_visits_resumes(db_path, reference, deployed,
                                                                                 monkeypatch) -> None:
    app = app_on(db_path, reference, MONTH_AFTER)
    opened, resumed = Calls(), Calls()
    app.open_opportunity = opened
    monkeypatch.setattr(app, "open_visit", resumed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "visits"
        await pilot.press("tab")  # to « À faire »
        assert app.focused.id == "todo"
        await pilot.press("enter")
        assert opened == [deployed] and resumed == []
        assert "[M1] SPICO Suivi des usages" in str(app.screen.query_one("#home-hint").render())
        await pilot.press("tab", "enter")  # back to the visits: Entrée resumes the visit again
        assert resumed == [deployed] and opened == [deployed]


async def test_the_accueil_opens_the_opportunity_of_a_visit_finished_meanwhile(db_path, reference) -> None:
    workspace = Workspace(db_path, reference=reference)
    finish_visit(workspace, "CPTS du Gers")  # no ensure_opportunities: an import, an older version
    workspace.close()
    app = app_on(db_path, reference, MONTH_AFTER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert [(r[0], r[1], r[2], r[4]) for r in todo_rows(app)] == [
            ("", "—", "CPTS du Gers", "Cadrage (déploiement acté)")]
        assert "en retard" not in header(app)


async def test_nothing_due_no_a_faire_and_the_archived_view_hides_it(db_path, reference, deployed, seeded) -> None:
    app = app_on(db_path, reference, MONTH_AFTER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert todo_rows(app)
        await pilot.press("v")
        await pilot.pause()
        assert not app.screen.query_one("#todo").display
        await pilot.press("v")
        await pilot.pause()
        assert todo_rows(app)


async def test_without_opportunities_the_accueil_has_no_a_faire(db_path, reference, seeded) -> None:
    app = app_on(db_path, reference, MONTH_AFTER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert todo_rows(app) == []
        assert isinstance(app.screen, HomeScreen) and app.focused.id == "visits"


async def test_the_opportunites_screen_lists_filters_and_opens(db_path, reference, deployed) -> None:
    from at_tui.screens.opportunities import OpportunitiesScreen

    workspace = Workspace(db_path, reference=reference)
    pending = finish_visit(workspace, "CPTS du Gers")
    workspace.ensure_opportunities()
    workspace.close()
    app = app_on(db_path, reference, MONTH_AFTER)
    opened = Calls()
    app.open_opportunity = opened
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpportunitiesScreen)
        listing = screen.query_one(VisitList)

        def shown() -> dict[str, tuple[str, ...]]:
            return {row.cells[0]: row.cells[1:] for row in listing.rows}

        assert shown() == {
            "CPTS du Gers": ("32", "simple", "pilote", "En attente", "sans date"),
            "MSP de Lectoure": ("32", "simple", "pilote", "Projet en cours", "28/02/2027"),
        }
        await pilot.press("f")  # « En attente »
        assert list(shown()) == ["CPTS du Gers"]
        await pilot.press("f")  # « Projet en cours »
        assert list(shown()) == ["MSP de Lectoure"]
        assert "Projet en cours" in str(screen.query_one("#opportunities-title").render())
        assert "(en retard)" in str(screen.query_one("#opportunities-detail").render())
        await pilot.press("enter")
        assert opened == [deployed]
        await pilot.press("f")  # « Terminé »: none
        assert shown() == {} and not listing.display
        assert "Aucune opportunité avec ces filtres" in str(screen.query_one("#opportunities-detail").render())
        await pilot.press("f", "f")  # « Sans suite », then every status again
        assert len(shown()) == 2
        await pilot.press("r")  # the ones the AT leads: both (simple offers)
        assert len(shown()) == 2
        await pilot.press("r")  # the ones the AT supports: none
        assert shown() == {}
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert pending not in opened


async def test_opportunites_is_in_the_palette_and_the_footer(db_path, reference, deployed) -> None:
    app = app_on(db_path, reference, MONTH_AFTER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Opportunités" in titles
        footer = str(app.screen.query_one("KeyBar").render())
        assert "Opportunités" in footer
        await pilot.press("o")
        await pilot.pause()
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        commands["Opportunités : statut « Terminé »"].callback()  # the filters, from the palette too
        await pilot.pause()
        assert app.screen.status_filter == "termine" and app.screen.query_one(VisitList).rows == []
