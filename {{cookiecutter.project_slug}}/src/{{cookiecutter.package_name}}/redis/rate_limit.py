"""The auth rate limits, shared by every process: GCRA with its state in Redis.

One Lua script per check reads a key's theoretical arrival time, decides and writes it back:
one round trip, atomic (two processes cannot both take a key's last allowance). Its clock is
Redis's own (TIME), so processes on hosts whose clocks disagree still agree on every wait. A
second script gives one request back (a refund), as atomically. Keys are keyed digests of the
limiter's keys, under REDIS_KEY_PREFIX, and expire once their allowance has fully recovered:
emails and client addresses stay out of Redis, and without the service's secret no one who can
read Redis can test a guessed email against them (changing JWT_SECRET starts every count anew).

While Redis does not answer, checks fall back to the in-process limiter: brute-force protection
stays (per process, as without Redis) and no request fails for it. Redis is tried again at most
once a second, and used again as soon as it answers.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import replace

import structlog
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..core.rate_limit import RateLimiter
from ..dependencies import app_resources

logger = structlog.get_logger(__name__)

# KEYS[1]: the key. ARGV: the interval between requests at the steady rate, and how far ahead
# of now the arrival time may run (the burst), both in microseconds. Returns the whole seconds
# to wait, 0 when the request is allowed (and counted). Numbers are written with %.0f: Redis
# would render a plain Lua number with 14 significant digits, dropping microseconds.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local arrival = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local wait = arrival - now - tolerance
if wait > 0 then
    return math.ceil(wait / 1000000)
end
arrival = arrival + interval
local ttl = string.format('%.0f', math.ceil((arrival - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', arrival), 'PX', ttl)
return 0
"""

# KEYS[1]: the key. ARGV[1]: the interval, in microseconds. Moves the arrival time back by one
# interval; a key whose arrival time is then in the past has its whole allowance and is deleted.
REFUND_SCRIPT = """
local arrival = tonumber(redis.call('GET', KEYS[1]))
if not arrival then
    return 0
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
arrival = arrival - tonumber(ARGV[1])
if arrival <= now then
    redis.call('DEL', KEYS[1])
    return 0
end
local ttl = string.format('%.0f', math.ceil((arrival - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', arrival), 'PX', ttl)
return 0
"""


class RedisRateLimiter:
    """Allow ``per_minute`` requests per key on average, with bursts of up to ``burst``, across
    every process that shares the Redis; *fallback* answers while Redis does not."""

    def __init__(
        self,
        client: Redis,
        *,
        key_prefix: str,
        secret: str,
        per_minute: int,
        burst: int,
        fallback: RateLimiter,
        retry_every_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._script = client.register_script(GCRA_SCRIPT)  # EVALSHA; loaded once if missing
        self._refund_script = client.register_script(REFUND_SCRIPT)
        self._key_prefix = f"{key_prefix}rate-limit:"
        # A key of its own, derived one way: the digests never reveal the secret itself.
        self._digest_key = hashlib.blake2b(
            secret.encode(), digest_size=32, person=b"rate-limit-keys"
        ).digest()
        interval = round(60_000_000 / per_minute)
        self._arguments = (interval, interval * (burst - 1))
        self._refund_arguments = (interval,)
        self._fallback = fallback
        self._retry_every = retry_every_seconds
        self._clock = clock
        self._failing = False
        self._retry_at = 0.0

    async def hit(self, key: str) -> int:
        if self._failing:
            now = self._clock()
            if now < self._retry_at:
                return await self._fallback.hit(key)
            self._retry_at = now + self._retry_every  # one check tries Redis, the rest wait
        try:
            wait = await self._script(keys=[self._redis_key(key)], args=self._arguments)
        except (RedisError, OSError) as error:  # timeouts included
            self._fall_back(error)
            return await self._fallback.hit(key)
        if self._failing:
            self._failing = False
            logger.info("rate_limits_shared_again")
        return int(wait)

    async def refund(self, key: str) -> None:
        """Give back one request. While Redis is failing the request was most likely counted
        by the fallback, so the fallback gives it back; a refund never retries Redis."""
        if self._failing:
            await self._fallback.refund(key)
            return
        try:
            await self._refund_script(keys=[self._redis_key(key)], args=self._refund_arguments)
        except (RedisError, OSError) as error:
            self._fall_back(error)
            await self._fallback.refund(key)

    def _redis_key(self, key: str) -> str:
        digest = hashlib.blake2b(key.encode(), digest_size=16, key=self._digest_key)
        return self._key_prefix + digest.hexdigest()

    def _fall_back(self, error: Exception) -> None:
        """Use the fallback until the next try; warn once per outage, not once per request."""
        if not self._failing:
            # The error's type only: its message may name the server.
            logger.warning("rate_limits_per_process", reason=type(error).__name__)
        self._failing = True
        self._retry_at = self._clock() + self._retry_every


def share_auth_rate_limits(app: FastAPI, client: Redis) -> None:
    """Swap the app's in-process auth limiter for one in Redis, which falls back to it."""
    resources = app_resources(app)
    settings = resources.settings
    limiter = RedisRateLimiter(
        client,
        key_prefix=settings.redis_key_prefix,
        secret=settings.jwt_secret.get_secret_value(),
        per_minute=settings.auth_rate_limit_per_minute,
        burst=settings.auth_rate_limit_burst,
        fallback=resources.auth_rate_limiter,
    )
    app.state.resources = replace(resources, auth_rate_limiter=limiter)
