"""The shared cache (core/shared_cache.py) on Redis: values every process of the service reads,
loaded once per key at a time by each process, and never a reason for a read to fail.

- Get or load: a hit is one GET; a miss calls the loader and stores its value (SET NX PX).
  Values are the models' JSON (pydantic); one that no longer validates (written by a release
  whose model differed) counts as a miss until it expires. Callers version the shape in the
  key, so a new release reads keys of its own.
- Single flight: concurrent reads of one key in one process share one GET and, on a miss, one
  loader call; without it, a popular key that expires sends every request in flight at that
  moment to the database at once.
- Deletes, called once the change that makes a value stale is committed, leave a tombstone
  (an empty value) for ``TOMBSTONE_SECONDS`` instead of removing the key. A read in any
  process that loaded the value before the change stores it only if the key is absent (NX),
  so it cannot bring the old value back; meanwhile reads of that key load from the database.
  A load that was in flight in this process during a delete also no longer serves later
  readers.
- Redis unreachable: reads call their loaders (the database answers instead), and for
  ``REDIS_CACHE_RETRY_AFTER_SECONDS`` the cache does not try Redis again, so a stalled link
  does not add a timeout to every read. Deletes that could not be sent are sent before this
  process's next use of Redis (the newest ``MAX_UNSENT_DELETES``; the TTL bounds an older one),
  and at the latest when the app stops (``flush``), waiting at most a command's timeout.
- Keys are never enumerated (no KEYS, no SCAN): every key is known by name.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, cast

import structlog
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..dependencies import app_resources

logger = structlog.get_logger(__name__)

MAX_UNSENT_DELETES = 10_000
TOMBSTONE = b""
# Longer than a load takes: the database gives up on a statement, and the pool on a
# connection, within seconds.
TOMBSTONE_SECONDS = 30


class _LeaderCancelledError(Exception):
    """The read that was loading a key was cancelled: its followers load the key themselves."""


@dataclass(eq=False, slots=True)
class _Flight:
    """One process's read of one key in progress; later readers of the key await its result."""

    result: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    # Set when the key is deleted while the read is in flight: its value may predate the change.
    stale: bool = False


class RedisCache:
    """The shared cache of one process (core/shared_cache.py's SharedCache)."""

    def __init__(
        self,
        redis: Redis,
        key_prefix: str,
        *,
        retry_after_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.key_prefix = f"{key_prefix}cache:"
        self.retry_after_seconds = retry_after_seconds
        self.clock = clock
        self._flights: dict[str, _Flight] = {}
        self._down_until = float("-inf")
        self._unsent_deletes: dict[str, None] = {}  # an ordered set: the oldest go first

    async def get_or_load[M: BaseModel](
        self,
        key: str,
        model: type[M],
        load: Callable[[], Awaitable[M | None]],
        *,
        ttl_seconds: float,
    ) -> M | None:
        name = self.key_prefix + key
        while (flight := self._flights.get(name)) is not None:
            try:
                # Shielded: a follower that is cancelled must not cancel the leader's result.
                return cast(M | None, await asyncio.shield(flight.result))
            except _LeaderCancelledError:
                continue  # the leader is gone: the next loop finds no flight, or a new one
        flight = _Flight()
        self._flights[name] = flight
        try:
            value, loaded = await self._read(name, model, load)
        except BaseException as exc:
            self._land(name, flight)
            failure = exc if isinstance(exc, Exception) else _LeaderCancelledError()
            flight.result.set_exception(failure)
            flight.result.exception()  # retrieved: no "never retrieved" log without followers
            raise
        # Followers get the value now; the flight stays until the value is stored, so readers
        # arriving meanwhile take it from here instead of loading it again.
        flight.result.set_result(value)
        try:
            if loaded and value is not None and not flight.stale:
                await self._store(name, value, ttl_seconds)
        finally:
            self._land(name, flight)
        return value

    async def delete(self, key: str) -> None:
        name = self.key_prefix + key
        flight = self._flights.pop(name, None)
        if flight is not None:
            flight.stale = True
        self._unsent_deletes[name] = None
        if len(self._unsent_deletes) > MAX_UNSENT_DELETES:
            del self._unsent_deletes[next(iter(self._unsent_deletes))]
        # Sent now even while reads leave Redis alone: one process's blip must not let the
        # others serve the old version. Writes are rare; a failure keeps it queued.
        await self._send_deletes()

    async def flush(self, timeout_seconds: float) -> None:
        """Send the deletes not sent yet, trying Redis even while reads leave it alone; called
        when the app stops, so it waits *timeout_seconds* at most. A delete that was being sent
        when the app began to stop is still queued, and goes out here."""
        if not self._unsent_deletes:
            return
        sent = False
        try:
            async with asyncio.timeout(timeout_seconds):
                sent = await self._send_deletes()
        except TimeoutError:
            pass
        if not sent:
            # Other processes may serve the old values until those expire.
            logger.warning("cache_deletes_not_sent", count=len(self._unsent_deletes))

    async def _read[M: BaseModel](
        self, name: str, model: type[M], load: Callable[[], Awaitable[M | None]]
    ) -> tuple[M | None, bool]:
        """The value and whether it was loaded (rather than found in Redis)."""
        if self._usable() and await self._send_deletes():
            try:
                cached = await self.redis.get(name)
            except (RedisError, OSError) as exc:
                self._went_down(exc)
            else:
                if cached:  # not missing, not a tombstone
                    try:
                        return model.model_validate_json(cached), False
                    except ValidationError:
                        pass  # written for another shape of the model: load it again
        return await load(), True

    async def _store(self, name: str, value: BaseModel, ttl_seconds: float) -> None:
        if not self._usable():
            return
        try:
            await self.redis.set(
                name,
                value.__pydantic_serializer__.to_json(value),
                px=int(ttl_seconds * 1000),
                nx=True,  # a tombstone (or a fresher value) stays
            )
        except (RedisError, OSError) as exc:
            self._went_down(exc)

    async def _send_deletes(self) -> bool:
        """Send the deletes Redis has not seen yet; False if it did not answer."""
        if not self._unsent_deletes:
            return True
        names = list(self._unsent_deletes)
        try:
            async with self.redis.pipeline(transaction=False) as pipeline:
                for name in names:
                    pipeline.set(name, TOMBSTONE, ex=TOMBSTONE_SECONDS)
                await pipeline.execute()
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            return False
        for name in names:
            self._unsent_deletes.pop(name, None)
        return True

    def _usable(self) -> bool:
        return self.clock() >= self._down_until

    def _went_down(self, exc: BaseException) -> None:
        self._down_until = self.clock() + self.retry_after_seconds
        logger.warning(
            "cache_unavailable", error=type(exc).__name__, retry_in=self.retry_after_seconds
        )

    def _land(self, name: str, flight: _Flight) -> None:
        if self._flights.get(name) is flight:
            del self._flights[name]


@asynccontextmanager
async def shared_cache_on(app: FastAPI, redis: Redis) -> AsyncIterator[None]:
    """Make *redis* the app's shared cache while the app runs (the pack's lifespan,
    redis/client.py); its last deletes go out when the app stops."""
    settings = app.state.settings
    cache = RedisCache(
        redis,
        settings.redis_key_prefix,
        retry_after_seconds=settings.redis_cache_retry_after_seconds,
    )
    app.state.resources = replace(app_resources(app), shared_cache=cache)
    try:
        yield
    finally:
        await cache.flush(settings.redis_socket_timeout_seconds)
