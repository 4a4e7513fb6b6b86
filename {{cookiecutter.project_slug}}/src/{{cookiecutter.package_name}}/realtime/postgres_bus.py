"""A message bus on PostgreSQL's LISTEN/NOTIFY, for bakes with no other shared bus: every process
that uses the database hears every other.

Each process listens on one connection of its own, taken out of the engine's pool for good;
it pings that connection every ``HEARTBEAT_SECONDS`` and, when it is lost, connects again
(doubling the wait up to ``RETRY_SECONDS[1]``). Messages published meanwhile are not heard
(the bus delivers at most once). A NOTIFY payload is at most 8000 bytes.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.bus import Receiver, deliver

logger = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 1.0
RETRY_SECONDS = (0.1, 2.0)
MAX_PAYLOAD_BYTES = 7999
NOTIFY = text("SELECT pg_notify(:channel, :message)")


class PostgresBus:
    reaches_other_processes = True

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._receivers: dict[str, list[Receiver]] = {}
        self._driver: Any = None  # the listening asyncpg connection, while there is one
        self._hearing = asyncio.Event()
        self._tried = asyncio.Event()  # the listener's first attempt is over
        self._listener: asyncio.Task[None] | None = None

    @property
    def hearing(self) -> bool:
        return self._hearing.is_set()

    async def publish(self, channel: str, message: bytes) -> None:
        if len(message) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"A message on PostgreSQL's bus is at most {MAX_PAYLOAD_BYTES} bytes")
        async with self._engine.connect() as connection:
            await connection.execute(NOTIFY, {"channel": channel, "message": message.decode()})
            await connection.commit()

    async def subscribe(self, channel: str, receive: Receiver) -> None:
        first = channel not in self._receivers
        self._receivers.setdefault(channel, []).append(receive)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="postgres-bus")
        elif first and self._driver is not None:
            await self._driver.add_listener(channel, self._notified)
        # Returns once the first attempt to listen is over: the subscription is in place, or the
        # database did not answer (the listener keeps trying).
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

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        deliver(self._receivers.get(channel, []), channel, payload.encode())

    async def _listen_forever(self) -> None:
        delay = RETRY_SECONDS[0]
        while True:
            try:
                async with self._listening() as lost:
                    delay = RETRY_SECONDS[0]
                    while not lost.is_set():
                        with suppress(TimeoutError):
                            async with asyncio.timeout(HEARTBEAT_SECONDS):
                                await lost.wait()
                        async with asyncio.timeout(HEARTBEAT_SECONDS):
                            await self._driver.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it was, the listener must go on
                self._tried.set()
                logger.warning("postgres_bus_deaf", reason=type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS[1])

    @asynccontextmanager
    async def _listening(self) -> AsyncIterator[asyncio.Event]:
        """A connection of the bus's own, listening on every channel with a receiver."""
        pooled = await self._engine.raw_connection()
        driver: Any = pooled.driver_connection  # asyncpg's, untyped
        pooled.detach()  # the pool will not hand it out again, nor count it
        lost = asyncio.Event()
        try:
            driver.add_termination_listener(lambda _connection: lost.set())
            for channel in self._receivers:
                await driver.add_listener(channel, self._notified)
            self._driver = driver
            self._hearing.set()
            self._tried.set()
            logger.info("postgres_bus_hearing")
            yield lost
        finally:
            self._hearing.clear()
            self._driver = None
            with suppress(Exception):
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await driver.close()
