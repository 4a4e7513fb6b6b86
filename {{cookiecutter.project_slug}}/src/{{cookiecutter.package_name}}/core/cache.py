"""A bounded in-process map whose entries expire: for facts that are costly to establish and
safe to reuse for a short while (a verified token, a user's role)."""

import time
from collections.abc import Callable, Hashable


class ExpiringCache[K: Hashable, V]:
    """Holds at most ``max_entries``; an entry is never returned at or after its expiry.

    Entries are kept in insertion order: when the cache is full the oldest goes, and expired
    entries at the front are dropped as new ones arrive. Not thread-safe; one per event loop.
    """

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if self.clock() >= expires_at:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V, expires_at: float) -> None:
        now = self.clock()
        self._entries.pop(key, None)  # re-inserted at the end
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest][1] > now and len(self._entries) < self.max_entries:
                break
            del self._entries[oldest]
        if expires_at > now:
            self._entries[key] = (value, expires_at)

    def evict(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
