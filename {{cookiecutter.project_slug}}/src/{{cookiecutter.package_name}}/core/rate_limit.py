"""Rate limiting: what a limiter promises (``RateLimiter``) and the in-process one (GCRA: one
timestamp per key, exact ``Retry-After``).

In-process means per worker: with N workers a client gets up to N times the limit (README,
"Limits and caches"). A pack may plug in a limiter shared by every process; this one stays the
default, and the fallback while a shared one cannot be reached.
"""

import math
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str) -> int:
        """Record a request for *key*; return 0 if it is allowed, else the whole seconds to
        wait before a retry can be allowed (the ``Retry-After``)."""
        ...

    async def refund(self, key: str) -> None:
        """Give back one request *hit* allowed for *key*: it no longer counts. Never leaves
        more than a fresh key's allowance (a refund on a fresh key changes nothing)."""
        ...


class InProcessRateLimiter:
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

    async def hit(self, key: str) -> int:
        """Record a request; return 0 if it is allowed, else the seconds to wait before retrying.

        Nothing here awaits: the check costs a dictionary look-up, on the event loop."""
        now = self._clock()
        arrival = max(self._arrivals.get(key, now), now)
        if arrival - now > self._tolerance:
            return max(1, math.ceil(arrival - now - self._tolerance))
        if key not in self._arrivals and len(self._arrivals) >= self._max_keys:
            self._forget_idle(now)
        self._arrivals[key] = arrival + self._interval
        return 0

    async def refund(self, key: str) -> None:
        """Move the key's arrival time back by one interval; a key that is then in the past
        has its whole allowance, like a new one, and is dropped."""
        arrival = self._arrivals.get(key)
        if arrival is None:
            return
        arrival -= self._interval
        if arrival > self._clock():
            self._arrivals[key] = arrival
        else:
            del self._arrivals[key]

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose allowance has fully recovered; they behave exactly like new keys."""
        self._arrivals = {key: at for key, at in self._arrivals.items() if at > now}
