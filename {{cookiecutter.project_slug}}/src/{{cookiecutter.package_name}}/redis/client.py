"""The process's Redis client: one connection pool, built with the app and closed with it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI
from redis.asyncio import Redis

from .cache import shared_cache_on
from .connection import create_redis
from .rate_limit import share_auth_rate_limits
from .revocation import relay_revocations


def redis_of(app: FastAPI) -> Redis:
    return cast(Redis, app.state.redis)


@asynccontextmanager
async def redis_client(app: FastAPI) -> AsyncIterator[None]:
    """The lifespan of the client: connections open on first use and close on shutdown, after
    the cache has sent its last deletes and the revocation listener has stopped."""
    client = create_redis(app.state.settings)
    app.state.redis = client
    share_auth_rate_limits(app, client)
    try:
        async with shared_cache_on(app, client), relay_revocations(app, client):
            yield
    finally:
        await client.aclose()


async def redis_answers(app: FastAPI) -> None:
    await redis_of(app).ping()
