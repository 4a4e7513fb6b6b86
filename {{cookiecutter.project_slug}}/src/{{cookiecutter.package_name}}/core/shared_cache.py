"""The cache shared by every process of the service, as features see it: a plug a pack fills.

A feature asks for a value by key with the loader that builds it from the database; the cache
either answers from what it holds or calls the loader. The default holds nothing, so a bake
without a shared cache reads the database as before, at the cost of one call.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import BaseModel


class SharedCache(Protocol):
    async def get_or_load[M: BaseModel](
        self,
        key: str,
        model: type[M],
        load: Callable[[], Awaitable[M | None]],
        *,
        ttl_seconds: float,
    ) -> M | None:
        """The value under *key*, else what *load* returns (kept for *ttl_seconds*; None is
        not kept). A cache that cannot answer calls *load*: it never fails a read."""
        ...

    async def delete(self, key: str) -> None:
        """Forget *key*; call it after the change that makes its value stale is committed."""
        ...


class NoSharedCache:
    """Holds nothing: every read calls its loader."""

    async def get_or_load[M: BaseModel](
        self,
        key: str,
        model: type[M],
        load: Callable[[], Awaitable[M | None]],
        *,
        ttl_seconds: float,
    ) -> M | None:
        return await load()

    async def delete(self, key: str) -> None:
        return None


NO_SHARED_CACHE = NoSharedCache()
