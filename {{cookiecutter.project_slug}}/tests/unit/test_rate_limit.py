"""The in-process GCRA limiter: bursts, steady rate, exact Retry-After, bounded memory."""

import pytest

from {{ cookiecutter.package_name }}.core.rate_limit import InProcessRateLimiter

from ..support import FakeClock


async def test_a_burst_is_allowed(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=60, burst=3, clock=clock)

    assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 0]


async def test_the_allowance_recovers_at_the_steady_rate(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=60, burst=1, clock=clock)
    await limiter.hit("a")

    clock.now += 1.0

    assert await limiter.hit("a") == 0


async def test_clients_are_limited_independently(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=1, burst=1, clock=clock)
    await limiter.hit("a")

    assert await limiter.hit("b") == 0


async def test_idle_clients_are_forgotten_when_memory_is_full(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=60, burst=1, clock=clock, max_keys=2)
    await limiter.hit("a")
    await limiter.hit("b")
    clock.now += 10

    assert await limiter.hit("c") == 0
    assert await limiter.hit("a") == 0


@pytest.mark.error_path
class TestOverLimit:
    async def test_over_the_burst_is_refused_with_the_wait(self, clock: FakeClock) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=2, clock=clock)
        await limiter.hit("a")
        await limiter.hit("a")

        assert await limiter.hit("a") == 10

    async def test_a_refused_request_does_not_extend_the_wait(self, clock: FakeClock) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=1, clock=clock)
        await limiter.hit("a")
        for _ in range(5):
            await limiter.hit("a")

        clock.now += 10

        assert await limiter.hit("a") == 0
