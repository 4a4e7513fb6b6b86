"""The message bus on Redis pub/sub: two buses stand for two processes."""

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from {{ cookiecutter.package_name }}.redis.bus import RedisBus

from ..support import eventually
from ..tcp_proxy import TcpProxy


def client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


@pytest.fixture
async def buses() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    url, prefix = os.environ["REDIS_URL"], os.environ["REDIS_KEY_PREFIX"]
    made = [RedisBus(client(url), client(url), key_prefix=prefix) for _ in range(2)]
    yield made[0], made[1]
    for bus in made:
        await bus.aclose()


async def test_a_message_reaches_the_other_process(buses: tuple[RedisBus, RedisBus]) -> None:
    one, other = buses
    heard: list[bytes] = []
    await other.subscribe("events", heard.append)
    await other.subscribe("more", heard.append)
    assert other.hearing
    await one.publish("events", b"one")
    await one.publish("more", b"two")
    await one.publish("unheard", b"three")
    await eventually(lambda: heard == [b"one", b"two"])


@pytest.mark.error_path
async def test_it_listens_again_after_redis_was_cut_off(proxy: TcpProxy, proxied_url: str) -> None:
    prefix = f"{os.environ['REDIS_KEY_PREFIX']}{uuid.uuid4().hex[:6]}:"
    listening = RedisBus(client(proxied_url), client(proxied_url), key_prefix=prefix)
    publishing = RedisBus(client(os.environ["REDIS_URL"]), client(proxied_url), key_prefix=prefix)
    heard: list[bytes] = []
    try:
        await listening.subscribe("events", heard.append)
        proxy.cut()
        await eventually(lambda: not listening.hearing, seconds=4)
        await publishing.publish("events", b"while cut")
        proxy.restore()
        await eventually(lambda: listening.hearing, seconds=5)
        await publishing.publish("events", b"after")
        await eventually(lambda: heard == [b"after"])
    finally:
        await listening.aclose()
        await publishing.aclose()


@pytest.mark.error_path
async def test_a_subscription_while_redis_is_away_returns_and_listens_once_it_is_back(
    proxy: TcpProxy, proxied_url: str
) -> None:
    proxy.cut()
    bus = RedisBus(client(proxied_url), client(proxied_url), key_prefix="bus-test:")
    heard: list[bytes] = []
    try:
        await bus.subscribe("events", heard.append)  # returns: the listener keeps trying
        assert not bus.hearing
        proxy.restore()
        await eventually(lambda: bus.hearing, seconds=5)
    finally:
        await bus.aclose()
