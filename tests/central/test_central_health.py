"""The monitoring probes of the central (issue 13 §4): `/healthz` (the process answers) and `/readyz`
(the database answers, its schema is current), on both backends, without a token and without
the rate limit; a failing database is a 503 in French that never shows the database's address."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from central_api import Api, make_api
from central_server import CentralServer

from at_tui.central.models import Limits
from at_tui.central.storage import StorageError

SECRET_URL = "postgresql://agence:MotDePasse42@db.interne:5432/central"


@pytest.fixture
def strict_api(central_db: str) -> Iterator[Api]:
    """An API that lets one request a minute per token through."""
    yield from make_api(central_db, Limits(rate_limit=1))


def test_healthz_answers_without_a_token(api: Api) -> None:
    answer = api.client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert answer.headers["cache-control"] == "no-store"


def test_readyz_gives_the_schema_and_the_backend(api: Api, central_db: str) -> None:
    answer = api.client.get("/readyz")
    assert answer.status_code == 200, answer.text
    backend = "postgresql" if central_db.startswith("postgresql://") else "sqlite"
    assert answer.json() == {"status": "ok", "schema": api.storage.schema_version(), "backend": backend}
    assert answer.json()["schema"] >= 3


def test_a_database_that_fails_makes_readyz_503_but_not_healthz(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> None:
        raise StorageError(f"Base du service central injoignable ({SECRET_URL}) : connexion refusée.")

    monkeypatch.setattr(api.storage, "check_ready", unreachable)
    answer = api.client.get("/readyz")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    detail = answer.json()["detail"]
    assert "pas prêt" in detail and "at-tui central migrate" in detail
    for secret in ("MotDePasse42", "db.interne", "agence", "postgresql://"):
        assert secret not in answer.text
    # Any failure, not only a StorageError (a driver's own exception), is a 503 too.
    monkeypatch.setattr(api.storage, "check_ready", lambda: 1 / 0)
    assert api.client.get("/readyz").status_code == 503
    assert api.client.get("/healthz").status_code == 200


def test_healthz_never_reads_the_database(api: Api) -> None:
    api.storage.close()  # whatever the database does, the process still answers
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").status_code == 503


def test_probes_are_not_rate_limited(strict_api: Api) -> None:
    headers = strict_api.headers("alice")
    assert strict_api.client.get("/v1/me", headers=headers).status_code == 200
    assert strict_api.client.get("/v1/me", headers=headers).status_code == 429  # the limit bites
    for _ in range(20):
        assert strict_api.client.get("/healthz", headers=headers).status_code == 200
        assert strict_api.client.get("/readyz", headers=headers).status_code == 200


def test_probes_are_in_the_openapi_schema_without_security(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/readyz", "/v1/health"):
        assert "security" not in paths[path]["get"], path
    assert "503" in paths["/readyz"]["get"]["responses"]
    ready = paths["/readyz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ready["$ref"].endswith("/ReadyModel")


def test_a_real_service_answers_its_probes_and_logs_only_their_failures(central_server: CentralServer) -> None:
    url = central_server.url
    assert httpx.get(url + "/healthz", timeout=30).json() == {"status": "ok"}
    ready = httpx.get(url + "/readyz", timeout=30).json()
    assert ready["status"] == "ok" and ready["backend"] in ("sqlite", "postgresql")
    assert httpx.get(url + "/readyz?x=1", timeout=30).status_code == 200
    assert httpx.post(url + "/readyz", timeout=30).status_code == 405  # not a probe's answer: logged
    assert httpx.get(url + "/v1/health", timeout=30).status_code == 200
    central_server.stop()
    lines = [json.loads(line) for line in central_server.logs().splitlines() if line.startswith("{")]
    seen = [(line["method"], line["path"], line["status"]) for line in lines]
    assert ("GET", "/healthz", 200) not in seen and ("GET", "/readyz", 200) not in seen
    assert ("POST", "/readyz", 405) in seen and ("GET", "/v1/health", 200) in seen
