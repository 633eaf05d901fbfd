"""SVG snapshots of « Indicateurs » (issue 12 §5) at 80×24 and 120×36, on known opportunities and a
fixed « today » (05/12/2026): the charts depend on the visit dates and the app's clock only."""

from __future__ import annotations

import pytest
from indicator_data import app_on, seed_laptop

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def laptop(db_path, reference) -> dict[str, str]:
    return seed_laptop(db_path, reference)


@pytest.mark.parametrize("size", SIZES)
def test_indicateurs(snap_compare, db_path, reference, laptop, size):
    assert snap_compare(app_on(db_path, reference), press=["i"], terminal_size=size)


def test_indicateurs_tout_zone_est(snap_compare, db_path, reference, laptop):
    """`p` then `z`: everything recorded in the Est zone (Aude, Gard, Hérault), per month since June 2025."""
    assert snap_compare(app_on(db_path, reference), press=["i", "p", "z"], terminal_size=(120, 36))


def test_indicateurs_fin_de_liste(snap_compare, db_path, reference, laptop):
    """At 80×24 the charts scroll: End shows the last ones (départements, typologies)."""
    assert snap_compare(app_on(db_path, reference), press=["i", "end"], terminal_size=(80, 24))
