"""The in-process GCRA limiter: bursts, steady rate, exact Retry-After, bounded memory, and
refunds (a request given back no longer counts, and never more than the burst comes back)."""

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


async def test_a_refund_gives_one_request_back(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=6, burst=2, clock=clock)
    await limiter.hit("a")
    await limiter.hit("a")

    await limiter.refund("a")

    assert await limiter.hit("a") == 0


async def test_a_refund_leaves_other_keys_alone(clock: FakeClock) -> None:
    limiter = InProcessRateLimiter(per_minute=6, burst=1, clock=clock)
    await limiter.hit("a")

    await limiter.refund("b")

    assert await limiter.hit("a") == 10


@pytest.mark.error_path
class TestRefundsGiveNoMoreThanTheBurst:
    async def test_a_refund_on_a_fresh_key_changes_nothing(self, clock: FakeClock) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=2, clock=clock)

        await limiter.refund("a")

        assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 10]

    async def test_refunds_beyond_the_requests_made_change_nothing(self, clock: FakeClock) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=2, clock=clock)
        await limiter.hit("a")
        for _ in range(3):
            await limiter.refund("a")

        assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 10]

    async def test_a_late_refund_gives_back_no_more_than_time_already_did(
        self, clock: FakeClock
    ) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=2, clock=clock)
        await limiter.hit("a")
        await limiter.hit("a")
        clock.now += 15  # one request has come back by itself, half of the other

        await limiter.refund("a")

        assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 10]

    async def test_a_refund_leaves_the_other_requests_counted(self, clock: FakeClock) -> None:
        limiter = InProcessRateLimiter(per_minute=6, burst=3, clock=clock)
        for _ in range(3):
            await limiter.hit("a")

        await limiter.refund("a")

        assert [await limiter.hit("a"), await limiter.hit("a")] == [0, 10]


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
