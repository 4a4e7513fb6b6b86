"""The caller as authorization sees it, and a short-lived per-process cache of it.

The cache keeps itself honest: whatever commits a change to a user's role or active flag (the
users feature, the CLI, an admin script), through any session of this process, evicts that user
from every cache of the process (the session events at the end of this module), and hands the
user ids to each cache's publishers, which may tell other processes.
"""

import time
import uuid
import weakref
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from ...core.cache import ExpiringCache
from ..users.models import Role, User

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
    as the request's own query. The price is staleness: a role or active-flag change committed in
    this process evicts the entry at once, but other worker processes may act on the old values
    for up to ``ttl_seconds``, unless a publisher tells them. ``ttl_seconds=0`` turns the cache
    off, and so does ``suspend()`` until ``resume()``, for as long as changes made elsewhere may
    go unheard.

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
        self._suspended = False
        # Called with the users whose access changed in a commit of this process (a pack adds
        # one, to tell other processes); they run inside the commit, so they must not block.
        self.publishers: list[Callable[[Set[uuid.UUID]], None]] = []
        # Called with each user evicted, from this process's commits or another's: whatever
        # else holds a user's access (a pack's open connections) checks it again.
        self.on_evict: list[Callable[[uuid.UUID], None]] = []
        _LIVE_CACHES.add(self)

    def get(self, user_id: uuid.UUID) -> Principal | None:
        return self._cache.get(user_id)

    def ticket(self) -> Ticket:
        return Ticket(self._evictions, self._cache.clock())

    def put(self, principal: Principal, ticket: Ticket) -> None:
        if self.ttl_seconds > 0 and not self._suspended and ticket.evictions == self._evictions:
            self._cache.put(principal.id, principal, ticket.read_at + self.ttl_seconds)

    def evict(self, user_id: uuid.UUID) -> None:
        self._evictions += 1
        self._cache.evict(user_id)
        for listener in self.on_evict:
            listener(user_id)

    def users_changed(self, user_ids: Set[uuid.UUID]) -> None:
        """A commit of this process changed these users' access: evict them, tell publishers."""
        for user_id in user_ids:
            self.evict(user_id)
        for publish in self.publishers:
            publish(user_ids)

    @property
    def suspended(self) -> bool:
        return self._suspended

    def suspend(self) -> None:
        """Serve nothing and cache nothing: every request reads its user's row."""
        self._suspended = True
        self._forget_all()

    def resume(self) -> None:
        """Cache again, from empty: nothing read while suspended, or before, is kept."""
        self._suspended = False
        self._forget_all()

    def _forget_all(self) -> None:
        self._evictions += 1  # a row read before now is not cached by a later put
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)


# Every cache alive in this process; an app's cache leaves with the app.
_LIVE_CACHES: "weakref.WeakSet[PrincipalCache]" = weakref.WeakSet()
# The users a session flushed access changes of, forgotten by every cache once it commits.
_CHANGED_USERS = "principals.changed_users"
_ACCESS_ATTRIBUTES = ("role", "is_active")


def _changes_access(user: User) -> bool:
    state = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in _ACCESS_ATTRIBUTES)


@event.listens_for(Session, "after_flush")
def _note_access_changes(session: Session, _: UOWTransaction) -> None:
    changed = {
        user.id for user in session.dirty if isinstance(user, User) and _changes_access(user)
    } | {user.id for user in session.deleted if isinstance(user, User)}
    if changed:
        session.info.setdefault(_CHANGED_USERS, set()).update(changed)


@event.listens_for(Session, "after_commit")
def _evict_committed_changes(session: Session) -> None:
    changed = frozenset[uuid.UUID](session.info.pop(_CHANGED_USERS, ()))
    if changed:
        for cache in list(_LIVE_CACHES):
            cache.users_changed(changed)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session: Session) -> None:
    session.info.pop(_CHANGED_USERS, None)
