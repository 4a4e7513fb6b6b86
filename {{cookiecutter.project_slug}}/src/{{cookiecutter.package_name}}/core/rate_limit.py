"""An in-process rate limiter (GCRA: one timestamp per client, exact ``Retry-After``).

In-process means per worker: with N workers a client gets up to N times the limit (README,
"Limits and caches").
"""

import math
import time
from collections.abc import Callable


class RateLimiter:
    """Allow ``per_minute`` requests per key on average, with bursts of up to ``burst``."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._interval = 60.0 / per_minute
        self._tolerance = self._interval * (burst - 1)
        self._clock = clock
        self._max_keys = max_keys
        # Theoretical arrival time per key: when the key's allowance is next fully used up.
        self._arrivals: dict[str, float] = {}

    def hit(self, key: str) -> int:
        """Record a request; return 0 if it is allowed, else the seconds to wait before retrying."""
        now = self._clock()
        arrival = max(self._arrivals.get(key, now), now)
        if arrival - now > self._tolerance:
            return max(1, math.ceil(arrival - now - self._tolerance))
        if key not in self._arrivals and len(self._arrivals) >= self._max_keys:
            self._forget_idle(now)
        self._arrivals[key] = arrival + self._interval
        return 0

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose allowance has fully recovered; they behave exactly like new keys."""
        self._arrivals = {key: at for key, at in self._arrivals.items() if at > now}
