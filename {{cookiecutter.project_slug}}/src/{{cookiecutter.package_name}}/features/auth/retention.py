"""Refresh-token retention: every login and refresh adds a row, and rows past their expiry go.

A refresh token past its expiry fails its signature check before its row is read, so its row
can no longer tell a reuse from a first use: deleting it loses nothing. A family whose tokens
are still valid keeps every row, revoked ones included, so reuse detection stays whole.

Two ways rows go: ``<slug> purge-tokens`` (the CLI, scheduled by the operator) deletes them all,
batch by batch; and each process, at most once per interval, deletes one batch after a login or
refresh, so a service nobody schedules anything for still stays bounded.
"""

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...core.clock import utc_now
from .repository import RefreshTokenRepository

logger = structlog.get_logger(__name__)

PURGE_BATCH_SIZE = 1_000  # rows per DELETE: short statements, short locks
PURGE_INTERVAL_SECONDS = 600.0


async def purge_expired(
    session: AsyncSession, now: datetime, batch_size: int, *, max_batches: int | None = None
) -> int:
    """Delete the refresh tokens expired before *now*, *batch_size* rows per transaction, until
    none is left (or *max_batches* have run); return how many were deleted."""
    if batch_size < 1:
        raise ValueError(f"the batch size must be at least 1, not {batch_size}")
    tokens = RefreshTokenRepository(session)
    removed = batches = 0
    while max_batches is None or batches < max_batches:
        deleted = await tokens.delete_expired(now, batch_size)
        await session.commit()
        removed += deleted
        batches += 1
        if deleted < batch_size:
            break
    return removed


class TokenRetention:
    """One process's opportunistic purge: when it is next due (on the monotonic *clock*; tests
    pass a FakeClock), how much it deletes at a time, and the purges under way.

    A purge runs as a task of its own, in a session of its own: the login or refresh that
    started it neither waits for it nor hears of its failure.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        interval_seconds: float = PURGE_INTERVAL_SECONDS,
        batch_size: int = PURGE_BATCH_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._session_factory = session_factory
        self._clock = clock
        self._next_at = float("-inf")
        self._running: set[asyncio.Task[None]] = set()  # referenced, or a task may vanish

    def claim(self) -> bool:
        """Whether a purge is due; claiming it makes the next one due an interval later, so
        concurrent logins of one process never purge together."""
        now = self._clock()
        if now < self._next_at:
            return False
        self._next_at = now + self.interval_seconds
        return True

    def purge_if_due(self) -> None:
        """Start deleting one batch of expired tokens, in the background, if one is due."""
        if not self.claim():
            return
        task = asyncio.create_task(self._purge_one_batch())
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def wait(self) -> None:
        """Let the purges under way finish (on shutdown, before the engine goes)."""
        await asyncio.gather(*self._running)

    async def _purge_one_batch(self) -> None:
        try:
            async with self._session_factory() as session:
                removed = await purge_expired(session, utc_now(), self.batch_size, max_batches=1)
        except Exception:  # logged; the next purge, an interval later, retries
            logger.warning("refresh_tokens.purge_failed", exc_info=True)
            return
        if removed:
            logger.info("refresh_tokens.purged", removed=removed)
