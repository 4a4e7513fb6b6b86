"""Redis goes away: item reads are served from the database, /ready says 503, and once Redis is
back the same process caches again, without a restart and without serving what changed while
Redis was gone."""

import json
import os
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.items.service import item_cache_key
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.redis import cache as cache_module
from {{ cookiecutter.package_name }}.redis.cache import TOMBSTONE, RedisCache

from ..factories import ItemFactory, UserFactory
from ..support import FakeClock, assert_envelope, bearer, serve
from ..tcp_proxy import TcpProxy
from .loaders import LOADED, Loader, Note

pytestmark = pytest.mark.error_path


@pytest.fixture
def proxied_settings(make_settings: Callable[..., Settings], proxied_url: str) -> Settings:
    # Redis is tried again on every read: the test need not wait for it to be retried.
    return make_settings(redis_url=proxied_url, redis_cache_retry_after_seconds=0)


def cached_key(settings: Settings, item_id: uuid.UUID) -> str:
    return f"{settings.redis_key_prefix}cache:{item_cache_key(item_id)}"


async def test_item_reads_are_served_while_redis_is_cut_and_cached_again_after(
    proxied_settings: Settings,
    proxy: TcpProxy,
    redis: Redis,
    user: User,
    items: ItemFactory,
) -> None:
    item, other = await items.create(user, title="before"), await items.create(user)
    url, other_url = f"/api/v1/items/{item.id}", f"/api/v1/items/{other.id}"
    async with serve(proxied_settings) as client:
        headers = await bearer(client, user)
        await client.get(url, headers=headers)
        proxy.cut()
        read_while_cut = await client.get(url, headers=headers)
        ready_while_cut = await client.get("/ready")
        updated_while_cut = await client.patch(url, json={"title": "after"}, headers=headers)
        read_after_update = await client.get(url, headers=headers)
        proxy.restore()
        ready_after = await client.get("/ready")
        read_after = await client.get(url, headers=headers)
        other_read_after = await client.get(other_url, headers=headers)

    assert (read_while_cut.status_code, read_while_cut.json()["title"]) == (200, "before")
    assert ready_while_cut.status_code == 503
    assert_envelope(ready_while_cut.json(), "SERVICE_UNAVAILABLE")
    checks = ready_while_cut.json()["error"]["details"]["checks"]
    assert (checks["database"], checks["redis"]) == ("ok", "error")
    assert updated_while_cut.status_code == 200
    assert read_after_update.json()["title"] == "after"
    assert ready_after.status_code == 200
    # The delete Redis missed was sent before the next read: what was cached before the cut
    # is not served.
    assert (read_after.status_code, read_after.json()["title"]) == (200, "after")
    assert await redis.get(cached_key(proxied_settings, item.id)) == TOMBSTONE
    # And reads are cached again.
    assert other_read_after.status_code == 200
    cached_other = await redis.get(cached_key(proxied_settings, other.id))
    assert json.loads(cached_other or "null") == other_read_after.json()


async def test_no_request_fails_while_redis_is_cut(
    proxied_settings: Settings, proxy: TcpProxy, users: UserFactory, items: ItemFactory
) -> None:
    owner, stranger = await users.create(), await users.create()
    item = await items.create(owner)
    url = f"/api/v1/items/{item.id}"
    async with serve(proxied_settings) as client:
        owner_headers = await bearer(client, owner)
        stranger_headers = await bearer(client, stranger)
        proxy.cut()
        responses = [
            await client.get(url, headers=stranger_headers),
            await client.get(url, headers=owner_headers),
            await client.patch(url, json={"priority": 5}, headers=owner_headers),
            await client.delete(url, headers=owner_headers),
            await client.get(url, headers=owner_headers),
        ]

    assert [response.status_code for response in responses] == [404, 200, 200, 204, 404]


async def test_after_a_failure_the_cache_waits_before_trying_redis_again(
    proxy: TcpProxy, proxied_url: str, redis: Redis
) -> None:
    """While it waits, reads go straight to their loaders: a stalled link does not add a
    timeout to every read."""
    clock = FakeClock()
    client = Redis.from_url(proxied_url, socket_timeout=1)
    cache = RedisCache(client, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=5, clock=clock)
    load = Loader()
    key = "notes:retry"
    try:
        proxy.cut()
        during = await cache.get_or_load(key, Note, load, ttl_seconds=60)
        proxy.restore()
        clock.now += 4.9
        waiting = await cache.get_or_load(key, Note, load, ttl_seconds=60)
        kept_while_waiting = await redis.exists(cache.key_prefix + key)
        clock.now += 0.1
        after = await cache.get_or_load(key, Note, load, ttl_seconds=60)
    finally:
        await client.aclose()

    assert (during, waiting, after) == (LOADED, LOADED, LOADED)
    assert load.calls == 3
    assert not kept_while_waiting
    assert await redis.get(cache.key_prefix + key) == b'{"text":"from the database"}'


async def test_the_deletes_kept_for_redis_are_bounded_the_oldest_go_first(
    proxy: TcpProxy, proxied_url: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_UNSENT_DELETES", 2)
    client = Redis.from_url(proxied_url, socket_timeout=1)
    cache = RedisCache(client, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=0)
    keys = ["notes:oldest", "notes:second", "notes:newest"]
    for key in keys:
        await redis.set(cache.key_prefix + key, b'{"text":"stale"}')
    try:
        proxy.cut()
        for key in keys:
            await cache.delete(key)
        proxy.restore()
        await cache.get_or_load("notes:other", Note, Loader(), ttl_seconds=60)
    finally:
        await client.aclose()

    values = [await redis.get(cache.key_prefix + key) for key in keys]
    # The oldest delete was forgotten: its value's TTL bounds how long it is served.
    assert values == [b'{"text":"stale"}', TOMBSTONE, TOMBSTONE]


async def test_a_stalled_link_costs_a_read_its_timeout_and_the_database_answers(
    proxy: TcpProxy, proxied_url: str
) -> None:
    """Redis accepts connections and answers nothing (a hung host, dropped packets): the read
    gives up after the socket timeout and loads."""
    client = Redis.from_url(proxied_url, socket_connect_timeout=0.1, socket_timeout=0.1)
    cache = RedisCache(client, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=60)
    load = Loader()
    try:
        await client.ping()  # a pooled connection, whose link then stalls
        proxy.stall()
        value = await cache.get_or_load("notes:stalled", Note, load, ttl_seconds=60)
    finally:
        proxy.restore()
        await client.aclose()

    assert (value, load.calls) == (LOADED, 1)


async def test_a_delete_redis_missed_is_sent_when_the_app_stops(
    make_settings: Callable[..., Settings],
    proxied_url: str,
    proxy: TcpProxy,
    redis: Redis,
    user: User,
    items: ItemFactory,
) -> None:
    """Redis is back, but the cache leaves it alone for a while and nothing else is deleted
    before the process stops: the delete goes out on shutdown, not never."""
    settings = make_settings(redis_url=proxied_url, redis_cache_retry_after_seconds=60)
    item = await items.create(user, title="before")
    url = f"/api/v1/items/{item.id}"
    async with serve(settings) as client:
        headers = await bearer(client, user)
        await client.get(url, headers=headers)
        proxy.cut()
        updated = await client.patch(url, json={"title": "after"}, headers=headers)
        proxy.restore()
        cached_before_shutdown = await redis.get(cached_key(settings, item.id))

    assert updated.status_code == 200
    assert json.loads(cached_before_shutdown or "null")["title"] == "before"
    assert await redis.get(cached_key(settings, item.id)) == TOMBSTONE


async def test_at_shutdown_a_redis_that_does_not_answer_is_waited_for_a_bounded_time(
    proxy: TcpProxy, proxied_url: str
) -> None:
    # A command's own timeout is longer: the bound given to flush is what ends the wait.
    client = Redis.from_url(proxied_url, socket_connect_timeout=5, socket_timeout=5)
    cache = RedisCache(client, os.environ["REDIS_KEY_PREFIX"], retry_after_seconds=60)
    try:
        proxy.cut()
        await cache.delete("notes:stale")
        proxy.restore()
        proxy.stall()
        with capture_logs() as logs:
            await cache.flush(timeout_seconds=0.1)
    finally:
        proxy.restore()
        await client.aclose()

    assert [(log["event"], log.get("count")) for log in logs] == [("cache_deletes_not_sent", 1)]
