"""The message bus on Redis pub/sub: two buses stand for two processes."""

import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from {{ cookiecutter.package_name }}.redis.bus import RedisBus

from ..support import eventually
from ..tcp_proxy import TcpProxy

MakeBus = Callable[..., RedisBus]


@pytest.fixture
async def make_bus() -> AsyncIterator[MakeBus]:
    """Buses on clients of the given URLs (the tests' Redis by default), all closed at the end."""
    buses: list[RedisBus] = []
    clients: list[Redis] = []

    def make(
        publishing: str | None = None, listening: str | None = None, prefix: str | None = None
    ) -> RedisBus:
        urls = (publishing or os.environ["REDIS_URL"], listening or os.environ["REDIS_URL"])
        made = [Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) for url in urls]
        clients.append(made[0])  # the listening one is the bus's to close
        key_prefix = prefix or os.environ["REDIS_KEY_PREFIX"]
        buses.append(RedisBus(made[0], made[1], key_prefix=key_prefix, name="test-bus"))
        return buses[-1]

    yield make
    for bus in buses:
        await bus.aclose()
    for client in clients:
        await client.aclose()


async def test_a_message_reaches_the_other_process(make_bus: MakeBus) -> None:
    one, other = make_bus(), make_bus()
    heard: list[bytes] = []
    await other.subscribe("events", heard.append)
    await other.subscribe("more", heard.append)
    assert other.hearing
    await one.publish("events", b"one")
    await one.publish("more", b"two")
    await one.publish("unheard", b"three")
    await eventually(lambda: heard == [b"one", b"two"])


@pytest.mark.error_path
async def test_it_listens_again_after_redis_was_cut_off(
    make_bus: MakeBus, proxy: TcpProxy, proxied_url: str
) -> None:
    prefix = f"{os.environ['REDIS_KEY_PREFIX']}{uuid.uuid4().hex[:6]}:"
    listening = make_bus(proxied_url, proxied_url, prefix)
    publishing = make_bus(prefix=prefix)
    heard: list[bytes] = []
    await listening.subscribe("events", heard.append)
    proxy.cut()
    await eventually(lambda: not listening.hearing, seconds=4)
    await publishing.publish("events", b"while cut")
    proxy.restore()
    await eventually(lambda: listening.hearing, seconds=5)
    await publishing.publish("events", b"after")
    await eventually(lambda: heard == [b"after"])


@pytest.mark.error_path
async def test_a_subscription_while_redis_is_away_returns_and_listens_once_it_is_back(
    make_bus: MakeBus, proxy: TcpProxy, proxied_url: str
) -> None:
    proxy.cut()
    bus = make_bus(proxied_url, proxied_url)
    await bus.subscribe("events", lambda _: None)  # returns: the listener keeps trying
    assert not bus.hearing
    proxy.restore()
    await eventually(lambda: bus.hearing, seconds=5)
