"""`at-tui central serve --workers N` (issue 13 §3): several processes on PostgreSQL, refused on SQLite.

With two workers on a real PostgreSQL both processes start and serve, concurrent laptops'
pushes (one batch sent twice, as after a lost answer) end with every visit exactly once, and
SIGTERM (systemd's stop) is a graceful stop with exit status 0."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import postgres_server
import pytest
from central_server import CentralServer, content_op, run_central_cli, start_central


@pytest.fixture
def pg_db(postgres_admin_url: str) -> Iterator[str]:
    db = postgres_server.new_database(postgres_admin_url, prefix="workers")
    try:
        yield db
    finally:
        postgres_server.drop_database(postgres_admin_url, db)


@pytest.fixture
def two_workers(tmp_path: Path, pg_db: str) -> Iterator[CentralServer]:
    server = start_central(tmp_path, "--workers", "2", db=pg_db)
    try:
        yield server
    finally:
        server.stop()


def _push_all(server: CentralServer, token: str, visit_ids: list[str]) -> list[str]:
    """One laptop: batches of 10 on its own connection, the second batch sent twice; the statuses."""
    statuses = []
    with httpx.Client(base_url=server.url, headers=server.auth(token), timeout=60) as client:
        batches = [[content_op(v) for v in visit_ids[i:i + 10]] for i in range(0, len(visit_ids), 10)]
        for batch in batches[:2] + [batches[1]] + batches[2:]:
            answer = client.post("/v1/push", json={"operations": batch})
            assert answer.status_code == 200, answer.text
            statuses += [r["status"] for r in answer.json()["results"]]
    return statuses


def test_two_workers_serve_and_every_visit_is_stored_once(two_workers: CentralServer) -> None:
    server = two_workers
    tokens = [server.add_user(f"at{n}", "at") for n in range(6)]
    cm = server.add_user("cm", "cm")
    visits = {token: [str(uuid.uuid4()) for _ in range(40)] for token in tokens}
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda token: _push_all(server, token, visits[token]), tokens))
    for each in statuses:
        assert each.count("applied") == 40 and each.count("duplicate") == 10, each

    items, cursor = [], "0"
    with httpx.Client(base_url=server.url, headers=server.auth(cm), timeout=60) as client:
        while True:
            page = client.get("/v1/visits", params={"since": cursor, "limit": 37}).json()
            items += page["items"]
            cursor = page["cursor"]
            if not page["more"]:
                break
        ready = client.get("/readyz").json()
    sent = {v for ids in visits.values() for v in ids}
    assert sorted(item["id"] for item in items) == sorted(sent)  # each once, none missing
    assert {item["rev"] for item in items} == {1}
    assert ready["backend"] == "postgresql"

    server.stop()
    assert server.process.returncode == 0  # SIGTERM: every worker stopped gracefully
    logs = server.logs()
    assert "2 processus" in logs and "Service central at-tui : base postgresql://" in logs
    workers = set(re.findall(r"Started server process \[(\d+)\]", logs))
    assert len(workers) == 2, logs  # both workers built their application and listened
    assert len(set(re.findall(r"Finished server process \[(\d+)\]", logs))) == 2, logs
    assert "Traceback" not in logs


def test_sqlite_refuses_several_workers(tmp_path: Path) -> None:
    result = run_central_cli("serve", "--db", str(tmp_path / "central.sqlite3"), "--workers", "2")
    assert result.returncode == 2
    assert "--workers 2 refusé" in result.stderr and "SQLite" in result.stderr and "PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "central.sqlite3").exists()  # refused before anything was made


@pytest.mark.parametrize("raw", ["0", "-1", "deux", "65"])
def test_a_bad_number_of_workers_is_refused_in_french(tmp_path: Path, raw: str) -> None:
    result = run_central_cli("serve", "--db", str(tmp_path / "central.sqlite3"), "--workers", raw)
    assert result.returncode == 2 and "nombre de processus entre 1 et 64" in result.stderr


def test_the_help_says_what_sqlite_allows_and_that_the_rate_limit_is_per_process() -> None:
    result = run_central_cli("serve", "--help")
    text = " ".join(result.stdout.split())
    assert "--workers N" in text and "SQLite n'a qu'un écrivain à la fois" in text
    assert "par processus" in text


def test_a_worker_that_cannot_open_its_database_stops_instead_of_looping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from at_tui.central import serve_factory

    monkeypatch.delenv(serve_factory.ENV_DB, raising=False)
    with pytest.raises(SystemExit) as stopped:
        serve_factory.worker_app()
    assert stopped.value.code == serve_factory.STARTUP_FAILURE  # uvicorn's supervisor then stops, no respawn
    monkeypatch.setenv(serve_factory.ENV_DB, str(tmp_path))  # a folder, not a database
    with pytest.raises(SystemExit) as stopped:
        serve_factory.worker_app()
    assert stopped.value.code == serve_factory.STARTUP_FAILURE


def test_a_worker_builds_its_app_from_the_environment_without_any_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from at_tui.central import serve_factory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    settings = serve_factory.settings_environment(str(tmp_path / "central.sqlite3"), 1)
    assert set(settings) == {serve_factory.ENV_DB, serve_factory.ENV_RATE_LIMIT}
    assert not any("att_" in value for value in settings.values())
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with TestClient(serve_factory.worker_app()) as client:
        assert client.get("/readyz").json()["backend"] == "sqlite"
        run_central_cli("add-user", "alice", "--role", "at", "--db", settings[serve_factory.ENV_DB])
        token = run_central_cli("add-token", "alice", "--db", settings[serve_factory.ENV_DB]).stdout.split()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        # The parent's --rate-limit (here 1 a minute) reached the worker.
        assert [client.get("/v1/me", headers=headers).status_code for _ in range(2)] == [200, 429]
