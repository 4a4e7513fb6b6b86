"""Talking to the WebSocket endpoint the way a client does: real frames over loopback."""

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import jwt
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from {{ cookiecutter.package_name }}.core.clock import utc_now

from ..support import TEST_JWT_SECRET, login

PATH = "/api/v1/ws"
requires_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
)
WAIT_SECONDS = 2.0


def signed_token(
    user_id: uuid.UUID,
    claims: Mapping[str, object] | None = None,
    *,
    lifetime: timedelta = timedelta(minutes=5),
    secret: str = TEST_JWT_SECRET,
) -> str:
    """An access token of *user_id* made by hand, as the service signs them unless *claims*
    (replacing the valid ones) or *secret* say otherwise."""
    now = utc_now()
    valid = {"sub": str(user_id), "jti": str(uuid.uuid4()), "type": "access", "iat": now}
    return jwt.encode({**valid, "exp": now + lifetime, **(claims or {})}, secret, "HS256")


class Switchboard:
    """The ASGI app of the tests' one server: whichever app the running test put in ``app``
    (starting and stopping a uvicorn per test would cost more than most of the tests)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no app is being served"
        await self.app(scope, receive, send)


ServeWs = Callable[[FastAPI], AbstractAsyncContextManager[str]]


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """*app* (already started) behind a real uvicorn on a free loopback port; its ws:// URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_config=None, ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(WAIT_SECONDS):
        while not server.started:
            if task.done():
                task.result()  # the server's own error
            await asyncio.sleep(0.005)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def opened(
    url: str, token: str | None = None, *, subprotocols: Sequence[str] | None = None, **kwargs: Any
) -> Any:
    """A client connection, signed in with *token* through the Sec-WebSocket-Protocol header."""
    offered = subprotocols if subprotocols is not None else (["bearer", token] if token else None)
    return connect(url, subprotocols=offered, open_timeout=WAIT_SECONDS, **kwargs)  # type: ignore[arg-type]


async def next_frame(client: ClientConnection, *, skip: Sequence[str] = ("ping",)) -> Any:
    """The next frame the server sends, parsed (heartbeat pings skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(client.recv(), WAIT_SECONDS))
        if frame["type"] not in skip:
            return frame


async def send(client: ClientConnection, **frame: Any) -> None:
    await client.send(json.dumps(frame))


async def closed_with(client: ClientConnection, seconds: float = WAIT_SECONDS) -> int | None:
    """The close code the server sent, reading (and dropping) frames until it comes."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await client.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def access_token(client: Any, email: str) -> str:
    token: str = (await login(client, email))["access_token"]
    return token
