"""The shared cache on Redis (redis/cache.py): get or load with a TTL, one load per key at a
time in a process, deletes, and the item reads it serves."""

import asyncio
import os
import uuid

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import update

from {{ cookiecutter.package_name }}.core.base import col
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.items.models import Item
from {{ cookiecutter.package_name }}.features.items.service import item_cache_key
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.redis.cache import (
    TOMBSTONE,
    TOMBSTONE_SECONDS,
    RedisCache,
)

from ..factories import ItemFactory, UserFactory
from ..support import assert_envelope, bearer
from .loaders import LOADED, Loader, Note


@pytest.fixture
def cache(redis: Redis) -> RedisCache:
    return RedisCache(redis, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=0)


@pytest.fixture
def key() -> str:
    return f"notes:{uuid.uuid4()}"


TTL = 60.0


def get(cache: RedisCache, key: str, load: Loader, ttl: float = TTL) -> "asyncio.Task[Note | None]":
    return asyncio.create_task(cache.get_or_load(key, Note, load, ttl_seconds=ttl))


async def test_a_miss_loads_and_stores_the_value(cache: RedisCache, redis: Redis, key: str) -> None:
    load = Loader()

    value = await get(cache, key, load)

    assert (value, load.calls) == (load.value, 1)
    assert await redis.get(cache.key_prefix + key) == b'{"text":"from the database"}'


async def test_a_hit_does_not_load(cache: RedisCache, redis: Redis, key: str) -> None:
    await redis.set(cache.key_prefix + key, b'{"text":"cached"}')
    load = Loader()

    value = await get(cache, key, load)

    assert (value, load.calls) == (Note(text="cached"), 0)


async def test_a_value_expires_after_its_ttl(cache: RedisCache, redis: Redis, key: str) -> None:
    load = Loader()
    await get(cache, key, load, ttl=0.05)
    assert 0 < await redis.pttl(cache.key_prefix + key) <= 50

    await asyncio.sleep(0.06)  # the TTL runs on Redis's clock: no event to await

    assert not await redis.exists(cache.key_prefix + key)
    await get(cache, key, load)

    assert load.calls == 2


async def test_concurrent_misses_of_one_key_make_one_load(cache: RedisCache, key: str) -> None:
    gate = asyncio.Event()
    load = Loader(gate=gate)

    reads = [get(cache, key, load) for _ in range(20)]
    await load.started.wait()
    gate.set()
    values = await asyncio.gather(*reads)

    assert load.calls == 1
    assert values == [load.value] * 20


async def test_nothing_is_kept_for_a_missing_value(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    load = Loader(value=None)  # the loader finds nothing

    assert await get(cache, key, load) is None
    assert await get(cache, key, load) is None

    assert load.calls == 2
    assert not await redis.exists(cache.key_prefix + key)


async def test_after_a_delete_reads_load_and_keep_nothing_for_a_while(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    load = Loader()
    await get(cache, key, load)

    await cache.delete(key)
    await get(cache, key, load)
    await get(cache, key, load)

    assert load.calls == 3
    assert await redis.get(cache.key_prefix + key) == TOMBSTONE
    assert 0 < await redis.ttl(cache.key_prefix + key) <= TOMBSTONE_SECONDS


async def test_a_value_loaded_before_a_delete_in_another_process_is_not_kept(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    """Process A loads the old value, B commits a change and deletes the key, then A stores
    what it loaded: the tombstone B left keeps it out."""
    other_process = RedisCache(redis, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=0)
    gate = asyncio.Event()
    old = Loader(Note(text="old"), gate=gate)
    read_in_a = get(cache, key, old)
    await old.started.wait()

    await other_process.delete(key)
    gate.set()
    value_in_a = await read_in_a
    fresh = Loader(Note(text="fresh"))
    next_read = await get(other_process, key, fresh)

    assert (value_in_a, next_read) == (Note(text="old"), Note(text="fresh"))
    assert await redis.get(cache.key_prefix + key) == TOMBSTONE


async def test_a_load_in_flight_during_a_delete_is_not_kept(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    """The value may predate the change the delete announces: neither later readers nor Redis
    get it."""
    gate = asyncio.Event()
    before = Loader(Note(text="before"), gate=gate)
    read_before = get(cache, key, before)
    await before.started.wait()

    await cache.delete(key)
    after = Loader(Note(text="after"))
    read_after = await get(cache, key, after)
    gate.set()

    assert (await read_before, read_after) == (Note(text="before"), Note(text="after"))
    assert await redis.get(cache.key_prefix + key) == TOMBSTONE


@pytest.mark.error_path
async def test_a_failed_load_fails_every_waiting_read_and_keeps_nothing(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    gate = asyncio.Event()
    load = Loader(gate=gate)
    load.failure = RuntimeError("the database is gone")

    reads = [get(cache, key, load) for _ in range(3)]
    await load.started.wait()
    gate.set()
    results = await asyncio.gather(*reads, return_exceptions=True)

    assert [type(result) for result in results] == [RuntimeError] * 3
    assert load.calls == 1
    assert not await redis.exists(cache.key_prefix + key)


@pytest.mark.error_path
async def test_when_the_loading_read_is_cancelled_a_waiting_read_loads(
    cache: RedisCache, key: str
) -> None:
    gate = asyncio.Event()
    load = Loader(gate=gate)
    leader = get(cache, key, load)
    await load.started.wait()
    follower = get(cache, key, load)
    await asyncio.sleep(0)  # the follower joins the leader's read

    leader.cancel()
    gate.set()

    assert await follower == load.value
    assert load.calls == 2
    assert leader.cancelled()


async def test_a_value_that_no_longer_validates_is_a_miss(
    cache: RedisCache, redis: Redis, key: str
) -> None:
    """An older release wrote another shape under the key: reads load until it expires."""
    await redis.set(cache.key_prefix + key, b'{"title":"old shape"}')
    load = Loader()

    assert [await get(cache, key, load), await get(cache, key, load)] == [LOADED, LOADED]
    assert load.calls == 2


# The item reads it serves.


def cached_item_key(resources: Resources, item: Item) -> str:
    return f"{resources.settings.redis_key_prefix}cache:{item_cache_key(item.id)}"


async def rename_behind_the_services_back(resources: Resources, item: Item, title: str) -> None:
    async with resources.session_factory() as session:
        await session.execute(update(Item).where(col(Item.id) == item.id).values(title=title))
        await session.commit()


async def test_an_item_read_is_served_from_the_cache(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
    resources: Resources,
    redis: Redis,
) -> None:
    item = await items.create(user, title="cached")
    first = await client.get(f"/api/v1/items/{item.id}", headers=user_headers)
    await rename_behind_the_services_back(resources, item, "changed in the database")

    second = await client.get(f"/api/v1/items/{item.id}", headers=user_headers)

    assert first.json() == second.json()
    assert second.json()["title"] == "cached"
    assert await redis.exists(cached_item_key(resources, item))


async def test_an_update_makes_the_next_read_fresh(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
    resources: Resources,
    redis: Redis,
) -> None:
    item = await items.create(user, title="before")
    url = f"/api/v1/items/{item.id}"
    await client.get(url, headers=user_headers)

    updated = await client.patch(url, json={"title": "after"}, headers=user_headers)
    read = await client.get(url, headers=user_headers)

    assert read.status_code == 200
    assert read.json() == updated.json()
    assert read.json()["title"] == "after"


@pytest.mark.error_path
async def test_a_deleted_item_is_not_served_from_the_cache(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
    resources: Resources,
    redis: Redis,
) -> None:
    item = await items.create(user)
    url = f"/api/v1/items/{item.id}"
    await client.get(url, headers=user_headers)

    deleted = await client.delete(url, headers=user_headers)
    read = await client.get(url, headers=user_headers)

    assert deleted.status_code == 204
    assert read.status_code == 404
    assert_envelope(read.json(), "NOT_FOUND")


@pytest.mark.error_path
@pytest.mark.parametrize("first_reader", ["owner", "stranger"])
async def test_a_cached_item_is_still_hidden_from_other_users(
    client: AsyncClient,
    users: UserFactory,
    items: ItemFactory,
    resources: Resources,
    redis: Redis,
    first_reader: str,
) -> None:
    """The cache is shared by every user: whoever's read filled it, ownership is checked on
    each read."""
    owner, stranger = await users.create(), await users.create()
    headers = {"owner": await bearer(client, owner), "stranger": await bearer(client, stranger)}
    item = await items.create(owner)
    url = f"/api/v1/items/{item.id}"
    await client.get(url, headers=headers[first_reader])
    assert await redis.exists(cached_item_key(resources, item))

    by_stranger = await client.get(url, headers=headers["stranger"])
    by_owner = await client.get(url, headers=headers["owner"])

    assert by_stranger.status_code == 404
    assert_envelope(by_stranger.json(), "NOT_FOUND")
    assert by_owner.status_code == 200


async def test_an_admin_reads_any_cached_item(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    admin_headers: dict[str, str],
    items: ItemFactory,
) -> None:
    item = await items.create(user)
    url = f"/api/v1/items/{item.id}"
    by_owner = await client.get(url, headers=user_headers)

    by_admin = await client.get(url, headers=admin_headers)

    assert by_admin.status_code == 200
    assert by_admin.json() == by_owner.json()
