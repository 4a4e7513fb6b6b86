"""The caller as authorization sees it, and a short-lived per-process cache of it."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ...core.cache import ExpiringCache
from .models import Role, User

MAX_CACHED_PRINCIPALS = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """An active user's id and role: all that ownership and role checks need, with no row loaded
    and no session attached. Routes that need the whole account load it by id."""

    id: uuid.UUID
    role: Role

    @classmethod
    def of(cls, user: User) -> "Principal":
        return cls(id=user.id, role=user.role)


class Ticket(NamedTuple):
    """When a read of the user row began: the cache's eviction count and clock then."""

    evictions: int
    read_at: float


class PrincipalCache:
    """Principals of active users, kept for ``ttl_seconds`` from the read of their row.

    Without it every authenticated request reads its user's row: a database round trip as costly
    as the request's own query. The price is staleness: a role change made in this process evicts
    the entry at once, but other worker processes may act on the old role or active flag for up
    to ``ttl_seconds``. ``ttl_seconds=0`` turns the cache off.

    Take a ``ticket()`` before reading the row and ``put`` with it: if anything was evicted
    meanwhile, the row read may predate that change, and it is not cached.
    """

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = MAX_CACHED_PRINCIPALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._cache = ExpiringCache[uuid.UUID, Principal](max_entries, clock=clock)
        self._evictions = 0

    def get(self, user_id: uuid.UUID) -> Principal | None:
        return self._cache.get(user_id)

    def ticket(self) -> Ticket:
        return Ticket(self._evictions, self._cache.clock())

    def put(self, principal: Principal, ticket: Ticket) -> None:
        if self.ttl_seconds > 0 and ticket.evictions == self._evictions:
            self._cache.put(principal.id, principal, ticket.read_at + self.ttl_seconds)

    def evict(self, user_id: uuid.UUID) -> None:
        self._evictions += 1
        self._cache.evict(user_id)

    def __len__(self) -> int:
        return len(self._cache)
