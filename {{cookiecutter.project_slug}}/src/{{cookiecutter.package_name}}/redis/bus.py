"""The message bus on Redis pub/sub (core/bus.py): what one process publishes, every process
that shares the Redis hears, on channels under REDIS_KEY_PREFIX.

One listener per process, on a connection of its own, subscribes on first use, pings Redis
after ``HEARTBEAT_SECONDS`` of silence and subscribes again when it loses the connection
(doubling the wait up to ``RETRY_SECONDS[1]``); what is published meanwhile is not heard.
"""

import asyncio
from contextlib import suppress

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from ..core.bus import Receiver, deliver

logger = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 1.0
RETRY_SECONDS = (0.1, 2.0)


class RedisBus:
    reaches_other_processes = True

    def __init__(self, client: Redis, listening: Redis, *, key_prefix: str) -> None:
        self._client = client
        self._listening = listening  # a client of its own: its connection stays subscribed
        self._prefix = f"{key_prefix}bus:"
        self._receivers: dict[str, list[Receiver]] = {}
        self._pubsub: PubSub | None = None
        self._hearing = asyncio.Event()
        self._tried = asyncio.Event()  # the listener's first attempt is over
        self._listener: asyncio.Task[None] | None = None

    @property
    def hearing(self) -> bool:
        return self._hearing.is_set()

    async def publish(self, channel: str, message: bytes) -> None:
        await self._client.publish(self._prefix + channel, message)

    async def subscribe(self, channel: str, receive: Receiver) -> None:
        first = channel not in self._receivers
        self._receivers.setdefault(channel, []).append(receive)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="redis-bus")
        elif first and self._pubsub is not None:
            await self._pubsub.subscribe(self._prefix + channel)
        # Returns once the first attempt to listen is over: the subscription is in place, or
        # Redis did not answer (the listener keeps trying).
        with suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._tried.wait()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._receivers.clear()
        await self._listening.aclose()

    async def _listen_forever(self) -> None:
        delay = RETRY_SECONDS[0]
        while True:
            try:
                async with self._listening.pubsub() as pubsub:
                    await pubsub.subscribe(*(self._prefix + name for name in self._receivers))
                    self._pubsub = pubsub
                    delay = RETRY_SECONDS[0]
                    await self._hear(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it was, the listener must go on
                self._tried.set()
                logger.warning("redis_bus_deaf", reason=type(exc).__name__)
            finally:
                self._pubsub = None
                self._hearing.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS[1])

    async def _hear(self, pubsub: PubSub) -> None:
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
            if message is None:
                if pinged:
                    raise TimeoutError("Redis did not answer the bus's ping")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            kind = message["type"]
            if kind in {"subscribe", "pong"}:
                self._hearing.set()
                self._tried.set()
            if kind == "message":
                channel = message["channel"].decode().removeprefix(self._prefix)
                deliver(self._receivers.get(channel, []), channel, message["data"])
