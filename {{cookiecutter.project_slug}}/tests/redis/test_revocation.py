"""Revocations reach every process within a second through Redis: tokens revoked and access
changed through one instance of the service are refused or applied by another; an instance that
cannot hear Redis stops trusting its principal cache, and reloads what it missed once it hears.

The two instances share this test process, so the second one's principal cache is taken out of
the process's session events (principals.py): like another process's, it learns only from Redis.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.base import col
from {{ cookiecutter.package_name }}.core.bus import ListeningBus
from {{ cookiecutter.package_name }}.features.auth.principals import (
    _LIVE_CACHES,
    PrincipalCache,
)
from {{ cookiecutter.package_name }}.features.auth.revocation import (
    RevokedToken,
    RevokedTokens,
)
from {{ cookiecutter.package_name }}.features.users.models import Role, User
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.redis.revocation import (
    REVOKE_SCRIPT,
    RevocationEvent,
    RevocationRelay,
    revocation_relay_of,
)

from ..support import TEST_JWT_SECRET, assert_envelope, client_for, login, serve
from ..tcp_proxy import TcpProxy

ME = "/api/v1/users/me"
USERS = "/api/v1/users"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def within_a_second(condition: Callable[[], Awaitable[bool]], seconds: float = 1.0) -> None:
    """Wait until *condition* holds; fail if that takes more than a second (or *seconds*). It
    polls: what the tests wait for (another instance's answer) announces itself by no event."""
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def bearer_of(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def access_claims(tokens: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        tokens["access_token"], TEST_JWT_SECRET, algorithms=["HS256"]
    )
    return claims


async def stored(redis: Redis, relay: RevocationRelay) -> dict[uuid.UUID, float]:
    """The revocations in Redis: the relay's sorted set, token id -> expiry."""
    members = cast(list[tuple[bytes, float]], await redis.zrange(relay.key, 0, -1, withscores=True))
    return {uuid.UUID(token_id.decode()): expires_at for token_id, expires_at in members}


async def keys_of(redis: Redis, app: FastAPI) -> list[bytes]:
    """Every key *app* wrote (the tests' cleanup enumerates them too; the service never does)."""
    return [key async for key in redis.scan_iter(match=f"{app.state.settings.redis_key_prefix}*")]


async def cut_off(redis: Redis, relay: RevocationRelay) -> None:
    """Close the relay's listening connection from the server's side."""
    listeners = [c for c in await redis.client_list(_type="pubsub") if c["name"] == relay.name]
    assert len(listeners) == 1
    await redis.client_kill_filter(_id=listeners[0]["id"])


@pytest.fixture
async def other_app(
    make_settings: Callable[..., Settings], engine: AsyncEngine
) -> AsyncIterator[FastAPI]:
    """A second instance of the service on the same database and Redis."""
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        _LIVE_CACHES.discard(app.state.principals)
        yield app


@pytest.fixture
async def other(other_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(other_app) as client:
        yield client


@pytest.fixture
def other_principals(other_app: FastAPI) -> PrincipalCache:
    cache: PrincipalCache = other_app.state.principals
    return cache


@pytest.fixture
def relay(other_app: FastAPI) -> RevocationRelay:
    return revocation_relay_of(other_app)


async def test_a_change_committed_on_another_loop_is_announced_on_the_relays(
    relay: RevocationRelay, redis: Redis
) -> None:
    """A commit on another event loop (a script's, another thread's) is announced through the
    app's loop, to whom the Redis client's connections belong."""
    user_id = uuid.uuid4()

    async def commit_elsewhere() -> None:
        relay.publish_changed_users({user_id})

    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(relay.channel)
        await asyncio.to_thread(asyncio.run, commit_elsewhere())
        async with asyncio.timeout(5):
            while (message := await pubsub.get_message(timeout=1)) is None or (
                message["type"] != "message"
            ):
                pass

    assert RevocationEvent.model_validate_json(message["data"]).evicted == [user_id]


@pytest.mark.error_path
class TestRefusedByTheOtherInstance:
    async def test_a_token_revoked_by_logout(
        self, client: AsyncClient, other: AsyncClient, user: User
    ) -> None:
        tokens = await login(client, user.email)
        assert (await other.get(ME, headers=bearer_of(tokens))).status_code == 200

        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

        async def refused() -> bool:
            return (await other.get(ME, headers=bearer_of(tokens))).status_code == 401

        await within_a_second(refused)
        assert_envelope((await other.get(ME, headers=bearer_of(tokens))).json(), "UNAUTHORIZED")

    async def test_every_token_of_a_family_whose_refresh_token_was_reused(
        self, client: AsyncClient, other: AsyncClient, user: User
    ) -> None:
        stolen = await login(client, user.email)
        response = await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})
        rotated = response.json()
        assert (await other.get(ME, headers=bearer_of(rotated))).status_code == 200

        await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})

        async def both_refused() -> bool:
            statuses = [
                (await other.get(ME, headers=bearer_of(tokens))).status_code
                for tokens in (stolen, rotated)
            ]
            return statuses == [401, 401]

        await within_a_second(both_refused)

    async def test_a_deactivated_users_token(
        self, other: AsyncClient, session: AsyncSession, user: User
    ) -> None:
        tokens = await login(other, user.email)
        assert (await other.get(ME, headers=bearer_of(tokens))).status_code == 200  # cached

        row = await session.get(User, user.id)  # through the first instance
        assert row is not None
        row.is_active = False
        await session.commit()

        async def refused() -> bool:
            return (await other.get(ME, headers=bearer_of(tokens))).status_code == 401

        await within_a_second(refused)


async def test_a_role_change_applies_in_the_other_instance(
    client: AsyncClient,
    other: AsyncClient,
    user: User,
    admin_headers: dict[str, str],
) -> None:
    tokens = await login(other, user.email)
    assert (await other.get(USERS, headers=bearer_of(tokens))).status_code == 403  # cached

    response = await client.patch(
        f"{USERS}/{user.id}/role", json={"role": "admin"}, headers=admin_headers
    )
    assert response.status_code == 200

    async def promoted() -> bool:
        return (await other.get(USERS, headers=bearer_of(tokens))).status_code == 200

    await within_a_second(promoted)


async def test_a_revocation_is_stored_until_its_token_expires(
    client: AsyncClient, user: User, redis: Redis, relay: RevocationRelay
) -> None:
    tokens = await login(client, user.email)

    await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    claims = access_claims(tokens)
    [(token_id, expires_at)] = (await stored(redis, relay)).items()
    assert token_id == uuid.UUID(claims["jti"])
    assert claims["exp"] <= expires_at < claims["exp"] + 1  # the claim drops the fraction
    assert 14 * 60_000 < await redis.pttl(relay.key) <= 15 * 60_000


async def test_revocations_share_one_key_that_lives_as_long_as_the_latest(
    other_app: FastAPI, redis: Redis, relay: RevocationRelay
) -> None:
    """One sorted set under the prefix, however many revocations (the reload reads it whole,
    and nothing enumerates keys); its TTL follows the latest expiry and never shortens."""
    now = time.time()
    latest = [RevokedToken(uuid.uuid4(), now + 600) for _ in range(2_500)]
    sooner = RevokedToken(uuid.uuid4(), now + 60)

    await relay.publish_revoked(latest)
    await relay.publish_revoked([sooner])

    assert await keys_of(redis, other_app) == [relay.key.encode()]
    assert len(await stored(redis, relay)) == 2_501
    assert 590_000 < await redis.pttl(relay.key) <= 600_000


async def test_an_expired_revocation_is_pruned_by_the_next(
    redis: Redis, relay: RevocationRelay
) -> None:
    now = time.time()
    expired, live = RevokedToken(uuid.uuid4(), now - 1), RevokedToken(uuid.uuid4(), now + 60)
    await redis.zadd(relay.key, {str(expired.token_id): expired.expires_at})

    await relay.publish_revoked([live])

    assert await stored(redis, relay) == {live.token_id: live.expires_at}


@pytest.mark.error_path
async def test_a_revocation_redis_did_not_take_is_sent_once_it_answers(
    redis: Redis, relay: RevocationRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored and announced after the outage, not lost: every process, and every process that
    starts later, refuses the token."""
    token = RevokedToken(uuid.uuid4(), time.time() + 600)
    unreachable = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    monkeypatch.setattr(relay, "_revoke", unreachable.register_script(REVOKE_SCRIPT))
    await relay.publish_revoked([token])  # Redis does not answer: kept
    monkeypatch.undo()
    await unreachable.aclose()
    assert not await redis.exists(relay.key)

    await cut_off(redis, relay)  # the listener subscribes again, and sends what it kept

    async def kept() -> bool:
        return await stored(redis, relay) == {token.token_id: token.expires_at}

    await within_a_second(kept)


@pytest.mark.error_path
async def test_a_listener_that_could_not_hear_reloads_what_was_revoked_meanwhile(
    make_settings: Callable[..., Settings],
    proxied_url: str,
    proxy: TcpProxy,
    client: AsyncClient,
    user: User,
) -> None:
    """Its link to Redis is cut while another instance revokes a token: the announcement is
    lost to it, the sorted set is not."""
    cut_off_app = create_app(make_settings(redis_url=proxied_url))
    async with cut_off_app.router.lifespan_context(cut_off_app), client_for(cut_off_app) as deaf:
        _LIVE_CACHES.discard(cut_off_app.state.principals)
        relay = revocation_relay_of(cut_off_app)
        tokens = await login(client, user.email)
        assert (await deaf.get(ME, headers=bearer_of(tokens))).status_code == 200

        proxy.cut()

        async def deafened() -> bool:
            return not relay.hearing

        await within_a_second(deafened)
        connections = relay.connections
        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
        not_heard = await deaf.get(ME, headers=bearer_of(tokens))
        proxy.restore()

        async def reconnected() -> bool:
            return relay.connections > connections

        await within_a_second(reconnected, seconds=ListeningBus.RETRY_SECONDS[1] + 1)
        response = await deaf.get(ME, headers=bearer_of(tokens))

    assert not_heard.status_code == 200
    assert response.status_code == 401
    assert_envelope(response.json(), "UNAUTHORIZED")


async def test_a_reconnected_listener_reloads_revocations_and_empties_the_cache(
    other: AsyncClient,
    other_principals: PrincipalCache,
    user: User,
    redis: Redis,
    relay: RevocationRelay,
) -> None:
    tokens = await login(other, user.email)
    assert (await other.get(ME, headers=bearer_of(tokens))).status_code == 200
    assert len(other_principals) == 1
    # Revoked while the listener could not hear: stored, but the announcement is lost.
    claims = access_claims(tokens)
    await redis.zadd(relay.key, {claims["jti"]: float(claims["exp"])})
    connections = relay.connections

    await cut_off(redis, relay)

    async def reconnected() -> bool:
        return relay.connections > connections

    await within_a_second(reconnected)
    assert len(other_principals) == 0
    response = await other.get(ME, headers=bearer_of(tokens))
    assert response.status_code == 401


@pytest.mark.error_path
class TestWhileTheListenerCannotHear:
    async def test_the_principal_cache_is_suspended_until_it_hears_again(
        self, redis: Redis, relay: RevocationRelay, other_principals: PrincipalCache
    ) -> None:
        assert relay.hearing
        assert not other_principals.suspended

        await cut_off(redis, relay)

        async def deaf() -> bool:
            return not relay.hearing and other_principals.suspended

        async def hearing() -> bool:
            return relay.hearing and not other_principals.suspended

        await within_a_second(deaf)
        await within_a_second(hearing)

    async def test_every_request_reads_its_user(
        self,
        make_settings: Callable[..., Settings],
        session: AsyncSession,
        user: User,
    ) -> None:
        async with serve(make_settings(redis_url=UNREACHABLE_REDIS)) as deaf:
            tokens = await login(deaf, user.email)
            assert (await deaf.get(USERS, headers=bearer_of(tokens))).status_code == 403
            # Promoted behind every cache's back: no session event, no announcement.
            promote = update(User).where(col(User.id) == user.id).values(role=Role.ADMIN)
            await session.execute(promote)
            await session.commit()

            response = await deaf.get(USERS, headers=bearer_of(tokens))

        assert response.status_code == 200

    async def test_logout_still_revokes_the_token_in_this_process(
        self, make_settings: Callable[..., Settings], user: User
    ) -> None:
        async with serve(make_settings(redis_url=UNREACHABLE_REDIS)) as deaf:
            tokens = await login(deaf, user.email)

            logout = await deaf.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
            response = await deaf.get(ME, headers=bearer_of(tokens))

        assert logout.status_code == 204
        assert response.status_code == 401

    async def test_a_malformed_message_is_ignored_and_the_next_applied(
        self, redis: Redis, relay: RevocationRelay, other_app: FastAPI
    ) -> None:
        denylist: RevokedTokens = other_app.state.revoked_tokens
        token_id = uuid.uuid4()
        connections, denied = relay.connections, len(denylist)

        await redis.publish(relay.channel, b"{not json")
        await redis.publish(relay.channel, b'{"revoked": {"not-a-uuid": "soon"}}')
        event = RevocationEvent(revoked={token_id: time.time() + 60})
        await redis.publish(relay.channel, event.model_dump_json())

        async def applied() -> bool:
            return len(denylist) == denied + 1

        await within_a_second(applied)
        assert relay.connections == connections
