"""This process's WebSocket connections and the fan-out that reaches every process's.

Whatever is sent to a user or a room is published on the message bus (core/bus.py) and
delivered by each process's hub to the connections it holds: a client connected to any worker
gets what any worker sends. On the bus a message is a header line (``users <id> <id>...`` or
``room <name>``) and the frame's JSON, which is serialised once and sent as it is. With tracing
on, the kind carries the publishing span (``room@<traceparent> <name>``): the process that
delivers the message continues the publisher's trace. (A process of a release before this one
does not know that kind and drops the message, during a rolling update with tracing on.)

The hub also watches its connections (``sweep``): a connection whose access token was revoked or
has expired is closed with 1008 within ``SWEEP_SECONDS`` (half the heartbeat, if that is
shorter), one that has been silent too long with 4408, and each is pinged every
``ws_heartbeat_seconds``.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import structlog
from opentelemetry.trace import Tracer

from ..core.bus import MessageBus
from ..core.tracing import remote_parent, span, traceparent
from ..features.auth.revocation import RevokedTokens
from .connection import Connection, text_message
from .frames import CloseCode, Frame, ServerPing
from .settings import RealtimeSettings

logger = structlog.get_logger(__name__)

CHANNEL = "realtime"
SWEEP_SECONDS = 0.25
# Item events waiting to be published (a bus that has stalled drops those over it).
MAX_PENDING_EVENTS = 10_000
SHUTDOWN_SECONDS = 1.0
PING = ServerPing().model_dump_json()
Check = Callable[[str], Awaitable["tuple[CloseCode, str] | None"]]


class Hub:
    def __init__(
        self,
        settings: RealtimeSettings,
        bus: MessageBus,
        revoked: RevokedTokens,
        *,
        check: Check | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        tracer: Tracer | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.revoked = revoked
        self.clock = clock
        self.wall_clock = wall_clock  # what token expiry is measured against
        self.check = check  # a token's refusal (code, reason), or None while it is valid
        self.tracer = tracer  # with tracing on: a span per event published and delivered
        self._rechecks: set[asyncio.Task[None]] = set()
        self._by_user: dict[uuid.UUID, set[Connection]] = {}
        self._rooms: dict[str, set[Connection]] = {}
        # Item events from commits, published in commit order.
        self._last_event: asyncio.Task[None] | None = None
        self._events_pending = 0

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

    def members(self, room: str) -> set[Connection]:
        return set(self._rooms.get(room, ()))

    def connections(self) -> Iterable[Connection]:
        return [connection for held in self._by_user.values() for connection in held]

    def recheck_soon(self, user_id: uuid.UUID) -> None:
        """The user's access changed (deactivated, a new role): check each of their
        connections' tokens again, and close those no longer valid with 1008."""
        held = list(self._by_user.get(user_id, ()))
        if held and self.check is not None:
            task = asyncio.get_running_loop().create_task(self._recheck(held, self.check))
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    async def _recheck(self, held: list[Connection], check: Check) -> None:
        for connection in held:
            refusal = await check(connection.token)
            if refusal is not None:
                connection.close(*refusal)

    # Sending: through the bus, so that every process delivers to the connections it holds.

    async def to_room(self, room: str, frame: str) -> None:
        """Send *frame* (a frame's JSON, as ``model_dump_json`` writes it) to the room's members
        on every process."""
        with span(self.tracer, "realtime publish", _span_attributes("publish", "room")):
            await self.bus.publish(CHANNEL, self._traced(_message(f"room {room}", frame)))

    def to_users_soon(self, user_ids: Iterable[uuid.UUID], frame: Frame) -> None:
        """Send *frame* to the users' connections on every process, for callers that cannot
        await (a commit's event): published by a task, after the ones before it (the events of
        one item arrive in the order of its commits)."""
        if self._events_pending >= MAX_PENDING_EVENTS:
            logger.warning("realtime_event_dropped", reason="too many pending")
            return
        header = f"users {' '.join(map(str, user_ids))}"  # receive() reads it
        message = _message(header, frame.model_dump_json())
        self._events_pending += 1
        self._last_event = asyncio.get_running_loop().create_task(
            self._publish_after(self._last_event, message)
        )

    async def _publish_after(self, previous: "asyncio.Task[None] | None", message: bytes) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
            with span(self.tracer, "realtime publish", _span_attributes("publish", "users")):
                await self.bus.publish(CHANNEL, self._traced(message))
        except Exception as exc:  # at most once: an event the bus cannot take is dropped
            logger.warning("realtime_event_dropped", reason=type(exc).__name__)
        finally:
            self._events_pending -= 1

    def _traced(self, message: bytes) -> bytes:
        """*message* with the current span after its kind, with tracing on."""
        publishing = None if self.tracer is None else traceparent()
        if publishing is None:
            return message
        kind, _, rest = message.partition(b" ")
        return b"%s@%s %s" % (kind, publishing.encode(), rest)

    def receive(self, message: bytes) -> None:
        """What the bus delivers: hand the frame to this process's connections it is for."""
        header, _, frame = message.partition(b"\n")
        kind, _, target = header.decode().partition(" ")
        kind, _, published_in = kind.partition("@")
        parent = remote_parent(published_in) if published_in and self.tracer else None
        with span(
            self.tracer, "realtime deliver", _span_attributes("process", kind), parent=parent
        ):
            self._deliver(kind, target, frame)

    def _deliver(self, kind: str, target: str, frame: bytes) -> None:
        if kind == "room":
            self.deliver_to_room(target, frame.decode())
        elif kind == "users":
            self.deliver_to_users(
                [uuid.UUID(user_id) for user_id in target.split()], frame.decode()
            )

    def deliver_to_room(self, room: str, frame: str) -> None:
        """Send *frame* (JSON) to this process's connections in *room*."""
        # One message for all; the members listed first, so that the loop between the writes
        # reads a compact list rather than a set's sparse table.
        message = text_message(frame)
        for connection in list(self._rooms.get(room, ())):
            connection.send_message(message)

    def deliver_to_users(self, user_ids: Iterable[uuid.UUID], frame: str) -> None:
        message = text_message(frame)
        for user_id in user_ids:
            for connection in self._by_user.get(user_id, ()):  # a few per user
                connection.send_message(message)

    # Running.

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen on the bus and sweep while the app runs; at the end, close every connection
        with 1001."""
        await self.bus.subscribe(CHANNEL, self.receive)
        sweeper = asyncio.create_task(self._sweep_forever(), name="realtime-sweep")
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            if self._last_event is not None:  # the last commits' events still go out
                await asyncio.wait([self._last_event], timeout=SHUTDOWN_SECONDS)
            if self._rechecks:  # their sessions close before the engine does
                await asyncio.wait(self._rechecks, timeout=SHUTDOWN_SECONDS)
                for task in self._rechecks:
                    task.cancel()
                await asyncio.gather(*self._rechecks, return_exceptions=True)
            for connection in self.connections():
                connection.close(CloseCode.GOING_AWAY, "The server is shutting down")

    async def _sweep_forever(self) -> None:
        while True:
            # At most a quarter of a second; oftener when the heartbeat is shorter than two.
            await asyncio.sleep(min(SWEEP_SECONDS, self.settings.ws_heartbeat_seconds / 2))
            try:
                self.sweep()
            except Exception:  # the next sweep tries again; this must not go unseen
                logger.exception("realtime_sweep_failed")

    def sweep(self) -> None:
        """Close what must close, ping what is due."""
        now = self.clock()
        wall_now = self.wall_clock()
        heartbeat = self.settings.ws_heartbeat_seconds
        idle_timeout = self.settings.ws_idle_timeout_seconds
        for connection in self.connections():
            if self.revoked.is_revoked(connection.claims):
                connection.close(CloseCode.POLICY_VIOLATION, "The access token was revoked")
            elif connection.expires_at <= wall_now:
                connection.close(CloseCode.POLICY_VIOLATION, "The access token expired")
            elif now - connection.last_heard >= idle_timeout:
                connection.close(CloseCode.HEARTBEAT_MISSED, "Nothing heard from you")
            elif now - connection.last_pinged >= heartbeat:
                connection.last_pinged = now
                connection.send(PING)


def _span_attributes(operation: str, kind: str) -> dict[str, str]:
    """OpenTelemetry's messaging attributes, and whom the event is for (a room, users)."""
    return {
        "messaging.system": "realtime",
        "messaging.operation.type": operation,
        "messaging.destination.name": CHANNEL,
        "realtime.target": kind,
    }


def _message(header: str, frame: str) -> bytes:
    return f"{header}\n{frame}".encode()


def too_large(frame: str, limit: int) -> bool:
    """Whether *frame* (its JSON) is over *limit* bytes (a PostgreSQL bus takes 8 KB at most)."""
    return len(frame.encode()) > limit
