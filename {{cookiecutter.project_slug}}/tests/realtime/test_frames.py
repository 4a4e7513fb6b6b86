"""What a connection does with each frame: typed frames in both directions, an error frame
(in the envelope's shape) for a bad one, 1009 for one too big, 1008 for a client too fast."""

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from websockets.asyncio.client import ClientConnection

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from ..support import eventually, login
from .support import ServeWs, access_token, closed_with, next_frame, opened, send, signed_token


@pytest.fixture
async def signed_in(ws_url: str, token: str) -> AsyncIterator[ClientConnection]:
    async with opened(ws_url, token) as client:
        assert (await next_frame(client))["type"] == "welcome"
        yield client


async def still_up(client: ClientConnection) -> bool:
    await send(client, type="ping")
    frame: dict[str, str] = await next_frame(client)
    return frame["type"] == "pong"


async def test_a_ping_gets_a_pong(signed_in: ClientConnection) -> None:
    assert await still_up(signed_in)


async def test_join_send_and_leave_a_room(
    signed_in: ClientConnection, ws_url: str, client: AsyncClient, users: Any
) -> None:
    other = await users.create()
    other_token = (await login(client, other.email))["access_token"]
    async with opened(ws_url, other_token) as listener:
        assert (await next_frame(listener))["type"] == "welcome"
        for member in (signed_in, listener):
            await send(member, type="join", room="lobby")
            assert await next_frame(member) == {"type": "joined", "room": "lobby"}

        await send(signed_in, type="send", room="lobby", data={"text": "hello", "n": [1, 2]})
        for member in (signed_in, listener):
            message = await next_frame(member)
            assert message["type"] == "message"
            assert (message["room"], message["data"]) == ("lobby", {"text": "hello", "n": [1, 2]})

        await send(listener, type="leave", room="lobby")
        assert await next_frame(listener) == {"type": "left", "room": "lobby"}
        await send(signed_in, type="send", room="lobby", data="only me")
        assert (await next_frame(signed_in))["data"] == "only me"
        assert await still_up(listener)  # the pong came first: nothing from the room


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("frame", "field"),
    [
        pytest.param("not json", "", id="not-json"),
        pytest.param('{"type": "dance"}', "", id="unknown-type"),
        pytest.param('{"type": "join"}', "join.room", id="missing-field"),
        pytest.param('{"type": "join", "room": "no spaces"}', "join.room", id="bad-room"),
        pytest.param('{"type": "ping", "extra": 1}', "ping.extra", id="extra-field"),
        pytest.param('["ping"]', "", id="not-an-object"),
    ],
)
async def test_a_malformed_frame_gets_an_error_frame_and_the_connection_stays_up(
    signed_in: ClientConnection, frame: str, field: str
) -> None:
    await signed_in.send(frame)
    error = await next_frame(signed_in)
    assert error["type"] == "error"
    assert error["error"].keys() == {"code", "message", "details"}
    assert error["error"]["code"] == "VALIDATION_ERROR"
    fields = [problem["field"] for problem in error["error"]["details"]["errors"]]
    assert field in fields or (not field and fields)
    assert frame not in str(error)  # the input is not echoed
    assert await still_up(signed_in)


@pytest.mark.error_path
async def test_a_binary_frame_gets_an_error_frame(signed_in: ClientConnection) -> None:
    await signed_in.send(b'{"type": "ping"}\xff')
    assert (await next_frame(signed_in))["error"]["code"] == "VALIDATION_ERROR"
    assert await still_up(signed_in)


@pytest.mark.error_path
async def test_sending_to_a_room_not_joined_is_refused(signed_in: ClientConnection) -> None:
    await send(signed_in, type="send", room="elsewhere", data=1)
    error = await next_frame(signed_in)
    assert (error["error"]["code"], error["error"]["details"]) == (
        "NOT_IN_ROOM",
        {"room": "elsewhere"},
    )


@pytest.mark.error_path
async def test_a_frame_over_the_size_limit_closes_with_1009(signed_in: ClientConnection) -> None:
    """API4:2023 Unrestricted Resource Consumption: a frame over the limit ends the connection."""
    await send(signed_in, type="send", room="lobby", data="x" * 4096)
    assert await closed_with(signed_in) == 1009


@pytest.mark.error_path
async def test_reauthenticating_as_someone_else_is_refused(
    signed_in: ClientConnection, client: AsyncClient, users: Any, user: User
) -> None:
    other = await users.create()
    other_token = (await login(client, other.email))["access_token"]
    await send(signed_in, type="authenticate", token=other_token)
    assert (await next_frame(signed_in))["error"]["code"] == "UNAUTHORIZED"
    await send(signed_in, type="authenticate", token="not-a-token")
    assert (await next_frame(signed_in))["error"]["code"] == "UNAUTHORIZED"
    assert await still_up(signed_in)


async def test_a_fresh_token_keeps_the_connection_past_the_old_ones_expiry(
    app: FastAPI, ws_url: str, client: AsyncClient, user: User
) -> None:
    expiring = signed_token(user.id, lifetime=timedelta(minutes=1))
    fresh = await access_token(client, user.email)  # good for longer
    hub = app.state.realtime_hub
    async with opened(ws_url, expiring) as connection:
        await next_frame(connection)
        await send(connection, type="authenticate", token=fresh)
        assert await still_up(connection)  # the frames are handled in order
        hub.wall_clock = lambda: time.time() + 120  # the first token has expired
        hub.sweep()
        assert await still_up(connection)


@pytest.fixture
async def strict_url(
    serve_ws: ServeWs, make_settings: Callable[..., Settings]
) -> AsyncIterator[str]:
    app = create_app(
        make_settings(
            ws_messages_per_second=1,
            ws_message_burst=3,
            ws_rate_limit_strikes=3,
            ws_max_rooms_per_connection=2,
        )
    )
    async with app.router.lifespan_context(app), serve_ws(app) as url:
        yield url


@pytest.mark.error_path
async def test_a_client_too_fast_is_limited_then_closed_with_1008(
    strict_url: str, token: str
) -> None:
    """API4:2023 Unrestricted Resource Consumption: a flood of frames is limited, then closed."""
    async with opened(strict_url, token) as client:
        await next_frame(client)
        for _ in range(3):  # the burst
            await send(client, type="ping")
            assert (await next_frame(client))["type"] == "pong"
        for _ in range(2):
            await send(client, type="ping")
            error = await next_frame(client)
            assert error["error"]["code"] == "RATE_LIMITED"
            assert 0 < error["error"]["details"]["retry_after_ms"] <= 1000
        await send(client, type="ping")  # the third strike
        assert await closed_with(client) == 1008


@pytest.mark.error_path
async def test_joining_more_rooms_than_allowed_is_refused(strict_url: str, token: str) -> None:
    async with opened(strict_url, token) as client:
        await next_frame(client)
        await send(client, type="join", room="a")
        await send(client, type="join", room="b")
        await send(client, type="join", room="c")
        assert [(await next_frame(client))["type"] for _ in range(3)] == [
            "joined",
            "joined",
            "error",
        ]


@pytest.mark.error_path
async def test_a_message_longer_once_written_out_is_refused(signed_in: ClientConnection) -> None:
    """Its data as JSON grows (1e5 is written 100000.0): measured as sent, in bytes."""
    await send(signed_in, type="join", room="lobby")
    await next_frame(signed_in)
    await signed_in.send(
        '{"type": "send", "room": "lobby", "data": [' + ",".join(["1e5"] * 800) + "]}"
    )
    error = await next_frame(signed_in)
    assert error["error"]["code"] == "MESSAGE_TOO_LARGE"
    assert await still_up(signed_in)


async def test_a_connection_that_closes_leaves_no_room_behind(
    app: Any, ws_url: str, token: str
) -> None:
    hub = app.state.realtime_hub
    async with opened(ws_url, token) as client:
        await next_frame(client)
        await send(client, type="join", room="gone")
        await next_frame(client)
        assert hub.members("gone")
    await eventually(lambda: not hub.members("gone"))
