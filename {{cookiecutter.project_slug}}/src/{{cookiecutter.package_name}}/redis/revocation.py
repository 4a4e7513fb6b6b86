"""Revocations every process hears within a second: the Redis end of the auth feature's denylist
of access tokens and of its cache of principals (features/auth/revocation.py, principals.py).

Revoked access tokens are announced on the bus's channel ``auth:revocations`` (redis/bus.py), as
are the users whose role or active flag a commit changed, and stored in one sorted set,
``<prefix>auth:revoked`` (member: the token id, score: its expiry, POSIX time). Each process
hears them on its bus's one listening connection and applies them to its own caches: an
authenticated request still looks only in memory.

A process that cannot hear Redis may miss changes, so it fails toward safety: its principal
cache is suspended (every request reads its user's row) until the bus hears again; the relay
then reloads the revocations that have not expired (one range read of the set) and resumes the
cache from empty. Revoking prunes the expired members and keeps the set's TTL at its latest
expiry, so the set holds live revocations only and disappears once they have all expired.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence, Set
from contextlib import asynccontextmanager, suppress
from typing import cast

import structlog
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..config import Settings
from ..features.auth.principals import PrincipalCache
from ..features.auth.revocation import RevokedToken, RevokedTokens
from .bus import RedisBus

logger = structlog.get_logger(__name__)

CHANNEL = "auth:revocations"
# How long announcements committed just before shutdown may take to go out.
SHUTDOWN_SECONDS = 1.0
# Revocations kept while Redis does not take them (the newest, when there are more).
MAX_UNPUBLISHED = 50_000

# KEYS[1]: the set of revocations. ARGV: now (POSIX time), the channel, the message, then an
# expiry and a token id per revocation. One atomic round trip: no other client sees the set
# between the prune and the new TTL. allow-oom: a Redis out of memory (noeviction) still takes a
# revocation, small and not to be lost, while it refuses the cache's writes. The message goes
# out first, so the listening processes hear it even if storing fails (the caller keeps it to
# store later). ZADD takes the pairs in slices (Lua's unpack is bounded). The TTL runs to the
# latest expiry as this process's clock counts it; Redis's clock need not agree with it.
REVOKE_SCRIPT = """#!lua flags=allow-oom
redis.call('PUBLISH', ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for first = 4, #ARGV, 2000 do
    redis.call('ZADD', KEYS[1], unpack(ARGV, first, math.min(first + 1999, #ARGV)))
end
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = math.ceil((tonumber(latest[2]) - tonumber(ARGV[1])) * 1000)
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
"""


class RevocationEvent(BaseModel):
    """One message on the channel: revoked token ids with their expiry (POSIX time), and users
    to evict from the principal caches."""

    revoked: dict[uuid.UUID, float] = {}
    evicted: list[uuid.UUID] = []


class RevocationRelay:
    """Publishes this process's revocations and applies everyone's to this process's caches.

    ``hearing`` says whether it is caught up and listening; ``connections`` counts the bus's
    subscriptions it caught up on. ``name`` is the bus's listening connection (Redis's CLIENT
    LIST shows it).
    """

    def __init__(
        self,
        redis: Redis,
        bus: RedisBus,
        settings: Settings,
        revoked: RevokedTokens,
        principals: PrincipalCache,
    ) -> None:
        self.channel = bus.channel(CHANNEL)
        self.key = f"{settings.redis_key_prefix}auth:revoked"
        self.name = bus.name
        self.revoked = revoked
        self.principals = principals
        self.hearing = False
        self.connections = 0
        self._redis = redis
        self._bus = bus
        self._revoke = redis.register_script(REVOKE_SCRIPT)  # EVALSHA; loaded once if missing
        self._publishing: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the app's, while the relay runs
        # Revocations Redis did not take (token id -> expiry), sent again once it answers.
        self._unpublished: dict[uuid.UUID, float] = {}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen and publish while the app runs; the app starts serving once the bus has
        heard Redis (the stored revocations loaded) or failed to reach it."""
        self._loop = asyncio.get_running_loop()
        self.principals.suspend()  # until the bus hears
        self.revoked.publishers.append(self.publish_revoked)
        self.principals.publishers.append(self.publish_changed_users)
        self._bus.on_hearing.append(self._catch_up)
        self._bus.on_deaf.append(self._deaf)
        try:
            await self._bus.subscribe(CHANNEL, self._apply)
            if self._bus.hearing and not self.hearing:  # it heard before this relay joined
                await self._catch_up()
            yield
        finally:
            self.revoked.publishers.remove(self.publish_revoked)
            self.principals.publishers.remove(self.publish_changed_users)
            self._bus.on_hearing.remove(self._catch_up)
            self._bus.on_deaf.remove(self._deaf)
            if self._publishing:  # evictions committed just before shutdown still go out
                await asyncio.wait(self._publishing, timeout=SHUTDOWN_SECONDS)
                for task in self._publishing:
                    task.cancel()
                await asyncio.gather(*self._publishing, return_exceptions=True)

    async def publish_revoked(self, tokens: Sequence[RevokedToken]) -> None:
        """Announce the revocations and store each until its token expires, with those Redis
        did not take before; at once, so a process that subscribes and then reloads either
        hears them or finds them."""
        now = time.time()
        pending = [RevokedToken(jti, exp) for jti, exp in self._unpublished.items()]
        live = [token for token in [*pending, *tokens] if token.expires_at > now]
        if not live:
            return
        event = RevocationEvent(revoked={token.token_id: token.expires_at for token in live})
        members = [part for token in live for part in (token.expires_at, str(token.token_id))]
        try:
            await self._revoke(
                keys=[self.key], args=[now, self.channel, event.model_dump_json(), *members]
            )
        except (RedisError, OSError) as exc:
            # Revoked here and in the database; kept to be sent again once Redis answers (the
            # listener's next subscription, or the next revocation), within a bound.
            self._unpublished = dict(list(event.revoked.items())[-MAX_UNPUBLISHED:])
            logger.warning("revocation_not_published", error=type(exc).__name__)
        else:
            self._unpublished = {}

    def publish_changed_users(self, user_ids: Set[uuid.UUID]) -> None:
        """Announce users whose access changed; called inside a commit, so it only schedules,
        on the app's loop: the Redis client's connections belong to it, whichever loop (a
        script's, another thread's) the commit ran on."""
        event = RevocationEvent(evicted=list(user_ids))
        try:
            committing = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous session in another thread
            committing = None
        if committing is not None and committing is self._loop:
            self._schedule(event)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._schedule, event)

    def _schedule(self, event: RevocationEvent) -> None:
        task = asyncio.get_running_loop().create_task(self._announce(event))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _announce(self, event: RevocationEvent) -> None:
        try:
            await self._redis.publish(self.channel, event.model_dump_json())
        except (RedisError, OSError) as exc:
            # Other processes' caches serve the old role for up to AUTH_USER_CACHE_SECONDS.
            logger.warning("eviction_not_published", error=type(exc).__name__)

    async def _catch_up(self) -> None:
        """The bus has subscribed: whatever is revoked from now on is heard, what was before is
        stored. Reload it, send what Redis did not take, and trust the cache again."""
        await self._reload()
        if self._unpublished:
            await self.publish_revoked(())
        self.principals.resume()
        self.hearing = True
        self.connections += 1

    def _deaf(self) -> None:
        self.hearing = False
        self.principals.suspend()

    def _apply(self, data: bytes) -> None:
        try:
            event = RevocationEvent.model_validate_json(data)
        except ValidationError:
            logger.warning("revocation_message_ignored", channel=self.channel)
            return
        self.revoked.deny(RevokedToken(jti, exp) for jti, exp in event.revoked.items())
        for user_id in event.evicted:
            self.principals.evict(user_id)

    async def _reload(self) -> None:
        """Deny every stored revocation: those announced while this process could not hear."""
        now = time.time()
        stored = cast(
            list[tuple[bytes, float]],
            await self._redis.zrange(self.key, f"({now!r}", "+inf", byscore=True, withscores=True),
        )
        tokens = []
        for token_id, expires_at in stored:
            with suppress(ValueError):  # not written by this service: ignored
                tokens.append(RevokedToken(uuid.UUID(token_id.decode()), expires_at))
        self.revoked.deny(tokens)


def revocation_relay_of(app: FastAPI) -> RevocationRelay:
    return cast(RevocationRelay, app.state.revocation_relay)


@asynccontextmanager
async def relay_revocations(app: FastAPI, redis: Redis, bus: RedisBus) -> AsyncIterator[None]:
    """The relay of *app*'s caches (the auth feature's), running while the app does."""
    relay = RevocationRelay(
        redis,
        bus,
        app.state.settings,
        cast(RevokedTokens, app.state.revoked_tokens),
        cast(PrincipalCache, app.state.principals),
    )
    app.state.revocation_relay = relay
    async with relay.running():
        yield
