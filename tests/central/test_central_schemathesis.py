"""Schemathesis against the service's own OpenAPI spec, in process, authenticated: no 5xx, answers as
declared — on a SQLite file and on a PostgreSQL database (one per module and backend)."""

from __future__ import annotations

import pytest
from central_db import BACKENDS, CentralDatabases

pytest.importorskip("schemathesis")

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: E402

from at_tui.central.app import create_app  # noqa: E402
from at_tui.central.auth import issue_token  # noqa: E402
from at_tui.central.backends import open_storage  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def central_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    admin_url = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    databases = CentralDatabases(request.param, tmp_path_factory.mktemp("central"), admin_url)
    storage = open_storage(databases.new())
    try:
        storage.add_user("alice", "at")
        token, _ = issue_token(storage, "alice")
        app = create_app(storage)
        app.state.test_token = token
        yield app
    finally:
        storage.close()
        databases.drop_all()


# A well-formed cursor can still be unknown (another database, or ahead): 410 is a valid answer to valid data.
# The run makes a few hundred requests with one token, under the default rate limit (600 a minute);
# should a future run make more, 429 is the documented answer to valid data.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "404", "410", "429"]
"""


@pytest.fixture(scope="module")
def api_schema(central_app):
    return schemathesis.openapi.from_asgi(
        "/openapi.json", central_app, config=schemathesis.config.SchemathesisConfig.from_str(CONFIG)
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case, central_app) -> None:
    # Unknown query parameters are ignored on purpose (an older service must not refuse a newer
    # laptop's request): the negative-data check is kept for the push body only.
    excluded = [] if case.method == "POST" else [negative_data_rejection]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {central_app.state.test_token}"}, excluded_checks=excluded
    )
