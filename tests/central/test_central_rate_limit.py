"""Per-token rate limiting of the central service (issue 9 §7): 429 with `Retry-After`, per token,
health exempt, configurable with `at-tui central serve --rate-limit`."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import httpx
import pytest
from central_api import make_api
from central_server import content_op, start_central

from at_tui.central.models import DEFAULT_RATE_LIMIT, Limits
from at_tui.central.rate_limit import RateLimiter, retry_after
from at_tui.cli.central import _rate_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)  # one a second on average, 60 at once
    assert all(limiter.wait("a") is None for _ in range(60))
    assert limiter.wait("a") == pytest.approx(1.0)
    assert limiter.wait("b") is None  # another token has its own allowance
    clock.now += 0.5
    assert limiter.wait("a") == pytest.approx(0.5)  # a refused request costs nothing
    clock.now += 0.5
    assert limiter.wait("a") is None
    assert limiter.wait("a") is not None
    clock.now += 3600
    assert all(limiter.wait("a") is None for _ in range(60))  # never more than the burst saved up
    assert limiter.wait("a") is not None


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (19.999, "20")])
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert retry_after(seconds) == header


def test_429_with_retry_after_per_token_and_health_exempt(central_db: str) -> None:
    for api in make_api(central_db, Limits(rate_limit=3)):
        for _ in range(3):
            assert api.get("alice", "/v1/visits").status_code == 200
        refused = api.get("alice", "/v1/visits")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "20"  # 3 a minute: the next one in 20 s
        detail = refused.json()["detail"]
        assert "Trop de requêtes" in detail and "3 par minute" in detail and "20 s" in detail
        assert api.tokens["alice"] not in refused.text
        # Every authenticated endpoint counts, a push too; nothing of it is applied.
        visit_id = str(uuid.uuid4())
        body = {"operations": [content_op(visit_id, 0)]}
        assert api.client.post("/v1/push", json=body, headers=api.headers("alice")).status_code == 429
        assert api.storage.get_visit(visit_id) is None
        # Another token is not affected; health never is; a bad token is still 401 first.
        assert api.get("bruno", "/v1/visits").status_code == 200
        assert all(api.client.get("/v1/health").status_code == 200 for _ in range(10))
        bad = api.client.get("/v1/visits", headers={"Authorization": "Bearer att_" + "A" * 43})
        assert bad.status_code == 401


def test_no_limit_when_set_to_zero(central_db: str) -> None:
    for api in make_api(central_db, Limits(rate_limit=0)):
        assert all(api.get("alice", "/v1/me").status_code == 200 for _ in range(50))


def test_the_default_allows_a_first_sync(central_db: str) -> None:
    """A first sync pulls some 200 pages of contacts at once: the default lets them through."""
    assert Limits().rate_limit == DEFAULT_RATE_LIMIT >= 300
    for api in make_api(central_db):
        assert all(api.get("alice", "/v1/visits").status_code == 200 for _ in range(250))


@pytest.mark.parametrize(("raw", "per_minute"), [("120", 120), ("120/min", 120), ("2/s", 120), ("0", 0), (" 30 / MIN ", 30)])
def test_the_option_reads_requests_per_minute(raw: str, per_minute: int) -> None:
    assert _rate_limit(raw) == per_minute


@pytest.mark.parametrize("raw", ["abc", "-1", "10/h", "1.5", "", "9999999999"])
def test_the_option_refuses_what_it_cannot_read(raw: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="requêtes par minute"):
        _rate_limit(raw)


def test_serve_rate_limit_over_real_http(tmp_path: Path, central_db: str) -> None:
    server = start_central(tmp_path, "--rate-limit", "3/min", db=central_db)
    try:
        token = server.add_user("alice", "at")
        answers = [httpx.get(server.url + "/v1/me", headers=server.auth(token), timeout=30) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].json() == {"user": "alice", "role": "at"}
        assert int(answers[3].headers["Retry-After"]) >= 1
        assert httpx.get(server.url + "/v1/health", timeout=30).status_code == 200
    finally:
        server.stop()
    assert '"method": "GET", "path": "/v1/me", "status": 429, "user": "alice"' in server.logs()  # JSON access line
