"""What tests share besides fixtures: a test clock, clients of an app, signing in.

Tests import these from here; ``conftest.py`` holds only fixtures.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from .factories import DEFAULT_PASSWORD

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# OWASP's REST Security Cheat Sheet: on every API response (with Cache-Control, and HSTS).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def assert_envelope(body: dict[str, Any], code: str) -> None:
    assert body.keys() == {"error"}
    assert body["error"].keys() == {"code", "message", "details"}
    assert body["error"]["code"] == code


class FakeClock:
    """A clock that moves only when a test moves it (``clock.now += 5``)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client_for(
    app: FastAPI, base_url: str = "http://testserver", address: str = "127.0.0.1"
) -> AsyncClient:
    """A client of *app* whose requests come from the client *address*."""
    transport = ASGITransport(app=app, client=(address, 123))
    return AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def serve(
    settings: Settings, base_url: str = "http://testserver"
) -> AsyncIterator[AsyncClient]:
    """A client of a separate app built for *settings* (for tests of one configuration)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app, base_url) as client:
        yield client


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    response = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def bearer(client: AsyncClient, user: User) -> dict[str, str]:
    tokens = await login(client, user.email)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def eventually(check: Callable[[], bool], seconds: float = 2.0) -> None:
    """Wait until *check* holds, as something another task or process does takes effect; fail
    after *seconds*."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "it never happened"
        await asyncio.sleep(0.02)
