"""Per-token rate limiting of the central service: a token bucket per device token.

Each token may make `per_minute` requests at once (a first sync pulls a couple of
hundred pages), then `per_minute` a minute on average. A request over the limit is
answered 429 with `Retry-After`, the seconds until the next one may go; it costs
nothing. Buckets are kept in memory, per process, keyed by the token's hash (never the
token); a restart forgives everyone. Only valid tokens get a bucket, so their number is
that of the devices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

WINDOW = 60.0  # seconds: the limit is per minute
PRUNE_AT = 10_000  # buckets kept before full (idle) ones are forgotten


class RateLimiter:
    """`wait(key)`: None when a request may go now (it is counted), else the seconds to wait."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / WINDOW  # requests given back per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (requests left, when counted)

    def wait(self, key: str) -> float | None:
        now = self.clock()
        left, then = self._buckets.get(key, (self.capacity, now))
        left = min(self.capacity, left + (now - then) * self.rate)
        if left >= 1.0:
            self._buckets[key] = (left - 1.0, now)
            if len(self._buckets) > PRUNE_AT:
                self._prune(now)
            return None
        self._buckets[key] = (left, now)
        return (1.0 - left) / self.rate

    def _prune(self, now: float) -> None:
        for key, (left, then) in list(self._buckets.items()):
            if left + (now - then) * self.rate >= self.capacity:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    """The `Retry-After` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))
