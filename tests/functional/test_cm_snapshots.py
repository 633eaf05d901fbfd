"""SVG snapshots of a CM's Accueil (issue 11 §3): « À prendre en charge » above « Mes projets »,
at 80×24 and 120×36, and the zone filter (80×24). The follow-up form's snapshots at both sizes
are in test_opportunity_snapshots.py."""

from __future__ import annotations

import pytest
from helpers import FixedClock
from test_cm_home import CM_LOGIN, app_on, region  # noqa: F401 - `region` is a fixture

from at_tui.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def with_project(db_path, reference, region) -> dict[str, str]:  # noqa: F811 - the fixture above
    """The region's waiting opportunities, the Tarn's taken by the CM and its cadrage recorded."""
    workspace = Workspace(db_path, reference=reference)
    try:
        clock = FixedClock("2027-01-10T08:00:00+00:00")
        workspace.opportunities.clock = clock
        workspace.opportunities.take_charge(region["tarn"], CM_LOGIN, workspace.lifecycle())
        workspace.opportunities.add_entry(region["tarn"], workspace.lifecycle(), "cadrage", "2027-01-12",
                                          author=CM_LOGIN, role="CM")
    finally:
        workspace.close()
    return region


@pytest.mark.parametrize("size", SIZES)
def test_cm_accueil_a_prendre_en_charge(snap_compare, db_path, reference, with_project, size):
    assert snap_compare(app_on(db_path, reference), terminal_size=size)


def test_cm_accueil_zone_ouest(snap_compare, db_path, reference, with_project):
    """`z` twice: the Ouest zone (Gers, Tarn…), the title says it."""
    assert snap_compare(app_on(db_path, reference), press=["z", "z"], terminal_size=(80, 24))
