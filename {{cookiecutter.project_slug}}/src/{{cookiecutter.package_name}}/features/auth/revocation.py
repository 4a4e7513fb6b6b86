"""Access tokens revoked before they expire: a per-process denylist of token ids (``jti``).

An access token is checked by its signature alone, so logging out cannot take it back: it would
keep working until it expires. Logout and refresh-token reuse put the ids of the access tokens
they end on this list, which every authenticated request looks up in memory. By default the
list is this process's; a pack may spread it to every process (``publishers``).
"""

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from ...core.security import TokenClaims

MAX_REVOKED_TOKENS = 50_000


@dataclass(frozen=True, slots=True)
class RevokedToken:
    token_id: uuid.UUID
    expires_at: float  # POSIX time: the entry is needed until then, and no longer


Publisher = Callable[[Sequence[RevokedToken]], Awaitable[None]]


class RevokedTokens:
    """Revoked token ids, each kept until its token expires, at most ``max_entries`` at once.

    Full, it drops the oldest entries; a dropped token must not work again, so from then on any
    token expiring no later than the latest dropped one is refused too (its holder refreshes).
    Not thread-safe; one per event loop.
    """

    def __init__(
        self, *, max_entries: int = MAX_REVOKED_TOKENS, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        # How revocations leave this process, awaited in turn (a pack adds one); none: they don't.
        self.publishers: list[Publisher] = []
        self._expiries: dict[uuid.UUID, float] = {}  # insertion order: oldest first
        self._refused_until = 0.0

    def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether a token that is otherwise valid (signed, unexpired) was revoked."""
        if claims.token_id in self._expiries:
            return True
        return self._refused_until > 0 and claims.expires_at.timestamp() <= self._refused_until

    async def revoke(self, tokens: Sequence[RevokedToken]) -> None:
        """Refuse *tokens* here at once, then hand them to the publishers."""
        self.deny(tokens)
        for publish in self.publishers:
            await publish(tokens)

    def deny(self, tokens: Iterable[RevokedToken]) -> None:
        """Refuse *tokens* in this process only (what a publisher's receiving end calls)."""
        now = self.clock()
        for token in tokens:
            if token.expires_at > now:
                self._expiries.pop(token.token_id, None)  # re-inserted at the end
                self._make_room(now)
                self._expiries[token.token_id] = token.expires_at

    def _make_room(self, now: float) -> None:
        while self._expiries:
            oldest, expires_at = next(iter(self._expiries.items()))
            if expires_at > now and len(self._expiries) < self.max_entries:
                return
            del self._expiries[oldest]
            if expires_at > now:
                self._refused_until = max(self._refused_until, expires_at)

    def __len__(self) -> int:
        return len(self._expiries)
