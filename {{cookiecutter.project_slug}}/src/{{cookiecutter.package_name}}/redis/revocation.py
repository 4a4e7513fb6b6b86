"""Revocations every process hears within a second: the Redis end of the auth feature's denylist
of access tokens and of its cache of principals (features/auth/revocation.py, principals.py).

Revoked access tokens are announced on the channel ``<prefix>auth:revocations``, as are the
users whose role or active flag a commit changed, and stored in one sorted set,
``<prefix>auth:revoked`` (member: the token id, score: its expiry, POSIX time). Each process
listens on a connection of its own and applies what it hears to its own caches: an
authenticated request still looks only in memory.

A process that cannot hear Redis may miss changes, so it fails toward safety: its principal
cache is suspended (every request reads its user's row) until the listener hears again, which
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
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..config import Settings
from ..features.auth.principals import PrincipalCache
from ..features.auth.revocation import RevokedToken, RevokedTokens
from .connection import create_redis, heard

logger = structlog.get_logger(__name__)

# Silence after which the listener pings Redis; as long again without the answer, it is deaf.
HEARTBEAT_SECONDS = 1.0
# Between attempts to listen again, doubling from the first to the last.
RETRY_SECONDS = (0.1, 2.0)
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

    ``hearing`` says whether the listener is subscribed; ``connections`` counts its subscriptions.
    The listener's connection is named ``name`` (Redis's CLIENT LIST shows it) and retries
    nothing itself: a lost connection surfaces here, where the caches are told.
    """

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        revoked: RevokedTokens,
        principals: PrincipalCache,
    ) -> None:
        prefix = settings.redis_key_prefix
        self.channel = f"{prefix}auth:revocations"
        self.key = f"{prefix}auth:revoked"
        self.name = f"revocations-{uuid.uuid4().hex[:12]}"
        self.revoked = revoked
        self.principals = principals
        self.hearing = False
        self.connections = 0
        self._redis = redis
        self._revoke = redis.register_script(REVOKE_SCRIPT)  # EVALSHA; loaded once if missing
        self._listening = create_redis(settings, name=self.name, retries=0)
        self._first_attempt = asyncio.Event()
        self._publishing: set[asyncio.Task[None]] = set()
        # Revocations Redis did not take (token id -> expiry), sent again once it answers.
        self._unpublished: dict[uuid.UUID, float] = {}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen and publish while the app runs; the app starts serving once the listener has
        heard Redis (its stored revocations loaded) or failed to reach it."""
        self.principals.suspend()  # until the listener hears
        self.revoked.publishers.append(self.publish_revoked)
        self.principals.publishers.append(self.publish_changed_users)
        listener = asyncio.create_task(self._listen_forever(), name=self.name)
        try:
            await self._first_attempt.wait()
            yield
        finally:
            self.revoked.publishers.remove(self.publish_revoked)
            self.principals.publishers.remove(self.publish_changed_users)
            listener.cancel()
            with suppress(asyncio.CancelledError):
                await listener
            if self._publishing:  # evictions committed just before shutdown still go out
                await asyncio.wait(self._publishing, timeout=HEARTBEAT_SECONDS)
                for task in self._publishing:
                    task.cancel()
                await asyncio.gather(*self._publishing, return_exceptions=True)
            await self._listening.aclose()

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
        """Announce users whose access changed; called inside a commit, so it only schedules."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous session in another thread: nothing to publish with
            return
        task = loop.create_task(self._announce(RevocationEvent(evicted=list(user_ids))))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _announce(self, event: RevocationEvent) -> None:
        try:
            await self._redis.publish(self.channel, event.model_dump_json())
        except (RedisError, OSError) as exc:
            # Other processes' caches serve the old role for up to AUTH_USER_CACHE_SECONDS.
            logger.warning("eviction_not_published", error=type(exc).__name__)

    async def _listen_forever(self) -> None:
        delay = RETRY_SECONDS[0]
        while True:
            try:
                await self._listen()
            except Exception as exc:  # whatever it was, the listener must go on
                logger.warning("revocation_listener_deaf", error=type(exc).__name__)
            self._first_attempt.set()
            if self.hearing:
                delay = RETRY_SECONDS[0]  # it did hear: a new outage starts with a quick retry
            self.hearing = False
            self.principals.suspend()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS[1])

    async def _listen(self) -> None:
        async with self._listening.pubsub() as pubsub:
            await pubsub.subscribe(self.channel)
            confirmation = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
            if confirmation is None or confirmation["type"] != "subscribe":
                raise RedisTimeoutError("the subscription was not confirmed")
            # Subscribed: whatever is revoked from now on is heard; what was before is stored.
            await self._reload()
            if self._unpublished:
                await self.publish_revoked(())
            self.principals.resume()
            self.hearing = True
            self.connections += 1
            self._first_attempt.set()
            await self._hear(pubsub)

    async def _hear(self, pubsub: PubSub) -> None:
        async for message in heard(pubsub, HEARTBEAT_SECONDS):
            if message["type"] == "message":
                self._apply(cast(bytes, message["data"]))

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
async def relay_revocations(app: FastAPI, redis: Redis) -> AsyncIterator[None]:
    """The relay of *app*'s caches (the auth feature's), running while the app does."""
    relay = RevocationRelay(
        redis,
        app.state.settings,
        cast(RevokedTokens, app.state.revoked_tokens),
        cast(PrincipalCache, app.state.principals),
    )
    app.state.revocation_relay = relay
    async with relay.running():
        yield
