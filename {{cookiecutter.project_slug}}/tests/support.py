"""What tests share besides fixtures: a test clock, clients of an app, signing in.

Tests import these from here; the fixtures are in ``fixtures.py``.
"""

import asyncio
import re
import shlex
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.errors import error_codes
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
from {{ cookiecutter.package_name }}.features.auth.revocation import RevokedTokens
from {{ cookiecutter.package_name }}.features.auth.service import AuthService
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from .factories import DEFAULT_PASSWORD

# Far longer than any answer of a real server should take: only reached when it never answers.
GIVE_UP_SECONDS = 30
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
    assert code in error_codes(), f"{code} is not in the schema's ErrorCode"


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


def auth_service(
    session: AsyncSession,
    resources: Resources,
    principals: PrincipalCache,
    revoked_tokens: RevokedTokens,
    **options: Any,
) -> AuthService:
    """An AuthService on a test app's resources, as the API's dependency builds one."""
    return AuthService(
        session,
        resources.password_hasher,
        resources.token_codec,
        principals,
        revoked_tokens,
        login_limiter=resources.auth_rate_limiter,
        **options,
    )


async def bearer(client: AsyncClient, user: User) -> dict[str, str]:
    tokens = await login(client, user.email)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def free_port() -> int:
    """A port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def eventually(check: Callable[[], bool], seconds: float = 2.0) -> None:
    """Wait until *check* holds, as something another task or process does takes effect; fail
    after *seconds*."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "it never happened"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(settings: Settings, http: str, project_root: Path) -> AsyncIterator[int]:
    """The app served by uvicorn with *http* in this event loop, as the image configures it; yields
    the port."""
    app = create_app(settings)
    image = image_environment(project_root)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        http=http,
        lifespan="off",
        log_config=None,
        access_log=False,
        h11_max_incomplete_event_size=int(image["UVICORN_H11_MAX_INCOMPLETE_EVENT_SIZE"]),
    )
    server = uvicorn.Server(config)
    async with app.router.lifespan_context(app):
        serving = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                while not server.started:
                    assert not serving.done(), "the server did not start"
                    await asyncio.sleep(0.01)
            yield server.servers[0].sockets[0].getsockname()[1]
        finally:
            server.should_exit = True
            await serving


def image_environment(project_root: Path) -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set."""
    dockerfile = (project_root / "Dockerfile").read_text().replace("\\\n", " ")
    environment: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", dockerfile, flags=re.MULTILINE):
        environment |= dict(word.split("=", 1) for word in shlex.split(line))
    return environment


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """An OpenAPI document's operations by method and path."""
    return {
        (method.upper(), path): operation
        for path, by_method in document["paths"].items()
        for method, operation in by_method.items()
    }
