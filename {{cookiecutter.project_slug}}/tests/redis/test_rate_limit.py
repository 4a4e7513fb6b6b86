"""The auth rate limits in Redis: one limit for every app that shares it, the exact wait,
refunds, keys that name no one (keyed digests) and expire, and the in-process fallback while
Redis does not answer."""

import asyncio
import hashlib
from collections.abc import Callable

import pytest
from httpx import AsyncClient, Response
from redis.asyncio import Redis
from structlog.testing import capture_logs

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.rate_limit import InProcessRateLimiter
from {{ cookiecutter.package_name }}.redis.rate_limit import RedisRateLimiter

from ..support import TEST_JWT_SECRET, FakeClock, assert_envelope, serve
from ..tcp_proxy import TcpProxy

LOGIN = "/api/v1/auth/login"
# 3 a minute with bursts of 3: the 4th attempt waits for the first to age out, 20 s.
LIMITED = {"auth_rate_limit_per_minute": 3, "auth_rate_limit_burst": 3}
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def guess(client: AsyncClient, email: str) -> Response:
    return await client.post(LOGIN, data={"username": email, "password": "guess-guess-guess"})


def assert_rate_limited(response: Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)
    assert_envelope(response.json(), "RATE_LIMITED")


def limiter_over(
    client: Redis, settings: Settings, clock: FakeClock, secret: str = TEST_JWT_SECRET
) -> RedisRateLimiter:
    """60 a minute, no burst: a second request within the second waits 1 s."""
    return RedisRateLimiter(
        client,
        key_prefix=settings.redis_key_prefix,
        secret=secret,
        per_minute=60,
        burst=1,
        fallback=InProcessRateLimiter(per_minute=60, burst=1),
        clock=clock,
    )


async def test_the_limit_holds_across_apps_sharing_redis(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(**LIMITED)
    async with serve(settings) as first, serve(settings) as second:
        statuses = [
            (await guess(app, f"user{n}@example.com")).status_code
            for n, app in enumerate((first, second, first))
        ]
        response = await guess(second, "user9@example.com")

    assert statuses == [401, 401, 401]
    assert_rate_limited(response, retry_after=20)


def limiter_of(client: Redis, settings: Settings, burst: int = 2) -> RedisRateLimiter:
    """6 a minute, bursts of *burst*: a request over the burst waits 10 s."""
    return RedisRateLimiter(
        client,
        key_prefix=settings.redis_key_prefix,
        secret=TEST_JWT_SECRET,
        per_minute=6,
        burst=burst,
        fallback=InProcessRateLimiter(per_minute=6, burst=burst),
    )


async def test_the_wait_is_exact(settings: Settings, redis: Redis) -> None:
    limiter = limiter_of(redis, settings)

    assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 10]


async def test_a_refund_gives_one_request_back(settings: Settings, redis: Redis) -> None:
    limiter = limiter_of(redis, settings)
    await limiter.hit("a")
    await limiter.hit("a")

    await limiter.refund("a")

    assert await limiter.hit("a") == 0


async def test_a_refund_of_the_only_request_deletes_the_key(
    settings: Settings, redis: Redis
) -> None:
    limiter = limiter_of(redis, settings)
    await limiter.hit("a")

    await limiter.refund("a")

    assert await redis.keys(f"{settings.redis_key_prefix}*") == []


async def test_a_refund_on_a_fresh_key_changes_nothing(settings: Settings, redis: Redis) -> None:
    limiter = limiter_of(redis, settings)

    await limiter.refund("a")

    assert await redis.keys(f"{settings.redis_key_prefix}*") == []
    assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 10]


async def test_a_refund_leaves_the_other_requests_counted(settings: Settings, redis: Redis) -> None:
    limiter = limiter_of(redis, settings, burst=3)
    for _ in range(3):
        await limiter.hit("a")

    await limiter.refund("a")

    [key] = await redis.keys(f"{settings.redis_key_prefix}*")
    assert 10_000 < await redis.pttl(key) <= 20_000  # expires with the shorter count
    assert [await limiter.hit("a"), await limiter.hit("a")] == [0, 10]


async def test_concurrent_refunds_are_each_applied_once(settings: Settings, redis: Redis) -> None:
    """Refunds sent at once over many connections: none is lost (a read-then-write would lose
    some), and together they give back no more than the burst."""
    burst = 20
    limiter = limiter_of(redis, settings, burst=burst)
    for _ in range(burst // 2):
        await limiter.hit("a")

    await asyncio.gather(*(limiter.refund("a") for _ in range(burst)))

    assert [await limiter.hit("a") for _ in range(burst + 1)] == [0] * burst + [10]


async def test_concurrent_refunds_of_some_requests_give_back_exactly_those(
    settings: Settings, redis: Redis
) -> None:
    burst = 20
    limiter = limiter_of(redis, settings, burst=burst)
    for _ in range(burst):
        await limiter.hit("a")

    await asyncio.gather(*(limiter.refund("a") for _ in range(5)))

    assert [await limiter.hit("a") for _ in range(6)] == [0] * 5 + [10]


async def test_keys_name_no_one_and_expire_when_the_allowance_recovers(
    settings: Settings, redis: Redis, clock: FakeClock
) -> None:
    await limiter_over(redis, settings, clock).hit("login-account:victim@example.com")

    keys = await redis.keys(f"{settings.redis_key_prefix}*")
    assert len(keys) == 1
    assert b"victim" not in keys[0]
    assert 0 < await redis.pttl(keys[0]) <= 1000


async def test_keys_cannot_be_tested_against_a_guessed_email_without_the_secret(
    settings: Settings, redis: Redis, clock: FakeClock
) -> None:
    key = "login-account:victim@example.com"
    unkeyed = hashlib.blake2b(key.encode(), digest_size=16)
    keyed_by_the_secret = hashlib.blake2b(
        key.encode(), digest_size=16, key=TEST_JWT_SECRET.encode()
    )
    await limiter_over(redis, settings, clock).hit(key)
    await limiter_over(redis, settings, clock, secret="another-secret-" + "x" * 32).hit(key)

    keys = set(await redis.keys(f"{settings.redis_key_prefix}*"))
    prefix = f"{settings.redis_key_prefix}rate-limit:".encode()
    assert len(keys) == 2  # one per secret
    assert prefix + unkeyed.hexdigest().encode() not in keys
    assert prefix + keyed_by_the_secret.hexdigest().encode() not in keys  # a sub-key is used


@pytest.mark.error_path
async def test_logins_stay_limited_while_redis_is_unreachable(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(redis_url=UNREACHABLE_REDIS, **LIMITED)
    async with serve(settings) as client:
        responses = [await guess(client, f"user{n}@example.com") for n in range(4)]

    assert [r.status_code for r in responses[:3]] == [401, 401, 401]
    assert_rate_limited(responses[3], retry_after=20)
    assert capsys.readouterr().out.count('"rate_limits_per_process"') == 1  # not per request


@pytest.mark.error_path
async def test_the_limits_go_back_to_redis_when_it_answers_again(
    proxy: TcpProxy, proxied_url: str, settings: Settings, redis: Redis, clock: FakeClock
) -> None:
    client = Redis.from_url(proxied_url, socket_connect_timeout=1, socket_timeout=1)
    limiter = limiter_over(client, settings, clock)
    try:
        with capture_logs() as logs:
            assert await limiter.hit("in-redis") == 0
            proxy.cut()
            during = [await limiter.hit("during") for _ in range(2)]
            proxy.restore()
            clock.now += 1  # the next try at Redis
            after = [await limiter.hit("in-redis"), await limiter.hit("after")]
    finally:
        await client.aclose()

    assert during == [0, 1]  # limited in-process
    assert after == [1, 0]  # Redis's count survived the outage
    assert len(await redis.keys(f"{settings.redis_key_prefix}*")) == 2
    events = [log["event"] for log in logs]
    assert events == ["rate_limits_per_process", "rate_limits_shared_again"]


@pytest.mark.error_path
async def test_a_redis_that_does_not_answer_in_time_counts_as_down(
    settings: Settings, clock: FakeClock, proxy: TcpProxy, proxied_url: str
) -> None:
    # As create_redis builds it (from a URL: no retries), with a short command timeout.
    client = Redis.from_url(proxied_url, socket_timeout=0.05)
    limiter = limiter_over(client, settings, clock)
    proxy.stall()  # connections are accepted, nothing is answered
    try:
        waits = [await limiter.hit("a"), await limiter.hit("a")]
    finally:
        proxy.restore()
        await client.aclose()

    assert waits == [0, 1]  # limited in-process


@pytest.mark.error_path
async def test_a_refund_while_redis_is_unreachable_goes_to_the_fallback(
    settings: Settings, clock: FakeClock
) -> None:
    client = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=1)
    limiter = limiter_over(client, settings, clock)
    try:
        first = await limiter.hit("a")  # counted in-process
        await limiter.refund("a")
        waits = [await limiter.hit("a"), await limiter.hit("a")]
    finally:
        await client.aclose()

    assert first == 0
    assert waits == [0, 1]  # the refunded request no longer counted, the others still do


@pytest.mark.error_path
async def test_a_refund_redis_does_not_take_falls_back_without_failing(
    proxy: TcpProxy, proxied_url: str, settings: Settings, clock: FakeClock
) -> None:
    client = Redis.from_url(proxied_url, socket_connect_timeout=1, socket_timeout=1)
    limiter = limiter_over(client, settings, clock)
    try:
        with capture_logs() as logs:
            assert await limiter.hit("a") == 0
            proxy.cut()
            await limiter.refund("a")
            waits = [await limiter.hit("b"), await limiter.hit("b")]
    finally:
        await client.aclose()

    assert [log["event"] for log in logs] == ["rate_limits_per_process"]
    assert waits == [0, 1]  # limited in-process until the next try at Redis
