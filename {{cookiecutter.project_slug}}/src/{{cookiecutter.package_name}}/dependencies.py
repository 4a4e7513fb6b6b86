"""Process-wide resources, built in the app's lifespan and handed to routes by dependency."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Settings
from .core.rate_limit import RateLimiter
from .core.security import PasswordHasher, TokenCodec


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    password_hasher: PasswordHasher
    token_codec: TokenCodec
    auth_rate_limiter: RateLimiter


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one in
# the thread pool, a thread hop per dependency per request.
async def get_resources(request: Request) -> Resources:
    return cast(Resources, request.app.state.resources)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; services commit, anything left uncommitted is rolled back."""
    async with resources.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
