"""What the server pushes: a user's item events (never another user's), admins' room messages,
heartbeats; and when it closes: a revoked or expired token, a silent peer, a shutdown."""

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from ..factories import UserFactory
from ..support import login
from .support import ServeWs, closed_with, next_frame, opened, send

ITEMS = "/api/v1/items"


async def test_the_owner_hears_of_each_change_to_their_item_and_no_one_else_does(
    ws_url: str, client: AsyncClient, users: UserFactory
) -> None:
    """API1:2023 Broken Object Level Authorization: an event about an item reaches its owner
    only."""
    owner, stranger = await users.create(), await users.create()
    owner_tokens, stranger_tokens = (
        await login(client, owner.email),
        await login(client, stranger.email),
    )
    headers = {"Authorization": f"Bearer {owner_tokens['access_token']}"}
    async with (
        opened(ws_url, owner_tokens["access_token"]) as mine,
        opened(ws_url, stranger_tokens["access_token"]) as theirs,
    ):
        await next_frame(mine), await next_frame(theirs)

        created = await client.post(ITEMS, json={"title": "one"}, headers=headers)
        item_id = created.json()["id"]
        await client.patch(f"{ITEMS}/{item_id}", json={"status": "done"}, headers=headers)
        await client.delete(f"{ITEMS}/{item_id}", headers=headers)

        events = [await next_frame(mine) for _ in range(3)]
        assert [(event["type"], event["item_id"]) for event in events] == [
            ("item.created", item_id),
            ("item.updated", item_id),
            ("item.deleted", item_id),
        ]
        await send(theirs, type="ping")
        assert (await next_frame(theirs))["type"] == "pong"  # and nothing before it


@pytest.mark.error_path
async def test_a_change_that_is_rolled_back_is_not_announced(
    ws_url: str, token: str, user: User, items: Any, session: Any
) -> None:
    item = await items.create(user)
    async with opened(ws_url, token) as client:
        await next_frame(client)
        row = await session.merge(item)
        row.title = "never committed"
        await session.flush()
        await session.rollback()
        await send(client, type="ping")
        assert (await next_frame(client))["type"] == "pong"


async def test_an_admin_publishes_to_a_room_through_rest(
    ws_url: str, client: AsyncClient, admin_headers: dict[str, str], token: str
) -> None:
    async with opened(ws_url, token) as member:
        await next_frame(member)
        await send(member, type="join", room="news")
        await next_frame(member)
        response = await client.post(
            "/api/v1/realtime/rooms/news/messages", json={"data": {"hi": 1}}, headers=admin_headers
        )
        assert (response.status_code, response.headers["content-type"]) == (202, "application/json")
        message = await next_frame(member)
    assert message == response.json()
    assert (message["sender_id"], message["data"]) == (None, {"hi": 1})


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("room", "body", "status"),
    [
        pytest.param("news", {"data": "x" * 5000}, 422, id="too-large"),
        pytest.param("no%20spaces", {"data": 1}, 422, id="bad-room"),
        pytest.param("news", {}, 422, id="no-data"),
        pytest.param("news", {"data": 1, "more": 2}, 422, id="extra-field"),
    ],
)
async def test_a_bad_room_message_is_refused_in_the_envelope(
    client: AsyncClient, admin_headers: dict[str, str], room: str, body: Any, status: int
) -> None:
    response = await client.post(
        f"/api/v1/realtime/rooms/{room}/messages", json=body, headers=admin_headers
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] in {"VALIDATION_ERROR", "INVALID_REQUEST"}


@pytest.mark.error_path
async def test_only_admins_publish_to_rooms(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    """API5:2023 Broken Function Level Authorization: a user cannot publish as the service."""
    url = "/api/v1/realtime/rooms/news/messages"
    assert (await client.post(url, json={"data": 1}, headers=user_headers)).status_code == 403
    assert (await client.post(url, json={"data": 1})).status_code == 401


@pytest.mark.error_path
async def test_a_token_revoked_while_connected_closes_the_connection_within_a_second(
    ws_url: str, client: AsyncClient, user: User
) -> None:
    """API2:2023 Broken Authentication: logging out ends the connections of its tokens."""
    tokens = await login(client, user.email)
    async with opened(ws_url, tokens["access_token"]) as connection:
        await next_frame(connection)
        started = time.monotonic()
        response = await client.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
        )
        assert response.status_code == 204
        assert await closed_with(connection) == 1008
    assert time.monotonic() - started < 1.0


@pytest.mark.error_path
async def test_an_expiring_token_closes_the_connection(
    app: FastAPI, ws_url: str, token: str
) -> None:
    async with opened(ws_url, token) as connection:
        await next_frame(connection)
        hub = app.state.realtime_hub
        hub.wall_clock = lambda: time.time() + 24 * 3600  # a day later
        assert await closed_with(connection) == 1008


async def test_the_server_pings_and_a_silent_client_is_closed_with_4408(
    serve_ws: ServeWs,
    make_settings: Callable[..., Settings],
    users: UserFactory,
    client: AsyncClient,
) -> None:
    app = create_app(make_settings(ws_heartbeat_seconds=0.1, ws_idle_timeout_seconds=0.4))
    async with app.router.lifespan_context(app), serve_ws(app) as url:
        user = await users.create()
        token = (await login(client, user.email))["access_token"]
        async with opened(url, token) as answering, opened(url, token) as silent:
            await next_frame(answering), await next_frame(silent)
            for _ in range(5):  # 0.5 s: the silent one's time is up, the answering one's not
                assert (await next_frame(answering, skip=())) == {"type": "ping"}
                await send(answering, type="pong")
            assert await closed_with(silent) == 4408
            assert (await next_frame(answering, skip=()))["type"] == "ping"


async def test_at_shutdown_every_connection_is_closed_with_1001(
    serve_ws: ServeWs, make_settings: Callable[..., Settings], token: str
) -> None:
    app = create_app(make_settings())
    async with AsyncExitStack() as running:
        await running.enter_async_context(app.router.lifespan_context(app))
        async with serve_ws(app) as url, opened(url, token) as connection:
            await next_frame(connection)
            await running.aclose()  # the app stops; the server is still up
            assert await closed_with(connection) == 1001
