"""The item read and list paths run a fixed number of SQL statements: no N+1 as data grows.

Each measured request follows one that put the caller in the principal cache; the first test
shows what a cache miss adds.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import ItemFactory

# The item(s); a page also counts its total. A cache miss adds the caller's user row.
MAX_STATEMENTS_READ = 1
MAX_STATEMENTS_LIST = 2


@contextmanager
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_reading_an_item_takes_a_fixed_number_of_statements(
    client: AsyncClient,
    resources: Resources,
    principals: PrincipalCache,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
) -> None:
    # Two items: a bake with a shared cache would answer a second read of one from the cache.
    item, other = await items.create(user), await items.create(user)
    principals.evict(user.id)

    with recorded_statements(resources.engine) as cold:
        first = await client.get(f"/api/v1/items/{item.id}", headers=user_headers)
    with recorded_statements(resources.engine) as warm:
        second = await client.get(f"/api/v1/items/{other.id}", headers=user_headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert len(warm) <= MAX_STATEMENTS_READ, warm
    assert len(cold) == len(warm) + 1, cold


async def test_listing_items_takes_the_same_statements_for_1_or_50_items(
    client: AsyncClient,
    resources: Resources,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
) -> None:
    async def statements_per_listing() -> list[int]:
        counts = []
        for path in ("/api/v1/items?page_size=100", "/api/v1/items/cursor?limit=100"):
            await client.get(path, headers=user_headers)  # the caller is now cached
            with recorded_statements(resources.engine) as statements:
                response = await client.get(path, headers=user_headers)
            assert response.status_code == 200
            counts.append(len(statements))
        return counts

    await items.create(user)
    with_one = await statements_per_listing()
    for _ in range(49):
        await items.create(user)
    with_fifty = await statements_per_listing()

    assert with_one == with_fifty
    assert max(with_fifty) <= MAX_STATEMENTS_LIST, with_fifty
