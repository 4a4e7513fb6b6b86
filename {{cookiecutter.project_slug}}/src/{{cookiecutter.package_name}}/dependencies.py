"""Process-wide resources, built in the app's lifespan and handed to routes by dependency."""

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Settings
from .core.bus import InProcessBus, MessageBus
from .core.openapi import fails_with
from .core.rate_limit import RateLimiter
from .core.security import PasswordHasher, TokenCodec
from .core.shared_cache import NO_SHARED_CACHE, SharedCache


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    password_hasher: PasswordHasher
    token_codec: TokenCodec
    auth_rate_limiter: RateLimiter
    # A pack that shares a cache between processes replaces it in its lifespan.
    shared_cache: SharedCache = NO_SHARED_CACHE
    # This process's alone, unless a pack plugs in one that reaches every process.
    bus: MessageBus = field(default_factory=InProcessBus)


# Each dependency FastAPI resolves costs time on every request, so resources are read off the
# request, not injected. Dependencies are `async def` even when they do not await: FastAPI runs
# a plain `def` one in the thread pool, a thread hop per dependency per request.
def app_resources(app: FastAPI) -> Resources:
    """The process-wide resources of *app* (built by the lifespan in main.py)."""
    return cast(Resources, app.state.resources)


def resources_of(request: Request) -> Resources:
    """The app's process-wide resources (built by the lifespan in main.py)."""
    return cast(Resources, request.app.state.resources)


READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


@fails_with(HTTPStatus.SERVICE_UNAVAILABLE)  # the database may be unreachable
async def get_session(request: Request) -> AsyncGenerator[AsyncSession, None]:
    """One session per request; services commit, anything left uncommitted is rolled back.

    GET and HEAD change nothing (HTTP calls them safe), so they get a read-only session that
    refuses writes and, on PostgreSQL, skips the transaction round trips (core/database.py,
    ReadOnlySession).
    """
    resources = resources_of(request)
    read_only = request.method in READ_ONLY_METHODS
    factory = resources.read_session_factory if read_only else resources.session_factory
    async with factory() as session:
        yield session


# scope="function": the session closes, and its connection goes back to the pool, when the route
# returns, not after the response is sent; under load that is the difference between a pool
# that keeps up and requests queueing for a connection.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
