"""Rate limits the service's processes share: requests per token per minute, and failed
sign-ins per address per minute, counted in the registry (`store.counters`).

A fixed window per clock minute: simple, one upsert per request, and the same for every
process, where a limit kept in each process's memory would be multiplied by their number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from eudr_check.store import Registry


class RateLimiter:
    def __init__(self, registry: Registry, per_minute: int,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.registry = registry
        self.per_minute = per_minute
        self._clock = clock

    def _minute(self) -> tuple[int, float]:
        now = self._clock()
        minute = int(now // 60)
        return minute, (minute + 1) * 60 - now

    def take(self, key: str) -> float:
        """Count one request of `key`: 0 when it may go ahead, else the seconds to wait."""
        minute, left = self._minute()
        if self.registry.count_request(key, minute) <= self.per_minute:
            return 0.0
        return left

    def blocked(self, key: str) -> float:
        """Without counting: the seconds `key` must wait (0: it has requests left)."""
        minute, left = self._minute()
        return left if self.registry.request_count(key, minute) >= self.per_minute else 0.0


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
