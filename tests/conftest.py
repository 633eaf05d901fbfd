"""Shared fixtures: an isolated AT_TUI_HOME per test, the bundled reference data, workspaces
and apps on real SQLite files, and a PostgreSQL server for the central's tests
(`postgres_admin_url`). Plain helpers (no fixtures) live in `helpers.py`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import FixedClock

from at_tui.reference.loader import ReferenceData, load_reference

# The central's database on either backend (`central_db`, `new_central_db`, `postgres_db`).
pytest_plugins = ["central_db"]


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    """The bundled reference data, even if AT_TUI_FIXTURES is set where pytest runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AT_TUI_FIXTURES", raising=False)
        return load_reference()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The admin URL of a throwaway PostgreSQL for the whole session (issue 13): the one `.ci/run`
    started (AT_TUI_TEST_POSTGRES), else one started here and stopped at the end (the tests that
    need it carry a skipif saying what to install where neither can be had: see below)."""
    import postgres_server

    given = os.environ.get(postgres_server.ENV_URL)
    if given:
        yield given
        return
    server = postgres_server.start()  # the tests that need it are marked skipif where it cannot be
    try:
        yield server.url
    finally:
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every PostgreSQL-backed test — it uses `postgres_admin_url`, or runs with a
    "postgresql" parameter (`central_db` and the like fetch the server only for that one) —
    skipif no PostgreSQL server can be had here, the reason saying what to install."""
    import postgres_server

    needs_postgres = pytest.mark.skipif(not postgres_server.available(), reason=postgres_server.MISSING)
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgres_admin_url" in getattr(item, "fixturenames", ()) or "postgresql" in params.values():
            item.add_marker(needs_postgres)


@pytest.fixture(autouse=True)
def _bundled_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads the bundled data files unless it points AT_TUI_FIXTURES elsewhere itself."""
    monkeypatch.delenv("AT_TUI_FIXTURES", raising=False)


@pytest.fixture
def at_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "at-home"
    monkeypatch.setenv("AT_TUI_HOME", str(home))
    return home


@pytest.fixture
def db_path(at_home: Path) -> Path:
    from at_tui.paths import database_path

    return database_path()


@pytest.fixture
def workspace(db_path: Path, reference: ReferenceData):
    """A Workspace on the test's database, closed after the test."""
    from at_tui.workspace import Workspace

    ws = Workspace(db_path, reference=reference)
    yield ws
    ws.close()


@pytest.fixture
def make_app(db_path: Path, reference: ReferenceData) -> Callable:
    """An app on the test's database, with the reference data already loaded (deterministic)."""

    def factory():
        from at_tui.app import ATApp

        return ATApp(db_path, reference=reference)

    return factory


@pytest.fixture
def seeded(db_path: Path, reference: ReferenceData, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A database with three visits at known times; returns their ids by name."""
    import time

    from at_tui.workspace import Workspace

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    workspace = Workspace(db_path, reference=reference)
    workspace.visits.clock = FixedClock()
    ids = {}
    cpts, _ = workspace.start_visit({
        "structure": "CPTS Sud Toulousain", "departement": "31", "typologie": "CPTS/MSP",
        "contact_name": "Marie Dupont", "contact_role": "Coordinatrice", "visit_date": "20/11/2026",
        "maillage": True,
    })
    ids["cpts"] = cpts.id
    for key, value in {
        "check:presentation:offre-coordination": True,
        "notes:presentation": "Présentation au bureau de la CPTS, très intéressés.",
    }.items():
        workspace.visits.set_answer(cpts.id, key, value)
    for question, value in {
        "opportunite": True,
        "situation_actuelle": "Téléphone, SMS et mails non sécurisés.",
        "besoins_sante": "Parcours personne âgée, sorties d'hospitalisation.",
        "types_professionnels": "Médecins, infirmiers, pharmaciens.",
        "fonctionnalites": ["echanges_messages", "partage_documents"],
        "partenaires": "EHPAD et SSIAD du secteur.",
        "professionnels_hors_structure": "10",
        "utilisateurs_potentiels": "22",
        "temporalite": "trimestre",
        "messagerie_seule": False,
        "dossiers_coordination": False,
        "parametrage": ["aucune"],
        "demandes_complexes": ["aucune"],
        "portee_strategique": ["projet_structurant"],
    }.items():
        workspace.save_answer(cpts, question, value)
    ehpad, _ = workspace.start_visit({
        "structure": "EHPAD Les Tilleuls", "departement": "32", "typologie": "ESSMS/EHPAD",
        "contact_name": "Jean Martin", "contact_role": "Directeur", "visit_date": "18/11/2026",
    })
    ids["ehpad"] = ehpad.id
    dac, _ = workspace.start_visit({
        "structure": "DAC 34", "departement": "34", "typologie": "DAC",
        "contact_name": "", "contact_role": "", "visit_date": "12/11/2026",
    })
    workspace.visits.set_status(dac.id, "terminee")
    ids["dac"] = dac.id
    workspace.close()
    return ids


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data files, to corrupt in tests."""
    from data_helpers import copy_fixtures

    return copy_fixtures(tmp_path)
