"""The one place a Redis client is built from the settings (the pool of redis/client.py and the
listeners' connections), and how a listener hears."""

from collections.abc import AsyncIterator
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.driver_info import DriverInfo
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..config import Settings

# What every connection tells Redis of its library (CLIENT SETINFO). Without one given, redis-py
# reads its own version from the installed package's metadata for each connection it opens, on
# the event loop: a scan of site-packages per connection, for every reconnect of the pool.
DRIVER_INFO = DriverInfo()


def create_redis(settings: Settings, *, name: str | None = None, retries: int = 1) -> Redis:
    """A client whose commands fail fast while Redis is unreachable (the callers fall back),
    parsing replies with hiredis, which redis-py picks when it is installed.

    *retries*: immediate retries of a command whose connection broke. The pool's one is for a
    connection that broke while idle; redis-py's default (ten, with backoff) would hold a read
    for seconds while Redis is down. *name* is the connection's in Redis's CLIENT LIST.
    """
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
        retry=Retry(NoBackoff(), retries=retries),
        client_name=name,
        driver_info=DRIVER_INFO,
        # A pooled connection idle this long is checked before use (a restarted server).
        health_check_interval=30,
    )


def trace_commands(client: Redis, provider: TracerProvider) -> None:
    """A client span per command or pipeline *client* sends, named after the command, with ``?``
    for each argument: keys and values never leave. This client only (not the listeners'), and
    not redis-py as a whole: the instrumentation is imported only with tracing on."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

    RedisInstrumentor.instrument_client(client, tracer_provider=provider)


async def heard(pubsub: PubSub, heartbeat_seconds: float) -> AsyncIterator[dict[str, Any]]:
    """What *pubsub* receives, for as long as Redis answers: after *heartbeat_seconds* of
    silence it pings, and as long again without the answer it gives up (a TimeoutError)."""
    pinged = False
    while True:
        message = await pubsub.get_message(timeout=heartbeat_seconds)
        if message is None:
            if pinged:
                raise RedisTimeoutError("no answer to the heartbeat")
            await pubsub.ping()
            pinged = True
            continue
        pinged = False
        yield message
