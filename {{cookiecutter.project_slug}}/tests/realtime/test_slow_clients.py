"""A slow reader fills only its own queue: it is closed with 1013, and the others get every
frame meanwhile."""

import asyncio
import socket
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.realtime.connection import Connection
from {{ cookiecutter.package_name }}.realtime.frames import RoomMessage

from ..factories import UserFactory
from ..support import eventually, login
from .support import closed_with, next_frame, opened, send

# More than the kernel buffers between server and a stuck client hold (a few MB), delivered by
# this process's hub (the bus is not what is tested, and PostgreSQL's takes 8 KB at most).
FRAMES = 500
PAYLOAD = "x" * 16_000


@pytest.mark.error_path
async def test_a_client_that_stops_reading_is_closed_with_1013_and_holds_up_no_one(
    app: FastAPI, ws_url: str, client: AsyncClient, users: UserFactory
) -> None:
    slow_user, fast_user = await users.create(), await users.create()
    slow_token = (await login(client, slow_user.email))["access_token"]
    fast_token = (await login(client, fast_user.email))["access_token"]
    hub = app.state.realtime_hub
    # A small receive buffer, so the slow client's kernel stops taking data early.
    async with (
        opened(ws_url, slow_token, sock=_small_buffer_socket(ws_url), compression=None) as slow,
        opened(ws_url, fast_token, max_queue=None, compression=None) as fast,
    ):
        for member in (slow, fast):
            await next_frame(member)
            await send(member, type="join", room="firehose")
            await next_frame(member)
        (held,) = [c for c in hub.connections() if c.user_id == slow_user.id]
        slow.transport.pause_reading()  # it stops reading: the kernel's buffers fill up
        received = asyncio.create_task(_count(fast, FRAMES))
        for number in range(FRAMES):
            hub.deliver_to_room("firehose", _message(number).model_dump_json())
            if number % 100 == 0:
                await asyncio.sleep(0)  # let the writers run, as a busy server would
        assert await asyncio.wait_for(received, 10) == FRAMES
        assert held.close_code == 1013
        # It reads again before its close frame's deadline: the frames that made it to its
        # buffers, then the close frame.
        slow.transport.resume_reading()
        assert await closed_with(slow) == 1013
        await eventually(lambda: held not in hub.connections())


def _message(number: int) -> RoomMessage:
    from {{ cookiecutter.package_name }}.core.clock import utc_now  # noqa: PLC0415

    return RoomMessage(room="firehose", sender_id=None, data=[number, PAYLOAD], sent_at=utc_now())


async def _count(client: Any, expected: int) -> int:
    count = 0
    while count < expected:
        if (await next_frame(client))["type"] == "message":
            count += 1
    return count


def _small_buffer_socket(url: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = url.split("//")[1].split("/", maxsplit=1)[0].split(":")
    sock.connect((host, int(port)))
    return sock


async def _ignore(_connection: Connection, _data: str | bytes) -> None:
    return None
