"""One client's WebSocket once it is authenticated. A frame is written at once while the client
keeps up; when a write has to wait for the client to read, later frames wait in a bounded queue
of its own (a full queue closes it with 1013), so a slow reader never holds up whoever is
delivering to everyone else.

A frame travels as the ASGI message that writes it (``text_message``): a fan-out builds it once
and hands the same one to every connection, which the server only reads. It goes to the ASGI
``send`` the route was called with (the server's, behind Starlette's exception middleware), not
through ``WebSocket.send``: that would check the connection's state on each frame, which the
connection tracks itself (nothing is sent once either side has closed), and on a fan-out to a
thousand connections that check, one more coroutine per frame, is a share of each delivery
that a bare loop does not pay twice (the template's bench/README.md). Reading and closing go
through the ``WebSocket``."""

import asyncio
import time
import types
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from contextlib import suppress
from typing import Any

import structlog
from starlette.types import Message, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..core.security import TokenClaims
from .frames import CloseCode

logger = structlog.get_logger(__name__)

# How long the closing handshake may take before the connection is simply dropped.
CLOSE_TIMEOUT_SECONDS = 1.0


# What a write's first step returns when the write is done (an awaitable may yield None).
_WRITTEN = object()


class Connection:
    # A fan-out reads a few attributes of every connection: slots keep them in the object itself
    # (a plain instance keeps its attributes in a second allocation, one more memory read each).
    __slots__ = (
        "_close_reason",
        "_closed",
        "_peer_left",
        "_queue",
        "_queue_frames",
        "_send",
        "_writer",
        "claims",
        "clock",
        "close_code",
        "expires_at",
        "last_heard",
        "last_pinged",
        "rooms",
        "token",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        send: Send,
        claims: TokenClaims,
        token: str,
        *,
        queue_frames: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.websocket = websocket  # read from and closed
        self._send = send  # the ASGI send that *websocket* was made with: frames go there
        self.renew(claims, token)
        self.rooms: set[str] = set()
        self.clock = clock
        self.last_heard = self.last_pinged = clock()
        self.close_code: CloseCode | None = None
        self._queue: deque[Message] = deque()
        self._queue_frames = queue_frames
        # The task finishing a write that waits for the client, and what queues behind it.
        self._writer: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._close_reason = ""
        self._peer_left = False

    @property
    def user_id(self) -> uuid.UUID:
        return self.claims.subject

    def renew(self, claims: TokenClaims, token: str) -> None:
        """Go on under *token* (its *claims* checked): the first, or a fresh one of the same
        user that replaces it before it expires."""
        self.claims = claims
        self.expires_at = claims.expires_at.timestamp()  # the hub's sweep reads it, often
        self.token = token  # checked again when the user's access changes

    def send(self, frame: str) -> None:
        """Send a frame (JSON text), as ``send_message`` does."""
        self.send_message(text_message(frame))

    def send_message(self, message: Message) -> None:
        """Send a frame's ASGI message, as ``text_message`` builds it (nothing on the way
        changes it, so one message may go to many connections). It is written now, unless an
        earlier write is waiting for the client to read; then it is queued behind that, and a
        full queue closes the connection with 1013."""
        if self.close_code is not None or self._peer_left:
            return
        if self._writer is not None:
            if len(self._queue) >= self._queue_frames:
                self.close(CloseCode.TRY_AGAIN_LATER, "You read too slowly; connect again")
                return
            self._queue.append(message)
            return
        # The write's first step runs here: for a client that keeps up it is the whole write
        # (the server's buffer takes the frame), as cheap as the plain loop's await. Only a
        # write that waits gets a task, which finishes it and then writes what queued meanwhile.
        # (``next`` with a default takes the step without the StopIteration that ``send(None)``
        # raises at the end of every write.)
        write = self._send(message).__await__()
        try:
            waiting_on = next(write, _WRITTEN)
        except Exception as exc:  # sorted out by _write_failed
            self._write_failed(exc)
            return
        if waiting_on is _WRITTEN:
            return
        # Eager: the task takes the waiting write over at once, so a close that comes before
        # the loop runs it still cancels the write (rather than leave it to the collector).
        self._writer = asyncio.Task(
            self._write_queued(write, waiting_on),
            loop=asyncio.get_running_loop(),
            eager_start=True,
        )

    def close(self, code: CloseCode, reason: str) -> None:
        """Close with *code*; what is still queued is not sent. The first call wins."""
        if self.close_code is None:
            self.close_code, self._close_reason = code, reason
            self._closed.set()

    async def run(self, receive: Callable[["Connection", str | bytes], Awaitable[None]]) -> None:
        """Read frames (each handed to *receive*) and write queued ones until either side
        closes; then send the close frame, if it is the server that closes."""
        reader = asyncio.create_task(self._read(receive))
        try:
            await self._closed.wait()
        finally:
            tasks = [reader] if self._writer is None else [reader, self._writer]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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

    async def _write_queued(self, write: Generator[Any, Any, None], waiting_on: object) -> None:
        """Finish *write*, which waits on *waiting_on*, then write what is queued, in order,
        until nothing is (or the connection closes)."""
        try:
            await _resumed(write, waiting_on)
            while self._queue and self.close_code is None:
                await self._send(self._queue.popleft())
        except Exception as exc:  # sorted out by _write_failed
            self._write_failed(exc)
        finally:
            self._writer = None

    def _write_failed(self, exc: Exception) -> None:
        # A server says the peer is gone with an OSError (uvicorn's ClientDisconnected), or
        # with a RuntimeError once it has seen the connection close.
        if isinstance(exc, RuntimeError | OSError):
            self._peer_left = self.close_code is None
            self._closed.set()
        else:  # a bug on the way out: say so, and close cleanly
            logger.error("realtime_send_failed", exc_info=exc)
            self.close(CloseCode.INTERNAL_ERROR, "Internal error")


def text_message(frame: str) -> Message:
    """The ASGI message that writes *frame* as a text frame (what ``send_text`` builds)."""
    return {"type": "websocket.send", "text": frame}


@types.coroutine
def _resumed(
    steps: Generator[Any, Any, None], waiting_on: object
) -> Generator[object, object, None]:
    """Await the rest of an awaitable's *steps* (its ``__await__``), whose first step was run
    by hand and yielded *waiting_on* (the future it waits for): what ``await`` does after that
    step, as PEP 380 has it, so the task awaiting this sees the same futures, exceptions and
    cancellation (the result, None for an ASGI send, is dropped)."""
    yielded = waiting_on
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            steps.close()
            raise
        except BaseException as exc:  # thrown in (a cancellation): pass it on
            try:
                yielded = steps.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = steps.send(sent)
            except StopIteration:
                return
