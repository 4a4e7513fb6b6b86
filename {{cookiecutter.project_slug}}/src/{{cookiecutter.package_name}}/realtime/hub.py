"""This process's WebSocket connections and the fan-out that reaches every process's.

Whatever is sent to a user or a room is published on the message bus (core/bus.py) and
delivered by each process's hub to the connections it holds: a client connected to any worker
gets what any worker sends. On the bus a message is a header line (``users <id> <id>...`` or
``room <name>``) and the frame's JSON, which is serialised once and sent as it is.

The hub also watches its connections (``sweep``): a connection whose access token was revoked or
has expired is closed with 1008 within ``SWEEP_SECONDS``, one that has been silent too long with
4408, and each is pinged every ``ws_heartbeat_seconds``.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress

import structlog

from ..core.bus import MessageBus
from ..features.auth.revocation import RevokedTokens
from .connection import Connection
from .frames import CloseCode, Frame, ServerPing
from .settings import RealtimeSettings

logger = structlog.get_logger(__name__)

CHANNEL = "realtime"
SWEEP_SECONDS = 0.25
# Frames waiting to go out on the bus, from commits (item events) that cannot await.
MAX_OUTBOX = 10_000
PING = ServerPing().model_dump_json()


class Hub:
    def __init__(
        self,
        settings: RealtimeSettings,
        bus: MessageBus,
        revoked: RevokedTokens,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.revoked = revoked
        self.clock = clock
        self._by_user: dict[uuid.UUID, set[Connection]] = {}
        self._rooms: dict[str, set[Connection]] = {}
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(MAX_OUTBOX)

    # Connections.

    def admit(self, connection: Connection) -> bool:
        """Hold *connection*, unless its user already has as many as allowed here."""
        held = self._by_user.setdefault(connection.user_id, set())
        if len(held) >= self.settings.ws_max_connections_per_user:
            return False
        held.add(connection)
        return True

    def remove(self, connection: Connection) -> None:
        held = self._by_user.get(connection.user_id, set())
        held.discard(connection)
        if not held:
            self._by_user.pop(connection.user_id, None)
        for room in list(connection.rooms):
            self.leave(connection, room)

    def join(self, connection: Connection, room: str) -> None:
        connection.rooms.add(room)
        self._rooms.setdefault(room, set()).add(connection)

    def leave(self, connection: Connection, room: str) -> None:
        connection.rooms.discard(room)
        members = self._rooms.get(room)
        if members is not None:
            members.discard(connection)
            if not members:
                del self._rooms[room]

    def connections(self) -> Iterable[Connection]:
        return [connection for held in self._by_user.values() for connection in held]

    # Sending: through the bus, so that every process delivers to the connections it holds.

    async def to_users(self, user_ids: Iterable[uuid.UUID], frame: Frame) -> None:
        await self.bus.publish(CHANNEL, _message(f"users {' '.join(map(str, user_ids))}", frame))

    async def to_room(self, room: str, frame: Frame) -> None:
        await self.bus.publish(CHANNEL, _message(f"room {room}", frame))

    def to_users_soon(self, user_ids: Iterable[uuid.UUID], frame: Frame) -> None:
        """``to_users`` for callers that cannot await (a commit's event); sent in order."""
        try:
            self._outbox.put_nowait(_message(f"users {' '.join(map(str, user_ids))}", frame))
        except asyncio.QueueFull:
            logger.warning("realtime_outbox_full")

    def receive(self, message: bytes) -> None:
        """What the bus delivers: hand the frame to this process's connections it is for."""
        header, _, frame = message.partition(b"\n")
        kind, _, target = header.decode().partition(" ")
        text = frame.decode()
        if kind == "room":
            for connection in self._rooms.get(target, ()):
                connection.send(text)
        elif kind == "users":
            for user_id in target.split():
                for connection in self._by_user.get(uuid.UUID(user_id), ()):
                    connection.send(text)

    # Running.

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen on the bus, send the outbox and sweep while the app runs; at the end, close
        every connection with 1001."""
        await self.bus.subscribe(CHANNEL, self.receive)
        tasks = [
            asyncio.create_task(self._send_outbox(), name="realtime-outbox"),
            asyncio.create_task(self._sweep_forever(), name="realtime-sweep"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for connection in self.connections():
                connection.close(CloseCode.GOING_AWAY, "The server is shutting down")

    async def _send_outbox(self) -> None:
        while True:
            message = await self._outbox.get()
            try:
                await self.bus.publish(CHANNEL, message)
            except Exception as exc:  # at most once: an event the bus cannot take is dropped
                logger.warning("realtime_event_dropped", reason=type(exc).__name__)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            with suppress(Exception):
                self.sweep()

    def sweep(self) -> None:
        """Close what must close, ping what is due."""
        now = self.clock()
        wall_now = time.time()
        heartbeat = self.settings.ws_heartbeat_seconds
        idle_timeout = self.settings.ws_idle_timeout_seconds
        for connection in self.connections():
            if self.revoked.is_revoked(connection.claims):
                connection.close(CloseCode.POLICY_VIOLATION, "The access token was revoked")
            elif connection.claims.expires_at.timestamp() <= wall_now:
                connection.close(CloseCode.POLICY_VIOLATION, "The access token expired")
            elif now - connection.last_heard >= idle_timeout:
                connection.close(CloseCode.HEARTBEAT_MISSED, "Nothing heard from you")
            elif now - connection.last_pinged >= heartbeat:
                connection.last_pinged = now
                connection.send(PING)


def _message(header: str, frame: Frame) -> bytes:
    return f"{header}\n{frame.model_dump_json()}".encode()
