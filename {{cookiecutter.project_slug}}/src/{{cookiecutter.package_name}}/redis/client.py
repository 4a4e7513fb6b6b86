"""The process's Redis client: one connection pool, built with the app and closed with it."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import cast

from fastapi import FastAPI
from redis.asyncio import Redis

from ..dependencies import app_resources
from .bus import RedisBus
from .cache import shared_cache_on
from .connection import create_redis, trace_commands
from .rate_limit import share_auth_rate_limits
from .revocation import relay_revocations


def redis_of(app: FastAPI) -> Redis:
    return cast(Redis, app.state.redis)


@asynccontextmanager
async def redis_client(app: FastAPI) -> AsyncIterator[None]:
    """The lifespan of the client: connections open on first use and close on shutdown, after
    the cache has sent its last deletes and the revocation listener has stopped. It also
    plugs in the message bus every process shares (core/bus.py)."""
    settings = app.state.settings
    client = create_redis(settings)
    if app.state.tracer_provider is not None:
        trace_commands(client, app.state.tracer_provider)
    app.state.redis = client
    share_auth_rate_limits(app, client)
    name = f"bus-{uuid.uuid4().hex[:12]}"
    listening = create_redis(settings, name=name, retries=0)
    bus = RedisBus(client, listening, key_prefix=settings.redis_key_prefix, name=name)
    app.state.resources = replace(app_resources(app), bus=bus)
    try:
        async with shared_cache_on(app, client), relay_revocations(app, client, bus):
            yield
    finally:
        await bus.aclose()
        await client.aclose()


async def redis_answers(app: FastAPI) -> None:
    await redis_of(app).ping()
