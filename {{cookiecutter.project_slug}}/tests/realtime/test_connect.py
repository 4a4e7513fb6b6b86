"""Who may connect: a valid access token, from the header or the first frame, from an allowed
origin; everyone else is closed with 1008 (or refused at the handshake)."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import InvalidStatus

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from ..tcp_proxy import TcpProxy
from .support import (
    ServeWs,
    closed_with,
    next_frame,
    opened,
    requires_postgresql,
    send,
    signed_token,
)

POLICY_VIOLATION = 1008


async def test_a_token_in_the_protocol_header_signs_in(ws_url: str, token: str, user: User) -> None:
    async with opened(ws_url, token) as client:
        assert client.subprotocol == "bearer"
        welcome = await next_frame(client)
    assert welcome == {"type": "welcome", "user_id": str(user.id), "heartbeat_seconds": 20.0}


async def test_a_token_in_the_first_frame_signs_in(ws_url: str, token: str, user: User) -> None:
    async with opened(ws_url) as client:
        await send(client, type="authenticate", token=token)
        assert (await next_frame(client))["user_id"] == str(user.id)


async def test_the_pages_own_origin_and_the_cors_origins_may_connect(
    serve_ws: ServeWs,
    make_settings: Callable[..., Settings],
    token: str,
) -> None:
    app = create_app(make_settings(cors_origins=["https://app.example.com"]))
    async with app.router.lifespan_context(app), serve_ws(app) as url:
        port = url.split(":")[2].split("/")[0]
        for origin in ("https://app.example.com", f"http://127.0.0.1:{port}"):
            async with opened(url, token, origin=origin) as ws:
                assert (await next_frame(ws))["type"] == "welcome"


@pytest.mark.error_path
async def test_another_origin_is_refused_at_the_handshake(ws_url: str, token: str) -> None:
    """API8:2023 Security Misconfiguration (cross-site WebSocket hijacking): a page elsewhere
    cannot use the visitor's token."""
    with pytest.raises(InvalidStatus) as refused:
        async with opened(ws_url, token, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.error_path
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": utc_now() - timedelta(seconds=1)}, id="expired"),
        pytest.param({"type": "refresh"}, id="refresh-token"),
        pytest.param({"sub": str(uuid.uuid4())}, id="unknown-user"),
    ],
)
async def test_a_token_that_does_not_authenticate_closes_with_1008(
    ws_url: str, user: User, claims: dict[str, object]
) -> None:
    async with opened(ws_url, signed_token(user.id, claims)) as client:
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_a_token_signed_with_another_key_closes_with_1008(ws_url: str, user: User) -> None:
    """API2:2023 Broken Authentication: a forged signature signs nobody in."""
    async with opened(ws_url, signed_token(user.id, secret="x" * 64)) as client:
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_a_deactivated_users_token_closes_with_1008(
    ws_url: str, token: str, user: User, session: AsyncSession
) -> None:
    account = await session.get(User, user.id)
    assert account is not None
    account.is_active = False
    await session.commit()
    async with opened(ws_url, token) as client:
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_a_first_frame_that_is_not_authenticate_closes_with_1008(ws_url: str) -> None:
    async with opened(ws_url) as client:
        await send(client, type="join", room="lobby")
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_a_token_in_the_url_is_not_read(ws_url: str, token: str) -> None:
    """API2:2023 Broken Authentication: URLs land in proxy logs, so a token there signs nobody
    in."""
    async with opened(f"{ws_url}?access_token={token}&token={token}") as client:
        await send(client, type="ping")
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_no_token_in_time_closes_with_1008(
    serve_ws: ServeWs,
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(ws_auth_timeout_seconds=0.1))
    async with app.router.lifespan_context(app), serve_ws(app) as url, opened(url) as client:
        assert await closed_with(client) == POLICY_VIOLATION


@pytest.mark.error_path
async def test_more_connections_than_allowed_per_user_close_with_1008(
    serve_ws: ServeWs,
    make_settings: Callable[..., Settings],
    token: str,
) -> None:
    """API4:2023 Unrestricted Resource Consumption: connections per user are capped."""
    app = create_app(make_settings(ws_max_connections_per_user=2))
    async with app.router.lifespan_context(app), serve_ws(app) as url:
        async with opened(url, token) as first, opened(url, token) as second:
            for client_ in (first, second):
                assert (await next_frame(client_))["type"] == "welcome"
            async with opened(url, token) as third:
                assert await closed_with(third) == POLICY_VIOLATION
        # Those two gone, there is room again.
        await asyncio.sleep(0.05)
        async with opened(url, token) as again:
            assert (await next_frame(again))["type"] == "welcome"


@requires_postgresql
@pytest.mark.error_path
async def test_a_database_that_cannot_be_reached_closes_with_1013(
    serve_ws: ServeWs, make_settings: Callable[..., Settings], token: str, database_url: str
) -> None:
    """No traceback and no 1011: the client is told to try again later."""
    real = make_url(database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(make_settings(database_url=proxied))
    try:
        async with app.router.lifespan_context(app), serve_ws(app) as url:
            proxy.cut()
            async with opened(url, token) as client:
                assert await closed_with(client) == 1013
    finally:
        await proxy.stop()


@pytest.mark.error_path
async def test_a_host_not_allowed_is_refused_at_the_handshake(
    serve_ws: ServeWs, make_settings: Callable[..., Settings], token: str
) -> None:
    """API8:2023 Security Misconfiguration: ALLOWED_HOSTS holds for WebSockets too (a page on
    a rebound DNS name passes the Origin check, not this one)."""
    app = create_app(make_settings(allowed_hosts=["api.example.com"]))
    async with app.router.lifespan_context(app), serve_ws(app) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with opened(url, token):
                pass
    assert refused.value.response.status_code == 403


@pytest.mark.error_path
async def test_a_first_frame_over_the_size_limit_closes_with_1009(ws_url: str, token: str) -> None:
    """API4:2023 Unrestricted Resource Consumption: not read, let alone parsed."""
    async with opened(ws_url) as client:
        await send(client, type="authenticate", token=token + "x" * 5000)
        assert await closed_with(client) == 1009


@pytest.mark.error_path
async def test_a_user_deactivated_while_connected_is_closed_with_1008(
    ws_url: str, token: str, user: User, session: AsyncSession
) -> None:
    async with opened(ws_url, token) as client:
        assert (await next_frame(client))["type"] == "welcome"
        account = await session.get(User, user.id)
        assert account is not None
        account.is_active = False
        await session.commit()
        assert await closed_with(client) == POLICY_VIOLATION
