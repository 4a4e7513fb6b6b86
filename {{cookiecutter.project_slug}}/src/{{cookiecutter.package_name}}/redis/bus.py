"""The message bus on Redis pub/sub (core/bus.py): what one process publishes, every process
that shares the Redis hears, on channels under REDIS_KEY_PREFIX.

One listener per process, on a connection of its own, subscribes on first use and pings Redis
after ``HEARTBEAT_SECONDS`` of silence; it subscribes again when it loses the connection (what
is published meanwhile is not heard). Every Redis channel of the process is on it: the
revocation relay's (revocation.py) and any pack's.
"""

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from ..core.bus import ListeningBus
from .connection import heard

HEARTBEAT_SECONDS = 1.0


class RedisBus(ListeningBus):
    def __init__(self, client: Redis, listening: Redis, *, key_prefix: str, name: str) -> None:
        super().__init__(name)  # also its connection's, in Redis's CLIENT LIST
        self._client = client
        self._listening = listening  # a client of its own: its connection stays subscribed
        self._prefix = f"{key_prefix}bus:"
        self._pubsub: PubSub | None = None

    def channel(self, name: str) -> str:
        """The Redis channel of the bus's channel *name* (for a script that publishes on it)."""
        return self._prefix + name

    async def publish(self, channel: str, message: bytes) -> None:
        await self._client.publish(self.channel(channel), message)

    async def aclose(self) -> None:
        await super().aclose()
        await self._listening.aclose()

    async def _listen_to(self, channel: str) -> None:
        if self._pubsub is not None:
            await self._pubsub.subscribe(self._prefix + channel)

    async def _listen(self) -> None:
        async with self._listening.pubsub() as pubsub:
            await pubsub.subscribe(*(self._prefix + name for name in self._receivers))
            self._pubsub = pubsub
            try:
                async for message in heard(pubsub, HEARTBEAT_SECONDS):
                    if message["type"] == "subscribe":
                        await self._heard()
                    elif message["type"] == "message":
                        channel = message["channel"].decode().removeprefix(self._prefix)
                        self._deliver(channel, message["data"])
            finally:
                self._pubsub = None
