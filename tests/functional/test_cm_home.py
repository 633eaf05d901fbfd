"""A CM's laptop (issue 11 §3), driven by keys: « À prendre en charge » at the Accueil, the zone
filter, taking a complexe opportunity in charge, recording the délai and the cadrage, and the
opportunity under « Mes projets » afterwards; an AT's visit is not opened to edit.

The laptop is a CM's once sync_state says role 'cm' (as the central's /v1/me tells it at the
first sync); the AT's visits arrive as origin 'import' with their owner, as a pull brings them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from answer_sets import COMPLEXE_ANSWERS, SIMPLE_ANSWERS, finished_visit
from helpers import FixedClock
from textual.widgets import Select, Static

from at_tui.app import ATApp
from at_tui.screens.home import HomeScreen
from at_tui.screens.opportunity import OpportunityScreen
from at_tui.screens.record_activity import RecordActivityScreen
from at_tui.widgets.visit_list import VisitList
from at_tui.workspace import Workspace

TODAY = dt.date(2027, 1, 15)
CM_LOGIN = "claire"


def at_visit(workspace: Workspace, structure: str, departement: str, visit_date: str, owner: str,
             answers=COMPLEXE_ANSWERS) -> str:
    """A finished visit of another AT, as a CM's pull brings it (origin 'import', its owner kept)."""
    typologie = structure.split()[0] if structure.startswith(("CPTS", "MSP")) else "CH"
    visit_id = finished_visit(workspace, answers, structure=structure, departement=departement,
                              visit_date=visit_date, typologie=typologie)
    workspace.conn.execute("UPDATE visits SET origin = 'import', owner = ? WHERE id = ?", (owner, visit_id))
    workspace.conn.commit()
    return visit_id


def make_cm(workspace: Workspace, login: str = CM_LOGIN) -> None:
    from at_tui.sync.outbox import set_state

    set_state(workspace.conn, "role", "cm")
    set_state(workspace.conn, "login", login)
    workspace.conn.commit()


@pytest.fixture
def region(db_path, reference) -> dict[str, str]:
    """A CM's laptop with three complexe opportunities waiting (Gers and Tarn: Ouest; Hérault:
    Est) and a simple one (led by its AT: not the CM's to take)."""
    workspace = Workspace(db_path, reference=reference)
    workspace.visits.clock = FixedClock()
    try:
        make_cm(workspace)
        ids = {
            "gers": at_visit(workspace, "CPTS du Gers", "32", "01/12/2026", "marie"),
            "herault": at_visit(workspace, "CPTS de Montpellier", "34", "20/10/2026", "paul"),
            "tarn": at_visit(workspace, "MSP d'Albi", "81", "05/01/2027", "marie"),
            "simple": at_visit(workspace, "MSP de Lectoure", "32", "15/11/2026", "marie", SIMPLE_ANSWERS),
        }
        assert workspace.ensure_opportunities() == 4
        assert workspace.role() == "CM" and workspace.login() == CM_LOGIN
        return ids
    finally:
        workspace.close()


def app_on(db_path, reference, today: dt.date = TODAY) -> ATApp:
    return ATApp(db_path, reference=reference, today=lambda: today)


def rows(app, list_id: str) -> list[tuple[str, ...]]:
    listing = app.screen.query_one(f"#{list_id}", VisitList)
    return [row.cells for row in listing.rows] if listing.display else []


def text_of(app, widget_id: str) -> str:
    return str(app.screen.query_one(f"#{widget_id}", Static).render())


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_cm_takes_a_complexe_opportunity_records_the_delai_and_the_cadrage(db_path, reference,
                                                                                  region) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # « À prendre en charge »: the complexe ones only, oldest visit first, with their AT and wait.
        assert rows(app, "queue") == [
            ("20/10/2026", "87 j", "CPTS de Montpellier", "34", "complexe", "paul"),
            ("01/12/2026", "45 j", "CPTS du Gers", "32", "complexe", "marie"),
            ("05/01/2027", "10 j", "MSP d'Albi", "81", "complexe", "marie"),
        ]
        assert "3 opportunités · zone : toutes" in text_of(app, "queue-title")
        assert rows(app, "mine") == [] or not app.screen.query_one("#mine", VisitList).rows
        assert "aucun projet" in text_of(app, "mine-title")
        assert app.focused.id == "queue"
        assert "ouvre « CPTS de Montpellier (34) », où m la prend en charge" in text_of(app, "home-hint")
        await pilot.press("down", "enter")  # the Gers
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpportunityScreen) and screen.opportunity_id == region["gers"]
        banner = str(screen.query_one("#opportunity-banner", Static).render())
        assert "menée par CM, AT en soutien" in banner and "aucun CM en charge (m : la prendre)" in banner
        assert screen.check_action("take_charge", ()) is True
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Prendre en charge l'opportunité" in titles

        await pilot.press("m")
        await pilot.pause()
        assert screen.opportunity.cm_login == CM_LOGIN
        assert "CM en charge : claire" in str(screen.query_one("#opportunity-banner", Static).render())
        assert screen.check_action("take_charge", ()) is False  # hidden once it is theirs
        assert any("prise en charge par vous (claire)" in m for m in messages(app))

        # `r`: the CM's side of a complexe project, in the order of the steps.
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RecordActivityScreen)
        offered = [a.id for a in dialog.activities]
        for activity in ("delai-prise-en-charge", "demarrage", "fiche-cadrage", "cadrage", "lancement",
                         "formation", "fin-deploiement", "suivi-m1"):
            assert activity in offered
        assert "information" not in offered  # the visit's, done once
        dialog.query_one("#activity", Select).value = "delai-prise-en-charge"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#activity", Select).value = "cadrage"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert screen.opportunity.status == "projet_en_cours"
        entries = app.workspace.opportunities.journal(region["gers"])
        mine = [(e.activity, e.author, e.role) for e in entries if e.role == "CM"]
        assert mine == [("delai-prise-en-charge", "claire", "CM"), ("cadrage", "claire", "CM")]

        await pilot.press("escape")  # back to the Accueil: the Gers moved to « Mes projets »
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert [r[2] for r in rows(app, "queue")] == ["CPTS de Montpellier", "MSP d'Albi"]
        assert [(r[0], r[2], r[3]) for r in rows(app, "mine")] == [("en cours", "CPTS du Gers", "32")]
        assert "1 projet" in text_of(app, "mine-title")


async def test_the_zone_filter_cycles_toutes_est_ouest(db_path, reference, region) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert len(rows(app, "queue")) == 3
        await pilot.press("z")
        await pilot.pause()
        assert [r[2] for r in rows(app, "queue")] == ["CPTS de Montpellier"]  # 34: Est
        assert "1 opportunité · zone : Est" in text_of(app, "queue-title")
        await pilot.press("z")
        await pilot.pause()
        assert [r[2] for r in rows(app, "queue")] == ["CPTS du Gers", "MSP d'Albi"]  # 32, 81: Ouest
        assert "zone : Ouest" in text_of(app, "queue-title")
        await pilot.press("z")
        await pilot.pause()
        assert len(rows(app, "queue")) == 3 and "zone : toutes" in text_of(app, "queue-title")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "À prendre en charge : zone Est" in titles


async def test_an_at_laptop_keeps_its_accueil(db_path, reference, region) -> None:
    """The same store without the CM role: no CM lists, no `z`, « À faire » as before."""
    workspace = Workspace(db_path, reference=reference)
    workspace.conn.execute("DELETE FROM sync_state WHERE key = 'role'")
    workspace.conn.commit()
    workspace.close()
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#queue")
        assert app.screen.check_action("zone", ()) is False
        assert app.screen.query_one("#todo", VisitList).display


async def test_a_cm_does_not_open_an_at_visit_to_edit_it(db_path, reference, region) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#visits", VisitList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("son contenu reste à l'AT qui l'a faite" in m for m in messages(app))


async def test_an_at_does_not_take_charge_nor_change_a_cm_led_status(db_path, reference, region) -> None:
    workspace = Workspace(db_path, reference=reference)
    workspace.conn.execute("DELETE FROM sync_state WHERE key = 'role'")
    workspace.conn.commit()
    workspace.close()
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_opportunity(region["gers"])
        await pilot.pause()
        screen = app.screen
        assert screen.check_action("take_charge", ()) is False
        await pilot.press("m")
        await pilot.pause()
        assert app.workspace.opportunities.get(region["gers"]).cm_login is None
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is screen
        assert any("tenu par le CM qui mène ce projet" in m for m in messages(app))


async def test_a_first_sync_that_makes_the_laptop_a_cm_brings_the_cm_lists(db_path, reference, region) -> None:
    workspace = Workspace(db_path, reference=reference)
    workspace.conn.execute("DELETE FROM sync_state WHERE key = 'role'")
    workspace.conn.commit()
    workspace.close()
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#queue")
        from at_tui.sync.outbox import set_state

        set_state(app.workspace.conn, "role", "cm")
        app.workspace.conn.commit()
        app.sub_title = "Synchronisation : en ligne"  # what a sync's new status does
        await pilot.pause()
        await pilot.pause()
        assert len(rows(app, "queue")) == 3


async def test_the_opportunites_list_says_who_leads_from_the_cm_side(db_path, reference, region) -> None:
    workspace = Workspace(db_path, reference=reference)
    workspace.opportunities.take_charge(region["gers"], CM_LOGIN, workspace.lifecycle())
    workspace.opportunities.take_charge(region["tarn"], "bruno", workspace.lifecycle())
    workspace.close()
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        said = {}
        for key in (region["gers"], region["tarn"], region["herault"], region["simple"]):
            screen.query_one(VisitList).cursor = [r.key for r in screen.query_one(VisitList).rows].index(key)
            await pilot.pause()
            said[key] = str(screen.query_one("#opportunities-detail", Static).render())
        assert "menée par vous (CM), AT en soutien · CM : claire" in said[region["gers"]]
        assert "menée par le CM bruno" in said[region["tarn"]]
        assert "à prendre en charge par un CM" in said[region["herault"]]
        assert "menée par l'AT, vous (CM) en soutien" in said[region["simple"]]


def test_mes_projets_leaves_out_closed_projects_and_counts_past_the_limit(db_path, reference, region) -> None:
    """Read from the store as the Accueil reads it: a closed project is in `o`, not in « Mes
    projets »; a list read with a limit still counts every row (the title's figure)."""
    from at_tui.store import cm_queue

    workspace = Workspace(db_path, reference=reference)
    try:
        lifecycle = workspace.lifecycle()
        for key in ("gers", "tarn"):
            workspace.opportunities.take_charge(region[key], CM_LOGIN, lifecycle)
        workspace.opportunities.set_status(region["tarn"], lifecycle, "sans_suite", "Structure fermée.",
                                           author=CM_LOGIN, role="CM", day="2027-01-12")
        conn = workspace.conn
        assert [p.structure for p in cm_queue.my_projects(conn, CM_LOGIN)] == ["CPTS du Gers"]
        assert cm_queue.my_projects_count(conn, CM_LOGIN) == 1 and cm_queue.my_projects(conn, None) == []
        assert [w.structure for w in cm_queue.waiting(conn, limit=1)] == ["CPTS de Montpellier"]
        assert cm_queue.waiting_count(conn) == 1 and cm_queue.waiting_count(conn, {"32", "81"}) == 0
    finally:
        workspace.close()
