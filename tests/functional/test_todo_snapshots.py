"""SVG snapshots of the Accueil with « À faire » (80×24, 120×36) and of « Opportunités » (80×24)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_todo_home import END_OF_DEPLOYMENT, MONTH_AFTER, finish_visit

from at_tui.app import ATApp
from at_tui.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


class Clock:
    """Timestamps one second apart from a fixed instant: « Modifiée le » is the same every run."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> str:
        self.now += dt.timedelta(seconds=1)
        return self.now.isoformat(timespec="microseconds")


@pytest.fixture
def opportunities(db_path, reference, seeded) -> dict[str, str]:
    """The seeded visits, a simple opportunity a month past its end of deployment (M+1 overdue)
    and one still waiting for its cadrage."""
    workspace = Workspace(db_path, reference=reference)
    workspace.visits.clock = Clock()
    deployed = finish_visit(workspace, "MSP de Lectoure", "32")
    waiting = finish_visit(workspace, "Maison de santé du Pays d'Auch", "32")
    workspace.ensure_opportunities()
    lifecycle = workspace.lifecycle()
    workspace.opportunities.add_entry(deployed, lifecycle, "cadrage", "2026-12-10", author="marie", role="AT")
    workspace.opportunities.add_entry(deployed, lifecycle, "fin-deploiement", END_OF_DEPLOYMENT,
                                      author="marie", role="AT")
    workspace.close()
    return {**seeded, "deployed": deployed, "waiting": waiting}


def app_on(db_path, reference) -> ATApp:
    return ATApp(db_path, reference=reference, today=lambda: MONTH_AFTER)


@pytest.mark.parametrize("size", SIZES)
def test_accueil_a_faire(snap_compare, db_path, reference, opportunities, size):
    assert snap_compare(app_on(db_path, reference), terminal_size=size)


def test_accueil_a_faire_selectionne(snap_compare, db_path, reference, opportunities):
    """Tab: « À faire » has the focus, its hint names the opportunity, Entrée says « Ouvrir »."""
    assert snap_compare(app_on(db_path, reference), press=["tab"], terminal_size=(80, 24))


def test_opportunites(snap_compare, db_path, reference, opportunities):
    assert snap_compare(app_on(db_path, reference), press=["o", "down"], terminal_size=(80, 24))
