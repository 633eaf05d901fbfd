"""The in-process central service of the API tests: `make_api(db)` yields an `Api` with three users.

`db` is a `--db` value (a SQLite path or a PostgreSQL URL: see central_db.py); the storage is
opened as `at-tui central serve` opens it (`backends.open_storage`, which migrates)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Starlette warns that its TestClient will move from httpx to httpx2: not our concern here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from at_tui.central.app import create_app
from at_tui.central.auth import issue_token
from at_tui.central.backends import open_storage
from at_tui.central.models import Limits
from at_tui.central.storage import Storage

USERS = {"alice": "at", "bruno": "at", "carole": "cm"}


@dataclass
class Api:
    """An in-process central service and a token per user (alice and bruno: AT; carole: CM)."""

    client: TestClient
    storage: Storage
    db: str  # the `--db` value, for raw SQL through central_db.query
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def push(self, user: str, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        # ASCII-escaped JSON: a test may send a lone surrogate, as a buggy client could.
        body = json.dumps({"operations": list(operations)}, ensure_ascii=True)
        headers = self.headers(user) | {"Content-Type": "application/json"}
        response = self.client.post("/v1/push", content=body, headers=headers)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["op_id"] for r in results] == [str(op["op_id"]).lower() for op in operations]
        return results

    def get(self, user: str, path: str, **params: Any):
        return self.client.get(path, params=params, headers=self.headers(user))


def make_api(db: str | Path, limits: Limits | None = None) -> Iterator[Api]:
    storage = open_storage(str(db))
    api = Api(TestClient(create_app(storage, limits)), storage, str(db))
    for name, role in USERS.items():
        if storage.get_user(name) is None:
            storage.add_user(name, role)
        api.tokens[name], _ = issue_token(storage, name)
    try:
        yield api
    finally:
        api.client.close()
        storage.close()
