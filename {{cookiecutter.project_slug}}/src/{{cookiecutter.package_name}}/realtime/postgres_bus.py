"""A message bus on PostgreSQL's LISTEN/NOTIFY, for bakes with no other shared bus: every
process that uses the database hears every other.

Each process listens on one connection of its own, taken out of the engine's pool for good;
it pings that connection after ``HEARTBEAT_SECONDS`` and connects again when it is lost
(core/bus.py, ListeningBus). Messages published meanwhile are not heard (the bus delivers at
most once). A NOTIFY payload is at most 8000 bytes.

A process that listens also publishes on that connection: one round trip outside any
transaction, where a pooled session takes a checkout, begin, ``pg_notify`` and commit (several
times the CPU; the template's bench/README.md). One query runs on it at a time. A stalled link
holds a publish until the heartbeat gives up on the connection and drops it (about two
seconds), and ``PUBLISH_SECONDS`` bounds the wait in any case. While it is not listening, a
process publishes through the pool.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.bus import ListeningBus

HEARTBEAT_SECONDS = 1.0
PUBLISH_SECONDS = 5.0
MAX_PAYLOAD_BYTES = 7999
NOTIFY = text("SELECT pg_notify(:channel, :message)")
NOTIFY_ON_DRIVER = "SELECT pg_notify($1, $2)"


class PostgresBus(ListeningBus):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__("postgres-bus")
        self._engine = engine
        self._driver: Any = None  # the listening asyncpg connection, while there is one
        self._driver_busy = asyncio.Lock()  # asyncpg runs one query at a time on a connection

    async def publish(self, channel: str, message: bytes) -> None:
        if len(message) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"A message on PostgreSQL's bus is at most {MAX_PAYLOAD_BYTES} bytes")
        payload = message.decode()
        if self._driver is not None:
            async with asyncio.timeout(PUBLISH_SECONDS), self._driver_busy:
                driver = self._driver  # still the one listening, now that it is our turn
                if driver is not None and not driver.is_closed():
                    await driver.execute(NOTIFY_ON_DRIVER, channel, payload)
                    return
        async with self._engine.connect() as connection:
            await connection.execute(NOTIFY, {"channel": channel, "message": payload})
            await connection.commit()

    async def _listen_to(self, channel: str) -> None:
        if self._driver is not None:
            async with self._driver_busy:
                await self._driver.add_listener(channel, self._notified)

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        self._deliver(channel, payload.encode())

    async def _listen(self) -> None:
        async with self._listening() as lost:
            await self._heard()
            while not lost.is_set():
                with suppress(TimeoutError):
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        await lost.wait()
                async with asyncio.timeout(HEARTBEAT_SECONDS), self._driver_busy:
                    await self._driver.execute("SELECT 1")

    @asynccontextmanager
    async def _listening(self) -> AsyncIterator[asyncio.Event]:
        """A connection of the bus's own, listening on every channel with a receiver; the
        event is set when the connection is lost."""
        pooled = await self._engine.raw_connection()
        driver: Any = pooled.driver_connection  # asyncpg's, untyped
        pooled.detach()  # the pool will not hand it out again, nor count it
        lost = asyncio.Event()
        try:
            driver.add_termination_listener(lambda _connection: lost.set())
            for channel in self._receivers:
                await driver.add_listener(channel, self._notified)
            self._driver = driver
            yield lost
        finally:
            self._driver = None
            with suppress(Exception):
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await driver.close()
            if not driver.is_closed():  # a stalled link: drop it, failing what still waits on it
                driver.terminate()
