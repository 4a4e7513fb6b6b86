"""The WebSocket endpoint: who may connect, and what each client frame does.

Browsers cannot set an Authorization header on a WebSocket, and a token in the URL would land
in proxy logs, so the access token comes in the ``Sec-WebSocket-Protocol`` header (offer
``bearer`` and the token as two subprotocols; the server answers ``bearer``), or in the first
frame (``{"type": "authenticate", "token": ...}``). Nothing reaches or leaves the connection
before the token is verified; a bad one closes it with 1008.
"""

import asyncio
import time
from typing import cast
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, WebSocket
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..core.clock import utc_now
from ..core.errors import AuthenticationError, validation_details
from ..core.security import TokenClaims, TokenType
from ..dependencies import app_resources
from ..features.auth.dependencies import auth_service_for
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
    Welcome,
    error_frame,
)
from .hub import Hub

logger = structlog.get_logger(__name__)

BEARER = "bearer"
PONG = ServerPong().model_dump_json()


def hub_of(app: FastAPI) -> Hub:
    return cast(Hub, app.state.realtime_hub)


async def events(websocket: WebSocket) -> None:
    """Signed-in users' events: their items' changes and the rooms they join (frames.py)."""
    settings: Settings = websocket.app.state.settings
    if not origin_allowed(websocket, settings.cors_origins):
        # Before the handshake completes: the browser of a cross-site page gets nothing.
        await websocket.close(CloseCode.POLICY_VIOLATION, "Origin not allowed")
        return
    token = token_from_subprotocols(websocket.scope.get("subprotocols", []))
    await websocket.accept(subprotocol=BEARER if token is not None else None)
    if token is None:
        token = await _first_frame_token(websocket, settings.ws_auth_timeout_seconds)
        if token is None:
            return
    try:
        claims = await authenticate(websocket.app, token)
    except AuthenticationError as exc:
        await websocket.close(CloseCode.POLICY_VIOLATION, exc.message)
        return
    except SQLAlchemyError:
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "The service is unavailable")
        return
    hub = hub_of(websocket.app)
    connection = Connection(websocket, claims, queue_frames=settings.ws_send_queue_frames)
    if not hub.admit(connection):
        await websocket.close(CloseCode.POLICY_VIOLATION, "Too many connections")
        return
    try:
        welcome = Welcome(user_id=claims.subject, heartbeat_seconds=settings.ws_heartbeat_seconds)
        connection.send(welcome.model_dump_json())
        await connection.run(FrameHandler(websocket.app, hub, settings).handle)
    finally:
        hub.remove(connection)


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """No Origin (not a browser), the page's own origin, or one of CORS_ORIGINS."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host")


def token_from_subprotocols(subprotocols: list[str]) -> str | None:
    """The token offered after ``bearer`` (``Sec-WebSocket-Protocol: bearer, <token>``)."""
    if BEARER in subprotocols:
        position = subprotocols.index(BEARER)
        if position + 1 < len(subprotocols):
            return subprotocols[position + 1]
    return None


async def _first_frame_token(websocket: WebSocket, seconds: float) -> str | None:
    """The token of the first frame; None (and the connection closed) without one in time."""
    try:
        async with asyncio.timeout(seconds):
            message = await websocket.receive()
    except TimeoutError:
        await websocket.close(CloseCode.POLICY_VIOLATION, "Authenticate first")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = CLIENT_FRAMES.validate_json(message.get("text") or message.get("bytes") or b"")
    except ValidationError:
        frame = None
    if not isinstance(frame, Authenticate):
        await websocket.close(CloseCode.POLICY_VIOLATION, "Authenticate first")
        return None
    return frame.token


async def authenticate(app: FastAPI, token: str) -> TokenClaims:
    """The claims of a valid access token of an active user (as every request is checked)."""
    resources = app_resources(app)
    async with resources.read_session_factory() as session:
        await auth_service_for(app, session).authenticate(token)
    return resources.token_codec.decode(token, TokenType.ACCESS)


class FrameHandler:
    """What a connection's frames do, with the per-connection rate limit (GCRA: a burst of
    ``ws_message_burst``, then ``ws_messages_per_second``)."""

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
        frame = error_frame("RATE_LIMITED", message, retry_after_ms=round(wait * 1000))
        connection.send(frame.model_dump_json())

    def _join(self, connection: Connection, room: str) -> None:
        limit = self.settings.ws_max_rooms_per_connection
        if room not in connection.rooms and len(connection.rooms) >= limit:
            frame = error_frame("TOO_MANY_ROOMS", f"At most {limit} rooms", room=room)
            connection.send(frame.model_dump_json())
            return
        self.hub.join(connection, room)
        connection.send(Joined(room=room).model_dump_json())

    async def _send(self, connection: Connection, frame: Send) -> None:
        if frame.room not in connection.rooms:
            error = error_frame("NOT_IN_ROOM", "Join the room first", room=frame.room)
            connection.send(error.model_dump_json())
            return
        message = RoomMessage(
            room=frame.room, sender_id=connection.user_id, data=frame.data, sent_at=utc_now()
        )
        try:
            await self.hub.to_room(frame.room, message)
        except Exception as exc:
            logger.warning("realtime_send_failed", reason=type(exc).__name__)
            error = error_frame("SERVICE_UNAVAILABLE", "Not sent; try again", room=frame.room)
            connection.send(error.model_dump_json())

    async def _reauthenticate(self, connection: Connection, token: str) -> None:
        """A fresh token for the same user replaces the connection's (before the old expires)."""
        try:
            claims = await authenticate(self.app, token)
        except (AuthenticationError, SQLAlchemyError):
            claims = None
        if claims is None or claims.subject != connection.user_id:
            error = error_frame("UNAUTHORIZED", "The token is invalid or expired")
            connection.send(error.model_dump_json())
            return
        connection.claims = claims


def _error(code: str, message: str, exc: ValidationError) -> str:
    details = validation_details(exc.errors(include_input=False, include_url=False))
    return error_frame(code, message, **details).model_dump_json()
