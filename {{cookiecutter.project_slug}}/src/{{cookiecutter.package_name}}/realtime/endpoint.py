"""The WebSocket endpoint: a connection is checked (auth.py) before it joins the hub, then its
frames go to a FrameHandler (handler.py) and the hub's frames to it, until either side closes.

The route serves ``Events``, a plain ASGI app rather than a FastAPI endpoint function, so that
the connection holds the ASGI ``send`` and writes its frames there (connection.py says why);
the handshake, the reads and the close still go through Starlette's ``WebSocket``. Being a plain
route, it runs no FastAPI dependencies (a router's ``dependencies=`` would not reach it; the
checks are made here) and, with tracing on, has the server span of the connection but not
FastAPI's dependency and endpoint spans."""

import asyncio
from typing import cast

from fastapi import FastAPI, WebSocket
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from ..config import Settings
from .auth import BEARER, Refusal, origin_allowed, token_from_subprotocols, verified
from .connection import Connection
from .frames import CLIENT_FRAMES, Authenticate, CloseCode, Welcome
from .handler import FrameHandler
from .hub import Hub


def hub_of(app: FastAPI) -> Hub:
    return cast(Hub, app.state.realtime_hub)


class Events:
    """Signed-in users' events: their items' changes and the rooms they join (frames.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await events(WebSocket(scope, receive, send), send)


async def events(websocket: WebSocket, send: Send) -> None:
    """Serve *websocket*, made with the ASGI *send* that its frames are written to."""
    app: FastAPI = websocket.app
    settings: Settings = app.state.settings
    if not origin_allowed(websocket, settings.cors_origins):
        # Before the handshake completes: the browser of a cross-site page gets nothing.
        await websocket.close(CloseCode.POLICY_VIOLATION, "Origin not allowed")
        return
    token = token_from_subprotocols(websocket.scope.get("subprotocols", []))
    if token is not None:
        checked = await verified(app, token)  # before the handshake completes
        await websocket.accept(subprotocol=BEARER)
    else:
        await websocket.accept()
        token = await _first_frame_token(websocket, settings)
        if token is None:
            return
        checked = await verified(app, token)
    if isinstance(checked, tuple):
        await _refuse(websocket, checked)
        return
    hub = hub_of(app)
    connection = Connection(
        websocket, send, checked, token, queue_frames=settings.ws_send_queue_frames
    )
    if not hub.admit(connection):
        await _refuse(websocket, (CloseCode.POLICY_VIOLATION, "Too many connections"))
        return
    try:
        welcome = Welcome(user_id=checked.subject, heartbeat_seconds=settings.ws_heartbeat_seconds)
        connection.send(welcome.model_dump_json())
        await connection.run(FrameHandler(app, hub, settings).handle)
    finally:
        hub.remove(connection)


async def _refuse(websocket: WebSocket, refusal: Refusal) -> None:
    code, reason = refusal
    await websocket.close(code, reason)


async def _first_frame_token(websocket: WebSocket, settings: Settings) -> str | None:
    """The token of the first frame; None (and the connection closed) without one in time."""
    try:
        async with asyncio.timeout(settings.ws_auth_timeout_seconds):
            message = await websocket.receive()
    except TimeoutError:
        await _refuse(websocket, (CloseCode.POLICY_VIOLATION, "Authenticate first"))
        return None
    if message["type"] == "websocket.disconnect":
        return None
    data = message.get("text") or message.get("bytes") or b""
    if len(data.encode() if isinstance(data, str) else data) > settings.ws_max_message_bytes:
        await _refuse(websocket, (CloseCode.MESSAGE_TOO_BIG, "Frame too big"))
        return None
    try:
        frame = CLIENT_FRAMES.validate_json(data)
    except ValidationError:
        frame = None
    if not isinstance(frame, Authenticate):
        await _refuse(websocket, (CloseCode.POLICY_VIOLATION, "Authenticate first"))
        return None
    return frame.token
