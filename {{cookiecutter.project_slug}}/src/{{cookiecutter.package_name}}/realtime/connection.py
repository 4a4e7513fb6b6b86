"""One client's WebSocket once it is authenticated: a bounded queue of frames to send, written
by a task of its own, so a slow reader fills only its own queue (and is closed when it is full)
and never holds up whoever is delivering to everyone else."""

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..core.security import TokenClaims
from .frames import CloseCode

logger = structlog.get_logger(__name__)

# How long the closing handshake may take before the connection is simply dropped.
CLOSE_TIMEOUT_SECONDS = 1.0


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        claims: TokenClaims,
        token: str,
        *,
        queue_frames: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.websocket = websocket
        self.claims = claims
        self.token = token  # checked again when the user's access changes
        self.rooms: set[str] = set()
        self.clock = clock
        self.last_heard = self.last_pinged = clock()
        self.close_code: CloseCode | None = None
        # A deque and an event, not an asyncio.Queue: queueing is on the path of every frame
        # to every client, and this costs a fraction of the Queue's bookkeeping.
        self._queue: deque[str] = deque()
        self._queue_frames = queue_frames
        self._queued = asyncio.Event()
        self._closed = asyncio.Event()
        self._close_reason = ""
        self._peer_left = False

    @property
    def user_id(self) -> uuid.UUID:
        return self.claims.subject

    def send(self, frame: str) -> None:
        """Queue a frame (JSON text); a full queue closes the connection with 1013."""
        if self.close_code is not None:
            return
        if len(self._queue) >= self._queue_frames:
            self.close(CloseCode.TRY_AGAIN_LATER, "You read too slowly; connect again")
            return
        self._queue.append(frame)
        self._queued.set()

    def close(self, code: CloseCode, reason: str) -> None:
        """Close with *code*; what is still queued is not sent. The first call wins."""
        if self.close_code is None:
            self.close_code, self._close_reason = code, reason
            self._closed.set()

    async def run(self, receive: Callable[["Connection", str | bytes], Awaitable[None]]) -> None:
        """Read frames (each handed to *receive*) and write queued ones until either side
        closes; then send the close frame, if it is the server that closes."""
        reader = asyncio.create_task(self._read(receive))
        writer = asyncio.create_task(self._write())
        try:
            await self._closed.wait()
        finally:
            for task in (reader, writer):
                task.cancel()
            await asyncio.gather(reader, writer, return_exceptions=True)
            if not self._peer_left and self.close_code is not None:
                with suppress(Exception):
                    async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                        await self.websocket.close(self.close_code, self._close_reason)

    async def _read(self, receive: Callable[["Connection", str | bytes], Awaitable[None]]) -> None:
        try:
            while True:
                try:
                    message = await self.websocket.receive()
                except (WebSocketDisconnect, RuntimeError, OSError):
                    message = {"type": "websocket.disconnect"}
                if message["type"] == "websocket.disconnect":
                    self._peer_left = self.close_code is None
                    return
                self.last_heard = self.clock()
                data = message.get("text")
                await receive(self, data if data is not None else message.get("bytes") or b"")
        except Exception:  # a bug in a frame's handling: say so, and close cleanly
            logger.exception("realtime_frame_failed")
            self.close(CloseCode.INTERNAL_ERROR, "Internal error")
        finally:
            self._closed.set()

    async def _write(self) -> None:
        try:
            while True:
                if not self._queue:
                    self._queued.clear()
                    await self._queued.wait()
                    continue
                await self.websocket.send_text(self._queue.popleft())
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._peer_left = self.close_code is None
            self._closed.set()
