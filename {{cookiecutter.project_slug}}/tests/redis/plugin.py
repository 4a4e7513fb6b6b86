"""Every test of a Redis bake talks to the real Redis TEST_REDIS_URL names (default: one on
this machine), under a key prefix of its own process, deleted at the end of the run: test runs,
their worker processes and a service in use can share one Redis."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

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
