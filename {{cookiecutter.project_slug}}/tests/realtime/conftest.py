"""Fixtures of the WebSockets pack's tests: the test's app served on loopback, and tokens."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.features.users.models import User

from .support import ServeWs, Switchboard, access_token, served


@pytest.fixture(scope="session")
async def server() -> AsyncIterator[tuple[Switchboard, str]]:
    """One uvicorn per test process, on a free loopback port, and its ws:// URL."""
    switchboard = Switchboard()
    async with served(switchboard) as url:
        yield switchboard, url


@pytest.fixture
def serve_ws(server: tuple[Switchboard, str]) -> ServeWs:
    """Serve an app (already started) on the tests' server while the context lasts."""
    switchboard, url = server

    @asynccontextmanager
    async def serve(app: FastAPI) -> AsyncIterator[str]:
        switchboard.app = app
        try:
            yield url
        finally:
            switchboard.app = None

    return serve


@pytest.fixture
async def ws_url(app: FastAPI, serve_ws: ServeWs) -> AsyncIterator[str]:
    async with serve_ws(app) as url:
        yield url


@pytest.fixture
async def token(client: AsyncClient, user: User) -> str:
    return await access_token(client, user.email)
