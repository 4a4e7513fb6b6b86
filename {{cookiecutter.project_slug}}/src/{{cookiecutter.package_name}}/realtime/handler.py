"""What each client frame does on an authenticated connection, within its limits: the frame
size, a rate (GCRA: a burst of ``ws_message_burst``, then ``ws_messages_per_second``), the
rooms it may join."""

import time

import structlog
from fastapi import FastAPI
from pydantic import ValidationError

from ..config import Settings
from ..core.clock import utc_now
from ..core.field_errors import validation_details
from .auth import verified
from .connection import Connection
from .frames import (
    CLIENT_FRAMES,
    Authenticate,
    ClientFrame,
    CloseCode,
    Join,
    Joined,
    Leave,
    Left,
    Ping,
    Pong,
    RoomMessage,
    Send,
    ServerPong,
    error_frame,
)
from .hub import Hub, too_large

logger = structlog.get_logger(__name__)

PONG = ServerPong().model_dump_json()


class FrameHandler:
    """One connection's frames: each refused (and why, in an error frame) or acted on."""

    def __init__(self, app: FastAPI, hub: Hub, settings: Settings) -> None:
        self.app = app
        self.hub = hub
        self.settings = settings
        self._interval = 1 / settings.ws_messages_per_second
        self._tolerance = self._interval * (settings.ws_message_burst - 1)
        self._arrival = 0.0
        self._strikes = 0

    async def handle(self, connection: Connection, data: str | bytes) -> None:
        size = len(data.encode()) if isinstance(data, str) else len(data)
        if size > self.settings.ws_max_message_bytes:
            connection.close(CloseCode.MESSAGE_TOO_BIG, "Frame too big")
        elif not self._allowed():
            self._refuse(connection)
        else:
            try:
                frame = CLIENT_FRAMES.validate_json(data)
            except ValidationError as exc:
                connection.send(_error("VALIDATION_ERROR", "The frame is invalid", exc))
            else:
                await self._act_on(connection, frame)

    async def _act_on(self, connection: Connection, frame: ClientFrame) -> None:
        match frame:
            case Join():
                self._join(connection, frame.room)
            case Leave():
                self.hub.leave(connection, frame.room)
                connection.send(Left(room=frame.room).model_dump_json())
            case Send():
                await self._send(connection, frame)
            case Authenticate():
                await self._reauthenticate(connection, frame.token)
            case Ping():
                connection.send(PONG)
            case Pong():
                pass  # hearing it was the point (Connection.last_heard)

    def _allowed(self) -> bool:
        now = time.monotonic()
        arrival = max(self._arrival, now)
        if arrival - now > self._tolerance:
            return False
        self._arrival = arrival + self._interval
        self._strikes = 0
        return True

    def _refuse(self, connection: Connection) -> None:
        self._strikes += 1
        if self._strikes >= self.settings.ws_rate_limit_strikes:
            connection.close(CloseCode.POLICY_VIOLATION, "Too many frames")
            return
        wait = max(self._arrival - time.monotonic() - self._tolerance, 0.0)
        message = "Too many frames; slow down"
        connection.send(error_frame("RATE_LIMITED", message, retry_after_ms=round(wait * 1000)))

    def _join(self, connection: Connection, room: str) -> None:
        limit = self.settings.ws_max_rooms_per_connection
        if room not in connection.rooms and len(connection.rooms) >= limit:
            connection.send(error_frame("TOO_MANY_ROOMS", f"At most {limit} rooms", room=room))
            return
        self.hub.join(connection, room)
        connection.send(Joined(room=room).model_dump_json())

    async def _send(self, connection: Connection, frame: Send) -> None:
        if frame.room not in connection.rooms:
            connection.send(error_frame("NOT_IN_ROOM", "Join the room first", room=frame.room))
            return
        message = RoomMessage(
            room=frame.room, sender_id=connection.user_id, data=frame.data, sent_at=utc_now()
        ).model_dump_json()  # written once: measured, published and delivered as it is
        limit = self.settings.ws_max_message_bytes
        if too_large(message, limit):  # its data written out again may be longer
            connection.send(
                error_frame("MESSAGE_TOO_LARGE", f"At most {limit} bytes", room=frame.room)
            )
            return
        try:
            await self.hub.to_room(frame.room, message)
        except Exception as exc:
            logger.warning("realtime_send_failed", reason=type(exc).__name__)
            connection.send(
                error_frame("SERVICE_UNAVAILABLE", "Not sent; try again", room=frame.room)
            )

    async def _reauthenticate(self, connection: Connection, token: str) -> None:
        """A fresh token for the same user replaces the connection's (before the old expires)."""
        checked = await verified(self.app, token)
        if isinstance(checked, tuple) or checked.subject != connection.user_id:
            connection.send(error_frame("UNAUTHORIZED", "The token is invalid or expired"))
            return
        connection.renew(checked, token)


def _error(code: str, message: str, exc: ValidationError) -> str:
    details = validation_details(exc.errors(include_input=False, include_url=False))
    return error_frame(code, message, **details)
