"""The process's Redis client: one connection pool, built with the app and closed with it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import cast

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ..config import Settings
from ..dependencies import app_resources
from .bus import RedisBus
from .cache import plug_redis_cache
from .rate_limit import share_auth_rate_limits
from .revocation import relay_revocations


def create_redis(settings: Settings) -> Redis:
    """A client whose commands fail fast while Redis is unreachable (the callers fall back),
    parsing replies with hiredis, which redis-py picks when it is installed."""
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
        # One immediate retry, for a pooled connection that broke while idle; redis-py's default
        # (ten, with backoff) would hold a read for seconds while Redis is down.
        retry=Retry(NoBackoff(), retries=1),
        # A pooled connection idle this long is checked before use (a restarted server).
        health_check_interval=30,
    )


def redis_of(app: FastAPI) -> Redis:
    return cast(Redis, app.state.redis)


@asynccontextmanager
async def redis_client(app: FastAPI) -> AsyncIterator[None]:
    """The lifespan of the client: connections open on first use and close on shutdown."""
    client = create_redis(app.state.settings)
    app.state.redis = client
    share_auth_rate_limits(app, client)
    plug_redis_cache(app, client)
    resources = app_resources(app)
    bus = RedisBus(client, key_prefix=resources.settings.redis_key_prefix)
    app.state.resources = replace(resources, bus=bus)
    try:
        async with relay_revocations(app, client):
            yield
    finally:
        await bus.aclose()
        await client.aclose()


async def redis_answers(app: FastAPI) -> None:
    await redis_of(app).ping()
