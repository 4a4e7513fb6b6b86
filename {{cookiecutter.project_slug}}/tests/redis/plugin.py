"""Every test of a Redis bake talks to the real Redis TEST_REDIS_URL names (default: one on
this machine), under a key prefix of its own process, deleted at the end of the run: test runs,
their worker processes and a service in use can share one Redis."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from ..tcp_proxy import TcpProxy

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"


def pytest_configure(config: pytest.Config) -> None:
    # Settings read the environment: every app a test builds uses this Redis and this prefix.
    os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    os.environ["REDIS_KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}:"


def pytest_unconfigure(config: pytest.Config) -> None:
    asyncio.run(_delete_keys(os.environ["REDIS_URL"], os.environ["REDIS_KEY_PREFIX"]))


async def _delete_keys(url: str, prefix: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    except OSError:
        pass  # Redis is gone: nothing to clean
    finally:
        await client.aclose()


@pytest.fixture(autouse=True)
def _keys_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's apps write under a prefix of their own, inside the process's (so the run's
    cleanup deletes them): what one test counted, a rate limit say, never reaches the next."""
    run_prefix = os.environ["REDIS_KEY_PREFIX"]
    monkeypatch.setenv("REDIS_KEY_PREFIX", f"{run_prefix}{uuid.uuid4().hex[:8]}:")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the tests' Redis, for looking at what the service wrote."""
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    await client.aclose()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A proxy in front of the tests' Redis."""
    real = urlsplit(os.environ["REDIS_URL"])
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or 6379)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def proxied_url(proxy: TcpProxy) -> str:
    """The tests' Redis, reached through *proxy*."""
    real = urlsplit(os.environ["REDIS_URL"])
    netloc = real.netloc.rpartition("@")[0]
    host = f"{netloc}@127.0.0.1:{proxy.port}" if netloc else f"127.0.0.1:{proxy.port}"
    return real._replace(netloc=host).geturl()
