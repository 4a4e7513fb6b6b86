"""Fixtures of the WebSockets pack's tests: the test app served on loopback, and tokens."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.features.users.models import User

from .support import access_token, served


@pytest.fixture
async def ws_url(app: FastAPI) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


@pytest.fixture
async def token(client: AsyncClient, user: User) -> str:
    return await access_token(client, user.email)
