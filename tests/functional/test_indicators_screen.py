"""« Indicateurs » (issue 12 §5), driven by keys: `i` from the Accueil, `p` cycles the period, `z`
the zone, the numbers are shown beside the bars, Échap returns; the palette opens it too."""

from __future__ import annotations

import pytest
from indicator_data import app_on, seed_laptop

from at_tui.screens.home import HomeScreen
from at_tui.screens.indicators import IndicatorsScreen
from at_tui.widgets.charts import BarChart


@pytest.fixture
def laptop(db_path, reference) -> dict[str, str]:
    return seed_laptop(db_path, reference)


def chart(app, key: str) -> dict[str, int]:
    """The bars of a chart as drawn: label → the number printed beside its bar."""
    widget = app.screen.query_one(f"#chart-{key}", BarChart)
    lines = str(widget.render()).splitlines()[1:]
    drawn = {}
    for line in lines:
        label, _, rest = line.partition("│")
        drawn[label.strip()] = int(rest.split()[-1])
    return drawn


def title(app) -> str:
    return str(app.screen.query_one("#indicators-title").render())


async def test_i_opens_the_indicators_with_their_numbers_and_escape_returns(db_path, reference, laptop) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, IndicatorsScreen)
        assert "12 derniers mois" in title(app) and "Toutes" in title(app)
        assert "5 visites terminées · 4 opportunités" in title(app)
        assert chart(app, "statut") == {"En attente": 2, "Projet en cours": 1, "Terminé": 0, "Sans suite": 1}
        assert chart(app, "offre") == {"Discussions simple": 2, "Discussions complexe": 1, "Dossiers": 1}
        visits = chart(app, "visites")
        assert list(visits)[-3:] == ["oct. 2026", "nov. 2026", "déc. 2026"] and visits["nov. 2026"] == 3
        assert app.screen.query_one("#indicators-charts").has_focus  # ↓ ↑ scroll the charts
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_p_cycles_the_period_and_z_the_zone(db_path, reference, laptop) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("p")  # 12 derniers mois → Tout
        await pilot.pause()
        assert "Tout" in title(app) and "6 visites terminées · 5 opportunités" in title(app)
        assert chart(app, "visites")["juin 2025"] == 1
        await pilot.press("p")  # → 3 derniers mois
        await pilot.pause()
        assert "3 derniers mois" in title(app)
        assert list(chart(app, "opportunites")) == ["oct. 2026", "nov. 2026", "déc. 2026"]
        assert chart(app, "departement") == {"11 Aude": 1, "32 Gers": 1, "34 Hérault": 1}
        await pilot.press("z")  # → Est
        await pilot.pause()
        assert "zone : Est" in title(app)
        assert chart(app, "departement") == {"11 Aude": 1, "34 Hérault": 1}
        assert "2 visites terminées · 2 opportunités" in title(app)
        await pilot.press("z")  # → Ouest
        await pilot.pause()
        assert chart(app, "departement") == {"32 Gers": 1}
        assert chart(app, "typologie") == {"MSP": 1}
        await pilot.press("z")  # → Toutes
        await pilot.pause()
        assert "Toutes" in title(app)


async def test_the_palette_opens_the_indicators_and_sets_their_filters(db_path, reference, laptop) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Indicateurs"].callback()
        await pilot.pause()
        assert isinstance(app.screen, IndicatorsScreen)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Indicateurs : zone « Ouest »"].callback()
        commands["Indicateurs : période « Tout »"].callback()
        await pilot.pause()
        assert "Tout" in title(app) and "zone : Ouest" in title(app)
        assert chart(app, "departement") == {"31 Haute-Garonne": 1, "32 Gers": 1}
        assert "3 visites terminées · 2 opportunités" in title(app)  # the Pharmacie: a visit, no opportunity


async def test_an_empty_laptop_says_there_is_nothing(db_path, reference) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert "0 visite terminée · 0 opportunité" in title(app)
        assert "Aucune sur cette période." in str(app.screen.query_one("#chart-offre", BarChart).render())


async def test_the_keys_are_in_the_key_bar_at_80_columns(db_path, reference, laptop) -> None:
    app = app_on(db_path, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Indicateurs" in str(app.screen.query_one("KeyBar").render())
        await pilot.press("i")
        await pilot.pause()
        keys = str(app.screen.query_one("KeyBar").render())
        assert "Période" in keys and "Zone" in keys and "Retour" in keys
